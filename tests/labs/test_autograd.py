"""autograd: quick mode runs end to end; full mode meets every criterion."""
import numpy as np

METRICS = ["grad_abs_error", "accumulation_ratio", "forgot_zero_grad_loss_ratio",
           "scratch_vs_torch_max_grad_diff", "scratch_moons_test_accuracy"]
FIGURES = {"forgot_zero_grad.png", "graph_polynomial.png", "graph_neuron.png"}
EXERCISES = {"derivative", "fit_line", "backward"}


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("autograd")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert lab_figures("autograd") == FIGURES
    # These two hold in any mode: they do not depend on how long anything trains.
    assert record["metrics"]["autograd_grad"] == 7.0
    assert record["metrics"]["accumulation_ratio"] == 2.0
    assert {c["exercise"] for c in record["checks"]} == EXERCISES
    assert all(c["passed"] for c in record["checks"]), record["checks"]


def test_full_passes(run_lab_in):
    record = run_lab_in("autograd", quick=False)
    assert record["status"] == "passed", record["criteria"]


def test_reference_backward_trains_like_tensor_backward():
    """The lab trains the scratch MLP with the exercise's graph walk: same steps as the
    engine's own Tensor.backward."""
    from dlab.lab import catalog
    from dlab.scratch import mlp

    backward = catalog.get("autograd").reference_functions()["backward"]
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    ours, theirs = mlp.init_params(2, 8, 2, seed=1), mlp.init_params(2, 8, 2, seed=1)
    assert mlp.train(ours, X, y, lr=0.5, steps=5, backward=backward) == \
        mlp.train(theirs, X, y, lr=0.5, steps=5)
    for k in ours:
        np.testing.assert_array_equal(ours[k].data, theirs[k].data)
