"""The dataset registry: every dataset is a function registered under a short name.

``load("moons")`` returns a :class:`Dataset` with a fixed train/val/test split and the
normalization statistics that were fitted on the training part only (never on val/test).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable

from dlab.errors import DataError

_REGISTRY: dict[str, Callable[..., "Dataset"]] = {}


@dataclass
class Dataset:
    """A split dataset. ``train``/``val``/``test`` are ``(X, y)`` tensor pairs for tabular and
    image data; sequence and text datasets document their own layout in ``info``."""

    name: str
    task: str  # "classification", "regression", "sequence", "text", "translation"
    train: Any
    val: Any
    test: Any
    classes: list[str] | None = None
    normalization: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def num_classes(self) -> int | None:
        return None if self.classes is None else len(self.classes)


def register(name: str):
    """Decorator: ``@register("moons")`` makes ``load("moons", **kw)`` call the function."""

    def wrap(fn):
        _REGISTRY[name] = fn
        return fn

    return wrap


def names() -> list[str]:
    _import_builtin_loaders()
    return sorted(_REGISTRY)


def load(name: str, **kwargs) -> Dataset:
    _import_builtin_loaders()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise DataError(
            f"Unknown dataset '{name}'.{hint} Known datasets: {', '.join(sorted(_REGISTRY))}."
        )
    return _REGISTRY[name](**kwargs)


def _import_builtin_loaders() -> None:
    # Imported lazily so that `import dlab.data` stays cheap; each module registers itself.
    from dlab.data import bundled, files, synthetic  # noqa: F401
