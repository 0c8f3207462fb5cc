"""Weight initialization, and a way to see its effect before any training.

A deep ReLU network only trains well if the signal keeps roughly the same scale from layer
to layer. Each layer multiplies the variance of its input by ``fan_in * Var(w)``, and ReLU
halves it; so ``Var(w) = 2 / fan_in`` (He / Kaiming) keeps it constant, smaller weights make
it shrink geometrically with depth, and the gradients shrink with it.
"""
from __future__ import annotations

import torch
from torch import nn

from dlab.errors import ConfigError
from dlab.models.mlp import ACTIVATIONS

SCHEMES = ("default", "normal", "kaiming", "xavier")


@torch.no_grad()
def init_weights(model: nn.Module, scheme: str, std: float = 1e-3) -> nn.Module:
    """Re-initialize every ``nn.Linear`` of ``model`` in place; returns the model.

    ``default``  leave PyTorch's init (uniform with bound 1/sqrt(fan_in): Var(w) = 1/(3 fan_in))
    ``normal``   weights ~ N(0, std²), biases 0 (``std=1e-3`` is the classic "too small" init)
    ``kaiming``  He normal for ReLU, Var(w) = 2/fan_in, biases 0
    ``xavier``   Glorot uniform, Var(w) = 2/(fan_in + fan_out), biases 0 (for tanh/sigmoid)
    """
    if scheme not in SCHEMES:
        raise ConfigError(f"Unknown init scheme '{scheme}'. Use one of {', '.join(SCHEMES)}.")
    if scheme == "default":
        return model
    for layer in model.modules():
        if not isinstance(layer, nn.Linear):
            continue
        if scheme == "normal":
            nn.init.normal_(layer.weight, mean=0.0, std=std)
        elif scheme == "kaiming":
            nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
        else:
            nn.init.xavier_uniform_(layer.weight)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return model


@torch.no_grad()
def activation_stds(model: nn.Module, x: torch.Tensor) -> list[float]:
    """Standard deviation of the output of each activation layer (in order) for input ``x``:
    how much signal is left at each depth."""
    kinds = tuple(cls for cls in ACTIVATIONS.values() if cls is not nn.Identity)
    stds: list[float] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: stds.append(float(out.std())))
             for m in model.modules() if isinstance(m, kinds)]
    was_training = model.training
    model.eval()
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return stds
