"""Compact versions of the CNN families of class 130, sized for 1×28×28 images and a laptop
CPU: LeNet-5, a VGG-style stack, a ResNet with basic residual blocks (optionally with
squeeze-and-excitation), a ConvNeXt-style net and a MobileNet-style depthwise-separable net.
Each keeps its family's defining idea, not its ImageNet size."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


def lenet5(num_classes: int = 10) -> nn.Sequential:
    """LeCun et al. (1998): 5×5 convolutions, tanh, average pooling, three dense layers."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(),
        nn.Linear(84, num_classes))


def vgg_style(widths=(16, 32, 64), num_classes: int = 10) -> nn.Sequential:
    """VGG: stages of two 3×3 convolutions and a 2×2 max-pool, then a dense head."""
    layers, c = [], 1
    for w in widths:
        layers += [nn.Conv2d(c, w, 3, padding=1), nn.ReLU(), nn.Conv2d(w, w, 3, padding=1),
                   nn.ReLU(), nn.MaxPool2d(2)]
        c = w
    side = 28 // 2 ** len(widths)
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c * side * side, 128), nn.ReLU(),
                         nn.Linear(128, num_classes))


class SqueezeExcitation(nn.Module):
    """SENet: average each channel (squeeze), two dense layers and a sigmoid give one weight in
    (0, 1) per channel (excitation), and the channels are rescaled by it."""

    def __init__(self, channels: int, reduction: int = 8):
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                  nn.Linear(channels, channels // reduction), nn.ReLU(),
                                  nn.Linear(channels // reduction, channels), nn.Sigmoid())

    def forward(self, x):
        return x * self.gate(x)[:, :, None, None]


class BasicBlock(nn.Module):
    """ResNet's basic block: x + F(x), F = conv-BN-ReLU-conv-BN (+ SE); a 1×1 convolution
    matches the shortcut when the block changes width or stride."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, se: bool = False):
        super().__init__()
        self.branch = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False), nn.BatchNorm2d(c_out),
            *([SqueezeExcitation(c_out)] if se else []))
        self.shortcut = (nn.Identity() if stride == 1 and c_in == c_out else nn.Sequential(
            nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)))

    def forward(self, x):
        return torch.relu(self.shortcut(x) + self.branch(x))


def resnet_style(widths=(16, 32, 64), se: bool = False, num_classes: int = 10) -> nn.Sequential:
    """A stem convolution, one basic block per stage (stride 2 from the second stage on),
    global average pooling, one dense layer."""
    blocks, c = [], widths[0]
    for i, w in enumerate(widths):
        blocks.append(BasicBlock(c, w, stride=1 if i == 0 else 2, se=se))
        c = w
    return nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False),
                         nn.BatchNorm2d(widths[0]), nn.ReLU(), *blocks,
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, num_classes))


class ChannelsLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels of an (N, C, H, W) tensor, at every position."""

    def forward(self, x):
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """ConvNeXt: a 7×7 depthwise convolution, LayerNorm, then an inverted bottleneck (1×1 to 4×
    the width, GELU, back), added to the input."""

    def __init__(self, c: int):
        super().__init__()
        self.branch = nn.Sequential(nn.Conv2d(c, c, 7, padding=3, groups=c), ChannelsLayerNorm(c),
                                    nn.Conv2d(c, 4 * c, 1), nn.GELU(), nn.Conv2d(4 * c, c, 1))

    def forward(self, x):
        return x + self.branch(x)


def convnext_style(widths=(32, 64), num_classes: int = 10) -> nn.Sequential:
    """A 2×2 stride-2 'patchify' stem, one ConvNeXt block per stage, LayerNorm + 2×2 stride-2
    convolution between stages, global average pooling, LayerNorm, one dense layer."""
    layers = [nn.Conv2d(1, widths[0], 2, stride=2), ChannelsLayerNorm(widths[0])]
    for i, w in enumerate(widths):
        if i:
            layers += [ChannelsLayerNorm(widths[i - 1]), nn.Conv2d(widths[i - 1], w, 2, stride=2)]
        layers.append(ConvNeXtBlock(w))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(widths[-1]),
                         nn.Linear(widths[-1], num_classes))


def depthwise_separable(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    """MobileNet's block: a 3×3 depthwise convolution (one filter per channel) and a 1×1
    pointwise one mixing the channels, each with BatchNorm and ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_in, 3, stride, 1, groups=c_in, bias=False), nn.BatchNorm2d(c_in),
        nn.ReLU(), nn.Conv2d(c_in, c_out, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


def mobilenet_style(block: Callable = depthwise_separable, num_classes: int = 10) -> nn.Sequential:
    """A stride-2 stem convolution, four depthwise-separable blocks (``block(c_in, c_out,
    stride)``), global average pooling, one dense layer."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        block(16, 32, 1), block(32, 64, 2), block(64, 64, 1), block(64, 128, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, num_classes))


@torch.inference_mode()
def single_image_latency(model: nn.Module, image: torch.Tensor, repeats: int = 30) -> float:
    """Median seconds of ``model(image[None])`` in evaluation mode (after 3 warm-up calls):
    the latency of classifying one image."""
    from dlab.engine.timing import median_call_ms

    model.eval()
    x = image[None]
    return median_call_ms(lambda _: model(x), repeats, warmup=3) / 1000
