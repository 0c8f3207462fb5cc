"""fashion-cnn: quick mode runs end to end with every reference check passing; the exercise
solutions match torch and the course's numbers."""
import torch
from torch import nn

from dlab.lab import catalog
from dlab.models.cnn import small_cnn

METRICS = ["test_accuracy", "mlp_test_accuracy", "gain_over_mlp", "cnn_parameters",
           "mlp_parameters", "best_val_accuracy", "seconds_per_epoch", "mlp_seconds_per_epoch"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("fashion-cnn")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("fashion-cnn") == {"curves.png", "feature_maps.png"}
    assert record["metrics"]["cnn_parameters"] == 421_642
    assert record["metrics"]["mlp_parameters"] == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10


def test_references():
    fns = catalog.get("fashion-cnn").reference_functions()
    assert fns["conv_output_size"](28, 5) == 24
    assert fns["conv_output_size"](28, 3, 2, 1) == 14
    model = fns["build_cnn"]()
    assert [tuple(p.shape) for p in model.parameters()] == [
        tuple(p.shape) for p in small_cnn().parameters()]
    assert fns["count_parameters"](nn.Conv2d(1, 32, 5)) == 832
    assert fns["count_parameters"](model) == 421_642
    assert model(torch.zeros(1, 1, 28, 28)).shape == (1, 10)
