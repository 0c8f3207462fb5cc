"""jax-flax: quick mode end to end with every reference check passing; full mode (about 20 s)
meets the course's criteria; the reference grad agrees with torch and the masks follow keys."""
import numpy as np
import pytest
import torch

from dlab.lab import catalog
from tests.helpers.grading import grade_with_replacements

METRICS = ["test_accuracy", "torch_test_accuracy", "grad_max_diff_vs_torch", "cube_slope_at_2",
           "vmap_matches_loop", "jit_speedup", "jit_first_over_second_call",
           "jax_seconds_per_epoch", "torch_seconds_per_epoch"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("jax-flax")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert record["metrics"]["cube_slope_at_2"] == 12.0
    assert record["metrics"]["grad_max_diff_vs_torch"] <= 1e-5
    assert lab_figures("jax-flax") == {"flax_training.png"}


@pytest.mark.slow
def test_full_mode_meets_the_course_criteria(run_lab_in, shared_data):
    record = run_lab_in("jax-flax", quick=False)
    untimed = {c["metric"]: c["passed"] for c in record["criteria"]
               if c["metric"] not in catalog.get("jax-flax").lab.timed}
    assert untimed == {"test_accuracy": True, "grad_max_diff_vs_torch": True,
                       "vmap_matches_loop": True}


def test_reference_gradient_matches_torch():
    fn = catalog.get("jax-flax").reference_functions()["mse_value_and_grad"]
    rng = np.random.default_rng(1)
    X, w, y = (rng.normal(size=s).astype("float32") for s in ((10, 3), 3, 10))
    loss, dw, db = fn(w, np.float32(-0.2), X, y)
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(-0.2, requires_grad=True)
    ((torch.from_numpy(X) @ tw + tb - torch.from_numpy(y)) ** 2).mean().backward()
    np.testing.assert_allclose(np.asarray(dw), tw.grad.numpy(), atol=1e-5)
    assert abs(float(db) - float(tb.grad)) < 1e-5


def test_reference_masks_use_one_key_each():
    fn = catalog.get("jax-flax").reference_functions()["dropout_masks"]
    masks = np.asarray(fn(3, 5, (64,), 0.5))
    assert masks.shape == (5, 64) and len({m.tobytes() for m in masks}) == 5
    assert np.array_equal(masks, np.asarray(fn(3, 5, (64,), 0.5)))


def test_a_reused_key_fails_the_mask_check_when_graded(tmp_path, shared_data):
    reused_key = (
        "def dropout_masks(seed, n, shape, rate):\n"
        "    key = jax.random.PRNGKey(seed)  # the same key for every mask\n"
        "    return jnp.stack([jax.random.bernoulli(key, 1 - rate, shape) for _ in range(n)])\n")
    rows = grade_with_replacements("jax-flax", tmp_path, "import jax\nimport jax.numpy as jnp",
                                   dropout_masks=reused_key)["checks"]
    assert not rows["one_fresh_key_per_mask"]["passed"]
    assert "jax.random.split" in rows["one_fresh_key_per_mask"]["message"]
    assert all(r["passed"] for name, r in rows.items() if name != "one_fresh_key_per_mask")
