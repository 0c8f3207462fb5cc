"""The explicit two-layer network (dlab.models.scratch_mlp) and its nn.Module twin
(dlab.models.two_layer): same forward, same training trajectory, batches like the Trainer's."""
import io

import pytest
import torch
import torch.nn.functional as F
from rich.console import Console

from dlab.data import Batches
from dlab.engine import Trainer
from dlab.models import scratch_mlp
from dlab.models.two_layer import TwoLayerNet


def blobs(n=70, seed=0):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=gen)
    return X, (X[:, 0] * X[:, 1] > 0).long()


def test_init_shapes_scale_and_seed():
    p = scratch_mlp.init_params(3, 5, 2, seed=1)
    assert {k: tuple(v.shape) for k, v in p.items()} == {
        "W1": (3, 5), "b1": (5,), "W2": (5, 2), "b2": (2,)}
    assert all(v.requires_grad and v.is_leaf for v in p.values())
    assert p["W1"].abs().max() <= 1 / 3**0.5 and p["W2"].abs().max() <= 1 / 5**0.5
    again = scratch_mlp.init_params(3, 5, 2, seed=1)
    assert all(torch.equal(p[k], again[k]) for k in p)
    other = scratch_mlp.init_params(3, 5, 2, seed=2)
    assert not torch.equal(p["W1"], other["W1"])


def test_forward_is_the_two_layer_formula():
    p = scratch_mlp.init_params(2, 4, 3, seed=0)
    X = torch.randn(6, 2)
    expected = torch.relu(X @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"]
    assert torch.equal(scratch_mlp.forward(p, X), expected)
    assert scratch_mlp.predict(p, X).shape == (6,)


def test_sgd_step_and_zero_grad():
    p = scratch_mlp.init_params(2, 4, 2, seed=0)
    X, y = blobs()
    F.cross_entropy(scratch_mlp.forward(p, X), y).backward()
    before = {k: v.detach().clone() for k, v in p.items()}
    grads = {k: v.grad.clone() for k, v in p.items()}
    scratch_mlp.sgd_step(p, lr=0.5)
    for k in p:
        torch.testing.assert_close(p[k].detach(), before[k] - 0.5 * grads[k])
        assert p[k].is_leaf and p[k].requires_grad  # still trainable after the in-place update
    scratch_mlp.zero_grad(p)
    assert all(v.grad is None for v in p.values())


def test_train_scratch_uses_the_trainers_batches(monkeypatch):
    X, y = blobs(n=70)
    seen = []
    real = F.cross_entropy
    monkeypatch.setattr(scratch_mlp.F, "cross_entropy",
                        lambda logits, target: seen.append(target.clone()) or real(logits, target))
    p = scratch_mlp.init_params(2, 4, 2, seed=0)
    losses = scratch_mlp.train_scratch(p, X, y, lr=0.1, epochs=2, batch_size=32, seed=7)
    expected = []
    batches = Batches(X, y, batch_size=32, shuffle=True, seed=7)
    for epoch in (1, 2):
        batches.set_epoch(epoch)
        expected += [yb for _, yb in batches]
    assert len(losses) == len(expected) == 6
    assert all(torch.equal(a, b) for a, b in zip(seen, expected))


def test_train_scratch_learns_and_stops_at_nan():
    X, y = blobs(n=200)
    p = scratch_mlp.init_params(2, 16, 2, seed=0)
    losses = scratch_mlp.train_scratch(p, X, y, lr=0.3, epochs=30, batch_size=32, seed=0)
    assert losses[-1] < losses[0]
    assert (scratch_mlp.predict(p, X) == y).float().mean() > 0.9
    p = scratch_mlp.init_params(2, 16, 2, seed=0)
    losses = scratch_mlp.train_scratch(p, X, y, lr=1e4, epochs=30, batch_size=32, seed=0)
    assert len(losses) < 30 * 7 and not torch.isfinite(torch.tensor(losses[-1]))


def test_load_scratch_round_trip_and_same_outputs():
    p = scratch_mlp.init_params(3, 5, 2, seed=0)
    model = TwoLayerNet(3, 5, 2).load_scratch(p)
    assert model.hidden.weight.shape == (5, 3)  # nn.Linear stores (out, in): the transpose
    back = model.scratch_params()
    assert all(torch.equal(back[k], p[k].detach()) for k in p)
    X = torch.randn(8, 3)
    torch.testing.assert_close(model(X), scratch_mlp.forward(p, X))


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_module_with_sgd_and_trainer_follows_the_scratch_trajectory(dtype, tol):
    X, y = blobs(n=150)
    X = X.to(dtype)
    p = {k: v.detach().to(dtype).requires_grad_()
         for k, v in scratch_mlp.init_params(2, 8, 2, seed=3).items()}
    model = TwoLayerNet(2, 8, 2).to(dtype).load_scratch(p)
    scratch_mlp.train_scratch(p, X, y, lr=0.2, epochs=4, batch_size=32, seed=5)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.2), device="cpu",
                      progress=False, console=Console(file=io.StringIO()))
    trainer.fit((X, y), epochs=4, batch_size=32, seed=5)
    got = model.scratch_params()
    assert max(float((got[k] - p[k].detach()).abs().max()) for k in p) <= tol
