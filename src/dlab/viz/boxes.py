"""Drawing on scenes for the detection and segmentation labs: boxes with their class and score,
instance masks as coloured overlays, and a row of scenes to draw on."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.patches import Rectangle

from dlab.viz.images import _numpy, _show

PALETTE = ("tab:orange", "tab:cyan", "tab:pink", "tab:olive", "tab:purple", "tab:red")


def scene_row(images, titles: Sequence[str] = (), size: float = 3.0):
    """A figure with the (N, 1, H, W) ``images`` side by side; returns ``(fig, axes)`` so boxes
    and masks can be drawn on each axis."""
    images = _numpy(images)
    fig, axes = plt.subplots(1, len(images), figsize=(size * len(images), size + 0.3),
                             squeeze=False)
    for i, (ax, image) in enumerate(zip(axes[0], images)):
        _show(ax, image)
        if i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return fig, list(axes[0])


def draw_boxes(ax, boxes, *, color: str, names: Sequence[str] | None = None,
               scores=None, linestyle: str = "-") -> None:
    """Rectangles for ``boxes`` (k, 4) ``(x1, y1, x2, y2)`` in pixels (``x2``/``y2``
    exclusive), each tagged with ``names[i]`` and ``scores[i]`` when given."""
    boxes = _numpy(boxes).reshape(-1, 4)
    scores = None if scores is None else _numpy(scores)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        ax.add_patch(Rectangle((x1 - 0.5, y1 - 0.5), x2 - x1, y2 - y1, fill=False,
                               edgecolor=color, linewidth=1.5, linestyle=linestyle))
        tag = [names[i]] if names is not None else []
        if scores is not None:
            tag.append(f"{scores[i]:.2f}")
        if tag:
            ax.text(x1 - 0.5, y1 - 1.5, " ".join(tag), color=color, fontsize=7,
                    verticalalignment="bottom")


def overlay_masks(ax, masks, colors: Sequence[str] = PALETTE, alpha: float = 0.45) -> None:
    """Colour each (H, W) boolean mask of ``masks`` (k, H, W) over the image on ``ax``."""
    masks = _numpy(masks).astype(bool)
    if masks.ndim == 2:
        masks = masks[None]
    for i, mask in enumerate(masks):
        layer = np.zeros(mask.shape + (4,))
        layer[mask] = to_rgba(colors[i % len(colors)], alpha)
        ax.imshow(layer)
