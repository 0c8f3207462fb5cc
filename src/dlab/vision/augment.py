"""Data augmentation on whole batches of images (N, C, H, W), without a Python loop over the
images: every transform draws one random setting per image from a ``torch.Generator`` and
applies all of them at once with tensor operations.

* ``random_flip``: mirror left-right with probability ``p``;
* ``random_shift``: move by up to ``max_pixels`` in each direction, filling with zeros (the
  same as padding by ``max_pixels`` and taking a random crop of the original size);
* ``random_rotation``: rotate by an angle in [−``degrees``, ``degrees``] about the centre,
  through ``F.affine_grid`` / ``F.grid_sample`` (bilinear, zeros outside);
* ``random_erasing``: with probability ``p``, blank a rectangle covering a share ``area`` of
  the image with aspect ratio in ``ratio``.

``Augment`` chains them; ``AugmentedBatches`` applies one to every training batch, seeded per
epoch, so a run is reproducible and the validation data is never touched.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def _uniform(n: int, low: float, high: float, generator: torch.Generator | None) -> torch.Tensor:
    return low + (high - low) * torch.rand(n, generator=generator)


def random_flip(x: torch.Tensor, p: float = 0.5,
                generator: torch.Generator | None = None) -> torch.Tensor:
    flip = torch.rand(len(x), generator=generator) < p
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_shift(x: torch.Tensor, max_pixels: int,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    if max_pixels == 0:
        return x
    n, _, h, w = x.shape
    m = max_pixels
    dy = torch.randint(-m, m + 1, (n,), generator=generator)
    dx = torch.randint(-m, m + 1, (n,), generator=generator)
    padded = F.pad(x, (m, m, m, m))
    rows = (torch.arange(h)[None, :] + m - dy[:, None])[:, :, None]   # (N, H, 1)
    cols = (torch.arange(w)[None, :] + m - dx[:, None])[:, None, :]   # (N, 1, W)
    picked = padded[torch.arange(n)[:, None, None], :, rows, cols]     # (N, H, W, C)
    return picked.permute(0, 3, 1, 2).contiguous()


def random_rotation(x: torch.Tensor, degrees: float,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    if degrees == 0:
        return x
    angle = torch.deg2rad(_uniform(len(x), -degrees, degrees, generator))
    cos, sin = torch.cos(angle), torch.sin(angle)
    zero = torch.zeros_like(angle)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def erasing_masks(n: int, h: int, w: int, p: float = 0.5, area: tuple = (0.02, 0.2),
                  ratio: tuple = (0.3, 3.3),
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """(N, H, W) booleans, True inside each image's erased rectangle (none with prob 1 − p)."""
    target = _uniform(n, *area, generator) * h * w
    aspect = torch.exp(_uniform(n, math.log(ratio[0]), math.log(ratio[1]), generator))
    eh = torch.sqrt(target * aspect).round().clamp(1, h).long()
    ew = torch.sqrt(target / aspect).round().clamp(1, w).long()
    top = (torch.rand(n, generator=generator) * (h - eh + 1)).long()
    left = (torch.rand(n, generator=generator) * (w - ew + 1)).long()
    on = torch.rand(n, generator=generator) < p
    r = torch.arange(h)[None, :, None]
    c = torch.arange(w)[None, None, :]
    inside = ((r >= top[:, None, None]) & (r < (top + eh)[:, None, None])
              & (c >= left[:, None, None]) & (c < (left + ew)[:, None, None]))
    return inside & on[:, None, None]


def random_erasing(x: torch.Tensor, p: float = 0.5, area: tuple = (0.02, 0.2),
                   ratio: tuple = (0.3, 3.3), value: float = 0.0,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    n, _, h, w = x.shape
    mask = erasing_masks(n, h, w, p, area, ratio, generator)
    return x.masked_fill(mask[:, None], value)


@dataclass(frozen=True)
class Augment:
    """Flip, shift, rotate and erase, in that order; a strength of 0 switches a step off."""

    flip: float = 0.0        # probability of a left-right mirror
    shift: int = 0           # pixels
    degrees: float = 0.0
    erase: float = 0.0       # probability of erasing a rectangle
    erase_area: tuple = (0.02, 0.2)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.flip:
            x = random_flip(x, self.flip, generator)
        x = random_shift(x, self.shift, generator)
        x = random_rotation(x, self.degrees, generator)
        if self.erase:
            x = random_erasing(x, self.erase, self.erase_area, generator=generator)
        return x


class AugmentedBatches:
    """Training batches with ``augment`` applied to each batch's images. The random draws of
    epoch e come from a generator seeded with (seed, e): reproducible, and resumable."""

    def __init__(self, batches, augment, seed: int = 0):
        self.batches, self.augment, self.seed = batches, augment, seed
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.batches)

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.batches, "set_epoch"):
            self.batches.set_epoch(epoch)
        self.generator.manual_seed(self.seed * 1_000_003 + epoch)

    def __iter__(self):
        for X, *rest in self.batches:
            yield (self.augment(X, self.generator), *rest)
