"""housing-regression: quick mode runs end to end; full mode beats linear regression."""

import pytest

from dlab.lab import catalog

METRICS = ["mlp_test_mae_usd", "linear_test_mae_usd", "mae_ratio", "mlp_test_rmse_usd",
           "linear_test_rmse_usd", "best_epoch", "epochs_trained"]
FIGURES = {"curves.png", "predicted_vs_true.png"}


def test_quick(run_lab_in, tmp_path, shared_data, lab_figures):
    record = run_lab_in("housing-regression")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("housing-regression") == FIGURES
    # Errors are reported in dollars, not in the $100k training units.
    assert 10_000 < m["linear_test_mae_usd"] < 100_000


def test_mae_dollars_reference_does_not_broadcast():
    import torch

    mae_dollars = catalog.get("housing-regression").reference_functions()["mae_dollars"]
    value = mae_dollars(torch.tensor([[1.0], [2.0]]), torch.tensor([100.0, 250.0]), 100.0)
    assert value == pytest.approx(25.0)


@pytest.mark.slow  # ~50 epochs on 12k rows: ~30 s on an idle laptop
def test_full_passes(run_lab_in, shared_data):
    record = run_lab_in("housing-regression", quick=False)
    assert record["status"] == "passed", record["criteria"]
    assert record["metrics"]["mlp_test_mae_usd"] < 45_000
