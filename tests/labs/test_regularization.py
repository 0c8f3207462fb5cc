"""regularization: quick mode runs end to end; full mode reduces the gap without losing
validation accuracy."""

import pytest

VARIANTS = ["baseline", "l2", "dropout", "early_stopping", "l2_dropout_early_stop"]
METRICS = ["chosen", "chosen_test_accuracy", "baseline_gap", "chosen_gap", "gap_reduction",
           "baseline_val_accuracy", "chosen_val_accuracy", "val_accuracy_gain"] + [
    f"{v}_{k}" for v in VARIANTS for k in ("train_accuracy", "val_accuracy", "gap", "epochs_run")]
FIGURES = {"accuracy.png", "validation_curves.png"}


def test_quick(run_lab_in, tmp_path, shared_data, lab_figures):
    record = run_lab_in("regularization")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert lab_figures("regularization") == FIGURES
    # The baseline is the reference, never a candidate.
    assert m["chosen"] in ("L2", "dropout", "early stopping", "L2 + dropout + early stop")


@pytest.mark.slow  # five runs of up to 80 epochs: ~1 min on an idle laptop
def test_full_passes(run_lab_in, shared_data):
    record = run_lab_in("regularization", quick=False)
    assert record["status"] == "passed", record["criteria"]
    m = record["metrics"]
    assert m["baseline_train_accuracy"] > 0.99  # it really memorized its 1,000 images
    assert m["early_stopping_epochs_run"] < record["config"]["epochs"]
