"""generalization: quick mode runs end to end; full mode shows all four effects."""

import pytest

METRICS = ["sweep_best_is_interior", "underfit_val_loss_ratio", "overfit_train_accuracy",
           "overfit_val_loss_ratio", "val_loss_min_epoch", "val_loss_end_over_min",
           "val_min_before_end", "standardization_epoch_ratio", "raw_reached_target",
           "plain_minority_recall", "minority_recall_gain", "macro_f1_gain", "weighting_chosen"]
FIGURES = {"capacity_sweep.png", "three_fits.png", "overfitting_curve.png",
           "standardization.png", "imbalance.png"}


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("generalization")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert lab_figures("generalization") == FIGURES
    assert record["metrics"]["weighting_chosen"] in ("sqrt", "balanced")
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]


def test_reference_standardize_matches_the_library_split():
    """The lab's standardize (training statistics only) gives what load(standardize=True)
    gives, up to float32 rounding."""
    import torch

    from dlab.data import load
    from dlab.lab import catalog

    standardize = catalog.get("generalization").reference_functions()["standardize"]
    raw, ref = load("wine", seed=0, standardize=False), load("wine", seed=0)
    out = standardize(raw.train[0], raw.val[0], raw.test[0])
    for got, want in zip(out, (ref.train[0], ref.val[0], ref.test[0])):
        assert torch.allclose(got, want, atol=1e-5)


@pytest.mark.slow  # eleven training runs: ~10 s on an idle laptop, more on a shared machine
def test_full_passes(run_lab_in):
    record = run_lab_in("generalization", quick=False)
    assert record["status"] == "passed", record["criteria"]
    m = record["metrics"]
    # The over-fitting curve turns up early, far from the end of training.
    assert m["val_loss_min_epoch"] < record["config"]["sweep_epochs"] / 2
    # The straight line cannot fit its own training points; the largest model can.
    assert m["underfit_train_accuracy"] < m["overfit_train_accuracy"]
