"""vanishing-gradients: quick mode runs end to end with every reference check passing; the
reference build_deep_mlp and layer_grad_norms agree with torch."""
import math

import torch
from torch import nn

from dlab.lab import catalog

KEYS = ["sigmoid_glorot", "relu_glorot", "relu_he", "relu_he_bn"]
METRICS = ["sigmoid_grad_ratio", "sigmoid_final_val_accuracy", "first_three_rank_as_course",
           "bn_best_final", "bn_best_mean", "exploding_first_layer_grad"] + [
    f"{k}_{m}" for k in KEYS for m in ("first_layer_grad", "last_layer_grad",
                                       "final_val_accuracy", "mean_val_accuracy",
                                       "final_train_loss", "seconds_per_epoch")]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("vanishing-gradients")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert lab_figures("vanishing-gradients") == {"gradient_norms.png", "training_curves.png"}
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    # Before any update, 20 sigmoid layers leave the first layer with a vanishing gradient,
    # and N(0, 1) weights make it explode; neither depends on how long training lasts.
    assert m["sigmoid_grad_ratio"] < 1e-6
    assert m["exploding_first_layer_grad"] > 1e6
    assert 0.1 < m["relu_he_first_layer_grad"] / m["relu_he_last_layer_grad"] < 10


def fns():
    return catalog.get("vanishing-gradients").reference_functions()


def test_build_deep_mlp_draws_torch_glorot_and_he():
    """Same seed, same draws: the reference equals building the layers and calling torch's
    initializers on them in order."""
    build = fns()["build_deep_mlp"]
    for init, torch_init in (("glorot", nn.init.xavier_uniform_),
                             ("he", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))):
        torch.manual_seed(0)
        ours = build(3, 20, "relu", init, True)
        torch.manual_seed(0)
        linears = [nn.Linear(784, 20), nn.Linear(20, 20), nn.Linear(20, 20), nn.Linear(20, 10)]
        for layer in linears:
            torch_init(layer.weight)
        got = [m for m in ours if isinstance(m, nn.Linear)]
        for a, b in zip(got, linears):
            assert torch.equal(a.weight, b.weight) and not a.bias.any()


def test_layer_grad_norms_match_backward():
    layer_grad_norms = fns()["layer_grad_norms"]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.Sigmoid(), nn.Linear(7, 6), nn.Sigmoid(),
                          nn.Linear(6, 3))
    x, y = torch.randn(16, 5), torch.randint(0, 3, (16,))
    norms = layer_grad_norms(model, x, y)
    assert all(p.grad is None for p in model.parameters())
    nn.functional.cross_entropy(model(x), y).backward()
    expected = [float(m.weight.grad.norm()) for m in model if isinstance(m, nn.Linear)]
    assert all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(norms, expected))
    assert len(norms) == 3
