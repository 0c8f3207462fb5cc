"""A small Vision Transformer (Dosovitskiy et al. 2021) for 28×28 grey images: the image is
cut into square patches, each patch becomes a token, and Transformer encoder layers let every
token attend to every other before a linear head classifies the image.

Sized for a laptop CPU: 7×7 patches of a 28×28 image give 16 tokens (+1 CLS token), and
``dim=64`` keeps an epoch of Fashion-MNIST in seconds, not minutes.
"""
from __future__ import annotations

import torch
from torch import nn

from dlab.errors import ConfigError


class PatchEmbedding(nn.Module):
    """(N, C, H, W) images → (N, patches, dim) tokens: each ``patch_size × patch_size`` patch
    is flattened (C·p·p values) and projected by one shared ``nn.Linear``. Patches are taken
    row by row, left to right."""

    def __init__(self, image_size: int, patch_size: int, in_channels: int, dim: int):
        super().__init__()
        if image_size % patch_size:
            raise ConfigError(f"patch_size {patch_size} must divide image_size {image_size}")
        self.image_size, self.patch_size, self.in_channels = image_size, patch_size, in_channels
        self.num_patches = (image_size // patch_size) ** 2
        self.proj = nn.Linear(in_channels * patch_size ** 2, dim)

    def patches(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) → (N, patches, C·p·p), without the projection."""
        n, c, p = x.shape[0], self.in_channels, self.patch_size
        g = self.image_size // p
        x = x.reshape(n, c, g, p, g, p).permute(0, 2, 4, 1, 3, 5)
        return x.reshape(n, g * g, c * p * p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(self.patches(x))


class ViT(nn.Module):
    """Patch embedding + learned position embeddings + a CLS token, ``depth`` pre-norm
    Transformer encoder layers (GELU MLP of ``mlp_ratio × dim``), a final LayerNorm and a linear
    head on the CLS token (``pool="cls"``) or on the mean of the patch tokens (``"mean"``).
    Accepts (N, C, H, W) images or (N, C·H·W) flattened ones."""

    def __init__(self, image_size: int = 28, patch_size: int = 7, in_channels: int = 1,
                 num_classes: int = 10, dim: int = 64, depth: int = 2, heads: int = 4,
                 mlp_ratio: int = 2, dropout: float = 0.0, pool: str = "cls"):
        super().__init__()
        if pool not in ("cls", "mean"):
            raise ConfigError(f"pool must be 'cls' or 'mean', got {pool!r}")
        if dim % heads:
            raise ConfigError(f"dim {dim} must be divisible by heads {heads}")
        self.image_shape = (in_channels, image_size, image_size)
        self.pool = pool
        self.embed = PatchEmbedding(image_size, patch_size, in_channels, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embedding = nn.Parameter(torch.randn(1, self.embed.num_patches + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=mlp_ratio * dim,
                                           dropout=dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], *self.image_shape)
        tokens = self.embed(x)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        tokens = torch.cat([cls, tokens], dim=1) + self.pos_embedding
        tokens = self.norm(self.encoder(tokens))
        pooled = tokens[:, 0] if self.pool == "cls" else tokens[:, 1:].mean(dim=1)
        return self.head(pooled)
