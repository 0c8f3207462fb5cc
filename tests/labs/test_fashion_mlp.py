"""fashion-mlp: quick mode runs end to end with every reference check passing; the exercise
solutions behave like the course asks (checked without loading Fashion-MNIST)."""

from dlab.lab import catalog

METRICS = ["test_accuracy", "best_epoch", "best_val_loss", "epochs_trained", "stopped_early",
           "top_confusions", "top_confusions_upper_body"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("fashion-mlp")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("fashion-mlp") == {"curves.png", "confusion_matrix.png"}
    assert len(record["metrics"]["top_confusions"]) == 3


def test_early_stop_reference():
    early_stopping = catalog.get("fashion-mlp").reference_functions()["early_stopping"]
    assert early_stopping([1.0, 0.5, 0.6, 0.7], patience=2) == (2, True)
    assert early_stopping([1.0, 0.5, 0.6], patience=2) == (2, False)


def test_most_confused_pairs_reference():
    import numpy as np

    fn = catalog.get("fashion-mlp").reference_functions()["most_confused_pairs"]
    cm = np.array([[9, 1, 5], [3, 9, 0], [2, 0, 9]])
    assert fn(cm, ["a", "b", "c"], k=2) == [(7, "a", "c"), (4, "a", "b")]

