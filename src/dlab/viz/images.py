"""Figures of images for the vision labs: a grid of labelled images, the feature maps a layer
makes for a few images, and a convolution layer's filters. Each returns a matplotlib figure."""
from __future__ import annotations

import math
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np


def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x, dtype=float)


def _show(ax, image: np.ndarray, cmap: str = "gray", **kw) -> None:
    if image.ndim == 3:  # (C, H, W): one channel is shown as grey, three as colour
        image = image[0] if image.shape[0] == 1 else np.moveaxis(image, 0, -1)
    ax.imshow(image, cmap=cmap, **kw)
    ax.set_xticks([])
    ax.set_yticks([])


def image_grid(images, titles: Sequence[str] | None = None, ncols: int = 8,
               colors: Sequence[str] | None = None, title: str = "", size: float = 1.3,
               cmap: str = "gray", value_range: tuple[float, float] | None = None):
    """``images`` (N, C, H, W) or (N, H, W) in a grid of ``ncols`` columns, each with its
    title (``titles[i]``, drawn in ``colors[i]`` when given, e.g. red for a mistake).
    ``value_range=(low, high)`` fixes the grey scale for every image (otherwise each image is
    stretched to its own range)."""
    images = _numpy(images)
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + 0.35) * nrows),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        low, high = value_range if value_range is not None else (None, None)
        _show(ax, images[i], cmap=cmap, vmin=low, vmax=high)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8, color=colors[i] if colors else "black")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def feature_maps(images, maps, n_maps: int = 8, row_titles: Sequence[str] | None = None,
                 title: str = ""):
    """One row per image: the input, then its first ``n_maps`` feature maps.
    ``images`` (N, C, H, W); ``maps`` (N, K, H', W') — the outputs of one layer."""
    images, maps = _numpy(images), _numpy(maps)
    n_maps = min(n_maps, maps.shape[1])
    fig, axes = plt.subplots(len(images), n_maps + 1, figsize=(1.3 * (n_maps + 1),
                                                               1.45 * len(images)), squeeze=False)
    for r, (image, fmap) in enumerate(zip(images, maps)):
        _show(axes[r, 0], image)
        if row_titles is not None:
            axes[r, 0].set_title(row_titles[r], fontsize=8)
        for k in range(n_maps):
            _show(axes[r, k + 1], fmap[k], cmap="viridis")
            if r == 0:
                axes[r, k + 1].set_title(f"#{k}", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def conv_filters(weight, ncols: int = 8, title: str = ""):
    """The filters of a convolution, ``weight`` of shape (out, in, k, k) (``conv.weight``):
    the first input channel of each, on one symmetric colour scale (blue < 0 < red)."""
    weight = _numpy(weight)[:, 0]
    limit = float(np.abs(weight).max()) or 1.0
    n = len(weight)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.0 * ncols, 1.0 * nrows + 0.4),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        _show(ax, weight[i], cmap="coolwarm", vmin=-limit, vmax=limit)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
