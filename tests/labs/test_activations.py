"""activations: quick mode runs end to end with every reference check passing; the reference
gelu equals torch's and dead_units agrees with the training doctor's dead-ReLU scan."""
import torch
import torch.nn.functional as F
from torch import nn

from dlab.diagnostics.doctor import dead_relus
from dlab.lab import catalog
from dlab.models import MLP
from dlab.models.activations import activation_inputs

KEYS = ["relu", "leaky_relu", "elu", "gelu", "silu", "mish"]
METRICS = ["course_winner", "course_winner_gelu_or_elu", "winner", "winner_test_accuracy",
           "max_dead_share_leaky_elu_gelu", "relu_dead_share", "high_lr_relu_dead_share",
           "high_lr_leaky_dead_share", "leaky_rescues_high_lr"] + [
    f"{k}_{m}" for k in KEYS for m in ("final_val_accuracy", "seconds_per_epoch",
                                       "dead_share_per_layer")]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("activations")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert lab_figures("activations") == {"activations.png", "validation_curves.png",
                                          "dead_units.png"}
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    assert m["winner"] in KEYS and m["course_winner"] in KEYS[:4]
    # LeakyReLU's slope is 0.1 below zero: none of its units can be dead.
    assert m["leaky_relu_dead_share_per_layer"] == [0.0] * 4
    assert m["high_lr_leaky_dead_share"] == 0.0


def fns():
    return catalog.get("activations").reference_functions()


def test_gelu_matches_torch():
    gelu = fns()["gelu"]
    x = torch.linspace(-8, 8, 2001, dtype=torch.float64)
    assert torch.allclose(gelu(x), F.gelu(x), atol=1e-12)
    assert torch.allclose(gelu(x, approximate=True), F.gelu(x, approximate="tanh"), atol=1e-12)
    assert (gelu(x) - gelu(x, approximate=True)).abs().max() < 1e-3


def test_dead_units_agrees_with_the_doctor_on_relu_networks():
    dead_units = fns()["dead_units"]
    torch.manual_seed(0)
    model = MLP(20, [30, 30, 30], 4)
    with torch.no_grad():  # push some units below zero for good
        model[2].bias[:10] = -50.0
    x = torch.randn(300, 20)
    ours = [int(dead_units(z, layer).sum()) for _, layer, z in activation_inputs(model, x)]
    doctor = [dead for _, dead, _ in dead_relus(model, x, torch.device("cpu"))]
    assert ours == doctor and ours[1] >= 10


def test_dead_units_of_smooth_activations():
    dead_units = fns()["dead_units"]
    z = torch.tensor([[-30.0, -1.0, 0.5]]).repeat(50, 1)
    assert dead_units(z, nn.ELU()).tolist() == [True, False, False]
    assert dead_units(z, nn.LeakyReLU(0.1)).tolist() == [False, False, False]
    assert dead_units(z, nn.SiLU()).tolist() == [True, False, False]
