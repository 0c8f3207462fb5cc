"""scikit-learn's bundled datasets (shipped inside the package: no download needed)."""
from __future__ import annotations

from sklearn import datasets as skd

from dlab.data.registry import Dataset, register
from dlab.data.split import split_arrays


def _bundled(name: str, loader, task: str, seed: int, standardize: bool) -> Dataset:
    bunch = loader()
    classes = [str(c) for c in bunch.target_names] if task == "classification" else None
    return split_arrays(name, bunch.data, bunch.target, task=task, seed=seed,
                        standardize=standardize, classes=classes,
                        info={"feature_names": list(bunch.feature_names)})


@register("iris")
def iris(seed: int = 0, standardize: bool = True) -> Dataset:
    return _bundled("iris", skd.load_iris, "classification", seed, standardize)


@register("wine")
def wine(seed: int = 0, standardize: bool = True) -> Dataset:
    return _bundled("wine", skd.load_wine, "classification", seed, standardize)


@register("breast_cancer")
def breast_cancer(seed: int = 0, standardize: bool = True) -> Dataset:
    return _bundled("breast_cancer", skd.load_breast_cancer, "classification", seed, standardize)


@register("digits")
def digits(seed: int = 0, standardize: bool = True) -> Dataset:
    return _bundled("digits", skd.load_digits, "classification", seed, standardize)


@register("diabetes")
def diabetes(seed: int = 0, standardize: bool = True) -> Dataset:
    return _bundled("diabetes", skd.load_diabetes, "regression", seed, standardize)
