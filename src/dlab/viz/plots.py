"""Figures a student would rather look at than read."""
from __future__ import annotations

from typing import Callable

import matplotlib.pyplot as plt
import numpy as np


def decision_boundary(ax, predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray,
                      y: np.ndarray, title: str = "", resolution: int = 200, margin: float = 0.5):
    """Colour the plane by the class ``predict`` gives each point, then scatter the data.

    ``predict`` maps an ``(n, 2)`` array to ``n`` class labels (any model, torch or sklearn)."""
    X, y = np.asarray(X), np.asarray(y)
    x0 = np.linspace(X[:, 0].min() - margin, X[:, 0].max() + margin, resolution)
    x1 = np.linspace(X[:, 1].min() - margin, X[:, 1].max() + margin, resolution)
    g0, g1 = np.meshgrid(x0, x1)
    grid = np.column_stack([g0.ravel(), g1.ravel()])
    zz = np.asarray(predict(grid)).reshape(g0.shape)
    n_classes = int(max(y.max(), zz.max())) + 1
    cmap = plt.get_cmap("coolwarm" if n_classes == 2 else "viridis", n_classes)
    ax.contourf(g0, g1, zz, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.35)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, vmin=-0.5, vmax=n_classes - 0.5, s=12,
               edgecolors="k", linewidths=0.3)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def training_curves(history, pairs=(("loss", "val_loss"),), titles=None, mark=None):
    """One panel per ``(train_key, val_key)`` pair, epochs on x. ``mark`` = an epoch to
    highlight with a vertical line (e.g. where validation loss turned up)."""
    fig, axes = plt.subplots(1, len(pairs), figsize=(5 * len(pairs), 3.6), squeeze=False)
    epochs = history["epoch"]
    for i, (ax, keys) in enumerate(zip(axes[0], pairs)):
        for key in keys:
            if key in history.keys():
                ax.plot(epochs, history[key], label=key)
        if mark is not None:
            ax.axvline(mark, color="k", linestyle="--", linewidth=1)
        ax.set_xlabel("epoch")
        ax.set_title(titles[i] if titles else keys[0])
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def confusion_matrix_figure(cm: np.ndarray, class_names: list[str], title: str = ""):
    """Counts per (true, predicted) pair; the diagonal is what the model got right."""
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    im = ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = cm.max() / 2
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if cm[i, j] > threshold else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title)
    fig.tight_layout()
    return fig
