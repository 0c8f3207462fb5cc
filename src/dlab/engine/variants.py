"""One training run of a comparison: several variants of a setup trained the same way, each
timed, and a run that blows up recorded as such instead of ending the comparison."""
from __future__ import annotations

import time
from dataclasses import dataclass

from dlab.engine.history import History
from dlab.engine.trainer import Trainer
from dlab.errors import TrainingError


@dataclass
class Run:
    trainer: Trainer
    history: History
    seconds: float  # wall time of fit()
    error: str | None = None  # the doctor's explanation, when the loss became NaN or inf

    @property
    def diverged(self) -> bool:
        return self.error is not None


def fit_run(model, optimizer, train, val=None, *, epochs: int, batch_size: int, seed: int,
            callbacks=(), loss="cross_entropy", metrics=("accuracy",),
            **trainer_options) -> Run:
    """Train ``model`` without a progress bar (a comparison prints one line per variant) and
    time it. A loss that becomes NaN or inf after some updates stops this run only: its
    history so far is kept and the doctor's message goes in ``Run.error``. A setup the doctor
    rejects before the first update still raises."""
    trainer = Trainer(model, optimizer, loss=loss, metrics=list(metrics), callbacks=callbacks,
                      progress=False, **trainer_options)
    start = time.perf_counter()
    try:
        trainer.fit(train, val, epochs=epochs, batch_size=batch_size, seed=seed)
        error = None
    except TrainingError as exc:
        if trainer.global_step == 0:
            raise
        error = str(exc)
    return Run(trainer, trainer.history, time.perf_counter() - start, error)
