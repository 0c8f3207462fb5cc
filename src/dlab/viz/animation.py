"""Decision boundaries that move: snapshots taken during training, drawn as a grid of frames
or as an animated GIF.

``BoundarySnapshots`` is a training callback: at chosen moments of training (0 = before the
first update, fractions of an epoch allowed) it stores the model's class probabilities on a
fixed grid of the plane. Drawing happens afterwards, from the stored arrays, so a snapshot
costs one forward pass over the grid.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlab.engine import metrics
from dlab.engine.callbacks import Callback
from dlab.viz.gif import figure_frame, write_gif


def plane_grid(X: np.ndarray, resolution: int = 120, margin: float = 0.5):
    """A ``resolution × resolution`` mesh covering the 2-D points ``X`` plus a margin;
    returns ``(g0, g1, points)`` with ``points`` of shape ``(resolution², 2)``."""
    X = np.asarray(X)
    x0 = np.linspace(X[:, 0].min() - margin, X[:, 0].max() + margin, resolution)
    x1 = np.linspace(X[:, 1].min() - margin, X[:, 1].max() + margin, resolution)
    g0, g1 = np.meshgrid(x0, x1)
    return g0, g1, np.column_stack([g0.ravel(), g1.ravel()])


class BoundarySnapshots(Callback):
    """Record ``P(class | point)`` on a grid over ``X`` at the training moments ``at``.

    ``at`` is measured in epochs and may hold fractions: ``0`` is before the first update,
    ``0.25`` after a quarter of the first epoch's batches, ``3`` at the end of epoch 3. A
    boundary that forms within the first epoch needs the fractions to be seen forming.

    ``snapshots`` is a list of dicts ``{"epoch", "step", "probs" (H, W, C), "logs"}``
    (``logs`` holds the epoch's logged values, e.g. ``val_accuracy``, for whole epochs only).
    A model with a single output logit (binary, sigmoid) is stored as two columns
    ``[1 - p, p]``, so both kinds of classifier are drawn the same way.

    ``probabilities`` maps the model's logits (N, C) to class probabilities (N, C'), with two
    columns for a single logit; by default, sigmoid or softmax as above. A lab passes its own
    function here (e.g. the one a student wrote) to draw with it."""

    def __init__(self, X: np.ndarray, at: Iterable[float], resolution: int = 120,
                 margin: float = 0.5, probabilities: Callable | None = None):
        self.g0, self.g1, points = plane_grid(X, resolution, margin)
        self.points = torch.as_tensor(points, dtype=torch.float32)
        self.probabilities = probabilities
        self.at = sorted(set(at))
        self.snapshots: list[dict] = []
        self._pending: list[float] = []

    def on_fit_begin(self, trainer):
        self._pending = [t for t in self.at if t > 0]
        if 0 in self.at:
            self.snapshots.append(self.photograph(trainer, 0))

    def on_batch_end(self, trainer, step, logs):
        # Fractions of an epoch; whole epochs are taken at epoch end, where val logs exist.
        if not self._pending or not trainer.steps_per_epoch:
            return
        progress = trainer.epoch - 1 + trainer.batch_in_epoch / trainer.steps_per_epoch
        if progress >= self._pending[0] and progress < trainer.epoch:
            while self._pending and self._pending[0] <= progress:
                self._pending.pop(0)
            self.snapshots.append(self.photograph(trainer, progress))

    def on_epoch_end(self, trainer, epoch, logs):
        if self._pending and self._pending[0] <= epoch:
            while self._pending and self._pending[0] <= epoch:
                self._pending.pop(0)
            self.snapshots.append(self.photograph(trainer, epoch, logs))

    def photograph(self, trainer, epoch: float, logs: dict | None = None) -> dict:
        """The model's probabilities on the grid right now. The callback stores the ones it
        takes; call this directly for an extra picture (e.g. of the final model)."""
        training = trainer.model.training
        logits = trainer.predict(self.points)
        trainer.model.train(training)  # predict() switches to eval mode; put it back
        if self.probabilities is None:
            probs = metrics.probabilities(logits)
            if probs.ndim == 1:
                probs = np.stack([1 - probs, probs], axis=1)
        else:
            probs = self.probabilities(logits)
            probs = np.asarray(probs.detach().cpu() if hasattr(probs, "detach") else probs)
        return {"epoch": epoch, "step": trainer.global_step,
                "probs": probs.reshape(*self.g0.shape, -1), "logs": dict(logs or {})}


def class_colors(n_classes: int) -> np.ndarray:
    """The RGB colour of each class, matching ``dlab.viz.decision_boundary``."""
    cmap = plt.get_cmap("coolwarm" if n_classes == 2 else "viridis", n_classes)
    return np.array([cmap(k)[:3] for k in range(n_classes)])


def draw_snapshot(ax, snaps: BoundarySnapshots, snapshot: dict, X: np.ndarray, y: np.ndarray,
                  title: str = "", point_size: float = 6):
    """One frame: each grid cell is the probability-weighted mix of the class colours (pale
    where the model hesitates), a black line where the predicted class changes, and the
    data points on top."""
    probs = snapshot["probs"]
    n_classes = probs.shape[-1]
    colors = class_colors(n_classes)
    rgb = 0.45 * (probs @ colors) + 0.55  # washed out, so the points stay readable
    extent = (snaps.g0.min(), snaps.g0.max(), snaps.g1.min(), snaps.g1.max())
    ax.imshow(rgb, origin="lower", extent=extent, aspect="auto", interpolation="bilinear")
    predicted = probs.argmax(axis=-1)
    for k in range(n_classes):
        region = (predicted == k).astype(float)
        if 0 < region.mean() < 1:
            ax.contour(snaps.g0, snaps.g1, region, levels=[0.5], colors="k", linewidths=0.8)
    y = np.asarray(y)
    ax.scatter(X[:, 0], X[:, 1], c=colors[y], s=point_size, edgecolors="k", linewidths=0.2)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    return ax


def _default_title(snapshot: dict) -> str:
    return f"epoch {snapshot['epoch']:g}"


def snapshot_grid(snaps: BoundarySnapshots, X: np.ndarray, y: np.ndarray,
                  title: Callable[[dict], str] = _default_title, columns: int = 5):
    """Every snapshot as a small panel, in training order."""
    n = len(snaps.snapshots)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(2.4 * columns, 2.4 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    for ax, snapshot in zip(axes.ravel(), snaps.snapshots):
        draw_snapshot(ax, snaps, snapshot, X, y, title(snapshot), point_size=3)
    fig.tight_layout()
    return fig


def save_gif(path: str | Path, snaps: BoundarySnapshots, X: np.ndarray, y: np.ndarray,
             title: Callable[[dict], str] = _default_title, seconds_per_frame: float = 0.4,
             hold_last: float = 2.5, size: float = 4.0, dpi: int = 80) -> Path:
    """Write the snapshots as an animated GIF that loops; the last frame stays ``hold_last``
    seconds so the final boundary can be read. Each frame is drawn once with matplotlib and
    handed to Pillow (which matplotlib already depends on)."""
    fig, ax = plt.subplots(figsize=(size, size), dpi=dpi)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=0.92)
    frames = []
    for snapshot in snaps.snapshots:
        ax.clear()
        draw_snapshot(ax, snaps, snapshot, X, y, title(snapshot))
        frames.append(figure_frame(fig))
    plt.close(fig)
    return write_gif(frames, path, seconds_per_frame, hold_last)
