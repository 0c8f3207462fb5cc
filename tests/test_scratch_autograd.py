"""The from-scratch autograd engine must agree with torch.autograd (float64) on values and grads."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlab.errors import DlabError
from dlab.scratch import Tensor

TOL = {"rtol": 1e-6, "atol": 1e-6}


def check_against_torch(fn: Callable, *arrays: np.ndarray) -> None:
    """Apply ``fn`` to dlab and to torch tensors; compare the output and every input grad."""
    ours = [Tensor(a) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out, ref = fn(*ours), fn(*theirs)
    np.testing.assert_allclose(out.data, ref.detach().numpy(), **TOL)
    # Sum with fixed random weights so that a gradient swapped between entries is caught.
    weights = np.random.default_rng(0).normal(size=out.shape)
    (out * weights).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for t, r in zip(ours, theirs):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), **TOL)


def randn(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed + len(shape)).normal(size=shape)


def positive(*shape: int) -> np.ndarray:
    return np.abs(randn(*shape)) + 0.5


# ------------------------------------------------------------------ one op at a time

UNARY_CASES = {
    "neg": (lambda x: -x, randn(3, 4)),
    "exp": (lambda x: x.exp(), randn(3, 4)),
    "log": (lambda x: x.log(), positive(3, 4)),
    "relu": (lambda x: x.relu(), randn(3, 4)),
    "tanh": (lambda x: x.tanh(), randn(3, 4)),
    "sigmoid": (lambda x: x.sigmoid(), randn(3, 4)),
    "pow 2": (lambda x: x**2, randn(3, 4)),
    "pow 3": (lambda x: x**3, randn(3, 4)),
    "pow -1.5": (lambda x: x**-1.5, positive(3, 4)),
    "pow 0.5": (lambda x: x**0.5, positive(3, 4)),
    "scalar tensor": (lambda x: x.tanh() * x, np.array(0.7)),
}


@pytest.mark.parametrize("name", UNARY_CASES)
def test_unary_op_matches_torch(name: str) -> None:
    fn, x = UNARY_CASES[name]
    check_against_torch(fn, x)


BINARY_OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((4,), (3, 4)),
    ((2, 3, 4), (3, 1)),
    ((3, 4), ()),
]


@pytest.mark.parametrize("op", BINARY_OPS)
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES, ids=str)
def test_binary_op_with_broadcasting_matches_torch(op: str, shapes: tuple) -> None:
    a, b = randn(*shapes[0]), positive(*shapes[1])  # positive: safe denominators
    check_against_torch(BINARY_OPS[op], a, b)


@pytest.mark.parametrize(
    "shapes", [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 1))],
    ids=str,
)
def test_matmul_including_batched_matches_torch(shapes: tuple) -> None:
    check_against_torch(lambda a, b: a @ b, randn(*shapes[0]), randn(*shapes[1], seed=1))


@pytest.mark.parametrize("reduce", ["sum", "mean"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_torch(reduce: str, axis, keepdims: bool) -> None:
    x = randn(2, 3, 4)
    dims = (0, 1, 2) if axis is None else axis  # torch spells "all axes" explicitly

    def fn(t):
        if isinstance(t, Tensor):
            return getattr(t, reduce)(axis=axis, keepdims=keepdims)
        return getattr(t, reduce)(dim=dims, keepdim=keepdims)

    check_against_torch(fn, x)


def test_python_scalars_and_arrays_on_either_side() -> None:
    c = randn(4, seed=5)

    def fn(t):
        const = c if isinstance(t, Tensor) else torch.tensor(c)
        return 2 * t + 1 - t / 3 + (1 - t) * 0.5 + const * t - const / (t * t + 1) + 3 / (t * t + 1)

    check_against_torch(fn, randn(3, 4))


def test_numpy_array_on_the_left_defers_to_tensor() -> None:
    out = np.ones(3) * Tensor(np.arange(3.0))
    assert isinstance(out, Tensor)  # not an object array of Tensors


def test_reused_value_gets_the_sum_of_both_paths() -> None:
    check_against_torch(lambda x: x * x + x.exp() * x, randn(3))


# ------------------------------------------------------------------ backward() mechanics


def test_gradients_accumulate_across_backward_calls_until_zeroed() -> None:
    x_np = randn(3, 4)
    x, x_ref = Tensor(x_np), torch.tensor(x_np, requires_grad=True)
    loss, loss_ref = (x.tanh() * x).sum(), (x_ref.tanh() * x_ref).sum()
    loss.backward()
    loss.backward()  # same graph again: leaves add up, intermediate nodes are recomputed
    loss_ref.backward(retain_graph=True)
    loss_ref.backward()
    np.testing.assert_allclose(x.grad, x_ref.grad.numpy(), **TOL)

    loss.zero_grad()
    assert not x.grad.any()
    loss.backward()
    np.testing.assert_allclose(x.grad, x_ref.grad.numpy() / 2, **TOL)


def test_backward_on_non_scalar_needs_a_gradient() -> None:
    x = Tensor(randn(3, 4))
    with pytest.raises(DlabError, match="gradient"):
        (x * 2).backward()
    y = x * 2
    y.backward(gradient=np.ones((3, 4)))
    np.testing.assert_allclose(x.grad, np.full((3, 4), 2.0))


def test_every_op_records_its_name() -> None:
    x, y = Tensor(positive(2, 2)), Tensor(randn(2, 2))
    ops = {
        "+": x + y, "-": x - y, "*": x * y, "/": x / y, "neg": -x, "@": x @ y, "**2": x**2,
        "exp": x.exp(), "log": x.log(), "relu": x.relu(), "tanh": x.tanh(),
        "sigmoid": x.sigmoid(), "sum": x.sum(), "mean": x.mean(),
    }
    assert {name: t._op for name, t in ops.items()} == {name: name for name in ops}


# ------------------------------------------------------------------ random expression graphs
#
# A program is a few input arrays plus a list of steps; each step applies an op to values
# already in the pool and appends the result. The same program runs on dlab and on torch,
# and the loss is the sum of every pooled value, so every op's gradient reaches an input.
# Ops with a restricted domain get a safe argument: log(x² + 1), (x² + 1) ** -0.5, a/(b² + 1).

UNARY_OPS: dict[str, Callable] = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "log": lambda x: (x * x + 1).log(),
    "relu": lambda x: x.relu(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
}
BINARY_STEP_OPS: dict[str, Callable] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / (b * b + 1),
    "@": lambda a, b: a @ b,
}
REVERSE_OPS: dict[str, Callable] = {  # constant on the left: python float or numpy array
    "+": lambda c, x: c + x,
    "-": lambda c, x: c - x,
    "*": lambda c, x: c * x,
    "/": lambda c, x: c / (x * x + 1),
}
ALL_OPS = [*UNARY_OPS, *BINARY_STEP_OPS, "**", "sum", "mean", "scalar-left", "array-left"]
EXPONENTS = [1, 2, 3, -1.0, -0.5, 0.5, 1.5]  # ints apply to x, floats to x² + 1
FLOATS = st.floats(-2, 2, allow_nan=False, allow_infinity=False)


def broadcastable(a: tuple, b: tuple) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def matmul_ok(a: tuple, b: tuple) -> bool:
    return len(a) >= 2 and len(b) >= 2 and a[-1] == b[-2] and broadcastable(a[:-2], b[:-2])


def draw_step(draw, op: str, pool: list[tuple]) -> tuple:
    """Pick operands (by index in the pool of shapes) and a parameter for ``op``."""
    i = draw(st.integers(0, len(pool) - 1))
    if op == "@":
        pairs = [(a, b) for a in range(len(pool)) for b in range(len(pool)) if matmul_ok(pool[a], pool[b])]
        return op, draw(st.sampled_from(pairs)), None
    if op in BINARY_STEP_OPS:
        partners = [j for j in range(len(pool)) if broadcastable(pool[i], pool[j])]
        return op, (i, draw(st.sampled_from(partners))), None
    if op == "**":
        return op, (i,), draw(st.sampled_from(EXPONENTS))
    if op in ("sum", "mean"):
        ndim = len(pool[i])
        axis = draw(st.none() | st.integers(-ndim, ndim - 1)) if ndim else None
        return op, (i,), (axis, draw(st.booleans()))
    if op == "scalar-left":
        return op, (i,), (draw(st.sampled_from(list(REVERSE_OPS))), draw(FLOATS))
    if op == "array-left":  # the value's trailing axes, so the array broadcasts against it
        shape = pool[i][draw(st.integers(0, len(pool[i]))) :]
        array = draw(hnp.arrays(np.float64, shape, elements=FLOATS))
        return op, (i,), (draw(st.sampled_from(list(REVERSE_OPS))), array)
    return op, (i,), None


@st.composite
def programs(draw, must_use: str | None = None) -> tuple[list[np.ndarray], list[tuple]]:
    n, m, k = (draw(st.integers(1, 3)) for _ in range(3))
    # Input 0 is a (batched) matrix and input 1 a (batched) weight that fits it, so matmul
    # (with broadcast batch axes too) is always possible.
    shapes = [draw(st.sampled_from([(n, m), (2, n, m)])), draw(st.sampled_from([(m, k), (2, m, k)]))]
    shapes += draw(st.lists(st.sampled_from([(n, m), (m,), (n, 1), (1, m), ()]), max_size=2))
    inputs = [draw(hnp.arrays(np.float64, s, elements=FLOATS)) for s in shapes]

    ops = draw(st.lists(st.sampled_from(ALL_OPS), min_size=1, max_size=6))
    if must_use is not None:
        ops.insert(draw(st.integers(0, len(ops))), must_use)
    pool, steps = list(shapes), []
    for op in ops:
        steps.append(draw_step(draw, op, pool))
        # The result's shape, from running the step on zeros with the reference (torch).
        zeros = [torch.zeros(s, dtype=torch.float64) for s in pool]
        pool.append(tuple(apply_step(steps[-1], zeros, torch.tensor).shape))
    return inputs, steps


def apply_step(step: tuple, pool: list, constant: Callable):
    """Run one step on a pool of dlab or torch tensors; ``constant`` converts numpy arrays."""
    op, args, param = step
    x = pool[args[0]]
    if op in UNARY_OPS:
        return UNARY_OPS[op](x)
    if op in BINARY_STEP_OPS:
        return BINARY_STEP_OPS[op](x, pool[args[1]])
    if op == "**":
        return x**param if isinstance(param, int) else (x * x + 1) ** param
    if op in ("sum", "mean"):
        axis, keepdims = param
        if isinstance(x, torch.Tensor):
            dims = tuple(range(x.ndim)) if axis is None else axis
            return getattr(x, op)(dim=dims, keepdim=keepdims)
        return getattr(x, op)(axis=axis, keepdims=keepdims)
    name, value = param
    return REVERSE_OPS[name](constant(value) if op == "array-left" else value, x)


def run(inputs: list, steps: list, constant: Callable) -> tuple[list, object]:
    """Execute a program; return the pool of values and the loss (sum of every value)."""
    pool = list(inputs)
    for step in steps:
        pool.append(apply_step(step, pool, constant))
    loss = pool[0].sum()
    for value in pool[1:]:
        loss = loss + value.sum()
    return pool, loss


def check_program(inputs: list[np.ndarray], steps: list[tuple]) -> None:
    ours = [Tensor(a) for a in inputs]
    with np.errstate(over="ignore", invalid="ignore"):  # blow-ups are filtered just below
        pool, loss = run(ours, steps, constant=lambda a: a)
    assume(all(np.all(np.abs(v.data) < 1e6) for v in pool))
    # Inputs of relu must not sit a rounding error away from its kink at 0, where numpy
    # and torch could legitimately pick different sides.
    relu_inputs = [pool[args[0]].data for op, args, _ in steps if op == "relu"]
    assume(not any(np.any((v != 0) & (np.abs(v) < 1e-9)) for v in relu_inputs))

    theirs = [torch.tensor(a, requires_grad=True) for a in inputs]
    _, loss_ref = run(theirs, steps, constant=torch.tensor)
    loss.backward()
    loss_ref.backward()
    np.testing.assert_allclose(loss.data, loss_ref.detach().numpy(), **TOL)
    for t, r in zip(ours, theirs):
        np.testing.assert_allclose(t.grad, r.grad.numpy(), **TOL)


@settings(max_examples=150, deadline=None)
@given(programs())
def test_random_expression_graphs_match_torch(program) -> None:
    check_program(*program)


@pytest.mark.parametrize("op", ALL_OPS)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_random_graphs_using_each_op_match_torch(op: str, data) -> None:
    check_program(*data.draw(programs(must_use=op)))


def test_a_graph_thousands_of_nodes_deep_backpropagates():
    """An RNN unrolled over a long sequence makes a very deep graph: no RecursionError."""
    import sys

    depth = 3 * sys.getrecursionlimit()
    w = Tensor(np.array(0.999))
    h = Tensor(np.array(1.0))
    for _ in range(depth):
        h = h * w + 0.001
    h.backward()
    # h_T = w^T + 0.001 (w^(T-1) + ... + 1): compare dh/dw with torch on the same recurrence.
    wt = torch.tensor(0.999, dtype=torch.float64, requires_grad=True)
    ht = torch.tensor(1.0, dtype=torch.float64)
    for _ in range(depth):
        ht = ht * wt + 0.001
    ht.backward()
    assert np.isclose(float(w.grad), wt.grad.item(), rtol=1e-9)
    h.zero_grad()
    assert float(w.grad) == 0.0
