"""TimeBudget, EpochTimer and time_pass: wall-clock tools for fair comparisons."""
import math
import time

import torch
from rich.console import Console
from torch import nn

from dlab.data import Batches
from dlab.engine import Callback, Trainer
from dlab.engine.timing import EpochTimer, TimeBudget, median_call_ms, time_pass


class Slow(Callback):
    """Every training step takes at least ``seconds``."""

    def __init__(self, seconds):
        self.seconds = seconds

    def on_batch_end(self, trainer, step, logs):
        time.sleep(self.seconds)


def _trainer(*callbacks):
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    return Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), callbacks=list(callbacks),
                   progress=False, doctor=False, device="cpu", console=Console(quiet=True))


def _batches(n=40, batch_size=4):
    torch.manual_seed(1)
    return Batches(torch.randn(n, 3), torch.randint(0, 2, (n,)), batch_size=batch_size)


def test_budget_stops_mid_epoch_and_counts_updates():
    budget = TimeBudget(0.1)
    trainer = _trainer(budget, Slow(0.02))
    trainer.fit(budget.wrap(_batches()), epochs=1000)  # 10 steps per epoch, ~0.2 s each epoch
    assert budget.exhausted
    # stops at the first batch after the budget is spent (generous upper bound: a busy CI
    # machine can stretch one step; full_passes below shows it stopped inside the epoch)
    assert 0.1 <= budget.spent < 0.5
    assert budget.updates == trainer.global_step
    assert 1 <= budget.updates <= 6  # each step sleeps 0.02 s: at most 5 fit, plus the last
    assert budget.full_passes == []  # stopped inside the first epoch
    assert len(trainer.history) == 1


def test_budget_spanning_epochs_records_full_passes():
    budget = TimeBudget(0.5)  # room for full passes of 3 steps even on a busy machine
    trainer = _trainer(budget, Slow(0.005))
    trainer.fit(budget.wrap(_batches(n=12, batch_size=4)), epochs=1000)
    assert budget.full_passes and all(p == 3 for p in budget.full_passes)
    assert budget.updates == trainer.global_step >= 3 * len(budget.full_passes)


def test_probe_time_is_not_charged_and_trace_brackets_the_run():
    modes = []

    def probe(trainer):
        modes.append(trainer.model.training)
        trainer.model.eval()  # like Trainer.evaluate; the budget must put train mode back
        time.sleep(0.05)  # costly probe: 10 probes would eat the whole budget if charged
        return trainer.global_step

    budget = TimeBudget(0.2, probe=probe, every=0.02)
    trainer = _trainer(budget, Slow(0.005))
    start = time.perf_counter()
    trainer.fit(budget.wrap(_batches()), epochs=1000)
    wall = time.perf_counter() - start
    assert len(budget.trace) >= 6  # start, about every 0.02 s, end
    assert budget.trace[0][:2] == (0.0, 0)
    assert budget.trace[-1][1] == budget.updates
    assert [u for _, u, _ in budget.trace] == [r for _, _, r in budget.trace]
    # The probes slept 0.05 s each, outside the charged time: wall time includes them all.
    assert wall >= budget.spent + 0.05 * len(budget.trace) * 0.95
    assert 0.2 <= budget.spent < 0.4
    assert all(modes) and trainer.model.training is True


def test_epoch_timer_and_time_pass():
    timer = EpochTimer()
    trainer = _trainer(timer, Slow(0.01))
    trainer.fit(_batches(n=8, batch_size=4), epochs=3)
    assert len(timer.seconds) == 3 and all(s >= 0.02 for s in timer.seconds)

    class SlowIterable:
        def __iter__(self):
            for i in range(3):
                time.sleep(0.01)
                yield i

    seconds = time_pass(SlowIterable(), repeats=2)
    assert 0.03 <= seconds < 0.2 and math.isfinite(seconds)


def test_epoch_timer_on_the_cpu_clock_does_not_count_waiting():
    wall, cpu = EpochTimer(), EpochTimer(clock=time.process_time)
    _trainer(wall, cpu, Slow(0.05)).fit(_batches(n=8, batch_size=4), epochs=2)
    assert all(s >= 0.1 for s in wall.seconds)  # two sleeping steps per epoch
    assert all(0 <= c < w - 0.05 for c, w in zip(cpu.seconds, wall.seconds))


def test_torch_threads_restores_the_previous_setting():
    from dlab.engine.timing import torch_threads

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    try:
        with torch_threads(1):
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert torch.get_num_threads() == before


def test_median_call_ms_skips_the_warm_up_and_takes_the_median():
    calls = []

    def call(i):
        calls.append(i)
        time.sleep(0.02 if i == 1 else 0.001)  # one slow call out of three

    ms = median_call_ms(call, 3, warmup=2)
    assert calls == [0, 0, 0, 1, 2]
    assert 0.5 < ms < 15  # the slow call is not the median
