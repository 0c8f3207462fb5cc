"""Autoencoder building blocks for 28×28 grey images with pixels in [0, 1].

``DenseAutoencoder``: an MLP encoder down to a code and a mirrored decoder (undercomplete,
stacked, denoising and sparse autoencoders differ only in sizes and in how they are trained).
``ConvEncoder`` / ``ConvDecoder``: two stride-2 convolutions down to 7×7 and two transposed
convolutions back up, shared by the convolutional autoencoder and the VAE.
"""
from __future__ import annotations

import torch
from torch import nn


class DenseAutoencoder(nn.Module):
    """``sizes = [784, 256, 64]`` gives 784 → 256 → 64 (the code) → 256 → 784. Hidden layers
    use ReLU; the code is linear unless ``relu_code`` (non-negative codes, for a sparse
    autoencoder); the output goes through a sigmoid, like the pixels, into [0, 1]."""

    def __init__(self, sizes: list, relu_code: bool = False):
        super().__init__()
        down = []
        for a, b in zip(sizes[:-2], sizes[1:-1]):
            down += [nn.Linear(a, b), nn.ReLU()]
        down.append(nn.Linear(sizes[-2], sizes[-1]))
        if relu_code:
            down.append(nn.ReLU())
        up = []
        rev = sizes[::-1]
        for a, b in zip(rev[:-2], rev[1:-1]):
            up += [nn.Linear(a, b), nn.ReLU()]
        up += [nn.Linear(rev[-2], rev[-1]), nn.Sigmoid()]
        self.encoder, self.decoder = nn.Sequential(nn.Flatten(), *down), nn.Sequential(*up)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x)).reshape(x.shape)


class ConvEncoder(nn.Module):
    """(N, 1, 28, 28) → (N, out_features): conv 3×3 stride 2 (28 → 14), conv 3×3 stride 2
    (14 → 7), flatten, linear."""

    def __init__(self, out_features: int, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(-1, 1, 28, 28))


class ConvDecoder(nn.Module):
    """(N, latent) → (N, 1, 28, 28) in [0, 1] (or logits with ``logits=True``): linear to
    7×7 maps, transposed conv (7 → 14), transposed conv (14 → 28)."""

    def __init__(self, latent: int, width: int = 32, logits: bool = False):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent, 2 * width * 7 * 7), nn.ReLU(), nn.Unflatten(1, (2 * width, 7, 7)),
            nn.ConvTranspose2d(2 * width, width, 3, stride=2, padding=1, output_padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 3, stride=2, padding=1, output_padding=1),
            *([] if logits else [nn.Sigmoid()]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class ConvAutoencoder(nn.Module):
    """``ConvEncoder`` to a ``latent``-wide code, ``ConvDecoder`` back to the image."""

    def __init__(self, latent: int, width: int = 32):
        super().__init__()
        self.encoder = ConvEncoder(latent, width)
        self.decoder = ConvDecoder(latent, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def psnr(clean: torch.Tensor, other: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of ``other`` against ``clean`` (pixels in [0, 1],
    peak 1): 10·log10(1 / MSE) over all pixels. Higher is closer."""
    mse = torch.mean((other.float().reshape(clean.shape) - clean.float()) ** 2)
    return float(10 * torch.log10(1.0 / mse))


@torch.no_grad()
def reconstruct(model: nn.Module, images: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The model's outputs for ``images`` in eval mode, batch by batch, as float32."""
    model.eval()
    return torch.cat([model(images[i:i + batch_size]).float()
                      for i in range(0, len(images), batch_size)]).reshape(images.shape)
