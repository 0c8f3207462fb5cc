"""Normalization layers whose arithmetic is a plain function passed in, so a lab can train a
network with the BatchNorm or LayerNorm a student wrote while everything else stays torch's.

They subclass ``nn.BatchNorm1d`` / ``nn.LayerNorm``: same parameters, buffers and state-dict
keys, and every ``isinstance`` check (the training doctor's, for one) still recognises them.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn


class FunctionBatchNorm1d(nn.BatchNorm1d):
    """``nn.BatchNorm1d`` whose forward is ``fn(x, weight, bias, running_mean, running_var,
    training, momentum, eps) -> (y, new_running_mean, new_running_var)``. In training the
    layer stores the running statistics ``fn`` returns (as constants: they are not part of the
    graph) and counts the batch; in evaluation ``fn`` receives ``training=False``."""

    def __init__(self, fn: Callable, num_features: int, eps: float = 1e-5,
                 momentum: float = 0.1):
        super().__init__(num_features, eps=eps, momentum=momentum)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y, mean, var = self.fn(x, self.weight, self.bias, self.running_mean, self.running_var,
                               self.training, self.momentum, self.eps)
        if self.training:
            with torch.no_grad():
                self.running_mean.copy_(mean)
                self.running_var.copy_(var)
                self.num_batches_tracked += 1
        return y

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, fn={getattr(self.fn, '__name__', self.fn)}"


class FunctionLayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` over the last dimension whose forward is
    ``fn(x, weight, bias, eps) -> y`` (``weight`` and ``bias`` are None when the layer has
    none)."""

    def __init__(self, fn: Callable, num_features: int, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True):
        super().__init__(num_features, eps=eps, elementwise_affine=elementwise_affine,
                         bias=bias)
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, fn={getattr(self.fn, '__name__', self.fn)}"


def replace_norms(model: nn.Module, batch_norm: Callable | None = None,
                  layer_norm: Callable | None = None) -> nn.Module:
    """Swap (in place) every ``nn.BatchNorm1d`` of ``model`` for a ``FunctionBatchNorm1d``
    calling ``batch_norm`` and every one-dimensional ``nn.LayerNorm`` for a
    ``FunctionLayerNorm`` calling ``layer_norm`` (``None`` leaves that kind alone). The new
    layers take over the old ones' settings, parameters and buffers, on the CPU: replace before
    the model moves to another device (the Trainer moves it). Returns the model."""
    for name, child in model.named_children():
        new = None
        if batch_norm is not None and type(child) is nn.BatchNorm1d:
            new = FunctionBatchNorm1d(batch_norm, child.num_features, child.eps, child.momentum)
        elif (layer_norm is not None and type(child) is nn.LayerNorm
              and len(child.normalized_shape) == 1):
            new = FunctionLayerNorm(layer_norm, child.normalized_shape[0], child.eps,
                                    child.elementwise_affine, child.bias is not None)
        if new is None:
            replace_norms(child, batch_norm, layer_norm)
            continue
        new.load_state_dict(child.state_dict())
        setattr(model, name, new)
    return model
