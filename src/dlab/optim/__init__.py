"""Optimizers the course teaches that torch.optim does not ship, written from their papers:
Lion (Chen et al. 2023), Sophia (Liu et al. 2023) and Schedule-Free AdamW (Defazio et al.
2024). Each is a ``torch.optim.Optimizer``, tested against its paper's update rule written
out step by step in numpy."""
from dlab.optim.lion import Lion
from dlab.optim.schedule_free import ScheduleFreeAdamW
from dlab.optim.sophia import Sophia, SophiaHessian, gauss_newton_bartlett

__all__ = ["Lion", "ScheduleFreeAdamW", "Sophia", "SophiaHessian", "gauss_newton_bartlett"]
