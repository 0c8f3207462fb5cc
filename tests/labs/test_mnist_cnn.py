"""mnist-cnn: quick mode runs end to end with every reference check passing; the hand-written
convolution agrees with torch and the mistakes are found and sorted."""
import torch
import torch.nn.functional as F

from dlab.lab import catalog

METRICS = ["test_accuracy", "test_mistakes", "best_val_accuracy", "hand_conv_max_error",
           "parameters", "seconds_per_epoch"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("mnist-cnn")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("mnist-cnn") == {"curves.png", "filters.png", "filter_responses.png",
                                        "mistakes.png"}
    assert record["metrics"]["hand_conv_max_error"] < 1e-4


def test_conv2d_reference_matches_torch():
    conv2d = catalog.get("mnist-cnn").reference_functions()["conv2d"]
    g = torch.Generator().manual_seed(0)
    image, kernel = torch.rand(12, 10, generator=g), torch.randn(5, 5, generator=g)
    for padding in (0, 2):
        expected = F.conv2d(image[None, None], kernel[None, None], padding=padding)[0, 0] - 1.0
        assert torch.allclose(conv2d(image, kernel, -1.0, padding), expected, atol=1e-5)


def test_confident_mistakes_reference():
    fn = catalog.get("mnist-cnn").reference_functions()["confident_mistakes"]
    logits = torch.tensor([[0.0, 2.0], [3.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    labels = torch.tensor([1, 1, 0, 0])
    result = fn(logits, labels, k=10)
    assert [r[:3] for r in result] == [(1, 0, 1), (2, 1, 0)]
    assert result[0][3] > result[1][3]
