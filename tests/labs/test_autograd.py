"""autograd: quick mode runs end to end; full mode meets every criterion."""

METRICS = ["grad_abs_error", "accumulation_ratio", "forgot_zero_grad_loss_ratio",
           "scratch_vs_torch_max_grad_diff", "scratch_moons_test_accuracy"]
FIGURES = {"forgot_zero_grad.png", "graph_polynomial.png", "graph_neuron.png"}


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("autograd")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert lab_figures("autograd") == FIGURES
    # These two hold in any mode: they do not depend on how long anything trains.
    assert record["metrics"]["autograd_grad"] == 7.0
    assert record["metrics"]["accumulation_ratio"] == 2.0


def test_full_passes(run_lab_in):
    record = run_lab_in("autograd", quick=False)
    assert record["status"] == "passed", record["criteria"]
