"""Figures of 28×28 generated images: a grid of samples (the vision grid on a fixed scale), and
labelled rows (originals, reconstructions, noisy inputs...) one above the other."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlab.viz.gif import figure_frame, write_gif
from dlab.viz.images import image_grid as grid_of


def _pixels(images) -> np.ndarray:
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu().numpy()
    return np.clip(np.asarray(images, dtype=np.float32).reshape(-1, 28, 28), 0.0, 1.0)


def image_grid(images, rows: int, cols: int, title: str = ""):
    """The first ``rows × cols`` samples in a grid, dark on white, on one fixed [0, 1] scale."""
    return grid_of(_pixels(images)[:rows * cols, None], ncols=cols, title=title, size=0.8,
                   cmap="gray_r", value_range=(0.0, 1.0))


def image_rows(rows: dict, title: str = ""):
    """One row per entry of ``{label: images}`` (same number of images each), the label on the
    left: e.g. originals above their reconstructions."""
    labels = list(rows)
    pixels = [_pixels(rows[label]) for label in labels]
    cols = len(pixels[0])
    fig, axes = plt.subplots(len(labels), cols, figsize=(cols * 0.8 + 1.2, len(labels) * 0.9),
                             squeeze=False)
    for r, (label, images) in enumerate(zip(labels, pixels)):
        for c in range(cols):
            axes[r, c].imshow(images[c], cmap="gray_r", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    return fig


def save_gif(figures: list, path, seconds_per_frame: float = 0.6, hold_last: float = 2.0):
    """Write matplotlib figures as the frames of a looping animated GIF (the last frame held
    ``hold_last`` seconds) and close them. Returns the path."""
    frames = []
    for fig in figures:
        frames.append(figure_frame(fig))
        plt.close(fig)
    return write_gif(frames, path, seconds_per_frame, hold_last)
