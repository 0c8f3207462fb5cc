"""A callback that keeps the loss of every mini-batch.

The per-epoch loss in ``History`` is an average: it hides what happens inside the first
epoch, which is exactly where optimizers and initializations differ most.
"""
from __future__ import annotations

from dlab.engine.callbacks import Callback


class LossRecorder(Callback):
    """``recorder.losses``: one float per training step, in order.
    ``recorder.steps_per_epoch`` lets a plot put the steps on an epoch axis."""

    def __init__(self):
        self.losses: list[float] = []
        self.steps_per_epoch: int | None = None

    def on_fit_begin(self, trainer):
        self.steps_per_epoch = trainer.steps_per_epoch

    def on_batch_end(self, trainer, step, logs):
        self.losses.append(logs["loss"])

    def epochs(self) -> list[float]:
        """The x coordinate of each recorded step, in epochs (step 1 of 100 → 0.01)."""
        per = self.steps_per_epoch or 1
        return [(i + 1) / per for i in range(len(self.losses))]

    def state_dict(self) -> dict:
        return {"losses": self.losses, "steps_per_epoch": self.steps_per_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.losses = list(state["losses"])
        self.steps_per_epoch = state["steps_per_epoch"]
