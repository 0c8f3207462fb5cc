"""Animated GIFs, one way for every lab: matplotlib figures or RGB arrays become frames, and
frames become a looping GIF written with Pillow (which matplotlib already depends on)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np


def figure_frame(fig):
    """The figure as it is drawn now, as an RGB Pillow image."""
    from PIL import Image

    fig.canvas.draw()
    return Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).convert("RGB")


def write_gif(frames: Sequence, path: str | Path, seconds_per_frame: float,
              hold_last: float | None = None) -> Path:
    """Write Pillow images as a GIF that loops, ``seconds_per_frame`` each, the last one
    ``hold_last`` seconds (when given) so the end state can be read. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    durations = [max(20, round(1000 * seconds_per_frame))] * len(frames)
    if hold_last is not None:
        durations[-1] = round(1000 * hold_last)
    frames[0].save(path, save_all=True, append_images=list(frames[1:]), duration=durations,
                   loop=0)
    return path
