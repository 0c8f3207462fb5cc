"""What an exercise check asserts, with a message that says what is wrong and what was expected,
in English and Spanish. A check function calls these; the first one that does not hold raises
``CheckFailed`` and the check is reported with its message in the student's language.

    expect.type(model, nn.Module, "build_model([16, 8])")
    expect.shape(out, (5, 2), "build_model([16, 8])(torch.zeros(5, 2))")
    expect.close(grads["W1"], torch_grads["W1"], "backward(...)['W1']", atol=1e-6)
"""
from __future__ import annotations

import math


class CheckFailed(AssertionError):
    """A check that does not hold. ``kind`` names the sort of problem (for the gradebook)."""

    def __init__(self, en: str, es: str, kind: str = "wrong_value"):
        super().__init__(en)
        self.en, self.es, self.kind = en, es, kind

    def text(self, lang: str) -> str:
        return self.es if lang == "es" else self.en


def _show(value) -> str:
    if hasattr(value, "tolist") and getattr(value, "ndim", 1) == 0:
        value = value.tolist()
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def true(condition, en: str, es: str, kind: str = "wrong_value") -> None:
    """A condition with a message of the lab's own, in both languages."""
    if not condition:
        raise CheckFailed(en, es, kind)


def type(value, expected, what: str) -> None:  # noqa: A001 - reads as expect.type(...)
    types = expected if isinstance(expected, tuple) else (expected,)
    if not isinstance(value, types):
        names = " or ".join(t.__name__ for t in types)
        nombres = " o ".join(t.__name__ for t in types)
        got = value.__class__.__name__
        raise CheckFailed(f"`{what}` should return a {names}, but it returned a {got}.",
                          f"`{what}` debería devolver un {nombres}, pero devolvió un {got}.",
                          "wrong_type")


def shape(value, expected: tuple, what: str) -> None:
    got = tuple(getattr(value, "shape", ()))
    if got != tuple(expected):
        raise CheckFailed(f"`{what}` has shape {got}; expected {tuple(expected)}.",
                          f"`{what}` tiene forma {got}; se esperaba {tuple(expected)}.",
                          "wrong_shape")


def equal(value, expected, what: str) -> None:
    if value != expected:
        raise CheckFailed(f"`{what}` is {_show(value)}; expected {_show(expected)}.",
                          f"`{what}` vale {_show(value)}; se esperaba {_show(expected)}.")


def between(value, low: float, high: float, what: str) -> None:
    if not (low <= float(value) <= high):
        raise CheckFailed(f"`{what}` is {_show(float(value))}; expected a value in "
                          f"[{low}, {high}].",
                          f"`{what}` vale {_show(float(value))}; se esperaba un valor en "
                          f"[{low}, {high}].")


def close(value, expected, what: str, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """Numbers, numpy arrays or tensors equal up to round-off: |v - e| <= atol + rtol |e|."""
    import numpy as np

    got = np.asarray(_numpy(value), dtype=float)
    want = np.asarray(_numpy(expected), dtype=float)
    if got.shape != want.shape:
        shape(got, want.shape, what)
    if not np.all(np.isfinite(got)):
        raise CheckFailed(f"`{what}` contains NaN or inf values.",
                          f"`{what}` contiene valores NaN o infinitos.")
    diff = np.abs(got - want)
    if np.any(diff > atol + rtol * np.abs(want)):
        where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
        at = f"[{', '.join(map(str, where))}]" if where else ""
        g, w = _show(float(got[where])), _show(float(want[where]))
        raise CheckFailed(f"`{what}`{at} is {g}; expected {w} (largest difference "
                          f"{float(diff.max()):.3g}, tolerance {atol:g}).",
                          f"`{what}`{at} vale {g}; se esperaba {w} (mayor diferencia "
                          f"{float(diff.max()):.3g}, tolerancia {atol:g}).")


def finite(value, what: str) -> None:
    number = float(value)
    if not math.isfinite(number):
        raise CheckFailed(f"`{what}` is {number}; expected a finite number.",
                          f"`{what}` vale {number}; se esperaba un número finito.")


REASONS = {  # why nothing may follow the last nn.Linear, by kind of model
    "logits": ("the loss applies the softmax (or sigmoid) itself",
               "la pérdida ya aplica la softmax (o la sigmoide)"),
    "regression": ("a regressor predicts any real number",
                   "un regresor predice cualquier número real"),
}


def last_layer_linear(model, what: str, kind: str = "logits") -> None:
    """The model ends in an ``nn.Linear``, with no activation after its outputs."""
    from torch import nn

    leaves = [m for m in model.modules() if not list(m.children())]
    last = leaves[-1].__class__.__name__ if leaves else "nothing"
    en, es = REASONS[kind]
    true(leaves and isinstance(leaves[-1], nn.Linear),
         f"The last layer of `{what}` is {last}; it must be the nn.Linear that gives the "
         f"outputs, with no activation after it: {en}.",
         f"La última capa de `{what}` es {last}; debe ser el nn.Linear que da las salidas, sin "
         f"activación después: {es}.")


def _numpy(value):
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value
