"""Figures for RL labs: a grid world's values and policy, and learning curves."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from dlab.rl.env import moving_average

# FrozenLake's actions: 0 left, 1 down, 2 right, 3 up, as (dx, dy) on a plot whose row 0 is
# at the top.
ARROWS = {0: (-1, 0), 1: (0, -1), 2: (1, 0), 3: (0, 1)}


def draw_grid_policy(ax, desc: np.ndarray, V: np.ndarray, policy: np.ndarray, title: str = "",
                     vmax: float | None = None):
    """A grid world as a heat map of ``V`` (one value per cell, row-major) with an arrow for
    ``policy``'s action in each cell. ``desc`` is the map (``env.unwrapped.desc``: S start,
    F frozen, H hole, G goal); holes are drawn black, the goal is labelled, neither gets an
    arrow. Returns the image (for a colorbar)."""
    desc = np.asarray(desc).astype(str)
    rows, cols = desc.shape
    image = ax.imshow(np.asarray(V, dtype=float).reshape(rows, cols), cmap="viridis", vmin=0,
                      vmax=vmax)
    for s, letter in enumerate(desc.ravel()):
        r, c = divmod(s, cols)
        if letter == "H":
            ax.add_patch(_square(r, c, "black"))
        elif letter == "G":
            ax.text(c, r, "G", ha="center", va="center", color="white", fontsize=14,
                    weight="bold")
        else:
            dx, dy = ARROWS[int(policy[s])]
            ax.arrow(c - 0.25 * dx, r + 0.25 * dy, 0.3 * dx, -0.3 * dy, head_width=0.15,
                     head_length=0.12, color="white", length_includes_head=False)
            ax.text(c, r + 0.38, f"{V[s]:.2f}", ha="center", va="center", color="white",
                    fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)
    return image


def _square(r: int, c: int, color: str):
    from matplotlib.patches import Rectangle

    return Rectangle((c - 0.5, r - 0.5), 1, 1, color=color)


def learning_curves(ax, series: Mapping[str, Sequence[float]], window: int, title: str = "",
                    ylabel: str = "", hlines: Mapping[str, float] | None = None):
    """One line per run: the trailing moving average (``window`` episodes) of a per-episode
    quantity (return, success), plus labelled dashed reference lines."""
    for label, values in series.items():
        ax.plot(np.arange(1, len(values) + 1), moving_average(values, window), label=label,
                linewidth=1.4)
    for label, value in (hlines or {}).items():
        ax.axhline(value, color="k", linestyle="--", linewidth=1, alpha=0.7)
        ax.annotate(label, (0.01, value), xycoords=("axes fraction", "data"), ha="left",
                    va="bottom", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
