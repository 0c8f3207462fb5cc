"""A U-Net for segmentation: per-pixel class logits for an image, any size divisible by
``2 ** (len(widths) - 1)``.

The encoder halves the resolution at each level (two 3×3 convolutions with BatchNorm and ReLU,
then 2×2 max pooling); the decoder doubles it back (a 2×2 transposed convolution), concatenates
the encoder's map of the same resolution (the skip connection, which brings back the exact
positions pooling threw away) and mixes both with two more convolutions. A 1×1 convolution
gives ``num_classes`` logits per pixel.

Why not the diffusion lab's ``dlab.generative.unet.SmallUNet``: that one is conditioned on a
timestep and a class (an embedding added inside every block), has a fixed two-level layout
for 28×28 images and predicts one noise channel; a segmenter needs none of the conditioning,
a depth chosen for its images, and class logits. Sharing its block would mean passing a
dummy embedding everywhere.
"""
from __future__ import annotations

import torch
from torch import nn


def double_conv(c_in: int, c_out: int) -> nn.Sequential:
    """Two 3×3 convolutions (same size), each followed by BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class SegmentationUNet(nn.Module):
    """``forward(x)`` with x (N, in_channels, H, W) → logits (N, num_classes, H, W).

    ``widths[i]`` is the number of channels at level ``i`` (level 0 = full resolution); the
    network pools ``len(widths) - 1`` times."""

    def __init__(self, in_channels: int = 1, num_classes: int = 2,
                 widths: tuple[int, ...] = (16, 32, 64)):
        super().__init__()
        if len(widths) < 2:
            raise ValueError(f"a U-Net needs at least two levels; got widths={widths}")
        self.levels = len(widths)
        self.down = nn.ModuleList([double_conv(in_channels, widths[0])] + [
            double_conv(widths[i - 1], widths[i]) for i in range(1, len(widths))])
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i], widths[i - 1], 2, stride=2)
                                 for i in range(len(widths) - 1, 0, -1)])
        self.merge = nn.ModuleList([double_conv(2 * widths[i - 1], widths[i - 1])
                                    for i in range(len(widths) - 1, 0, -1)])
        self.head = nn.Conv2d(widths[0], num_classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        factor = 2 ** (self.levels - 1)
        if x.shape[-1] % factor or x.shape[-2] % factor:
            raise ValueError(f"image size {tuple(x.shape[-2:])} must be divisible by {factor} "
                             f"for this U-Net / el tamaño de imagen {tuple(x.shape[-2:])} debe "
                             f"ser divisible por {factor} para esta U-Net")
        skips = []
        for level, block in enumerate(self.down):
            x = block(x if level == 0 else self.pool(x))
            skips.append(x)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips[:-1])):
            x = merge(torch.cat([up(x), skip], dim=1))
        return self.head(x)
