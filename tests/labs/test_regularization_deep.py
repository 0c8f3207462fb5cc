"""regularization-deep: quick mode runs end to end with every reference check passing; the
reference max-norm, MC dropout and stochastic depth behave as the course describes."""
import pytest
import torch
from torch import nn

from dlab.lab import catalog

VARIANTS = ["none", "l1", "l2", "dropout", "l2_dropout", "max_norm"]
METRICS = ["best", "best_gap", "best_val_gain", "baseline_gap", "baseline_val_accuracy",
           "mc_model", "mc_model_test_accuracy", "mc_std_ambiguous", "mc_std_clear",
           "mc_std_ratio", "residual_gap", "stochastic_depth_gap",
           "stochastic_depth_gap_reduction", "stochastic_depth_gap_direction",
           "dropout_gap_reduction", "dropout_val_change", "residual_val_accuracy",
           "stochastic_depth_val_accuracy", "stochastic_depth_speedup", "drop_path_speedup",
           "seconds_none", "seconds_stochastic_depth"] + [
    f"{v}_{k}" for v in VARIANTS for k in ("train_accuracy", "val_accuracy", "gap")]


def reference(name):
    return catalog.get("regularization-deep").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("regularization-deep")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert m["best"] in ("L1", "L2", "dropout", "L2 + dropout", "max-norm")
    assert m["mc_model"] in ("dropout", "L2 + dropout")
    assert m["stochastic_depth_speedup"] is None  # quick mode does not time
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    assert lab_figures("regularization-deep") == {"regularizers.png", "mc_dropout.png",
                                                  "stochastic_depth.png"}


def test_reference_max_norm_matches_the_keras_formula():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 6), nn.ReLU(), nn.Linear(6, 4))
    with torch.no_grad():
        model[0].weight.mul_(5)
    expected = []
    for layer in (model[0], model[2]):  # keras.constraints.MaxNorm: w * clip(n, 0, c) / n
        w = layer.weight.detach()
        n = w.norm(dim=1, keepdim=True)
        expected.append(w * n.clamp(max=1.0) / n)
    reference("max_norm_")(model, 1.0)
    assert torch.allclose(model[0].weight, expected[0], atol=1e-6)
    assert torch.allclose(model[2].weight, expected[1], atol=1e-6)


def test_reference_mc_dropout_averages_the_dropout_masks():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3))
    x = torch.randn(2, 4)
    torch.manual_seed(1)
    mean, std = reference("mc_dropout_predict")(model, x, 30)
    assert not any(m.training for m in model.modules())
    torch.manual_seed(1)
    model.train()
    with torch.no_grad():
        probs = torch.stack([torch.softmax(model(x), 1) for _ in range(30)])
    assert torch.allclose(mean, probs.mean(0)) and torch.allclose(std, probs.std(0))


def test_reference_stochastic_depth_is_unbiased_and_skips_work():
    fn = reference("stochastic_depth")
    x, calls = torch.zeros(3, 2), []

    def branch(t):
        calls.append(1)
        return torch.ones_like(t)

    torch.manual_seed(0)
    outputs = torch.stack([fn(x, branch, 0.2, True) for _ in range(4000)])
    assert float(outputs.mean()) == pytest.approx(1.0, abs=0.03)  # E[output] = x + branch(x)
    assert len(calls) == pytest.approx(0.8 * 4000, abs=120)
