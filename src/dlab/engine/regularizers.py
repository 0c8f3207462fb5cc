"""Regularizers that are not a layer: a weight penalty added to the training loss (L1, L2, as
Keras' ``kernel_regularizer``) and a constraint applied to the weights after every update
(max-norm, or any function of the model)."""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from dlab.engine.callbacks import Callback


def weight_penalty(model: nn.Module, l1: float = 0.0, l2: float = 0.0) -> torch.Tensor:
    """``l1 · Σ|w| + l2 · Σw²`` over the weight matrices of every ``nn.Linear`` of ``model``
    (biases are not penalized, as with Keras' ``kernel_regularizer``)."""
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    total = torch.zeros((), device=weights[0].device) if weights else torch.zeros(())
    for w in weights:
        if l1:
            total = total + l1 * w.abs().sum()
        if l2:
            total = total + l2 * (w ** 2).sum()
    return total


def penalized(loss_fn: Callable, model: nn.Module, l1: float = 0.0,
              l2: float = 0.0) -> Callable:
    """``loss_fn`` plus ``weight_penalty(model, l1, l2)`` while the model trains; in evaluation
    mode the plain ``loss_fn``, so validation losses stay comparable across penalties."""
    if not (l1 or l2):
        return loss_fn

    def loss(outputs, targets):
        value = loss_fn(outputs, targets)
        return value + weight_penalty(model, l1, l2) if model.training else value
    return loss


class AfterEachStep(Callback):
    """Call ``fn(model)`` after every optimizer step, e.g. a max-norm constraint that puts the
    weights back inside their allowed region."""

    def __init__(self, fn: Callable[[nn.Module], object]):
        self.fn = fn

    def on_batch_end(self, trainer, step, logs):
        with torch.no_grad():
            self.fn(trainer.model)
