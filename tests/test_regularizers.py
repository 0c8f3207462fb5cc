"""Weight penalties (L1/L2 on Linear weights, in the training loss only) and constraints
applied after every step."""
import pytest
import torch
from torch import nn

from dlab.engine import Trainer
from dlab.engine.regularizers import AfterEachStep, penalized, weight_penalty


def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def test_weight_penalty_counts_weights_not_biases():
    model = net()
    w1, w2 = model[0].weight, model[2].weight
    with torch.no_grad():
        expected = (0.1 * (w1.abs().sum() + w2.abs().sum())
                    + 0.01 * ((w1 ** 2).sum() + (w2 ** 2).sum()))
    value = weight_penalty(model, l1=0.1, l2=0.01)
    assert value.item() == pytest.approx(expected.item())
    weight_penalty(model, l2=0.5).backward()
    assert torch.allclose(model[0].weight.grad, 2 * 0.5 * w1.detach())
    assert model[0].bias.grad is None


def test_penalized_loss_only_while_training():
    model = net()
    ce = nn.CrossEntropyLoss()
    loss = penalized(ce, model, l2=1.0)
    y = torch.tensor([0, 1, 0, 1, 1])
    with torch.no_grad():
        out = model(torch.randn(5, 3))
        plain = float(ce(out, y))
        assert float(loss(out, y)) == pytest.approx(plain + float(weight_penalty(model, l2=1.0)))
        model.eval()
        assert float(loss(out, y)) == pytest.approx(plain)
    assert penalized(ce, model) is ce


def test_after_each_step_runs_once_per_update():
    calls = []
    model = net()
    X, y = torch.randn(20, 3), torch.randint(0, 2, (20,))

    def clamp(m):
        calls.append(torch.is_grad_enabled())
        m[0].weight.clamp_(-0.01, 0.01)

    Trainer(model, torch.optim.SGD(model.parameters(), lr=1.0), callbacks=[AfterEachStep(clamp)],
            device="cpu", progress=False, doctor=False).fit((X, y), epochs=2, batch_size=5)
    assert calls == [False] * 8
    assert model[0].weight.detach().abs().max() <= 0.01
