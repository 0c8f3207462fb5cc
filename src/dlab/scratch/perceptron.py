"""Rosenblatt's perceptron (1958): one linear unit, a step function, and an error-driven rule.

It provably learns any linearly separable problem (AND, OR) and provably cannot learn XOR:
no straight line puts (0,1) and (1,0) on one side and (0,0) and (1,1) on the other.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from dlab.errors import DlabError

_TRUTH_TABLES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
}


def truth_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs X (4, 2) and targets y (4,) of a two-input logic gate: "and", "or" or "xor"."""
    key = name.lower()
    if key not in _TRUTH_TABLES:
        raise DlabError(f"Unknown truth table {name!r}; choose one of {sorted(_TRUTH_TABLES)}.")
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array(_TRUTH_TABLES[key], dtype=np.float64)


class Perceptron:
    """A single neuron with a step activation, trained with the perceptron rule (``update``)."""

    def __init__(self, n_inputs: int, lr: float = 0.1, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        # Small random weights: the rule converges from any start on separable data.
        self.w = rng.normal(0.0, 0.1, size=n_inputs)
        self.b = 0.0
        self.lr = lr

    def predict(self, X: np.ndarray) -> np.ndarray:
        """1 where w·x + b >= 0, else 0 (the step function has no useful gradient)."""
        return (np.asarray(X) @ self.w + self.b >= 0).astype(np.float64)

    def fit(self, X: np.ndarray, y: np.ndarray, update: Callable, epochs: int = 100) -> list[float]:
        """Apply the learning rule sample by sample; return the accuracy after each epoch.

        ``update(w, b, x, y, lr) -> (w, b)`` is the perceptron rule for one sample (the
        perceptron-xor lab has the student write it): it moves the weights only on a mistake."""
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        history = []
        for _ in range(epochs):
            for x_i, y_i in zip(X, y):
                self.w, self.b = update(self.w, self.b, x_i, y_i, self.lr)
            history.append(float(np.mean(self.predict(X) == y)))
        return history
