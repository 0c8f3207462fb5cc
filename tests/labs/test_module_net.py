"""module-net: quick mode runs end to end; full mode meets every criterion."""


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("module-net")
    assert record["status"] in ("passed", "failed")
    assert {"max_weight_diff", "max_weight_diff_float32", "own_loop_max_weight_diff",
            "test_accuracy"} <= set(record["metrics"])
    assert lab_figures("module-net") == {"same_weights.png"}
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    # Equality of the implementations does not depend on how long they train.
    assert record["metrics"]["max_weight_diff"] <= 1e-6
    assert record["metrics"]["own_loop_max_weight_diff"] <= 1e-6


def test_full_passes(run_lab_in):
    record = run_lab_in("module-net", quick=False)
    assert record["status"] == "passed", record["criteria"]
