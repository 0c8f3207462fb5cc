"""A reverse-mode autograd engine written from scratch on numpy arrays.

Same idea as micrograd, but every value is an ndarray instead of a float. That brings two
new ideas: broadcasting (whose backward pass is a sum, see ``_unbroadcast``) and matmul.

Every operation builds a new ``Tensor`` that remembers its inputs (``_prev``), its name
(``_op``, used to draw the graph) and a ``_backward`` closure that applies the chain rule:
given ``out.grad`` (dLoss/dout) it adds dLoss/dinput to each input's ``.grad``.
``backward()`` runs those closures from the output back to the leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Union

import numpy as np

from dlab.errors import DlabError

Operand = Union["Tensor", float, int, np.ndarray]
Axis = Union[int, tuple[int, ...], None]


def _unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` down to ``shape``, undoing numpy broadcasting.

    Broadcasting reuses one input value in many output positions; each use sends gradient
    back, so the input's gradient is the sum over all the copies.
    """
    # Axes that broadcasting prepended: (4,) + (3, 4) behaves as (1, 4) + (3, 4).
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    # Axes where the input had size 1 and was stretched.
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _unreduce(grad: np.ndarray, shape: tuple[int, ...], axis: Axis, keepdims: bool) -> np.ndarray:
    """Spread the gradient of a sum back over the entries that were summed."""
    if axis is not None and not keepdims:
        grad = np.expand_dims(grad, axis)  # put back the reduced axes as size 1
    return np.broadcast_to(grad, shape)  # every summed entry gets the same gradient


class Tensor:
    """An ndarray (float64) that records how it was computed, so it can be differentiated.

    Every Tensor tracks gradients (there is no ``requires_grad`` switch): constants such as
    the 2 in ``2 * t`` simply get a ``.grad`` that nobody reads. ``label`` names the node
    in ``draw_graph``.
    """

    # Makes numpy hand `array * tensor` to Tensor.__rmul__ instead of looping over the array.
    __array_ufunc__ = None

    def __init__(
        self,
        data: float | np.ndarray,
        _children: tuple[Tensor, ...] = (),
        _op: str = "",
        label: str = "",
    ) -> None:
        self.data = np.array(data, dtype=np.float64)
        # Zeros (not None) so that backward can always do `grad +=`, like torch accumulates.
        self.grad = np.zeros_like(self.data)
        self._backward: Callable[[], None] = lambda: None  # leaves have nothing to propagate
        self._prev = _children
        self._op = _op
        self.label = label

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __repr__(self) -> str:
        return f"Tensor(data={self.data}, grad={self.grad}, op={self._op!r})"

    # ---------------------------------------------------------------- elementwise

    def __add__(self, other: Operand) -> Tensor:
        other = _as_tensor(other)
        out = Tensor(self.data + other.data, (self, other), "+")

        def _backward() -> None:  # d(a+b)/da = d(a+b)/db = 1
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad += _unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __sub__(self, other: Operand) -> Tensor:
        other = _as_tensor(other)
        out = Tensor(self.data - other.data, (self, other), "-")

        def _backward() -> None:  # d(a-b)/da = 1, d(a-b)/db = -1
            self.grad += _unbroadcast(out.grad, self.shape)
            other.grad -= _unbroadcast(out.grad, other.shape)

        out._backward = _backward
        return out

    def __mul__(self, other: Operand) -> Tensor:
        other = _as_tensor(other)
        out = Tensor(self.data * other.data, (self, other), "*")

        def _backward() -> None:  # d(a*b)/da = b, d(a*b)/db = a
            self.grad += _unbroadcast(other.data * out.grad, self.shape)
            other.grad += _unbroadcast(self.data * out.grad, other.shape)

        out._backward = _backward
        return out

    def __truediv__(self, other: Operand) -> Tensor:
        other = _as_tensor(other)
        out = Tensor(self.data / other.data, (self, other), "/")

        def _backward() -> None:  # d(a/b)/da = 1/b, d(a/b)/db = -a/b²
            self.grad += _unbroadcast(out.grad / other.data, self.shape)
            other.grad += _unbroadcast(-self.data / other.data**2 * out.grad, other.shape)

        out._backward = _backward
        return out

    def __neg__(self) -> Tensor:
        out = Tensor(-self.data, (self,), "neg")

        def _backward() -> None:
            self.grad -= out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Tensor:
        if isinstance(exponent, Tensor):
            raise TypeError("Tensor ** Tensor is not supported: the exponent must be a number.")
        out = Tensor(self.data**exponent, (self,), f"**{exponent:g}")

        def _backward() -> None:  # d(x^k)/dx = k x^(k-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    # Python calls these when the Tensor is on the right: 2 * t, 1 - t, array / t.
    def __radd__(self, other: Operand) -> Tensor:
        return self + other

    def __rsub__(self, other: Operand) -> Tensor:
        return _as_tensor(other) - self

    def __rmul__(self, other: Operand) -> Tensor:
        return self * other

    def __rtruediv__(self, other: Operand) -> Tensor:
        return _as_tensor(other) / self

    # ---------------------------------------------------------------- matmul

    def __matmul__(self, other: Operand) -> Tensor:
        other = _as_tensor(other)
        if self.data.ndim < 2 or other.data.ndim < 2:
            raise DlabError(
                f"matmul needs 2-D (or batched) tensors, got shapes {self.shape} and "
                f"{other.shape}. Turn a vector v into a row with v.reshape(1, -1) first."
            )
        out = Tensor(self.data @ other.data, (self, other), "@")

        def _backward() -> None:  # C = A @ B  =>  dA = dC @ Bᵀ, dB = Aᵀ @ dC
            a_t = np.swapaxes(self.data, -1, -2)
            b_t = np.swapaxes(other.data, -1, -2)
            # Batch axes may have been broadcast too, e.g. (batch, n, k) @ (k, m).
            self.grad += _unbroadcast(out.grad @ b_t, self.shape)
            other.grad += _unbroadcast(a_t @ out.grad, other.shape)

        out._backward = _backward
        return out

    def __rmatmul__(self, other: Operand) -> Tensor:
        return _as_tensor(other) @ self

    # ---------------------------------------------------------------- functions

    def exp(self) -> Tensor:
        out = Tensor(np.exp(self.data), (self,), "exp")

        def _backward() -> None:  # d(e^x)/dx = e^x, which we already computed
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Tensor:
        out = Tensor(np.log(self.data), (self,), "log")

        def _backward() -> None:  # d(ln x)/dx = 1/x
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def relu(self) -> Tensor:
        out = Tensor(np.maximum(self.data, 0.0), (self,), "relu")

        def _backward() -> None:  # slope 1 where x > 0, else 0 (torch also uses 0 at x = 0)
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def tanh(self) -> Tensor:
        out = Tensor(np.tanh(self.data), (self,), "tanh")

        def _backward() -> None:  # d tanh(x)/dx = 1 - tanh(x)²
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Tensor:
        out = Tensor(1 / (1 + np.exp(-self.data)), (self,), "sigmoid")

        def _backward() -> None:  # dσ(x)/dx = σ(x) (1 - σ(x))
            self.grad += out.data * (1 - out.data) * out.grad

        out._backward = _backward
        return out

    # ---------------------------------------------------------------- reductions

    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum")

        def _backward() -> None:  # each summed entry moves the sum by 1
            self.grad += _unreduce(out.grad, self.shape, axis, keepdims)

        out._backward = _backward
        return out

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        out = Tensor(self.data.mean(axis=axis, keepdims=keepdims), (self,), "mean")
        count = self.data.size // out.data.size  # entries averaged into each output

        def _backward() -> None:  # each averaged entry moves the mean by 1/count
            self.grad += _unreduce(out.grad, self.shape, axis, keepdims) / count

        out._backward = _backward
        return out

    # ---------------------------------------------------------------- backprop

    def backward(self, gradient: np.ndarray | float | None = None) -> None:
        """Fill ``.grad`` of every tensor this one depends on with dself/dtensor.

        Leaves accumulate (``+=``) across calls, like torch: call ``zero_grad()`` between
        training steps. ``gradient`` is dLoss/dself; it defaults to 1 for a scalar.
        """
        if gradient is None:
            if self.data.size != 1:
                raise DlabError(
                    f"backward() on a tensor of shape {self.shape} needs a gradient argument: "
                    "there is one derivative per entry. Reduce it to a scalar loss first "
                    "(e.g. .sum() or .mean()) or pass gradient=np.ones(shape)."
                )
            gradient = np.ones_like(self.data)
        order = topo_sort(self)
        # Intermediate results start from zero on every call, so only leaves accumulate
        # (otherwise a second backward would count the first call's gradients twice).
        for node in order:
            if node._prev:
                node.grad = np.zeros_like(node.data)
        self.grad += np.broadcast_to(gradient, self.shape)
        # Reverse topological order: a node's grad is complete before it is propagated.
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Reset the gradient of this tensor and of everything it depends on."""
        for node in topo_sort(self):
            node.grad = np.zeros_like(node.data)


def _as_tensor(value: Operand) -> Tensor:
    """Wrap python numbers and arrays as constant leaves so every op sees Tensors."""
    return value if isinstance(value, Tensor) else Tensor(value)


def topo_sort(root: Tensor) -> list[Tensor]:
    """All tensors ``root`` depends on (itself included), each after all of its inputs.

    The depth-first search keeps its own stack instead of recursing, so a graph thousands of
    nodes deep (an RNN unrolled over a long sequence) does not hit Python's recursion limit.
    It visits inputs in the same order as the recursive version would."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node._prev)
                     if id(child) not in visited)
    return order
