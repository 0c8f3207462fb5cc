"""Wall-clock tools for comparing training setups fairly: a time budget, an epoch timer and a
per-call latency.

Comparing batch sizes "after 10 epochs" favours large batches (an epoch of batch 1 is
thousands of updates but also far more seconds); comparing them after the same number of
*seconds* is what matters on a laptop. ``TimeBudget`` gives every setup the same seconds.
"""
from __future__ import annotations

import contextlib
import statistics
import time
from typing import Callable, Iterable

import torch

from dlab.engine.callbacks import Callback


class TimeBudget(Callback):
    """Stop training once ``seconds`` of training time are spent, even in the middle of an
    epoch. Use it twice: as a callback, and around the training batches::

        budget = TimeBudget(3.0, probe=lambda t: t.evaluate(val)["loss"], every=0.25)
        Trainer(model, callbacks=[budget], ...).fit(budget.wrap(loader), epochs=10**9)

    The clock runs from the start of the first epoch to the batch that would exceed the budget,
    and includes fetching batches (the loader's cost is part of the setup being compared).
    ``probe(trainer)`` runs at the start, about every ``every`` seconds and at the end; its own
    time is *not* charged, so a probe (e.g. a validation pass) cannot penalize a setup.

    Results: ``spent`` (seconds charged), ``updates`` (optimizer steps taken), ``trace``, a
    list of ``(seconds, updates, probe result)``, and ``full_passes``, the number of batches of
    every epoch that ran to its end (a sanity check on the loader).
    """

    def __init__(self, seconds: float, probe: Callable | None = None, every: float | None = None):
        if seconds <= 0:
            raise ValueError(f"seconds must be > 0, got {seconds}")
        self.seconds, self.probe, self.every = seconds, probe, every
        self.spent, self.updates, self.trace, self.full_passes = 0.0, 0, [], []
        self.exhausted = False
        self._trainer = None
        self._last = None  # None until training starts: the doctor's peek at a batch is free
        self._next_probe = float("inf")

    def wrap(self, batches: Iterable) -> "_Budgeted":
        return _Budgeted(self, batches)

    def on_fit_begin(self, trainer):
        self._trainer = trainer
        self._run_probe()
        if self.probe is not None and self.every:
            self._next_probe = self.every
        self._last = time.perf_counter()

    def on_epoch_end(self, trainer, epoch, logs):
        if self.exhausted:
            trainer.stop_training = True

    def on_fit_end(self, trainer):
        self._charge()
        self._last = None
        if not self.trace or self.trace[-1][1] != self.updates:
            self._run_probe()

    # ------------------------------------------------------------ used by _Budgeted
    def _charge(self) -> None:
        if self._last is not None:
            now = time.perf_counter()
            self.spent += now - self._last
            self._last = now

    def _tick(self) -> bool:
        """Charge the time since the last tick; False once the budget is spent."""
        if self._last is None:
            return True
        self._charge()
        if self.spent >= self.seconds:
            self.exhausted = True
            return False
        if self.spent >= self._next_probe:
            self._run_probe()
            self._next_probe += self.every
            self._last = time.perf_counter()  # the probe's own time is not charged
        return True

    def _run_probe(self) -> None:
        if self.probe is None:
            return
        model = self._trainer.model
        training = model.training
        result = self.probe(self._trainer)
        model.train(training)  # a validation pass switches to eval mode; put it back
        self.trace.append((self.spent, self.updates, result))


class _Budgeted:
    """The training batches, cut off when the budget runs out."""

    def __init__(self, budget: TimeBudget, batches: Iterable):
        self.budget, self.batches = budget, batches

    def __len__(self) -> int:
        return len(self.batches)

    def set_epoch(self, epoch: int) -> None:
        if hasattr(self.batches, "set_epoch"):
            self.batches.set_epoch(epoch)

    def __iter__(self):
        budget = self.budget
        if budget.exhausted:
            return
        done = 0
        for batch in self.batches:
            if not budget._tick():
                return
            yield batch
            if budget._last is not None:
                budget.updates += 1  # the trainer asked for the next batch: this step is done
                done += 1
        budget.full_passes.append(done)


class EpochTimer(Callback):
    """``timer.seconds``: the wall-clock duration of each epoch (training pass plus whatever
    else runs inside the epoch, such as validation). ``clock=time.process_time`` measures the
    CPU time of this process instead: on a machine shared with other jobs it counts only this
    run's work (with one torch thread, it is the wall time an idle machine would give)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter):
        self.seconds: list[float] = []
        self.clock = clock

    def on_epoch_begin(self, trainer, epoch):
        self._start = self.clock()

    def on_epoch_end(self, trainer, epoch, logs):
        self.seconds.append(self.clock() - self._start)


def time_pass(batches: Iterable, repeats: int = 5) -> float:
    """Seconds to iterate once over ``batches`` without training: the data pipeline alone.
    The minimum over ``repeats`` passes, the usual estimator on a machine doing other work
    (interference only ever adds time)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _batch in batches:
            pass
        best = min(best, time.perf_counter() - start)
    return best


@contextlib.contextmanager
def torch_threads(n: int):
    """Run a block with ``n`` intra-op torch threads, then restore the previous number.

    For small models, one thread is often the fastest and always the steadiest: a matrix
    product split across threads waits for the slowest of them, and on a busy machine (a
    browser, other jobs) that thread may not get a core for a while, which turns timings into
    noise."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def median_call_ms(call: Callable[[int], object], count: int, warmup: int = 1) -> float:
    """Median milliseconds of ``call(i)`` over ``i = 0 .. count - 1``, after ``warmup`` calls
    that are not counted (e.g. ``call = lambda i: model(images[i:i + 1])`` for the latency of
    one image)."""
    for _ in range(warmup):
        call(0)
    times = []
    for i in range(count):
        start = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)
