"""Activation layers as the labs use them: a layer that runs a plain function (so a network can
train with the GELU a student wrote), and a look at what each activation layer receives."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


class FunctionActivation(nn.Module):
    """An activation layer whose forward is ``fn(x)``, applied elementwise."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return f"fn={getattr(self.fn, '__name__', self.fn)}"


ACTIVATION_LAYERS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid,
                     nn.Tanh, FunctionActivation)


@torch.no_grad()
def activation_inputs(model: nn.Module, x: torch.Tensor) -> list[tuple[str, nn.Module,
                                                                       torch.Tensor]]:
    """``(name, layer, z)`` for every call of an activation layer in one forward pass of ``x``,
    in order: ``z`` is what the layer received, one row per sample and one column per unit
    (the pre-activations). The pass runs in evaluation mode (no dropout, BatchNorm with its
    running statistics); the model's training flags are put back afterwards."""
    seen: list[tuple[str, nn.Module, torch.Tensor]] = []
    hooks = [m.register_forward_hook(
        lambda m, inputs, _out, name=name: seen.append((name, m, inputs[0].detach())))
        for name, m in model.named_modules() if isinstance(m, ACTIVATION_LAYERS)]
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        model(x)
    finally:
        for h in hooks:
            h.remove()
        for m, flag in flags:
            m.training = flag
    return seen
