"""Metrics by name, computed by scikit-learn on the collected outputs of a whole split.

Outputs are the model's raw outputs (logits for classification): a ``(N, C)`` tensor is a
C-class problem (prediction = argmax), a ``(N,)`` or ``(N, 1)`` tensor with integer targets is
binary with one logit (prediction = logit > 0). ``roc_auc`` of a ``(N, 2)`` output scores
the probability of class 1, as sklearn expects for a binary problem.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from sklearn import metrics as skm

from dlab.errors import ConfigError


def _binary_single_logit(outputs: torch.Tensor) -> bool:
    return outputs.ndim == 1 or (outputs.ndim == 2 and outputs.shape[1] == 1)


def predictions(outputs: torch.Tensor) -> np.ndarray:
    """Class predictions from logits."""
    if _binary_single_logit(outputs):
        return (outputs.reshape(-1) > 0).long().cpu().numpy()
    return outputs.argmax(dim=1).cpu().numpy()


def probabilities(outputs: torch.Tensor) -> np.ndarray:
    if _binary_single_logit(outputs):
        return torch.sigmoid(outputs.reshape(-1).float()).cpu().numpy()
    return torch.softmax(outputs.float(), dim=1).cpu().numpy()


def _labels(targets: torch.Tensor) -> np.ndarray:
    return targets.reshape(-1).long().cpu().numpy() if targets.ndim <= 1 or targets.shape[-1] == 1 \
        else targets.argmax(dim=1).cpu().numpy()


def accuracy(outputs, targets) -> float:
    return float(skm.accuracy_score(_labels(targets), predictions(outputs)))


def macro_f1(outputs, targets) -> float:
    return float(skm.f1_score(_labels(targets), predictions(outputs), average="macro"))


def roc_auc(outputs, targets) -> float:
    probs = probabilities(outputs)
    if probs.ndim == 2 and probs.shape[1] == 2:  # binary with two logits: score of class 1
        probs = probs[:, 1]
    if probs.ndim == 2:
        return float(skm.roc_auc_score(_labels(targets), probs, multi_class="ovr"))
    return float(skm.roc_auc_score(_labels(targets), probs))


def _regression(outputs, targets):
    return targets.reshape(-1).float().cpu().numpy(), outputs.reshape(-1).float().cpu().numpy()


def mae(outputs, targets) -> float:
    return float(skm.mean_absolute_error(*_regression(outputs, targets)))


def mse(outputs, targets) -> float:
    return float(skm.mean_squared_error(*_regression(outputs, targets)))


def confusion_matrix(outputs, targets, num_classes: int | None = None) -> np.ndarray:
    labels = None if num_classes is None else list(range(num_classes))
    return skm.confusion_matrix(_labels(targets), predictions(outputs), labels=labels)


METRICS: dict[str, Callable[[torch.Tensor, torch.Tensor], float]] = {
    "accuracy": accuracy,
    "macro_f1": macro_f1,
    "roc_auc": roc_auc,
    "mae": mae,
    "mse": mse,
}


def resolve(names) -> dict[str, Callable]:
    out = {}
    for name in names:
        if callable(name):
            out[name.__name__] = name
        elif name in METRICS:
            out[name] = METRICS[name]
        else:
            raise ConfigError(f"Unknown metric '{name}'. Available: {', '.join(METRICS)}, "
                              "or pass a function f(outputs, targets) -> float.")
    return out
