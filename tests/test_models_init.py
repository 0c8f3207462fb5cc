"""Weight-init helpers: each scheme sets the variance it promises, and activation_stds sees
the signal shrink or hold with depth."""
import math

import pytest
import torch
from torch import nn

from dlab.errors import ConfigError
from dlab.models import MLP
from dlab.models.init import activation_stds, init_weights


def deep(seed=0, width=256, depth=6):
    torch.manual_seed(seed)
    return MLP(128, [width] * depth, 10)


def linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def test_default_leaves_pytorch_init_alone():
    model = deep()
    before = [layer.weight.clone() for layer in linears(model)]
    init_weights(model, "default")
    assert all(torch.equal(a, layer.weight) for a, layer in zip(before, linears(model)))


@pytest.mark.parametrize("scheme, variance", [
    ("normal", lambda fan_in, fan_out: 1e-3 ** 2),
    ("kaiming", lambda fan_in, fan_out: 2 / fan_in),
    ("xavier", lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
])
def test_schemes_set_the_promised_variance(scheme, variance):
    model = init_weights(deep(), scheme, std=1e-3)
    for layer in linears(model):
        fan_out, fan_in = layer.weight.shape
        assert layer.weight.var().item() == pytest.approx(variance(fan_in, fan_out), rel=0.1)
        assert torch.count_nonzero(layer.bias) == 0


def test_unknown_scheme_is_a_config_error():
    with pytest.raises(ConfigError, match="kaiming"):
        init_weights(deep(), "he")


def test_activation_stds_one_per_hidden_layer_and_no_side_effects():
    model = init_weights(deep(), "kaiming")
    model.train()
    x = torch.randn(512, 128)
    stds = activation_stds(model, x)
    assert len(stds) == 6
    assert model.training  # restored
    assert not any(m._forward_hooks for m in model.modules())  # hooks removed


def test_he_keeps_the_signal_tiny_init_kills_it():
    x = torch.randn(512, 128)
    he = activation_stds(init_weights(deep(), "kaiming"), x)
    tiny = activation_stds(init_weights(deep(), "normal", std=1e-3), x)
    assert 0.3 < he[-1] / he[0] < 3  # roughly constant with depth
    # Each layer multiplies the std by ~sqrt(256 * 1e-6 / 2) ≈ 0.011.
    assert tiny[-1] / tiny[0] < 1e-8
    assert math.isfinite(tiny[-1])
