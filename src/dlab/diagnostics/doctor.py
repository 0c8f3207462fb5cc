"""The training doctor (minimal version: non-finite loss)."""
from __future__ import annotations

from dlab.errors import TrainingError


class Doctor:
    def before_fit(self, trainer, batch) -> None:
        pass

    def after_epoch(self, trainer, logs: dict) -> None:
        pass

    def non_finite_loss(self, trainer, value: float, xb) -> None:
        raise TrainingError(
            f"The loss became {value} at epoch {trainer.epoch}, step {trainer.batch_in_epoch + 1}. "
            "Likely causes: a learning rate that is too high, inputs that are not scaled, or "
            "exploding gradients. Fix: lower the learning rate, standardize the inputs, or clip "
            "gradients (grad_clip=1.0).")
