"""A convolutional variational autoencoder for 28×28 images: the encoder gives the mean and
log-variance of a Gaussian over the code, the decoder gives pixel logits. Sampling the code
(the reparameterization trick) and the loss are left to the lab, where students write them."""
from __future__ import annotations

import torch
from torch import nn

from dlab.generative.autoencoders import ConvDecoder, ConvEncoder


class ConvVAE(nn.Module):
    def __init__(self, latent: int = 10, width: int = 32):
        super().__init__()
        self.latent = latent
        self.encoder = ConvEncoder(2 * latent, width)
        self.decoder = ConvDecoder(latent, width, logits=True)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar), each (N, latent)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Pixel logits (N, 1, 28, 28); ``torch.sigmoid`` gives the image."""
        return self.decoder(z)

    @torch.no_grad()
    def generate(self, z: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Images in [0, 1] decoded from codes ``z``, in eval mode, as float32."""
        self.eval()
        return torch.cat([torch.sigmoid(self.decode(z[i:i + batch_size]).float())
                          for i in range(0, len(z), batch_size)])
