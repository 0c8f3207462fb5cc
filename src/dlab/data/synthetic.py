"""Generated toy datasets: small, instant, and each shows one idea (non-linearity, imbalance...)."""
from __future__ import annotations

import numpy as np
import torch
from sklearn import datasets as skd

from dlab.data.registry import Dataset, register
from dlab.data.split import split_arrays


@register("moons")
def moons(n_samples: int = 1000, noise: float = 0.2, random_state: int = 42, seed: int = 0,
          standardize: bool = True) -> Dataset:
    X, y = skd.make_moons(n_samples=n_samples, noise=noise, random_state=random_state)
    return split_arrays("moons", X, y, task="classification", seed=seed,
                        standardize=standardize, classes=["0", "1"])


@register("circles")
def circles(n_samples: int = 1000, noise: float = 0.1, factor: float = 0.5,
            random_state: int = 42, seed: int = 0, standardize: bool = True) -> Dataset:
    X, y = skd.make_circles(n_samples=n_samples, noise=noise, factor=factor,
                            random_state=random_state)
    return split_arrays("circles", X, y, task="classification", seed=seed,
                        standardize=standardize, classes=["outer", "inner"])


@register("xor")
def xor(n_samples: int = 1000, noise: float = 0.1, random_state: int = 42, seed: int = 0,
        standardize: bool = True) -> Dataset:
    """Noisy XOR: four clusters at the corners of a square, opposite corners share a class."""
    rng = np.random.default_rng(random_state)
    corners = rng.integers(0, 2, size=(n_samples, 2))
    X = corners * 2.0 - 1.0 + rng.normal(0, noise, size=(n_samples, 2))
    y = corners[:, 0] ^ corners[:, 1]
    return split_arrays("xor", X, y, task="classification", seed=seed,
                        standardize=standardize, classes=["0", "1"])


@register("spirals")
def spirals(n_samples: int = 1500, n_classes: int = 3, noise: float = 0.2, turns: float = 1.0,
            random_state: int = 42, seed: int = 0, standardize: bool = True) -> Dataset:
    """Interleaved spiral arms, one per class: linearly hopeless, easy for a small MLP."""
    rng = np.random.default_rng(random_state)
    per_class = n_samples // n_classes
    r = np.tile(np.linspace(0.05, 1.0, per_class), n_classes)
    k = np.repeat(np.arange(n_classes), per_class)
    theta = k * 2 * np.pi / n_classes + r * turns * 2 * np.pi + rng.normal(0, noise, r.shape)
    X = np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1)
    return split_arrays("spirals", X, k, task="classification", seed=seed,
                        standardize=standardize, classes=[str(c) for c in range(n_classes)])


@register("blobs")
def blobs(n_samples: int = 1000, centers: int = 3, n_features: int = 2, cluster_std: float = 1.0,
          random_state: int = 42, seed: int = 0, standardize: bool = True) -> Dataset:
    X, y = skd.make_blobs(n_samples=n_samples, centers=centers, n_features=n_features,
                          cluster_std=cluster_std, random_state=random_state)
    return split_arrays("blobs", X, y, task="classification", seed=seed,
                        standardize=standardize, classes=[str(c) for c in range(centers)])


@register("imbalanced")
def imbalanced(n_samples: int = 4000, minority: float = 0.05, n_features: int = 10,
               random_state: int = 42, seed: int = 0, standardize: bool = True) -> Dataset:
    """Binary classification where one class is rare: plain accuracy looks good while the
    minority class is mostly missed, which is what macro-F1 exposes."""
    X, y = skd.make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=4, n_redundant=2,
        weights=[1 - minority, minority], class_sep=0.8, flip_y=0.01, random_state=random_state,
    )
    return split_arrays("imbalanced", X, y, task="classification", seed=seed,
                        standardize=standardize, classes=["majority", "minority"])


@register("sine")
def sine(n_samples: int = 1000, window: int = 20, noise: float = 0.05, random_state: int = 42,
         seed: int = 0) -> Dataset:
    """A noisy sine wave cut into windows: predict the next value from the previous ``window``.
    The split is chronological (no shuffling), as it must be for time series."""
    rng = np.random.default_rng(random_state)
    t = np.arange(n_samples + window, dtype=np.float64)
    series = np.sin(2 * np.pi * t / 50) + rng.normal(0, noise, t.shape)
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], window)
    y = series[window:]
    n_train, n_val = int(0.7 * len(y)), int(0.15 * len(y))
    cuts = [(0, n_train), (n_train, n_train + n_val), (n_train + n_val, len(y))]
    parts = [(torch.tensor(X[a:b], dtype=torch.float32), torch.tensor(y[a:b], dtype=torch.float32))
             for a, b in cuts]
    return Dataset("sine", "regression", *parts, info={"window": window, "series": series.tolist()})
