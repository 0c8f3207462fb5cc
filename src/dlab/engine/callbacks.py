"""Callbacks: small objects the Trainer calls at fixed points of training.

Events (all optional, all receive the trainer first):

    on_fit_begin(trainer)              on_fit_end(trainer)
    on_epoch_begin(trainer, epoch)     on_epoch_end(trainer, epoch, logs)
    on_batch_begin(trainer, step)      on_batch_end(trainer, step, logs)

``logs`` is a dict: per batch ``{"loss": float}`` (and ``"grad_norm"``, the gradient norm
before clipping, when the Trainer clips with ``grad_clip``), per epoch every value logged for
that epoch (``loss``, ``val_loss``, ``val_accuracy``, ``lr``...). A callback stops training by
setting ``trainer.stop_training = True``. Callbacks with state to resume implement
``state_dict``/``load_state_dict``.
"""
from __future__ import annotations

import copy
import csv
import math
from pathlib import Path

import torch

from dlab.engine.checkpoint import save_weights
from dlab.errors import ConfigError
from dlab.io import write_text


class Callback:
    def on_fit_begin(self, trainer): ...
    def on_fit_end(self, trainer): ...
    def on_epoch_begin(self, trainer, epoch: int): ...
    def on_epoch_end(self, trainer, epoch: int, logs: dict): ...
    def on_batch_begin(self, trainer, step: int): ...
    def on_batch_end(self, trainer, step: int, logs: dict): ...

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def overrides(callback: Callback, event: str) -> bool:
    """True if ``callback`` implements ``event``; lets the trainer skip no-op calls per batch."""
    return getattr(type(callback), event) is not getattr(Callback, event)


class _Monitor:
    """Shared logic of callbacks that watch one logged value for improvement."""

    def __init__(self, monitor: str, mode: str, min_delta: float):
        if mode not in ("min", "max"):
            raise ConfigError(f"mode must be 'min' or 'max', got '{mode}'")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)
        self.best = math.inf if mode == "min" else -math.inf

    def value(self, logs: dict) -> float:
        if self.monitor not in logs:
            raise ConfigError(f"{type(self).__name__} monitors '{self.monitor}' but it was not "
                              f"logged; logged: {', '.join(logs)}. Pass validation data to fit() "
                              "or monitor another value.")
        return logs[self.monitor]

    def improved(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta


class EarlyStopping(Callback, _Monitor):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs;
    optionally put back the weights of the best epoch."""

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="min",
                 restore_best_weights=True):
        _Monitor.__init__(self, monitor, mode, min_delta)
        self.patience, self.restore_best_weights = patience, restore_best_weights
        self.wait, self.best_epoch, self.best_weights = 0, -1, None

    def on_epoch_end(self, trainer, epoch, logs):
        value = self.value(logs)
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = copy.deepcopy(trainer.model.state_dict())
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True

    def on_fit_end(self, trainer):
        if self.restore_best_weights and self.best_weights is not None:
            trainer.model.load_state_dict(self.best_weights)

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch, "wait": self.wait,
                "best_weights": self.best_weights}

    def load_state_dict(self, state):
        self.best, self.best_epoch, self.wait = state["best"], state["best_epoch"], state["wait"]
        self.best_weights = state["best_weights"]


class ModelCheckpoint(Callback, _Monitor):
    """Save the weights (safetensors + JSON) whenever ``monitor`` improves (or every epoch
    with ``save_best_only=False``). Writes are atomic: the previous best survives a crash."""

    def __init__(self, path, monitor="val_loss", mode="min", save_best_only=True, min_delta=0.0):
        _Monitor.__init__(self, monitor, mode, min_delta)
        self.path, self.save_best_only = Path(path), save_best_only
        self.best_epoch = -1

    def on_epoch_end(self, trainer, epoch, logs):
        value = self.value(logs)
        if self.save_best_only and not self.improved(value):
            return
        if self.improved(value):
            self.best, self.best_epoch = value, epoch
        save_weights(trainer.model, self.path,
                     {"epoch": epoch, "monitor": self.monitor, "value": value})

    def state_dict(self):
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state):
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class LRScheduler(Callback):
    """Step any ``torch.optim.lr_scheduler`` per epoch (default) or per batch (``"step"``).
    ``ReduceLROnPlateau`` is stepped with the monitored value at the end of each epoch."""

    def __init__(self, scheduler, interval: str = "epoch", monitor: str = "val_loss"):
        if interval not in ("epoch", "step"):
            raise ConfigError(f"LRScheduler interval must be 'epoch' or 'step', got '{interval}'")
        self.scheduler, self.interval, self.monitor = scheduler, interval, monitor
        self.plateau = isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)
        if self.plateau and interval == "step":
            raise ConfigError("ReduceLROnPlateau needs a validation value: use interval='epoch'")

    @property
    def optimizer(self):
        return self.scheduler.optimizer

    def on_batch_end(self, trainer, step, logs):
        if self.interval == "step":
            self.scheduler.step()

    def on_epoch_end(self, trainer, epoch, logs):
        if self.plateau:
            if self.monitor not in logs:
                raise ConfigError(f"ReduceLROnPlateau monitors '{self.monitor}', which was not "
                                  f"logged; logged: {', '.join(logs)}.")
            self.scheduler.step(logs[self.monitor])
        elif self.interval == "epoch":
            self.scheduler.step()

    def state_dict(self):
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state):
        self.scheduler.load_state_dict(state["scheduler"])


def ReduceLROnPlateau(optimizer, monitor="val_loss", factor=0.5, patience=3, mode="min",
                      min_lr=0.0) -> LRScheduler:
    """Keras-style shortcut: cut the LR by ``factor`` after ``patience`` epochs without progress."""
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, factor=factor,
                                                       patience=patience, min_lr=min_lr)
    return LRScheduler(sched, monitor=monitor)


class CSVLogger(Callback):
    """Append one row per epoch to a CSV file (flushed each epoch, so nothing is lost).

    On resume the file is cut back to the epochs the saved state knows about, so epochs that
    ran after the last saved state (and are run again) are not written twice."""

    def __init__(self, path):
        self.path = Path(path)
        self.rows = 0

    def on_epoch_end(self, trainer, epoch, logs):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(logs), extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(logs)
        self.rows += 1

    def state_dict(self):
        return {"rows": self.rows}

    def load_state_dict(self, state):
        self.rows = state["rows"]
        if self.path.exists():
            lines = self.path.read_text().splitlines(keepends=True)
            write_text(self.path, "".join(lines[:1 + self.rows]))


class TensorBoardLogger(Callback):
    """Write every epoch value as a scalar for TensorBoard (``tensorboard --logdir DIR``)."""

    def __init__(self, log_dir):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise ConfigError("TensorBoardLogger needs the 'tensorboard' package: "
                              "pip install 'dlab[tensorboard]'") from None
        self.writer = SummaryWriter(log_dir=str(log_dir))

    def on_epoch_end(self, trainer, epoch, logs):
        for key, value in logs.items():
            if key != "epoch" and isinstance(value, (int, float)):
                self.writer.add_scalar(key, value, epoch)
        self.writer.flush()

    def on_fit_end(self, trainer):
        self.writer.close()
