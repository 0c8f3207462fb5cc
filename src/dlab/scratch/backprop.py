"""Backpropagation by hand for a tiny 1-2-1 network, with the chain rule written out.

    x (1,) ──W1 (2,1), b1 (2,)──> z1 (2,) ──act──> h (2,) ──W2 (1,2), b2 (1,)──> ŷ (1,)
    loss L = (ŷ - y)²     (MSE on a single sample with a single output)

Each gradient reuses the one computed just before it: that reuse is all backprop is.
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


def _activation_slope(name: str, h: np.ndarray) -> np.ndarray:
    """d act(z) / dz, written with the output h = act(z) that the forward pass kept."""
    if name == "tanh":
        return 1 - h**2  # tanh' = 1 - tanh²
    return h * (1 - h)  # σ' = σ (1 - σ)


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


def manual_gradients(
    params: Params, x: float | np.ndarray, y: float, activation: str = "tanh"
) -> dict[str, np.ndarray]:
    """dL/dW1, dL/db1, dL/dW2, dL/db2 by the chain rule, from the output back to the input."""
    cache = forward(params, x, activation)
    x, h, y_hat = cache["x"], cache["h"], cache["y_hat"]

    # L = (ŷ - y)²  =>  dL/dŷ = 2 (ŷ - y)
    d_y_hat = 2 * (y_hat - y)  # (1,)
    # ŷ = W2 h + b2, so ŷ moves by h_j per unit of W2[0, j] and by 1 per unit of b2.
    d_W2 = np.outer(d_y_hat, h)  # (1, 2): dL/dW2[0, j] = dL/dŷ · h_j
    d_b2 = d_y_hat  # (1,)
    # h_j reaches L only through ŷ, with weight W2[0, j]: dL/dh = W2ᵀ dL/dŷ.
    d_h = params["W2"].T @ d_y_hat  # (2,)
    # h = act(z1) elementwise: dL/dz1 = dL/dh · act'(z1).
    d_z1 = d_h * _activation_slope(activation, h)  # (2,)
    # z1 = W1 x + b1: the same pattern as the output layer, one layer down.
    d_W1 = np.outer(d_z1, x)  # (2, 1): dL/dW1[i, 0] = dL/dz1_i · x
    d_b1 = d_z1  # (2,)
    return {"W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2}
