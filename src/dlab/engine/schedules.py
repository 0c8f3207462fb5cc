"""See a learning-rate schedule before training with it: the learning rate it gives at every
step, read from a real ``torch.optim.lr_scheduler`` driving a throwaway optimizer."""
from __future__ import annotations

from typing import Callable

import torch


def lr_trace(make_scheduler: Callable, steps: int, lr: float) -> list[float]:
    """The learning rate of each of ``steps`` updates under the scheduler that
    ``make_scheduler(optimizer)`` builds for an SGD optimizer with base learning rate ``lr``,
    stepped once per update (as ``LRScheduler(..., interval="step")`` does)."""
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = make_scheduler(optimizer)
    trace = []
    for _ in range(steps):
        trace.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return trace
