"""keras-sequential: quick mode runs end to end with every reference check passing; the
reference solutions behave like the course asks; the lab asks for its extra when Keras is
missing."""
import importlib.util

import pytest

from dlab.errors import DlabError
from dlab.lab import catalog
from dlab.lab.runner import start
from tests.helpers.grading import grade_with_replacements

METRICS = ["hand_count_matches_keras", "same_summary_both_syntaxes", "params", "val_accuracy",
           "test_accuracy", "seconds", "choice", "medium_is_the_balanced_choice",
           "wide_has_more_params", "wide_gain_over_medium_pp", "medium_test_accuracy",
           "reload_max_abs_diff"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("keras-sequential")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    metrics = record["metrics"]
    assert metrics["params"] == {"tiny": 50890, "medium": 235146, "wide": 814090}
    assert metrics["hand_count_matches_keras"] and metrics["same_summary_both_syntaxes"]
    assert metrics["reload_max_abs_diff"] == 0.0
    assert lab_figures("keras-sequential") == {"accuracy_and_time.png"}


def test_pick_balanced_reference():
    pick = catalog.get("keras-sequential").reference_functions()["pick_balanced"]
    results = {"tiny": {"val_accuracy": 0.87, "seconds": 10.0},
               "medium": {"val_accuracy": 0.889, "seconds": 14.0},
               "wide": {"val_accuracy": 0.892, "seconds": 20.0}}
    assert pick(results, 0.005) == "medium"
    assert pick(results, 0.0) == "wide"


def test_a_missing_extra_is_one_clear_line(monkeypatch, tmp_path):
    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "keras" else found(name, *a))
    with pytest.raises(DlabError, match=r"pip install 'dlab\[keras\]'"):
        start("keras-sequential", quick=True, out=tmp_path)
    assert not any(tmp_path.iterdir())  # no run folder for a lab that cannot start


def test_a_keras_model_with_code_in_it_is_refused_by_the_grader(tmp_path, shared_data):
    """A submission whose model carries a Lambda layer (code the grader would run) gets the
    checks of that exercise failed with the channel's reason; the others still pass."""
    [reference] = [c.source for c in catalog.get("keras-sequential").cells
                   if c.exercise == "build_sequential" and c.role == "exercise"]
    with_lambda = reference.replace(
        "keras.layers.Dense(n_classes)])",
        "keras.layers.Dense(n_classes), keras.layers.Lambda(lambda t: t * 1.0)])")
    result = grade_with_replacements("keras-sequential", tmp_path, "import keras",
                                     build_sequential=with_lambda)
    rows = list(result["checks"].values())
    failed = {r["name"] for r in rows if not r["passed"]}
    assert failed == {"returns_a_sequential_with_a_known_input",
                      "stacks_relu_layers_and_ends_in_logits",
                      "has_the_parameters_counted_by_hand"}
    assert all("Lambda" in r["message"] for r in rows if not r["passed"])
