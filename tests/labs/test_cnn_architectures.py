"""cnn-architectures: quick mode runs end to end with every reference check passing; the
depthwise-separable block is the library's."""
import torch

from dlab.lab import catalog
from dlab.models.architectures import depthwise_separable

METRICS = ["test_accuracy", "parameters", "most_accurate", "residual_beat_lenet",
           "fastest_inference", "fastest_is_mobilenet", "latency_ms", "train_seconds"]
MODELS = {"LeNet-5", "VGG", "ResNet", "ResNet + SE", "ConvNeXt", "MobileNet"}


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("cnn-architectures")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("cnn-architectures") == {"accuracy_vs_cost.png"}
    m = record["metrics"]
    assert set(m["test_accuracy"]) == set(m["latency_ms"]) == MODELS
    assert m["most_accurate"] in MODELS and m["fastest_inference"] in MODELS


def test_depthwise_separable_reference_matches_the_library():
    fn = catalog.get("cnn-architectures").reference_functions()["depthwise_separable"]
    mine, library = fn(16, 32, 2), depthwise_separable(16, 32, 2)
    library.load_state_dict(mine.state_dict())
    x = torch.rand(2, 16, 9, 9)
    assert torch.equal(mine.eval()(x), library.eval()(x))
