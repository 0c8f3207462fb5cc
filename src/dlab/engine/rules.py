"""Training pieces whose core is a plain function passed in: an optimizer update rule, an
early-stopping decision, a dropout forward pass.

Labs use them to train with a function a student wrote (an exercise) while the ``Trainer``
stays the same: the function holds the idea, the class only does the bookkeeping.
"""
from __future__ import annotations

import copy
from typing import Callable

import torch
from torch import nn

from dlab.engine.callbacks import Callback
from dlab.errors import ConfigError


class RuleOptimizer(torch.optim.Optimizer):
    """An optimizer whose update of each parameter is ``rule(param, grad, state, lr)``, which
    returns the new value of the parameter. ``state`` is a dict kept per parameter between
    steps (empty before the first one): the rule stores there what it needs (a velocity, a
    step count...). The rule runs without autograd; the parameter is overwritten in place
    with what it returns."""

    def __init__(self, params, rule: Callable, lr: float):
        if lr <= 0:
            raise ConfigError(f"lr must be > 0, got {lr}")
        super().__init__(params, {"lr": lr})
        self.rule = rule

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                new = self.rule(p, p.grad, self.state[p], group["lr"])
                if new is not p:
                    p.copy_(new)
        return loss


class RuleEarlyStopping(Callback):
    """Early stopping whose decision is ``rule(values, patience) -> (best_epoch, stop)``:
    ``values`` holds the monitored value of every epoch so far (lower is better), ``best_epoch``
    is 1-based. The weights of the best epoch are kept and put back when training ends, as
    ``EarlyStopping(restore_best_weights=True)`` does."""

    def __init__(self, rule: Callable, patience: int, monitor: str = "val_loss"):
        self.rule, self.patience, self.monitor = rule, patience, monitor
        self.values: list[float] = []
        self.best_epoch, self.best_weights = 0, None

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise ConfigError(f"RuleEarlyStopping monitors '{self.monitor}' but it was not "
                              f"logged; logged: {', '.join(logs)}. Pass validation data to "
                              "fit().")
        self.values.append(float(logs[self.monitor]))
        best_epoch, stop = self.rule(list(self.values), self.patience)
        if best_epoch == len(self.values):
            self.best_weights = copy.deepcopy(trainer.model.state_dict())
        self.best_epoch = best_epoch
        if stop:
            trainer.stop_training = True

    def on_fit_end(self, trainer):
        if self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"values": self.values, "best_epoch": self.best_epoch,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.values, self.best_epoch = list(state["values"]), state["best_epoch"]
        self.best_weights = state["best_weights"]


class FunctionDropout(nn.Module):
    """A dropout layer that calls ``fn(x, p, training)``; ``training`` is the module's mode,
    so ``model.eval()`` switches it off like ``nn.Dropout``."""

    def __init__(self, fn: Callable, p: float):
        super().__init__()
        self.fn, self.p = fn, p

    def forward(self, x):
        return self.fn(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, fn={getattr(self.fn, '__name__', self.fn)}"


def replace_dropout(model: nn.Module, fn: Callable) -> nn.Module:
    """Swap every ``nn.Dropout`` of ``model`` (in place) for a ``FunctionDropout`` with the same
    probability; returns the model. Dropout has no weights, so nothing else changes."""
    for name, child in model.named_children():
        if isinstance(child, nn.Dropout):
            setattr(model, name, FunctionDropout(fn, child.p))
        else:
            replace_dropout(child, fn)
    return model
