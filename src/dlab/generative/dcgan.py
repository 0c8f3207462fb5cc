"""DCGAN for 28×28 images, as class 158 lays it out: the generator maps noise through a dense
layer to 7·7·128 values, reshapes them into 128 maps of 7×7 and grows them with three
transposed convolutions to one 28×28 image in [-1, 1] (tanh); the discriminator is three
strided convolutions and a dense layer to one logit ("real"). Batch normalization in the
generator and LeakyReLU in the discriminator follow Radford et al. (2016)."""
from __future__ import annotations

import torch
from torch import nn


class Generator(nn.Module):
    def __init__(self, noise: int = 64, channels: int = 128, width: int = 32):
        super().__init__()
        self.noise = noise
        self.net = nn.Sequential(
            nn.Linear(noise, 7 * 7 * channels), nn.BatchNorm1d(7 * 7 * channels), nn.ReLU(),
            nn.Unflatten(1, (channels, 7, 7)),
            nn.ConvTranspose2d(channels, width, 4, stride=2, padding=1),    # 7 → 14
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, width // 2, 4, stride=2, padding=1),  # 14 → 28
            nn.BatchNorm2d(width // 2), nn.ReLU(),
            nn.ConvTranspose2d(width // 2, 1, 3, stride=1, padding=1),      # 28 → 28
            nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Images in [0, 1] (not [-1, 1]) for noise ``z``, in eval mode, as float32."""
        self.eval()
        return torch.cat([(self(z[i:i + batch_size]).float() + 1) / 2
                          for i in range(0, len(z), batch_size)])


class Discriminator(nn.Module):
    def __init__(self, width: int = 16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),             # 14
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1), nn.LeakyReLU(0.2),     # 7
            nn.Conv2d(2 * width, 4 * width, 3, stride=2, padding=1), nn.LeakyReLU(0.2),  # 4
            nn.Flatten(), nn.Linear(4 * width * 4 * 4, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(-1, 1, 28, 28))
