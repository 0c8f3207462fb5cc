"""A fast in-memory batch iterator.

For data that fits in RAM, a ``DataLoader(TensorDataset)`` spends most of its time collating
one sample at a time. Slicing the tensors with a shuffled index costs one gather per batch.
"""
from __future__ import annotations

import math

import torch


class Batches:
    """Iterate ``(X[idx], y[idx])`` mini-batches over tensors that share their first dimension.

    The shuffle order of epoch ``e`` depends only on ``(seed, e)``: a run that is interrupted
    and resumed at epoch ``e`` sees exactly the batches the uninterrupted run would have seen.
    """

    def __init__(self, *tensors: torch.Tensor, batch_size: int = 32, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False):
        if not tensors:
            raise ValueError("Batches needs at least one tensor")
        n = tensors[0].shape[0]
        if any(t.shape[0] != n for t in tensors):
            shapes = ", ".join(str(tuple(t.shape)) for t in tensors)
            raise ValueError(f"All tensors must have the same number of rows; got shapes {shapes}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0

    @property
    def num_samples(self) -> int:
        return self.tensors[0].shape[0]

    def __len__(self) -> int:
        n, b = self.num_samples, self.batch_size
        return n // b if self.drop_last else math.ceil(n / b)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def to(self, device) -> "Batches":
        self.tensors = tuple(t.to(device) for t in self.tensors)
        return self

    def __iter__(self):
        n, b = self.num_samples, self.batch_size
        stop = n - n % b if self.drop_last else n
        if not self.shuffle:
            for i in range(0, stop, b):
                yield tuple(t[i:i + b] for t in self.tensors)
            return
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(n, generator=gen).to(self.tensors[0].device)
        for i in range(0, stop, b):
            idx = order[i:i + b]
            yield tuple(t.index_select(0, idx) for t in self.tensors)
