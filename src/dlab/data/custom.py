"""A hand-written ``torch.utils.data.Dataset`` and the normalization that goes with it.

A torch ``Dataset`` is two methods: ``__len__`` (how many samples) and ``__getitem__(i)``
(sample ``i``, after any transform). A ``DataLoader`` asks it for one index at a time and
stacks the answers into a batch. That per-sample protocol is what lets a dataset live on disk
or decode images lazily; for a table that fits in memory it is also its cost (see
``dlab.data.Batches``, which slices whole batches at once).
"""
from __future__ import annotations

from typing import Callable

import torch
from torch.utils.data import Dataset


class TabularDataset(Dataset):
    """Rows of a feature matrix with their labels; ``transform`` is applied to each row as it
    is read, so changing it (e.g. after fitting a normalization) needs no copy of the data."""

    def __init__(self, X, y, transform: Callable[[torch.Tensor], torch.Tensor] | None = None):
        self.X = torch.as_tensor(X, dtype=torch.float32)
        self.y = torch.as_tensor(y)
        if len(self.X) != len(self.y):
            raise ValueError(f"X has {len(self.X)} rows but y has {len(self.y)}")
        self.transform = transform

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int):
        x = self.X[index]
        if self.transform is not None:
            x = self.transform(x)
        return x, self.y[index]


class Standardize:
    """``x → (x - mean) / std``, one mean and std per feature.

    Build it with :meth:`fit` on the *training rows only*: validation and test data are then
    scaled with statistics they did not contribute to, as new data will be in production."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        self.mean, self.std = mean, std

    @classmethod
    def fit(cls, X: torch.Tensor) -> "Standardize":
        X = torch.as_tensor(X, dtype=torch.float32)
        std = X.std(dim=0, unbiased=False)
        std[std == 0] = 1.0  # a constant feature stays constant (0) instead of becoming NaN
        return cls(X.mean(dim=0), std)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std
