"""A two-layer classifier built on the from-scratch autograd engine (``dlab.scratch.autograd``).

    logits = relu(X @ W1 + b1) @ W2 + b2,   loss = cross-entropy(logits, y)

Proof that the engine is enough to train a real network: nothing here comes from torch.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dlab.scratch.autograd import Tensor

Params = dict[str, Tensor]


def init_params(n_in: int, n_hidden: int, n_out: int, seed: int = 0) -> Params:
    """He-scaled normal weights (std √(2/fan_in), which keeps ReLU activations at a steady
    scale from layer to layer) and zero biases."""
    rng = np.random.default_rng(seed)
    return {
        "W1": Tensor(rng.normal(size=(n_in, n_hidden)) * np.sqrt(2 / n_in), label="W1"),
        "b1": Tensor(np.zeros(n_hidden), label="b1"),
        "W2": Tensor(rng.normal(size=(n_hidden, n_out)) * np.sqrt(2 / n_hidden), label="W2"),
        "b2": Tensor(np.zeros(n_out), label="b2"),
    }


def forward(params: Params, X: np.ndarray | Tensor) -> Tensor:
    """Logits (N, n_out); the biases broadcast over the N rows."""
    hidden = (X @ params["W1"] + params["b1"]).relu()
    return hidden @ params["W2"] + params["b2"]


def cross_entropy(logits: Tensor, y: np.ndarray) -> Tensor:
    """Mean of -log softmax(logits)[y], written with the engine's exp, sum and log."""
    y = np.asarray(y, dtype=int)
    # Subtracting each row's max changes no probability but keeps exp() from overflowing.
    # It is a constant (plain numpy), so it adds nothing to the gradient.
    shifted = logits - logits.data.max(axis=1, keepdims=True)
    log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    picks = np.eye(logits.shape[1])[y]  # one-hot mask: keeps the log-probability of the true class
    return -(log_probs * picks).sum(axis=1).mean()


def train(params: Params, X: np.ndarray, y: np.ndarray, lr: float, steps: int,
          backward: Callable[[Tensor], None] = Tensor.backward) -> list[float]:
    """Full-batch gradient descent, in place on ``params``; returns the loss of every step.

    ``backward(loss)`` fills the gradients of a freshly built graph: ``Tensor.backward``, or a
    hand-written traversal of the graph (the autograd lab has the student write one)."""
    losses = []
    for _ in range(steps):
        loss = cross_entropy(forward(params, X), y)
        for p in params.values():
            p.grad = np.zeros_like(p.data)  # leaves accumulate across backward() calls
        backward(loss)
        for p in params.values():
            p.data -= lr * p.grad
        losses.append(float(loss.data))
    return losses


def predict(params: Params, X: np.ndarray) -> np.ndarray:
    """Class index of the largest logit for each row of ``X``."""
    return forward(params, X).data.argmax(axis=1)
