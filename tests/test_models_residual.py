"""Residual MLP with random block dropping: linear rates, DropPath per sample, and the rule
hook that lets a lab train with its own stochastic depth."""
import pytest
import torch
from torch import nn

from dlab.errors import ConfigError
from dlab.models.residual import ResidualMLP, drop_path, linear_drop_rates


def test_linear_drop_rates_go_from_zero_to_p_max():
    assert linear_drop_rates(5, 0.2) == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2])
    assert linear_drop_rates(1, 0.2) == [0.2]
    with pytest.raises(ConfigError):
        linear_drop_rates(3, 1.0)


def test_drop_path_drops_whole_samples_and_rescales():
    x = torch.zeros(4000, 6)
    branch = lambda t: torch.ones_like(t)  # noqa: E731
    torch.manual_seed(0)
    out = drop_path(x, branch, 0.25, training=True)
    rows = out[:, 0]
    assert torch.all(out == rows[:, None])  # one decision per sample, not per element
    assert rows.unique().tolist() == pytest.approx([0.0, 1 / 0.75])
    assert float((rows == 0).float().mean()) == pytest.approx(0.25, abs=0.03)
    assert torch.equal(drop_path(x, branch, 0.25, training=False), torch.ones(4000, 6))


def test_residual_mlp_shapes_rates_and_rule():
    model = ResidualMLP(784, 32, 3, 10)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert isinstance(model[-1], nn.Linear)
    calls = []

    def rule(x, branch, p, training):
        calls.append((p, training))
        return x + branch(x)

    model = ResidualMLP(20, 8, 3, 2, drop_rates=[0.0, 0.1, 0.2], rule=rule)
    model(torch.zeros(2, 20))
    assert calls == [(0.1, True), (0.2, True)]  # a block with rate 0 always runs
    model.eval()
    model(torch.zeros(2, 20))
    assert calls[-1] == (0.2, False)
    with pytest.raises(ConfigError):
        ResidualMLP(20, 8, 3, 2, drop_rates=[0.1, 0.2])
