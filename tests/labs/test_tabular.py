"""tabular: quick mode runs end to end; full mode matches scikit-learn on iris and wine."""

from dlab.lab import catalog

METRICS = [f"{ds}_{k}" for ds in ("iris", "wine") for k in (
    "mlp_test_accuracy", "logreg_test_accuracy", "sklearn_mlp_test_accuracy", "extra_errors",
    "mlp_epochs", "mlp_fit_seconds", "logreg_fit_seconds", "sklearn_mlp_fit_seconds")]


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("tabular")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("tabular") == {"comparison.png"}


def test_full_passes(run_lab_in):
    record = run_lab_in("tabular", quick=False)
    assert record["status"] == "passed", record["criteria"]
    # The scikit-learn models are scored too, not just fitted.
    assert record["metrics"]["iris_logreg_test_accuracy"] >= 0.85


def test_standardize_reference_matches_the_loader():
    """The lab standardizes raw splits itself; the result is the loader's own scaling."""
    import torch

    from dlab.data import load

    standardize = catalog.get("tabular").reference_functions()["standardize"]
    raw, scaled = load("wine", seed=0, standardize=False), load("wine", seed=0)
    for got, want in zip(standardize(raw.train[0], raw.val[0], raw.test[0]),
                         (scaled.train[0], scaled.val[0], scaled.test[0])):
        assert torch.allclose(got, want, atol=1e-5)
