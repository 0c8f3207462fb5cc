"""Single-panel figures the labs arrange as they like: a capacity sweep, a marked minimum,
a compact confusion matrix. Each draws on an ``ax`` it is given and returns it."""
from __future__ import annotations

from typing import Sequence

import numpy as np


def capacity_sweep(ax, labels: Sequence[str], train: Sequence[float], val: Sequence[float],
                   ylabel: str = "", title: str = "", best: int | None = None,
                   train_label: str = "train", val_label: str = "validation", logy: bool = False):
    """Train and validation scores of models ordered from least to most capacity. The gap
    between the two lines is the generalization gap; ``best`` (an index) gets a star."""
    x = np.arange(len(labels))
    ax.plot(x, train, "o-", label=train_label)
    ax.plot(x, val, "s-", label=val_label)
    if best is not None:
        ax.plot(x[best], val[best], "*", color="k", markersize=14, zorder=5)
    ax.set_xticks(x, labels, fontsize=8)
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def mark_minimum(ax, x: Sequence[float], y: Sequence[float], label: str = "min",
                 color: str = "k"):
    """A dot and a dashed vertical line at the minimum of ``y``, with ``label`` beside it.
    Returns ``(x_min, y_min)``."""
    i = int(np.nanargmin(y))
    ax.axvline(x[i], color=color, linestyle="--", linewidth=1)
    ax.plot([x[i]], [y[i]], "o", color=color, zorder=5)
    ax.annotate(label, (x[i], y[i]), xytext=(8, 10), textcoords="offset points", fontsize=8)
    return x[i], y[i]


def confusion_panel(ax, cm: np.ndarray, class_names: Sequence[str], title: str = "",
                    xlabel: str = "predicted", ylabel: str = "true"):
    """A small confusion matrix with counts in the cells and each row's recall at its end:
    with imbalanced classes the counts alone hide how much of the rare class is missed."""
    cm = np.asarray(cm)
    ax.imshow(cm / np.maximum(cm.sum(axis=1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        recall = cm[i, i] / max(cm[i].sum(), 1)
        for j in range(cm.shape[1]):
            share = cm[i, j] / max(cm[i].sum(), 1)
            ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                    color="white" if share > 0.5 else "black")
        ax.text(cm.shape[1] - 0.45, i, f"{recall:.0%}", va="center", fontsize=8)
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return ax
