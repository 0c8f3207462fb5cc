"""pooling: quick mode runs end to end with every reference check passing; the hand-written
poolings agree with torch's."""
import torch
import torch.nn.functional as F

from dlab.lab import catalog

METRICS = ["flatten_test_accuracy", "gap_test_accuracy", "strided_test_accuracy",
           "flatten_parameters", "gap_parameters", "strided_parameters", "gap_parameter_ratio",
           "gap_accuracy_drop", "strided_accuracy_drop", "stride_vs_pool_drop",
           "flatten_seconds_per_epoch",
           "gap_seconds_per_epoch", "strided_seconds_per_epoch"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("pooling")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("pooling") == {"comparison.png"}
    m = record["metrics"]
    assert (m["flatten_parameters"], m["gap_parameters"], m["strided_parameters"]) == (
        421_642, 19_466, 19_466)
    assert {c["metric"]: c["passed"] for c in record["criteria"]}["gap_parameter_ratio"]


def test_pooling_references_match_torch():
    fns = catalog.get("pooling").reference_functions()
    x = torch.randn(2, 5, 11, 8, generator=torch.Generator().manual_seed(0))
    assert torch.equal(fns["max_pool2d"](x, 2), F.max_pool2d(x, 2))
    assert torch.equal(fns["max_pool2d"](x, 3), F.max_pool2d(x, 3))
    assert torch.allclose(fns["global_average_pool"](x), F.adaptive_avg_pool2d(x, 1).flatten(1),
                          atol=1e-6)
