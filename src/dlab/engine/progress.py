"""Live progress that fits where it runs.

In a terminal or Jupyter: a rich progress bar per epoch with the running loss. In a log file
or CI (no TTY): one plain line per epoch, so logs stay readable and small.
"""
from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from dlab.engine.callbacks import Callback


def format_logs(logs: dict) -> str:
    return "  ".join(f"{k} {v:.4g}" for k, v in logs.items()
                     if k != "epoch" and isinstance(v, float))


class ProgressBar(Callback):
    def __init__(self, console: Console | None = None, refresh_seconds: float = 0.1):
        self.console = console or Console()
        self.live = self.console.is_terminal or self.console.is_jupyter
        self.refresh_seconds = refresh_seconds
        self.progress = None

    def on_fit_begin(self, trainer):
        self.epochs = trainer.epochs
        if self.live:
            self.progress = Progress(
                TextColumn("[bold]epoch {task.fields[epoch]}"), BarColumn(),
                MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[info]}"),
                console=self.console, transient=False,
            )
            self.progress.start()

    def on_epoch_begin(self, trainer, epoch):
        self.started = time.perf_counter()
        self.last_refresh = 0.0
        if self.progress is not None:
            self.task = self.progress.add_task("", total=trainer.steps_per_epoch,
                                               epoch=f"{epoch}/{self.epochs}", info="")

    def on_batch_end(self, trainer, step, logs):
        # Rendering is throttled by wall time: per-batch updates would cost more than the math.
        if self.progress is None:
            return
        now = time.perf_counter()
        if now - self.last_refresh >= self.refresh_seconds:
            self.last_refresh = now
            self.progress.update(self.task, completed=trainer.batch_in_epoch,
                                 info=f"loss {logs['loss']:.4f}")

    def on_epoch_end(self, trainer, epoch, logs):
        seconds = time.perf_counter() - self.started
        if self.progress is not None:
            self.progress.update(self.task, completed=trainer.steps_per_epoch,
                                 info=f"{format_logs(logs)}  ({seconds:.1f}s)")
        else:
            self.console.print(f"epoch {epoch}/{self.epochs}  {format_logs(logs)}  "
                               f"({seconds:.1f}s)",
                               highlight=False, soft_wrap=True)

    def on_fit_end(self, trainer):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
