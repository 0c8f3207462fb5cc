"""Multi-layer perceptrons, the workhorse of the first half of the course."""
from __future__ import annotations

from torch import nn

from dlab.errors import ConfigError

ACTIVATIONS = {
    "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU, "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU, "linear": nn.Identity,
}


class MLP(nn.Sequential):
    """``in → [Linear → (BatchNorm) → activation → (Dropout)] × len(hidden) → Linear → out``.

    The last layer has no activation: it returns logits (classification) or raw values
    (regression), because torch's losses apply softmax/sigmoid themselves, more stably."""

    def __init__(self, in_features: int, hidden: list[int], out_features: int,
                 activation: str = "relu", dropout: float = 0.0, batchnorm: bool = False):
        if activation not in ACTIVATIONS:
            raise ConfigError(f"Unknown activation '{activation}'. Use one of "
                              f"{', '.join(ACTIVATIONS)}.")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers.append(nn.Linear(width, h))
            if batchnorm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(ACTIVATIONS[activation]())
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)
