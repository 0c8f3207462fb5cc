"""dlab.models.norm: BatchNorm and LayerNorm layers driven by a function behave exactly like
torch's when given torch's own arithmetic; MLP(layernorm=True) puts LayerNorm where
BatchNorm would go."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dlab.errors import ConfigError
from dlab.models import MLP
from dlab.models.norm import FunctionBatchNorm1d, FunctionLayerNorm, replace_norms


def torch_batch_norm(x, weight, bias, running_mean, running_var, training, momentum, eps):
    mean, var = running_mean.clone(), running_var.clone()
    y = F.batch_norm(x, mean, var, weight, bias, training, momentum, eps)
    return y, mean, var


def torch_layer_norm(x, weight, bias, eps):
    return F.layer_norm(x, (x.shape[-1],), weight, bias, eps)


def test_mlp_layernorm_sits_between_linear_and_activation():
    model = MLP(8, [6, 4], 3, layernorm=True)
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "LayerNorm", "ReLU", "Linear", "LayerNorm", "ReLU", "Linear"]
    with pytest.raises(ConfigError):
        MLP(8, [6], 3, batchnorm=True, layernorm=True)


def test_replaced_batchnorm_matches_torch_in_training_and_evaluation():
    torch.manual_seed(0)
    original = MLP(5, [7, 7], 2, batchnorm=True)
    swapped = replace_norms(MLP(5, [7, 7], 2, batchnorm=True), batch_norm=torch_batch_norm)
    swapped.load_state_dict(original.state_dict())
    assert sum(isinstance(m, FunctionBatchNorm1d) for m in swapped.modules()) == 2
    assert all(isinstance(m, nn.BatchNorm1d) for m in swapped.modules()
               if isinstance(m, FunctionBatchNorm1d))  # the doctor still sees BatchNorm
    for _ in range(3):
        x = torch.randn(16, 5)
        assert torch.allclose(original(x), swapped(x), atol=1e-6)
    for key, value in original.state_dict().items():  # running stats and batch counts
        assert torch.equal(value, swapped.state_dict()[key]), key
    x = torch.randn(4, 5)
    assert torch.allclose(original.eval()(x), swapped.eval()(x), atol=1e-6)


def test_running_statistics_are_not_part_of_the_graph():
    layer = FunctionBatchNorm1d(torch_batch_norm, 3)
    layer(torch.randn(8, 3, requires_grad=True)).sum().backward()
    assert not layer.running_mean.requires_grad and not layer.running_var.requires_grad
    assert int(layer.num_batches_tracked) == 1


def test_replaced_layernorm_keeps_parameters_and_gradients():
    torch.manual_seed(0)
    original = MLP(5, [6], 2, layernorm=True)
    with torch.no_grad():
        original[1].weight.mul_(2.0)
    swapped = replace_norms(MLP(5, [6], 2, layernorm=True), layer_norm=torch_layer_norm)
    swapped.load_state_dict(original.state_dict())
    assert isinstance(swapped[1], FunctionLayerNorm)
    x = torch.randn(3, 5)
    original(x).sum().backward()
    swapped(x).sum().backward()
    assert torch.allclose(original[1].weight.grad, swapped[1].weight.grad, atol=1e-6)


def test_replace_norms_copies_the_layer_it_replaces():
    bn = nn.BatchNorm1d(4, eps=1e-3, momentum=0.3)
    bn.running_mean.fill_(2.0)
    model = replace_norms(nn.Sequential(nn.Sequential(bn), nn.LayerNorm(4)),
                          batch_norm=torch_batch_norm)
    new = model[0][0]
    assert isinstance(new, FunctionBatchNorm1d)
    assert (new.eps, new.momentum) == (1e-3, 0.3)
    assert torch.equal(new.running_mean, torch.full((4,), 2.0))
    assert type(model[1]) is nn.LayerNorm  # no layer_norm function given: left alone
