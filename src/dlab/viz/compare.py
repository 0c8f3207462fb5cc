"""Figures that put several runs side by side: curves on shared axes, grouped bars, and
predicted-vs-true scatter for regression. Each draws on a matplotlib ``ax`` it is given, so a
lab can arrange panels as it likes."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np


def smooth(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average, same length as ``values`` (the first points average what
    exists so far). Per-batch losses are noisy; a window of ~one tenth of an epoch shows the
    trend without shifting it much."""
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    i = np.arange(1, len(v) + 1)
    lo = np.maximum(i - window, 0)
    return (c[i] - c[lo]) / (i - lo)


def curves(ax, series: Mapping[str, Sequence[float] | tuple], title: str = "",
           xlabel: str = "epoch", ylabel: str = "", logy: bool = False,
           hlines: Mapping[str, float] | None = None):
    """One line per entry of ``series``: a list of y values (x = 1, 2, ...) or an ``(x, y)``
    pair. ``hlines`` adds labelled dashed reference lines (a target loss, chance level...)."""
    for label, values in series.items():
        if isinstance(values, tuple):
            x, y = values
        else:
            y = values
            x = np.arange(1, len(y) + 1)
        ax.plot(x, y, label=label, linewidth=1.6)
    for label, value in (hlines or {}).items():
        ax.axhline(value, color="k", linestyle="--", linewidth=1, alpha=0.7)
        ax.annotate(label, (0.99, value), xycoords=("axes fraction", "data"), ha="right",
                    va="bottom", fontsize=8, bbox={"boxstyle": "round,pad=0.15", "fc": "white",
                                                   "ec": "none", "alpha": 0.8})
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both" if logy else "major")
    ax.legend(fontsize=8)
    return ax


def grouped_bars(ax, groups: Sequence[str], series: Mapping[str, Sequence[float]],
                 title: str = "", ylabel: str = "", ylim: tuple[float, float] | None = None,
                 fmt: str = "{:.3f}", logy: bool = False, legend: bool = True):
    """Bars for ``series[label][i]`` grouped by ``groups[i]``, each labelled with its value
    (a table is exact, but the eye compares lengths faster)."""
    for label, values in series.items():
        if len(values) != len(groups):  # matplotlib would silently broadcast a single value
            raise ValueError(f"grouped_bars: series '{label}' has {len(values)} values for "
                             f"{len(groups)} groups")
    n = len(series)
    width = 0.8 / max(n, 1)
    x = np.arange(len(groups))
    for k, (label, values) in enumerate(series.items()):
        bars = ax.bar(x + (k - (n - 1) / 2) * width, values, width, label=label)
        ax.bar_label(bars, labels=[fmt.format(v) for v in values], fontsize=7, padding=1)
    ax.set_xticks(x, groups)
    if logy:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    if legend and n > 1:  # outside, to the right: bars reaching the top would hide under it
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def predicted_vs_true(ax, y_true: Sequence[float], y_pred: Sequence[float], title: str = "",
                      xlabel: str = "true", ylabel: str = "predicted", max_points: int = 3000,
                      seed: int = 0):
    """Scatter of predictions against targets with the ``y = x`` line: points on the line are
    perfect, vertical spread is error. At most ``max_points`` (a fixed random subset), so the
    cloud stays readable."""
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if len(y_true) > max_points:
        keep = np.random.default_rng(seed).choice(len(y_true), max_points, replace=False)
        y_true, y_pred = y_true[keep], y_pred[keep]
    ax.scatter(y_true, y_pred, s=4, alpha=0.3)
    lo = float(min(y_true.min(), y_pred.min()))
    hi = float(max(y_true.max(), y_pred.max()))
    ax.plot([lo, hi], [lo, hi], color="k", linestyle="--", linewidth=1)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax
