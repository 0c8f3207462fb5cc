"""Mini-batches of reviews of similar length, cut to the longest one in each batch.

A recurrent network pays for every position it reads, padding included. Texts padded to a
common length and drawn at random make almost every batch as long as its longest text;
grouping texts of similar length and cutting each batch to its own longest text makes the
cost follow the real tokens. (``pack_padded_sequence`` skips padding too, but its CPU kernels
ran 3-4x slower than this in our measurements.)
"""
from __future__ import annotations

import math

import torch


class LengthBuckets:
    """Iterate ``(ids[idx, -m:], labels[idx])`` over rows of ``ids`` padded with 0 **at the
    start**, ``m`` being the longest text of the batch, so only padding is cut.

    Shuffled: the rows are drawn in a seeded random order, each pool of ``pool`` batches is
    sorted by length and cut into batches, and the batches are shuffled; the order of epoch
    ``e`` depends only on ``(seed, e)``, as with ``Batches``. Not shuffled (evaluation): all
    rows sorted by length, so the outputs come in that order, not in the rows' order."""

    def __init__(self, ids: torch.Tensor, labels: torch.Tensor, batch_size: int = 64,
                 shuffle: bool = True, seed: int = 0, pool: int = 50):
        if ids.ndim != 2 or len(ids) != len(labels):
            raise ValueError(f"LengthBuckets needs ids (rows, positions) and one label per row; "
                             f"got shapes {tuple(ids.shape)} and {tuple(labels.shape)}")
        if batch_size < 1 or pool < 1:
            raise ValueError(f"batch_size and pool must be >= 1, got {batch_size} and {pool}")
        self.ids, self.labels = ids, labels
        self.batch_size, self.shuffle, self.seed, self.pool = batch_size, shuffle, seed, pool
        self.lengths = (ids != 0).sum(1).clamp(min=1)
        self.epoch = 0

    def __len__(self) -> int:
        return math.ceil(len(self.labels) / self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _batches(self) -> list[torch.Tensor]:
        b = self.batch_size
        if not self.shuffle:
            order = torch.argsort(self.lengths, stable=True)
            return [order[i:i + b] for i in range(0, len(order), b)]
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = torch.randperm(len(self.labels), generator=generator)
        batches = []
        for start in range(0, len(order), b * self.pool):
            pool = order[start:start + b * self.pool]
            pool = pool[torch.argsort(self.lengths[pool], stable=True)]
            batches += [pool[i:i + b] for i in range(0, len(pool), b)]
        return [batches[i] for i in torch.randperm(len(batches), generator=generator)]

    def __iter__(self):
        for idx in self._batches():
            longest = int(self.lengths[idx].max())
            yield self.ids[idx, -longest:], self.labels[idx]
