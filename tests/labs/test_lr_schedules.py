"""lr-schedules: quick mode runs end to end with every reference check passing; the reference
warmup + cosine matches the closed form at its landmarks and, without warmup, torch's
CosineAnnealingLR."""
import math

import pytest
import torch

from dlab.lab import catalog

SCHEDULES = ["constant", "exponential", "warmup_cosine", "one_cycle"]
METRICS = ["chosen", "chosen_test_accuracy", "cosine_minus_constant_val_accuracy",
           "cosine_to_constant_roughness", "seconds_per_epoch"] + [
    f"{s}_{k}" for s in SCHEDULES for k in ("val_accuracy", "best_val_accuracy", "val_loss",
                                            "roughness")]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("lr-schedules")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["metrics"]["chosen"] in SCHEDULES
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    assert lab_figures("lr-schedules") == {"learning_rates.png", "schedules_compared.png"}


def test_reference_warmup_cosine_landmarks_and_torch_cosine():
    fn = catalog.get("lr-schedules").reference_functions()["warmup_cosine"]
    assert fn(0, 200, 20, 1e-3) == 0.0
    assert fn(10, 200, 20, 1e-3) == pytest.approx(5e-4)
    assert fn(20, 200, 20, 1e-3) == pytest.approx(1e-3)
    assert fn(110, 200, 20, 1e-3) == pytest.approx(5e-4)
    assert fn(200, 200, 20, 1e-3) == pytest.approx(0.0, abs=1e-15)
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=50, eta_min=0.01)
    for step in range(51):
        assert fn(step, 50, 0, 0.1, 0.01) == pytest.approx(optimizer.param_groups[0]["lr"])
        optimizer.step()
        cosine.step()


def test_reference_roughness():
    fn = catalog.get("lr-schedules").reference_functions()["roughness"]
    assert fn([1.0, 3.0, 2.0, 2.5], 3) == pytest.approx((2 + 1 + 0.5) / 3)
    assert fn([1.0, 3.0, 2.0, 2.5], 1) == pytest.approx(0.5)
    assert math.isclose(fn([0.4, 0.4], 5), 0.0)


def test_lr_trace_reads_a_real_scheduler():
    from dlab.engine.schedules import lr_trace

    trace = lr_trace(lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5),
                     6, lr=1.0)
    assert trace == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    one_cycle = lr_trace(lambda opt: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=1.0, total_steps=100), 100, lr=1.0)
    assert max(one_cycle) == pytest.approx(1.0, abs=1e-3) and one_cycle[-1] < 1e-3
