"""Keras callbacks that give a Keras ``fit`` what dlab's Trainer has: live progress that fits
where it runs (a bar in a terminal or notebook, one line per epoch in a log), the seconds of
every epoch, and the training doctor's check of the loss against the model's output."""
from __future__ import annotations

import time

import keras
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dlab.diagnostics.keras_losses import KERAS_CHECKS
from dlab.engine.progress import format_logs


class KerasProgress(keras.callbacks.Callback):
    """Use with ``fit(..., verbose=0)``. ``seconds`` holds the wall time of each epoch."""

    def __init__(self, console: Console | None = None, label: str = "", refresh: float = 0.1):
        super().__init__()
        self.console, self.label, self.refresh = console or Console(), label, refresh
        self.live = self.console.is_terminal or self.console.is_jupyter
        self.seconds: list[float] = []
        self.bar = None

    def on_train_begin(self, logs=None):
        self.epochs = self.params.get("epochs")
        self.steps = self.params.get("steps")
        if self.live:
            self.bar = Progress(TextColumn("[bold]{task.fields[what]}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(),
                                TextColumn("{task.fields[info]}"), console=self.console)
            self.bar.start()

    def on_epoch_begin(self, epoch, logs=None):
        self.started = self.shown = time.perf_counter()
        if self.bar is not None:
            what = f"{self.label} epoch {epoch + 1}/{self.epochs}".strip()
            self.task = self.bar.add_task("", total=self.steps, what=what, info="")

    def on_train_batch_end(self, batch, logs=None):
        now = time.perf_counter()
        if self.bar is not None and now - self.shown >= self.refresh:
            self.shown = now
            loss = (logs or {}).get("loss")
            self.bar.update(self.task, completed=batch + 1,
                            info="" if loss is None else f"loss {float(loss):.4f}")

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        self.seconds.append(seconds)
        shown = format_logs({k: float(v) for k, v in (logs or {}).items()})
        if self.bar is not None:
            self.bar.update(self.task, completed=self.steps, info=f"{shown}  ({seconds:.1f}s)")
        else:
            self.console.print(f"{self.label} epoch {epoch + 1}/{self.epochs}  {shown}  "
                               f"({seconds:.1f}s)".strip(), highlight=False, soft_wrap=True)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


class KerasDoctor(keras.callbacks.Callback):
    """Before the first step, the checks of :mod:`dlab.diagnostics.keras_losses` (a
    ``from_logits`` that disagrees with the last activation, one loss for several outputs):
    each finding is shown as a warning (these train, badly, without any error). ``warnings``
    keeps what was shown."""

    def __init__(self, console: Console | None = None, lang: str = "en"):
        super().__init__()
        self.console, self.lang = console or Console(), lang
        self.warnings: list[str] = []

    def on_train_begin(self, logs=None):
        loss = getattr(self.model, "loss", None)
        for check in KERAS_CHECKS:
            diagnosis = check(self.model, loss)
            if diagnosis is not None:
                self.warnings.append(diagnosis.text(self.lang))
                self.console.print(f"[yellow]⚠ {self.warnings[-1]}[/yellow]")
