"""The course's small CNN for 28×28 images and its variants (class 128, class 129):

    Conv(32, 3) → ReLU → MaxPool(2) → Conv(64, 3) → ReLU → MaxPool(2) → head

with ``padding=1`` ('same'), so 28 → 14 → 7. Two switches make the pooling lab's models:

* ``downsample="pool"`` (a 2×2 max-pool after each conv) or ``"stride"`` (each conv has
  stride 2 and there is no pooling layer): both halve the size;
* ``head="flatten"`` (Flatten → Dense(``dense``) → ReLU → Dense(classes); ``dense=0`` drops
  the hidden layer) or ``"gap"`` (global average pooling: one number per channel → Dense).

The model is a plain ``nn.Sequential``: ``model[:2]`` is the first conv and its ReLU, whose
outputs are the first layer's feature maps.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from dlab.errors import ConfigError

HEADS = ("flatten", "gap")
DOWNSAMPLES = ("pool", "stride")


def small_cnn(channels=(32, 64), dense: int = 128, num_classes: int = 10, head: str = "flatten",
              downsample: str = "pool", in_channels: int = 1, size: int = 28) -> nn.Sequential:
    """The course's CNN for ``in_channels × size × size`` images (see the module docstring)."""
    if head not in HEADS:
        raise ConfigError(f"head must be one of {HEADS}, got {head!r}")
    if downsample not in DOWNSAMPLES:
        raise ConfigError(f"downsample must be one of {DOWNSAMPLES}, got {downsample!r}")
    layers: list[nn.Module] = []
    width = in_channels
    stride = 2 if downsample == "stride" else 1
    for c in channels:
        layers += [nn.Conv2d(width, c, 3, stride=stride, padding=1), nn.ReLU()]
        if downsample == "pool":
            layers.append(nn.MaxPool2d(2))
        width = c
        size = (size + 1) // 2 if downsample == "stride" else size // 2
    if head == "gap":
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    else:
        layers.append(nn.Flatten())
        width *= size * size
    if dense:
        layers += [nn.Linear(width, dense), nn.ReLU()]
        width = dense
    layers.append(nn.Linear(width, num_classes))
    return nn.Sequential(*layers)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class FunctionLayer(nn.Module):
    """A layer whose forward is ``fn(x)``: puts a hand-written pooling (or any function of a
    batch) into a network, so the network trains with it."""

    def __init__(self, fn: Callable):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)

    def extra_repr(self) -> str:
        return f"fn={getattr(self.fn, '__name__', self.fn)}"
