"""Multi-layer perceptrons, the workhorse of the first half of the course."""
from __future__ import annotations

from typing import Callable

from torch import nn

from dlab.errors import ConfigError

ACTIVATIONS = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU, "linear": nn.Identity,
}


class MLP(nn.Sequential):
    """``in → [Linear → (BatchNorm | LayerNorm) → activation → (Dropout)] × len(hidden) →
    Linear → out``.

    The last layer has no activation: it returns logits (classification) or raw values
    (regression), because torch's losses apply softmax/sigmoid themselves, more stably."""

    def __init__(self, in_features: int, hidden: list[int], out_features: int,
                 activation: str | Callable[[], nn.Module] = "relu", dropout: float = 0.0,
                 batchnorm: bool = False, layernorm: bool = False):
        # ``activation``: a name of ACTIVATIONS, or a function that makes a new activation
        # layer each time it is called (e.g. ``lambda: nn.LeakyReLU(0.1)``, ``nn.SiLU``).
        if not callable(activation) and activation not in ACTIVATIONS:
            raise ConfigError(f"Unknown activation '{activation}'. Use one of "
                              f"{', '.join(ACTIVATIONS)}.")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        if batchnorm and layernorm:
            raise ConfigError("Choose one normalization per layer: batchnorm or layernorm.")
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batchnorm:
                layers.append(nn.BatchNorm1d(h))
            if layernorm:
                layers.append(nn.LayerNorm(h))
            layers.append(activation() if callable(activation) else ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
