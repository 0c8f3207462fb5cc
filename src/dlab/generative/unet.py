"""A small U-Net that predicts the noise in a noisy 28×28 image, for the diffusion lab.

Two resolutions below the input (28 → 14 → 7) and back up with skip connections. Every block
receives one embedding vector that sums what the network is told besides the image: the
timestep ``t`` (sinusoidal features through a small MLP, as in the Transformer's positions)
and the class label, where label ``num_classes`` is the "null" class used for classifier-free
guidance. With ``cond_channels > 0`` the image is concatenated with extra input maps (an edge
map, for ControlNet's idea in miniature); an all-zero map means "no edge condition".
"""
from __future__ import annotations

import math

import torch
from torch import nn


def timestep_features(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(N,) integer timesteps → (N, dim) sinusoidal features: sin and cos of t at ``dim / 2``
    geometrically spaced frequencies from 1 down to 1/10,000."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float32) / half)
    angles = t.float().reshape(-1, 1) * freqs.reshape(1, -1)
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class Block(nn.Module):
    """Two 3×3 convolutions with GroupNorm and SiLU; the embedding, projected to the output
    channels, is added between them; a 1×1 convolution carries the input around (residual)."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1),
                                   nn.GroupNorm(8, c_out), nn.SiLU())
        self.emb = nn.Linear(emb_dim, c_out)
        self.conv2 = nn.Sequential(nn.Conv2d(c_out, c_out, 3, padding=1),
                                   nn.GroupNorm(8, c_out), nn.SiLU())
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x) + self.emb(emb)[:, :, None, None]
        return self.conv2(h) + self.skip(x)


class SmallUNet(nn.Module):
    """``forward(x_t, t, labels, cond=None)`` → predicted noise, the shape of ``x_t``.

    ``labels`` are class indices in ``0..num_classes``, ``num_classes`` meaning "no class";
    ``cond`` is (N, cond_channels, 28, 28) or None (zeros: no condition)."""

    def __init__(self, width: int = 32, num_classes: int = 10, cond_channels: int = 0,
                 emb_dim: int = 128):
        super().__init__()
        self.num_classes, self.cond_channels, self.emb_dim = num_classes, cond_channels, emb_dim
        self.time_mlp = nn.Sequential(nn.Linear(emb_dim, emb_dim), nn.SiLU(),
                                      nn.Linear(emb_dim, emb_dim))
        self.label_emb = nn.Embedding(num_classes + 1, emb_dim)
        w1, w2 = width, 2 * width
        self.stem = nn.Conv2d(1 + cond_channels, w1, 3, padding=1)
        self.down1 = Block(w1, w1, emb_dim)                               # 28×28
        self.pool1 = nn.Conv2d(w1, w2, 3, stride=2, padding=1)            # → 14×14
        self.down2 = Block(w2, w2, emb_dim)
        self.pool2 = nn.Conv2d(w2, w2, 3, stride=2, padding=1)            # → 7×7
        self.middle = Block(w2, w2, emb_dim)
        self.up2 = nn.ConvTranspose2d(w2, w2, 4, stride=2, padding=1)     # → 14×14
        self.dec2 = Block(2 * w2, w2, emb_dim)
        self.up1 = nn.ConvTranspose2d(w2, w1, 4, stride=2, padding=1)     # → 28×28
        self.dec1 = Block(2 * w1, w1, emb_dim)
        self.out = nn.Conv2d(w1, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor,
                cond: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time_mlp(timestep_features(t, self.emb_dim).to(x.device)) \
            + self.label_emb(labels)
        if self.cond_channels:
            if cond is None:
                cond = torch.zeros(len(x), self.cond_channels, *x.shape[2:], dtype=x.dtype)
            x = torch.cat([x, cond.to(x.dtype)], dim=1)
        h1 = self.down1(self.stem(x), emb)
        h2 = self.down2(self.pool1(h1), emb)
        h = self.middle(self.pool2(h2), emb)
        h = self.dec2(torch.cat([self.up2(h), h2], dim=1), emb)
        h = self.dec1(torch.cat([self.up1(h), h1], dim=1), emb)
        return self.out(h)
