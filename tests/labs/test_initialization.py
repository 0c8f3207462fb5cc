"""initialization: quick mode runs end to end with every reference check passing; the
reference fans and init_layer_ equal torch's own fan computation and initializers."""
import pytest
import torch
from torch import nn

from dlab.lab import catalog

SCHEMES = ["glorot_uniform", "he_uniform", "he_normal"]
METRICS = ["he_gain_pp", "he_gain_mean_pp", "best_he", "he_norm_spread",
           "glorot_variance_ratio", "he_normal_variance_ratio", "he_uniform_variance_ratio",
           "torch_default_variance_ratio", "normal_0.01_last_layer_std"] + [
    f"{s}_{m}" for s in SCHEMES for m in ("final_val_accuracy", "mean_val_accuracy",
                                          "epoch1_val_accuracy", "kernel_norms_before",
                                          "kernel_norms_after")]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("initialization")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert lab_figures("initialization") == {"signal_at_init.png", "validation_curves.png",
                                             "kernel_norms.png"}
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    # PyTorch's default for nn.Linear has a sixth of He's variance: 1 / (3 fan_in).
    assert m["torch_default_variance_ratio"] == pytest.approx(1.0, abs=0.02)
    assert m["normal_0.01_last_layer_std"] < 1e-3
    assert len(m["he_normal_kernel_norms_after"]) == 5


def fns():
    return catalog.get("initialization").reference_functions()


@pytest.mark.parametrize("shape", [(128, 784), (10, 50), (16, 3, 5, 5), (8, 4, 3),
                                   (2, 3, 2, 2, 2)])
def test_fans_match_torch(shape):
    expected = nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert fns()["fans"](torch.empty(shape)) == expected


@pytest.mark.parametrize("scheme, torch_init", [
    ("glorot_uniform", nn.init.xavier_uniform_),
    ("he_uniform", lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu")),
    ("he_normal", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")),
])
@pytest.mark.parametrize("make", [lambda: nn.Linear(300, 70), lambda: nn.Conv2d(6, 12, 3)])
def test_init_layer_draws_what_torch_draws(scheme, torch_init, make):
    """Same seed, same random stream: the hand-written rule gives torch's exact tensor."""
    init_layer_ = fns()["init_layer_"]
    ours, theirs = make(), make()
    torch.manual_seed(0)
    assert init_layer_(ours, scheme) is ours
    torch.manual_seed(0)
    torch_init(theirs.weight)
    assert torch.equal(ours.weight, theirs.weight)
    assert not ours.bias.any() and ours.weight.requires_grad
