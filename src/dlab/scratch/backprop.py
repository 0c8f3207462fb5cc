"""A tiny 1-2-1 network in numpy, for backpropagation by hand (the perceptron-xor lab has the
student write the gradients and checks them against torch autograd).

    x (1,) ──W1 (2,1), b1 (2,)──> z1 (2,) ──act──> h (2,) ──W2 (1,2), b2 (1,)──> ŷ (1,)
    loss L = (ŷ - y)²     (MSE on a single sample with a single output)
"""

from __future__ import annotations

import numpy as np

from dlab.errors import DlabError

Params = dict[str, np.ndarray]


def init_params(seed: int = 0) -> Params:
    """Random weights and biases with the shapes drawn above."""
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(size=(2, 1)),
        "b1": rng.normal(size=2),
        "W2": rng.normal(size=(1, 2)),
        "b2": rng.normal(size=1),
    }


def _activation(name: str, z: np.ndarray) -> np.ndarray:
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    raise DlabError(f"Unknown activation {name!r}; choose 'tanh' or 'sigmoid'.")


def forward(params: Params, x: float | np.ndarray, activation: str = "tanh") -> dict[str, np.ndarray]:
    """Run the network; return every intermediate value, since backprop needs them."""
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    z1 = params["W1"] @ x + params["b1"]
    h = _activation(activation, z1)
    y_hat = params["W2"] @ h + params["b2"]
    return {"x": x, "z1": z1, "h": h, "y_hat": y_hat}


def loss(params: Params, x: float | np.ndarray, y: float, activation: str = "tanh") -> float:
    """Squared error (ŷ - y)² of one sample."""
    y_hat = forward(params, x, activation)["y_hat"]
    return float(((y_hat - y) ** 2).sum())
