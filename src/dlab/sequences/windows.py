"""Sliding windows over a 1-D series: the inputs are ``lookback`` consecutive values, the target
the ``horizon`` values that follow them."""
from __future__ import annotations

import numpy as np


def make_windows(series, lookback: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``X[i] = series[i : i + lookback]``, ``Y[i] = series[i + lookback : i + lookback +
    horizon]`` for every ``i`` where both fit; shapes ``(n, lookback)`` and ``(n, horizon)``.

    Windows never reach past the end of ``series``: cut the series into train/val/test first
    and window each part, so no target of one split is an input of another."""
    values = np.asarray(series, dtype=np.float32)
    n = len(values) - lookback - horizon + 1
    if lookback < 1 or horizon < 1 or n < 1:
        raise ValueError(f"make_windows: a series of {len(values)} values has no window of "
                         f"lookback {lookback} + horizon {horizon}")
    view = np.lib.stride_tricks.sliding_window_view(values, lookback + horizon)[:n]
    return view[:, :lookback].copy(), view[:, lookback:].copy()
