"""Turn arrays into a :class:`Dataset`: seeded train/val/test split + train-only scaling."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from dlab.data.registry import Dataset


def split_arrays(
    name: str,
    X: np.ndarray,
    y: np.ndarray,
    *,
    task: str,
    seed: int = 0,
    val_size: float = 0.2,
    test_size: float = 0.2,
    standardize: bool = True,
    classes: list[str] | None = None,
    info: dict | None = None,
) -> Dataset:
    """Split ``X, y`` into train/val/test (stratified for classification) and standardize the
    features with statistics from the training part only, so no information leaks from
    val/test into training."""
    stratify = y if task == "classification" else None
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=test_size, random_state=seed, stratify=stratify
    )
    stratify = y_rest if task == "classification" else None
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest, y_rest, test_size=val_size / (1 - test_size), random_state=seed, stratify=stratify
    )
    normalization: dict = {}
    if standardize:
        mean = X_train.mean(axis=0)
        std = X_train.std(axis=0)
        std[std == 0] = 1.0  # constant features stay constant instead of becoming NaN
        X_train, X_val, X_test = ((a - mean) / std for a in (X_train, X_val, X_test))
        normalization = {"mean": mean.tolist(), "std": std.tolist()}
    y_dtype = torch.int64 if task == "classification" else torch.float32

    def pair(a, b):
        return torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=y_dtype)

    return Dataset(
        name=name,
        task=task,
        train=pair(X_train, y_train),
        val=pair(X_val, y_val),
        test=pair(X_test, y_test),
        classes=classes,
        normalization=normalization,
        info=info or {},
    )
