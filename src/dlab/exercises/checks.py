"""Run one exercise check and describe its outcome.

A check is a function without arguments that calls the student's function and ``expect``
helpers. It runs with the random generators saved and restored, so checking an exercise never
changes the numbers the lab produces afterwards.
"""
from __future__ import annotations

import random
import traceback
from dataclasses import asdict, dataclass

from dlab.exercises.expect import CheckFailed

SUBMISSION = "<submission>"  # the file name student code is compiled under when graded


@dataclass
class CheckResult:
    exercise: str
    name: str
    passed: bool
    kind: str = "ok"  # ok, wrong_value, wrong_type, wrong_shape, not_written, exception, memory
    message: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and "can't allocate memory" in str(exc))


def student_line(exc: BaseException) -> str:
    """' (line N)' of the student's code where ``exc`` was raised, if it was there (for an
    exception raised in the grading sandbox, the line it reported)."""
    remote = getattr(exc, "student_line", None)
    if isinstance(remote, str):
        return remote
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename == SUBMISSION or f.filename.startswith("<ipython-input")
              or "/ipykernel_" in f.filename]
    return f" (line {frames[-1].lineno})" if frames else ""


def describe_exception(exc: BaseException, exercise: str, lang: str) -> tuple[str, str]:
    """(kind, message) for an exception raised while checking ``exercise``."""
    es = lang == "es"
    if isinstance(exc, NotImplementedError):
        return "not_written", (f"`{exercise}` todavía no está escrita: reemplaza "
                               "`raise NotImplementedError` por tu código." if es else
                               f"`{exercise}` is not written yet: replace "
                               "`raise NotImplementedError` with your code.")
    if is_out_of_memory(exc):
        return "memory", (f"`{exercise}` se quedó sin memoria." if es else
                          f"`{exercise}` ran out of memory.")
    where = student_line(exc)
    detail = f"{type(exc).__name__}: {exc}"
    return "exception", (f"`{exercise}` lanzó una excepción{where.replace('line', 'línea')}: "
                         f"{detail}" if es else
                         f"`{exercise}` raised an exception{where}: {detail}")


def _saved_rng():
    import numpy as np
    import torch

    return random.getstate(), np.random.get_state(), torch.random.get_rng_state()


def _restore_rng(state) -> None:
    import numpy as np
    import torch

    random.setstate(state[0])
    np.random.set_state(state[1])
    torch.random.set_rng_state(state[2])


def run_check(fn, exercise: str, lang: str) -> CheckResult:
    state = _saved_rng()
    try:
        fn()
    except CheckFailed as exc:
        return CheckResult(exercise, fn.__name__, False, exc.kind, exc.text(lang))
    except Exception as exc:  # the student's code may raise anything: it is a failed check
        kind, message = describe_exception(exc, exercise, lang)
        return CheckResult(exercise, fn.__name__, False, kind, message)
    finally:
        _restore_rng(state)
    return CheckResult(exercise, fn.__name__, True)


class ExerciseNotPassing(Exception):
    """Raised in a notebook when a check fails, so "Run all" stops at the exercise to fix
    instead of training with it. IPython shows only the message, without a traceback."""

    def _render_traceback_(self):
        return [f"\033[1;31m{self}\033[0m"]
