"""A residual MLP whose blocks can be dropped at random while it trains: stochastic depth
(Huang et al., 2016) and DropPath (its per-sample form, used in ViT, Swin and ConvNeXt).

Block ``i`` computes ``x + f_i(x)`` with ``f_i = LayerNorm → Linear → ReLU → Linear``. When
``f_i`` is dropped, the skip connection still carries ``x`` forward: dropping a whole block only
makes sense in a residual network. A *drop rule* ``rule(x, branch, p, training)`` returns the
block's output; ``p`` is the block's drop rate. Two rules:

* ``drop_path`` (here): the branch runs on the whole batch and is zeroed for a random share
  ``p`` of the samples; the kept ones are scaled by ``1 / (1 - p)``. No computation is saved.
* per-batch stochastic depth: with probability ``p`` the branch is skipped for the whole
  batch, so it is not computed at all, which is where the training-time saving comes from
  (the lab of class 117 has you write it).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from dlab.errors import ConfigError


def linear_drop_rates(blocks: int, p_max: float) -> list[float]:
    """Drop rates growing linearly with depth, from 0 for the first block to ``p_max`` for the
    last (timm's convention): the early blocks, which every later one builds on, stay safe."""
    if blocks < 1 or not 0.0 <= p_max < 1.0:
        raise ConfigError(f"linear_drop_rates needs blocks >= 1 and 0 <= p_max < 1, got "
                          f"blocks={blocks}, p_max={p_max}")
    if blocks == 1:
        return [p_max]
    return [p_max * i / (blocks - 1) for i in range(blocks)]


def drop_path(x: torch.Tensor, branch: Callable, p: float, training: bool) -> torch.Tensor:
    """DropPath: ``x + branch(x)`` with the branch zeroed for each sample with probability
    ``p`` and scaled by ``1 / (1 - p)`` where kept (training only); at evaluation,
    ``x + branch(x)``."""
    out = branch(x)
    if not training or p == 0:
        return x + out
    keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - p)
    return x + out * (keep / (1 - p))


class ResidualBlock(nn.Module):
    def __init__(self, width: int, drop_rate: float = 0.0, rule: Callable | None = None):
        super().__init__()
        self.branch = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.ReLU(),
                                    nn.Linear(width, width))
        self.drop_rate, self.rule = drop_rate, rule

    def forward(self, x):
        if self.rule is None or self.drop_rate == 0:
            return x + self.branch(x)
        return self.rule(x, self.branch, self.drop_rate, self.training)

    def extra_repr(self) -> str:
        rule = getattr(self.rule, "__name__", self.rule)
        return f"drop_rate={self.drop_rate:.3g}, rule={rule}" if self.rule else ""


class ResidualMLP(nn.Sequential):
    """``Flatten → Linear(in, width) → ReLU → blocks × ResidualBlock → LayerNorm →
    Linear(width, out)``. ``drop_rates`` (one per block) and ``rule`` turn on random block
    dropping; without them every block always runs."""

    def __init__(self, in_features: int, width: int, blocks: int, out_features: int,
                 drop_rates: Sequence[float] | None = None, rule: Callable | None = None):
        rates = list(drop_rates) if drop_rates is not None else [0.0] * blocks
        if len(rates) != blocks:
            raise ConfigError(f"ResidualMLP: {len(rates)} drop rates for {blocks} blocks; give "
                              "one per block.")
        if any(not 0.0 <= r < 1.0 for r in rates):
            raise ConfigError(f"ResidualMLP: drop rates must be in [0, 1), got {rates}")
        super().__init__(nn.Flatten(), nn.Linear(in_features, width), nn.ReLU(),
                         *[ResidualBlock(width, r, rule) for r in rates],
                         nn.LayerNorm(width), nn.Linear(width, out_features))
