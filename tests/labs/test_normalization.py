"""normalization: quick mode runs end to end with every reference check passing; the reference
batch_norm and layer_norm agree with torch's layers, and a network built with them trains like
one built with torch's."""
import pytest
import torch
import torch.nn.functional as F

from dlab.lab import catalog

METRICS = ["bn_epoch_saving", "ln_reaches_target", "bn_batch_accuracy", "bn_single_accuracy",
           "single_vs_batch_difference", "bn_batch_statistics_accuracy_128",
           "bn_small_batch_statistics_accuracy"] + [
    f"{variant}_{what}" for variant in ("none", "batchnorm", "layernorm")
    for what in ("epochs_to_target", "best_val_loss", "val_accuracy", "seconds_per_epoch")]


def reference(name):
    return catalog.get("normalization").reference_functions()[name]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("normalization")
    assert record["status"] in ("passed", "failed")
    metrics = record["metrics"]
    assert set(METRICS) <= set(metrics)
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("normalization") == {"validation_curves.png"}
    assert metrics["single_vs_batch_difference"] == 0.0


def test_batch_norm_reference_tracks_torch_over_many_batches():
    batch_norm = reference("batch_norm")
    layer = torch.nn.BatchNorm1d(6, momentum=0.2)
    mean, var = torch.zeros(6), torch.ones(6)
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        x = torch.randn(32, 6, generator=g) * 2 + 1
        expected = layer(x)
        y, mean, var = batch_norm(x, layer.weight, layer.bias, mean, var, True, 0.2, layer.eps)
        assert torch.allclose(y, expected, atol=1e-5)
    assert torch.allclose(mean, layer.running_mean, atol=1e-6)
    assert torch.allclose(var, layer.running_var, atol=1e-6)
    x = torch.randn(4, 6, generator=g)
    y, _, _ = batch_norm(x, layer.weight, layer.bias, mean, var, False, 0.2, layer.eps)
    assert torch.allclose(y, layer.eval()(x), atol=1e-5)


def test_layer_norm_reference_matches_torch():
    layer_norm = reference("layer_norm")
    x = torch.randn(10, 9) * 4 - 2
    weight, bias = torch.rand(9) + 0.5, torch.randn(9)
    assert torch.allclose(layer_norm(x, weight, bias), F.layer_norm(x, (9,), weight, bias),
                          atol=1e-5)


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
def test_hand_written_norms_train_like_torch(norm):
    """A few SGD steps of an MLP with the reference functions in place of torch's layers land
    on the same weights. (Not Adam: the bias of a Linear before BatchNorm gets a gradient of
    pure round-off, which Adam would scale up to full-size steps.)"""
    from dlab.models import MLP
    from dlab.models.norm import replace_norms

    fns = reference("batch_norm"), reference("layer_norm")
    X, y = torch.randn(64, 20), torch.randint(0, 10, (64,))
    weights = []
    for swap in (False, True):
        torch.manual_seed(0)
        model = MLP(20, [16, 8], 10, batchnorm=norm == "batchnorm",
                    layernorm=norm == "layernorm")
        if swap:
            replace_norms(model, batch_norm=fns[0], layer_norm=fns[1])
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        for step in range(5):
            optimizer.zero_grad()
            F.cross_entropy(model(X[step * 12:step * 12 + 12]), y[step * 12:step * 12 + 12]
                            ).backward()
            optimizer.step()
        weights.append(model.state_dict())
    for key, value in weights[0].items():
        assert torch.allclose(value.float(), weights[1][key].float(), atol=1e-5), key


def test_epochs_to_reach_reference():
    epochs_to_reach = reference("epochs_to_reach")
    assert epochs_to_reach([0.5, 0.41, 0.39], 0.4) == 3
    assert epochs_to_reach([0.5, 0.4], 0.4) is None
