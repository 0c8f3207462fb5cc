"""dlab.scratch.mlp: a classifier on the from-scratch autograd engine, checked against torch."""
import numpy as np
import torch
import torch.nn.functional as F

from dlab.scratch import Tensor
from dlab.scratch import mlp


def test_cross_entropy_value_and_gradient_match_torch():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 3)) * 30  # large logits: the max-shift must prevent overflow
    y = np.array([0, 2, 1, 1, 0, 2])
    ours = Tensor(logits)
    loss = mlp.cross_entropy(ours, y)
    loss.backward()
    theirs = torch.tensor(logits, requires_grad=True)
    ref = F.cross_entropy(theirs, torch.tensor(y))
    ref.backward()
    assert abs(float(loss.data) - ref.item()) < 1e-10
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), atol=1e-12)


def test_forward_and_parameter_gradients_match_torch():
    params = mlp.init_params(2, 5, 3, seed=1)
    assert {k: v.shape for k, v in params.items()} == {
        "W1": (2, 5), "b1": (5,), "W2": (5, 3), "b2": (3,)}
    X = np.random.default_rng(1).normal(size=(7, 2))
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    mlp.cross_entropy(mlp.forward(params, X), y).backward()
    t = {k: torch.tensor(v.data, requires_grad=True) for k, v in params.items()}
    logits = torch.relu(torch.tensor(X) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    F.cross_entropy(logits, torch.tensor(y)).backward()
    for k in params:
        np.testing.assert_allclose(params[k].grad, t[k].grad.numpy(), atol=1e-12)


def test_train_fits_a_nonlinear_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)  # XOR-like quadrants: no line separates them
    params = mlp.init_params(2, 16, 2, seed=0)
    losses = mlp.train(params, X, y, lr=1.0, steps=300)
    assert len(losses) == 300 and losses[-1] < 0.5 * losses[0]
    assert (mlp.predict(params, X) == y).mean() > 0.9
