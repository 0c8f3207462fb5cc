"""Figures of 28×28 images: a grid of samples, and labelled rows (originals, reconstructions,
noisy inputs...) one above the other."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlab.viz.gif import figure_frame, write_gif


def _pixels(images) -> np.ndarray:
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu().numpy()
    return np.clip(np.asarray(images, dtype=np.float32).reshape(-1, 28, 28), 0.0, 1.0)


def image_grid(images, rows: int, cols: int, title: str = ""):
    """A figure with the first ``rows × cols`` images in a grid, no axes."""
    pixels = _pixels(images)[:rows * cols]
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.8, rows * 0.8 + (0.4 if title else 0)))
    for ax, image in zip(np.atleast_1d(axes).ravel(), pixels):
        ax.imshow(image, cmap="gray_r", vmin=0, vmax=1)
    for ax in np.atleast_1d(axes).ravel():
        ax.axis("off")
    if title:
        fig.suptitle(title)
    return fig


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
