"""The doctor's vanishing-gradient check (dlab.diagnostics.vanishing), triggered through a real
Trainer.fit, and the per-layer gradient norms it reads."""
import io
import re

import pytest
import torch
from rich.console import Console
from torch import nn

from dlab.diagnostics.vanishing import weight_gradient_norms
from dlab.engine import Trainer
from dlab.models.init import init_weights
from dlab.models.mlp import MLP


def data(n=64, features=8):
    g = torch.Generator().manual_seed(0)
    return torch.randn(n, features, generator=g), torch.randint(0, 3, (n,), generator=g)


def warnings_of(model, lang="en", **kwargs):
    torch.manual_seed(0)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), device="cpu",
                      progress=False, console=Console(file=io.StringIO()), lang=lang, **kwargs)
    return trainer.fit(data(), epochs=1, batch_size=32).warnings


def vanishing(warnings):
    return [w for w in warnings if "anishing" in w or "desvanecen" in w]


def numbers(text):
    return sorted(re.findall(r"\d+(?:\.\d+)?(?:e[+-]\d+)?", text))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_deep_sigmoid_network_warns_and_names_the_cause(lang):
    torch.manual_seed(0)
    (warning,) = vanishing(warnings_of(MLP(8, [16] * 8, 3, activation="sigmoid"), lang))
    assert ("8 Sigmoid layers" if lang == "en" else "8 capas Sigmoid") in warning
    assert "kaiming_normal_" in warning


def test_both_languages_give_the_same_numbers():
    torch.manual_seed(0)
    model = MLP(8, [16] * 8, 3, activation="sigmoid")
    state = {k: v.clone() for k, v in model.state_dict().items()}
    (en,) = vanishing(warnings_of(model, "en"))
    model.load_state_dict(state)
    (es,) = vanishing(warnings_of(model, "es"))
    assert numbers(en) == numbers(es)


def test_a_deep_relu_network_with_a_too_small_init_warns_without_blaming_sigmoid():
    torch.manual_seed(0)
    (warning,) = vanishing(warnings_of(MLP(8, [16] * 20, 3)))  # torch's default init, 20 layers
    assert "initial weights are too small" in warning and "Sigmoid" not in warning


def test_healthy_networks_do_not_warn():
    torch.manual_seed(0)
    assert vanishing(warnings_of(init_weights(MLP(8, [16] * 8, 3), "kaiming"))) == []
    assert vanishing(warnings_of(MLP(8, [16, 16], 3, activation="sigmoid"))) == []
    assert vanishing(warnings_of(init_weights(MLP(8, [16] * 8, 3, batchnorm=True),
                                              "kaiming"))) == []


def test_the_check_changes_nothing_in_the_run():
    """One backward pass of the first batch: no .grad left behind, no RNG draw, no BatchNorm
    statistics updated. The trained weights equal those of a run without the doctor."""
    results = []
    for doctor in (True, False):
        torch.manual_seed(0)
        model = MLP(8, [16] * 6, 3, activation="sigmoid", batchnorm=True, dropout=0.2)
        warnings_of(model, doctor=doctor)
        results.append(model.state_dict())
    for key, value in results[0].items():
        assert torch.equal(value, results[1][key]), key


def test_weight_gradient_norms_match_backward_and_leave_grad_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 5), nn.Tanh(), nn.Linear(5, 4), nn.Tanh(),
                          nn.Linear(4, 3))
    model[2].weight.requires_grad_(False)  # a frozen layer is not reported
    x, y = data()
    norms = weight_gradient_norms(model, x, y, nn.CrossEntropyLoss())
    assert all(p.grad is None for p in model.parameters())
    nn.CrossEntropyLoss()(model(x), y).backward()
    assert [name for name, _ in norms] == ["0", "4"]
    for (name, norm), layer in zip(norms, (model[0], model[4])):
        assert norm == pytest.approx(float(layer.weight.grad.norm()), rel=1e-6)
