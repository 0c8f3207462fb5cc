"""A two-layer classifier written with bare tensors: no ``nn.Module``, no ``torch.optim``.

    logits = relu(X @ W1 + b1) @ W2 + b2          X (N, d) · W1 (d, h) · W2 (h, c)

Everything ``nn.Linear`` and ``torch.optim.SGD`` would hide is in plain sight: parameters are
leaf tensors with ``requires_grad=True``, the update is ``p -= lr * p.grad`` under
``torch.no_grad()``, and gradients are cleared by hand because ``backward()`` adds to ``.grad``
instead of overwriting it. ``dlab.models.two_layer.TwoLayerNet`` is the same network as an
``nn.Module``; the module-net lab checks that both follow the same trajectory.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from dlab.data import Batches

Params = dict[str, torch.Tensor]


def init_params(n_in: int, n_hidden: int, n_out: int, seed: int = 0) -> Params:
    """Weights and biases drawn from U(-1/√fan_in, 1/√fan_in), the range ``nn.Linear`` uses,
    so the explicit network starts at the same scale as its ``nn.Module`` twin."""
    gen = torch.Generator().manual_seed(seed)

    def uniform(fan_in: int, *shape: int) -> torch.Tensor:
        bound = 1 / math.sqrt(fan_in)
        return ((torch.rand(*shape, generator=gen) * 2 - 1) * bound).requires_grad_()

    return {"W1": uniform(n_in, n_in, n_hidden), "b1": uniform(n_in, n_hidden),
            "W2": uniform(n_hidden, n_hidden, n_out), "b2": uniform(n_hidden, n_out)}


def forward(params: Params, X: torch.Tensor) -> torch.Tensor:
    """Logits (N, c). No softmax: the cross-entropy applies log-softmax itself, stably."""
    H = torch.relu(X @ params["W1"] + params["b1"])  # b1 (h,) broadcasts over the N rows
    return H @ params["W2"] + params["b2"]


def zero_grad(params: Params) -> None:
    """Forget the previous step's gradients; otherwise ``backward()`` adds the new ones to them."""
    for p in params.values():
        p.grad = None


def sgd_step(params: Params, lr: float) -> None:
    """θ ← θ - lr · ∇θ L for every parameter, in place."""
    with torch.no_grad():  # the update is bookkeeping, not part of the model: keep it off the graph
        for p in params.values():
            p -= lr * p.grad


def train_scratch(params: Params, X: torch.Tensor, y: torch.Tensor, lr: float, epochs: int,
                  batch_size: int = 32, seed: int = 0) -> list[float]:
    """Mini-batch SGD on cross-entropy, in place on ``params``; returns the loss of every step.

    Batches come from ``Batches(X, y, batch_size, shuffle=True, seed)`` with epochs numbered
    from 1, exactly as ``Trainer.fit(..., seed=seed)`` draws them, so an ``nn.Module`` copy of
    the same weights trained by the Trainer sees the same batches in the same order.
    Stops at the first NaN or infinite loss: every step after it would be NaN too."""
    batches = Batches(X, y, batch_size=batch_size, shuffle=True, seed=seed)
    losses = []
    for epoch in range(1, epochs + 1):
        batches.set_epoch(epoch)
        for xb, yb in batches:
            loss = F.cross_entropy(forward(params, xb), yb)  # the loss, not a module: a function
            zero_grad(params)
            loss.backward()
            sgd_step(params, lr)
            losses.append(loss.item())
            if not math.isfinite(losses[-1]):
                return losses
    return losses


@torch.no_grad()
def predict(params: Params, X: torch.Tensor) -> torch.Tensor:
    """Class index of the largest logit for each row of ``X``."""
    return forward(params, X).argmax(dim=1)
