"""Hyperparameter search with the Trainer: a callback that hands each epoch's score to a
search library (an Optuna trial), whose pruner may stop a poor run early.

    Trainer(model, callbacks=[TrialReport(lambda epoch, value: report(trial, epoch, value))])

``report`` stops training by raising (Optuna's ``TrialPruned``): the exception goes through
``fit``, which still closes its callbacks, up to the study, which records the trial as pruned.
"""
from __future__ import annotations

from typing import Callable

from dlab.engine.callbacks import Callback
from dlab.errors import ConfigError


class TrialReport(Callback):
    """After every epoch, call ``report(epoch, logs[monitor])``."""

    def __init__(self, report: Callable[[int, float], None], monitor: str = "val_accuracy"):
        self.report, self.monitor = report, monitor

    def on_epoch_end(self, trainer, epoch, logs):
        if self.monitor not in logs:
            raise ConfigError(f"TrialReport reports '{self.monitor}' but it was not logged; "
                              f"logged: {', '.join(logs)}. Pass validation data to fit() or "
                              "report another value.")
        self.report(epoch, float(logs[self.monitor]))
