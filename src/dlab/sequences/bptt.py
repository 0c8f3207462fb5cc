"""How much gradient reaches each time step: backpropagation through time made visible.

The sequence is unrolled one step at a time so that every hidden state is its own tensor in
the graph; after one backward pass of the loss at the last step, ``‖∂L/∂h_t‖`` says how much
the loss can still "feel" the state at step ``t``. In a plain RNN it shrinks roughly
geometrically towards the start of the sequence (vanishing gradients)."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


def gradient_through_time(step: Callable, x: torch.Tensor, state, readout: Callable,
                          target: torch.Tensor, loss_fn: Callable) -> np.ndarray:
    """Mean over the batch of ``‖∂loss/∂h_t‖`` for ``t = 1 … T``.

    ``x`` is ``(batch, T, features)``; ``step(x_t, state) -> state`` advances the recurrence
    one step (the state is ``h`` or a tuple whose first element is ``h``, as for an LSTM's
    ``(h, c)``); the loss is ``loss_fn(readout(h_T), target)``. Parameter gradients are
    accumulated as in any backward pass; zero them before training again."""
    hidden = []
    for t in range(x.shape[1]):
        state = step(x[:, t], state)
        h = state[0] if isinstance(state, tuple) else state
        h.retain_grad()
        hidden.append(h)
    loss_fn(readout(hidden[-1]), target).backward()
    return np.array([float(h.grad.norm(dim=-1).mean()) for h in hidden])
