"""Perceptron, backprop by hand (checked against torch) and the graph drawing.

The perceptron rule and the hand-derived gradients are exercises of the perceptron-xor lab;
these tests use the lab's reference solutions."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from dlab.errors import DlabError
from dlab.scratch import (
    Perceptron,
    Tensor,
    draw_graph,
    forward,
    init_params,
    loss,
    truth_table,
)
from dlab.lab import catalog

REFERENCE = catalog.get("perceptron-xor").reference_functions()
perceptron_update = REFERENCE["perceptron_update"]
backprop_by_hand = REFERENCE["backprop_by_hand"]

# ------------------------------------------------------------------ perceptron


@pytest.mark.parametrize("gate", ["and", "or"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_learns_linearly_separable_gates(gate: str, seed: int) -> None:
    X, y = truth_table(gate)
    model = Perceptron(n_inputs=2, lr=0.1, seed=seed)
    history = model.fit(X, y, perceptron_update, epochs=50)
    assert history[-1] == 1.0
    np.testing.assert_array_equal(model.predict(X), y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perceptron_never_solves_xor(seed: int) -> None:
    X, y = truth_table("xor")
    history = Perceptron(n_inputs=2, lr=0.1, seed=seed).fit(X, y, perceptron_update, epochs=100)
    assert len(history) == 100
    assert max(history) < 1.0  # a line separates at most 3 of the 4 XOR points


def test_truth_table_rejects_unknown_gate() -> None:
    with pytest.raises(DlabError, match="xor"):
        truth_table("nand")


# ------------------------------------------------------------------ backprop by hand


def torch_gradients(params: dict, x: float, y: float, activation: str) -> dict[str, np.ndarray]:
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    act = torch.tanh if activation == "tanh" else torch.sigmoid
    h = act(p["W1"] @ torch.tensor([x], dtype=torch.float64) + p["b1"])
    y_hat = p["W2"] @ h + p["b2"]
    ((y_hat - y) ** 2).sum().backward()
    return {k: t.grad.numpy() for k, t in p.items()}


@pytest.mark.parametrize("seed", range(5))
def test_backprop_by_hand_matches_torch(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    params = init_params(seed)
    x, y = float(rng.normal()), float(rng.normal())
    ours = backprop_by_hand(params, x, y)
    ref = torch_gradients(params, x, y, "tanh")
    assert ours.keys() == {"W1", "b1", "W2", "b2"}
    for name in ref:
        assert ours[name].shape == params[name].shape
        np.testing.assert_allclose(ours[name], ref[name], rtol=1e-6, atol=1e-6)


def test_hand_gradient_predicts_the_change_in_loss() -> None:
    params, x, y = init_params(7), 0.3, -0.8
    grads = backprop_by_hand(params, x, y)
    step = {k: v - 1e-4 * grads[k] for k, v in params.items()}
    assert loss(step, x, y, "tanh") < loss(params, x, y, "tanh")
    assert forward(params, x, "sigmoid")["y_hat"].shape == (1,)


# ------------------------------------------------------------------ graph drawing


def count_nodes(fig: Figure) -> dict[str, int]:
    texts = fig.axes[0].texts
    return {kind: sum(t.get_gid() == kind for t in texts) for kind in ("value", "op")}


def test_draw_graph_has_one_text_per_value_and_op() -> None:
    a, b, c = Tensor(2.0, label="a"), Tensor(-3.0, label="b"), Tensor(10.0, label="c")
    out = (a * b + c).tanh()  # values: a, b, c, a*b, a*b+c, tanh -> 6; ops: *, +, tanh -> 3
    out.backward()
    fig = draw_graph(out)
    assert isinstance(fig, Figure)
    assert count_nodes(fig) == {"value": 6, "op": 3}
    assert len(fig.axes[0].texts) == 9
    assert any("grad" in t.get_text() for t in fig.axes[0].texts)
    plt.close(fig)


def test_draw_graph_on_given_axes_with_arrays() -> None:
    x, w = Tensor(np.ones((3, 4))), Tensor(np.ones((4, 2)))
    out = (x @ w).relu().mean()  # values: x, w, x@w, relu, mean -> 5; ops: 3
    fig, ax = plt.subplots()
    assert draw_graph(out, ax=ax) is fig
    assert count_nodes(fig) == {"value": 5, "op": 3}
    assert any("shape (3, 2)" in t.get_text() for t in ax.texts)
    plt.close(fig)
