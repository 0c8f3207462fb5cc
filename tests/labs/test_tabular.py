"""tabular: quick mode runs end to end; full mode matches scikit-learn on iris and wine."""

METRICS = [f"{ds}_{k}" for ds in ("iris", "wine") for k in (
    "mlp_test_accuracy", "logreg_test_accuracy", "sklearn_mlp_test_accuracy", "extra_errors",
    "mlp_epochs", "mlp_fit_seconds", "logreg_fit_seconds", "sklearn_mlp_fit_seconds")]


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("tabular")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert lab_figures("tabular") == {"comparison.png"}


def test_full_passes(run_lab_in):
    record = run_lab_in("tabular", quick=False)
    assert record["status"] == "passed", record["criteria"]
    # The scikit-learn models are scored too, not just fitted.
    assert record["metrics"]["iris_logreg_test_accuracy"] >= 0.85
