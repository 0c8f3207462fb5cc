"""A seeded random subset of an ``(X, y)`` pair: labs train on part of a split to keep their
full mode within minutes, and the same seed always picks the same rows."""
from __future__ import annotations

import torch

from dlab.errors import ConfigError


def subset(data: tuple, n: int, seed: int) -> tuple:
    """``n`` rows of ``data = (X, y)`` drawn without replacement with ``seed``; ``n = 0`` keeps
    every row (in their order)."""
    X, y = data
    if n == 0:
        return X, y
    if not 0 < n <= len(y):
        raise ConfigError(f"subset: n must be between 1 and {len(y)} (or 0 for all), got {n}")
    pick = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:n]
    return X[pick], y[pick]
