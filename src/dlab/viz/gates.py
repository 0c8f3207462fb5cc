"""Decision regions for the 4-point logic-gate problems (AND, OR, XOR).

``decision_boundary`` draws data points small, which suits hundreds of samples; with only
four corners each one should be easy to see and read, so they are drawn big and labelled.
"""
from __future__ import annotations

from typing import Callable

import matplotlib.pyplot as plt
import numpy as np

from dlab.viz.plots import decision_boundary


def gate_regions(ax, predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray,
                 title: str = ""):
    """Colour the plane by ``predict`` and draw each input as a large dot labelled with its
    target, so a misclassified corner stands out as a dot on the other colour."""
    X, y = np.asarray(X), np.asarray(y).astype(int)
    decision_boundary(ax, predict, X, y, title, margin=0.6)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=plt.get_cmap("coolwarm", 2), vmin=-0.5, vmax=1.5,
               s=260, edgecolors="k", linewidths=1.2, zorder=3)
    for (x0, x1), target in zip(X, y):
        ax.annotate(str(target), (x0, x1), ha="center", va="center", color="white",
                    fontsize=10, fontweight="bold", zorder=4)
    return ax
