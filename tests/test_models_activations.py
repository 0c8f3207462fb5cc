"""dlab.models.activations (a layer that runs a function; the inputs of each activation layer)
and MLP's activation given as a layer factory."""
import torch
import torch.nn.functional as F
from torch import nn

from dlab.models import MLP
from dlab.models.activations import FunctionActivation, activation_inputs


def test_function_activation_runs_the_function_and_keeps_gradients():
    layer = FunctionActivation(torch.tanh)
    x = torch.randn(4, 3, requires_grad=True)
    out = layer(x)
    assert torch.equal(out, torch.tanh(x)) and out.requires_grad
    assert "tanh" in repr(layer)


def test_mlp_accepts_an_activation_factory():
    model = MLP(5, [8, 6], 2, activation=lambda: nn.LeakyReLU(0.2))
    slopes = [m.negative_slope for m in model if isinstance(m, nn.LeakyReLU)]
    assert slopes == [0.2, 0.2]
    assert len({id(m) for m in model if isinstance(m, nn.LeakyReLU)}) == 2  # a new layer each
    assert [type(m) for m in MLP(5, [8], 2, activation=nn.SiLU)] == [nn.Linear, nn.SiLU,
                                                                     nn.Linear]


def test_activation_inputs_are_the_pre_activations_in_evaluation_mode():
    torch.manual_seed(0)
    model = MLP(5, [8, 6], 2, activation=nn.GELU, batchnorm=True, dropout=0.5)
    model.train()
    model[4].eval()  # a frozen submodule keeps its own flag
    x = torch.randn(10, 5)
    seen = activation_inputs(model, x)
    assert [name for name, _, _ in seen] == ["2", "6"]
    assert all(isinstance(layer, nn.GELU) for _, layer, _ in seen)
    with torch.no_grad():
        model.eval()
        first = model[1](model[0](x))
        second = model[5](model[4](F.gelu(first)))
    assert torch.allclose(seen[0][2], first) and torch.allclose(seen[1][2], second)
    assert not seen[0][2].requires_grad
    model.train()
    model[4].eval()
    assert model.training and not model[4].training
