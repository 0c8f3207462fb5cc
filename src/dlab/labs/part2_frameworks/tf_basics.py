# %% [markdown] lang="en"
# One level below Keras: TensorFlow's tensors and variables. A `tf.Tensor` is immutable, like a
# value; a `tf.Variable` is mutable and is what a model's weights are made of. This lab goes
# through the NumPy-like operations, broadcasting, dtypes and casts, why `x[mask] = 0` does not
# exist in TF, and then fits a linear regression with `tf.Variable` and `tf.GradientTape`,
# without Keras, next to the same updates written by hand in PyTorch.

# %% [markdown] lang="es"
# Un nivel por debajo de Keras: los tensores y variables de TensorFlow. Un `tf.Tensor` es
# inmutable, como un valor; una `tf.Variable` es mutable y es de lo que están hechos los pesos
# de un modelo. Este laboratorio recorre las operaciones al estilo NumPy, el broadcasting, los
# dtypes y las conversiones, por qué `x[mask] = 0` no existe en TF, y luego ajusta una
# regresión lineal con `tf.Variable` y `tf.GradientTape`, sin Keras, junto a las mismas
# actualizaciones escritas a mano en PyTorch.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n: int = 100
    noise: float = 0.1
    steps: int = 500
    lr: float = 0.01

    def check(self):
        positive(n=self.n, steps=self.steps, lr=self.lr)


LAB = Lab(
    id="tf-basics",
    title_en="TensorFlow basics: tensors, variables, dtypes, GradientTape",
    title_es="TensorFlow básico: tensores, variables, dtypes, GradientTape",
    source="Part 2 · class 118 (homework)",
    block="part2-frameworks",
    dataset="synthetic: y = X·[1, 2] + 3 + noise, X ~ N(0, 1) of shape (100, 2)",
    criteria=(
        Criterion("w_max_abs_error", "<=", 0.1,
                  "After 500 steps at lr 0.01, w ≈ [1, 2] (±0.1)",
                  "Tras 500 pasos con lr 0.01, w ≈ [1, 2] (±0.1)"),
        Criterion("b_abs_error", "<=", 0.1, "After 500 steps at lr 0.01, b ≈ 3 (±0.1)",
                  "Tras 500 pasos con lr 0.01, b ≈ 3 (±0.1)"),
        Criterion("tf_vs_torch_max_diff", "<=", 1e-5,
                  "The same updates by hand in PyTorch end at the same w and b (≤ 1e-5)",
                  "Las mismas actualizaciones a mano en PyTorch terminan en los mismos w y b "
                  "(≤ 1e-5)"),
        Criterion("broadcast_shape_ok", "is", True,
                  "(3, 1) + (3,) broadcasts to (3, 3), as in NumPy",
                  "(3, 1) + (3,) se expande a (3, 3), como en NumPy"),
    ),
    config=Config,
    requires={"tensorflow": "tensorflow"},
)

# %% [markdown] lang="en"
# ## 1. Tensors
# `tf.constant` makes a tensor; `.shape`, `.dtype` and `.numpy()` read it. Operations follow
# NumPy's names with a few of TF's own: `tf.matmul`, `tf.transpose`, and the `tf.reduce_*`
# family with `axis=`.

# %% [markdown] lang="es"
# ## 1. Tensores
# `tf.constant` crea un tensor; `.shape`, `.dtype` y `.numpy()` lo leen. Las operaciones siguen
# los nombres de NumPy con algunos propios de TF: `tf.matmul`, `tf.transpose` y la familia
# `tf.reduce_*` con `axis=`.

# %%
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
import torch

tf.random.set_seed(ctx.seed)
t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
ctx.table([ctx.t("expression", "expresión"), ctx.t("shape", "forma"), "dtype",
           ctx.t("value", "valor")],
          [[expr, str(v.shape), v.dtype.name, str(v.numpy().tolist())] for expr, v in [
              ("t", t), ("tf.matmul(t, t)", tf.matmul(t, t)), ("tf.transpose(t)", tf.transpose(t)),
              ("tf.reduce_sum(t, axis=0)", tf.reduce_sum(t, axis=0)),
              ("tf.reduce_max(t)", tf.reduce_max(t))]])

# %% [markdown] lang="en"
# ## 2. Broadcasting, and tensors that do not change
# Shapes are matched from the right and a dimension of 1 stretches, exactly as in NumPy:
# (3, 1) + (3,) gives (3, 3). A tensor cannot be changed in place; a `tf.Variable` can, with
# `.assign` and `.assign_add` (`v += g` for weights).

# %% [markdown] lang="es"
# ## 2. Broadcasting, y tensores que no cambian
# Las formas se alinean desde la derecha y una dimensión de 1 se estira, igual que en NumPy:
# (3, 1) + (3,) da (3, 3). Un tensor no se puede cambiar en su sitio; una `tf.Variable` sí, con
# `.assign` y `.assign_add` (`v += g` para los pesos).

# %%
a = tf.constant([[1.0], [2.0], [3.0]])
b = tf.constant([10.0, 20.0, 30.0])
broadcast = a + b
broadcast_shape_ok = tuple(broadcast.shape) == (3, 3) and np.array_equal(
    broadcast.numpy(), a.numpy() + b.numpy())
try:
    t[0, 0].assign(9.0)
    constant_assignment = "allowed"
except AttributeError as exc:
    constant_assignment = f"AttributeError: {str(exc).splitlines()[0]}"
v = tf.Variable([1.0, 2.0, 3.0])
steps_shown = [["tf.Variable([1., 2., 3.])", str(v.numpy().tolist())]]
v.assign([4.0, 5.0, 6.0])
steps_shown.append(["v.assign([4., 5., 6.])", str(v.numpy().tolist())])
v.assign_add([1.0, 1.0, 1.0])
steps_shown.append(["v.assign_add([1., 1., 1.])", str(v.numpy().tolist())])
steps_shown.append(["(3, 1) + (3,)", str(tuple(broadcast.shape))])
steps_shown.append(["tf.constant(...)[0, 0].assign(9.)", constant_assignment])
ctx.table([ctx.t("expression", "expresión"), ctx.t("result", "resultado")], steps_shown)

# %% [markdown] lang="en"
# ## 3. dtypes and casts
# TF never converts dtypes silently: `tf.constant([1, 2, 3]) + tf.constant([1.0, 2.0, 3.0])`
# adds an int32 and a float32 tensor and fails with `InvalidArgumentError`. `tf.cast` makes the
# types agree first.

# %% [markdown] lang="es"
# ## 3. dtypes y conversiones
# TF nunca convierte dtypes en silencio: `tf.constant([1, 2, 3]) + tf.constant([1.0, 2.0, 3.0])`
# suma un tensor int32 y uno float32 y falla con `InvalidArgumentError`. `tf.cast` primero
# pone los tipos de acuerdo.

# %% exercise="cast_and_add"
def cast_and_add(ints, floats):
    """[en] `ints` holds integers and `floats` floats, with the same shape (lists or arrays).
    Make them TensorFlow tensors with `tf.constant`, cast the integer one to `tf.float32`
    with `tf.cast`, and return their sum: a float32 `tf.Tensor`.

    [es] `ints` tiene enteros y `floats` reales, con la misma forma (listas o arrays).
    Conviértelos en tensores de TensorFlow con `tf.constant`, convierte el entero a
    `tf.float32` con `tf.cast`, y devuelve su suma: un `tf.Tensor` float32.
    """
    return tf.cast(tf.constant(ints), tf.float32) + tf.constant(floats, tf.float32)


# %% check
import numpy as np

from dlab.exercises import expect


@ctx.check("cast_and_add")
def adds_ints_and_floats_as_float32():
    total = np.asarray(cast_and_add([1, 2, 3], [0.5, 1.5, 2.5]))
    expect.equal(total.dtype.name, "float32", "dtype of cast_and_add([1, 2, 3], [0.5, 1.5, 2.5])")
    expect.close(total, np.array([1.5, 3.5, 5.5]), "cast_and_add([1, 2, 3], [0.5, 1.5, 2.5])")
    grid = np.asarray(cast_and_add(np.arange(6).reshape(2, 3), np.full((2, 3), 0.25)))
    expect.shape(grid, (2, 3), "cast_and_add of two (2, 3) arrays")
    expect.close(grid, np.arange(6).reshape(2, 3) + 0.25, "cast_and_add of two (2, 3) arrays")


# %%
try:
    tf.constant([1, 2, 3]) + tf.constant([1.0, 2.0, 3.0])
    mismatch = "no error"
except (tf.errors.InvalidArgumentError, TypeError) as exc:
    mismatch = f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}…"
fixed = np.asarray(cast_and_add([1, 2, 3], [1.0, 2.0, 3.0]))
ctx.table([ctx.t("expression", "expresión"), ctx.t("result", "resultado")],
          [["int32 + float32", mismatch],
           ["cast_and_add([1, 2, 3], [1., 2., 3.])",
            f"{fixed.tolist()} ({fixed.dtype.name})"]])

# %% [markdown] lang="en"
# ## 4. No `x[mask] = 0`: build a new tensor
# In NumPy, `x[x < 0] = 0` writes into the array. TF tensors cannot be written into; the same
# result is a new tensor chosen element by element with `tf.where(condition, a, b)`.

# %% [markdown] lang="es"
# ## 4. Sin `x[mask] = 0`: construir un tensor nuevo
# En NumPy, `x[x < 0] = 0` escribe en el array. En los tensores de TF no se puede escribir; el
# mismo resultado es un tensor nuevo elegido elemento a elemento con
# `tf.where(condición, a, b)`.

# %% exercise="zero_below"
def zero_below(x, threshold: float):
    """[en] Return a new float32 tensor equal to `x` (a list or array of floats) except that
    every element smaller than `threshold` becomes 0. Use `tf.where`; `x` itself is not
    changed.

    [es] Devuelve un tensor float32 nuevo igual a `x` (una lista o array de reales) salvo que
    cada elemento menor que `threshold` pasa a ser 0. Usa `tf.where`; `x` no se modifica.
    """
    x = tf.constant(x, tf.float32)
    return tf.where(x < threshold, tf.zeros_like(x), x)


# %% check
import numpy as np

from dlab.exercises import expect


@ctx.check("zero_below")
def zeroes_what_is_below_the_threshold():
    x = np.array([[-1.0, 0.5], [2.0, -3.0]], "float32")
    out = np.asarray(zero_below(x, 0.0))
    expect.shape(out, (2, 2), "zero_below(x, 0.0) for x of shape (2, 2)")
    expect.close(out, np.array([[0.0, 0.5], [2.0, 0.0]]), "zero_below([[-1, 0.5], [2, -3]], 0.0)")
    expect.close(np.asarray(zero_below([1.0, 2.0, 3.0], 2.5)), np.array([0.0, 0.0, 3.0]),
                 "zero_below([1, 2, 3], 2.5)")
    expect.close(x, np.array([[-1.0, 0.5], [2.0, -3.0]]), "x after zero_below(x, 0.0)")


# %% [markdown] lang="en"
# ## 5. Linear regression with GradientTape
# The homework: `y = X·[1, 2] + 3 + noise`, weights `w` (2 × 1) and `b` as `tf.Variable`s, the
# mean squared error as the loss, and a plain loop: compute the prediction and the loss inside
# a `tf.GradientTape`, ask the tape for the gradients, and move each variable with
# `assign_sub(lr * gradient)`.

# %% [markdown] lang="es"
# ## 5. Regresión lineal con GradientTape
# La tarea: `y = X·[1, 2] + 3 + ruido`, pesos `w` (2 × 1) y `b` como `tf.Variable`, el error
# cuadrático medio como pérdida, y un bucle simple: calcular la predicción y la pérdida dentro
# de una `tf.GradientTape`, pedirle a la cinta los gradientes, y mover cada variable con
# `assign_sub(lr * gradiente)`.

# %% exercise="train_linear"
def train_linear(X, y, w0, steps: int, lr: float):
    """[en] Fit `pred = X @ w + b` by gradient descent on the mean squared error. `X` is an
    (N, D) float32 array, `y` (N, 1), `w0` the starting weights (D, 1); `b` starts at 0.0.
    Keep `w` and `b` in `tf.Variable`s; at each of the `steps` steps compute the loss under a
    `tf.GradientTape`, take `tape.gradient(loss, [w, b])`, and update with
    `assign_sub(lr * grad)`. Return `(w, b, losses)`: the final `w` (D, 1), `b`, and the list
    of the `steps` losses as Python floats (each measured before its update).

    [es] Ajusta `pred = X @ w + b` por descenso de gradiente sobre el error cuadrático medio.
    `X` es un array float32 (N, D), `y` (N, 1), `w0` los pesos iniciales (D, 1); `b` empieza
    en 0.0. Guarda `w` y `b` en `tf.Variable`; en cada uno de los `steps` pasos calcula la
    pérdida dentro de una `tf.GradientTape`, toma `tape.gradient(loss, [w, b])` y actualiza
    con `assign_sub(lr * grad)`. Devuelve `(w, b, losses)`: el `w` final (D, 1), `b`, y la
    lista de las `steps` pérdidas como floats de Python (cada una medida antes de su
    actualización).
    """
    X, y = tf.constant(X, tf.float32), tf.constant(y, tf.float32)
    w, b = tf.Variable(tf.constant(w0, tf.float32)), tf.Variable(0.0)
    losses = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((tf.matmul(X, w) + b - y) ** 2)
        dw, db = tape.gradient(loss, [w, b])
        w.assign_sub(lr * dw)
        b.assign_sub(lr * db)
        losses.append(float(loss))
    return w, b, losses


# %% check
import numpy as np

from dlab.exercises import expect


def _descend(X, y, w, steps, lr):
    """The same gradient descent in float64 NumPy: the gradients of the MSE written out."""
    X, y, w, b, losses = X.astype("float64"), y.astype("float64"), w.astype("float64"), 0.0, []
    for _ in range(steps):
        residual = X @ w + b - y
        losses.append(float(np.mean(residual ** 2)))
        w, b = w - lr * 2 * X.T @ residual / len(y), b - lr * 2 * float(residual.mean())
    return w, b, losses


@ctx.check("train_linear")
def returns_weights_bias_and_one_loss_per_step():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "float32")
    result = train_linear(X, np.array([[1.0], [2.0], [3.0]], "float32"),
                          np.zeros((2, 1), "float32"), 3, 0.1)
    expect.type(result, tuple, "train_linear(...)")
    expect.equal(len(result), 3, "len(train_linear(...))")
    w, b, losses = result
    expect.shape(np.asarray(w), (2, 1), "w of train_linear for X of shape (3, 2)")
    expect.equal(len(losses), 3, "len(losses) of train_linear(..., steps=3, ...)")
    expect.close(float(losses[0]), 14 / 3, "losses[0] for w0 = 0, b = 0 on y = [1, 2, 3]",
                 atol=1e-5)


@ctx.check("train_linear")
def follows_gradient_descent_step_by_step():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 3)).astype("float32")
    y = (X @ np.array([[0.5], [-1.0], [2.0]]) - 1.0).astype("float32")
    w0 = rng.normal(size=(3, 1)).astype("float32")
    w, b, losses = train_linear(X, y, w0, 25, 0.05)
    w_ref, b_ref, losses_ref = _descend(X, y, w0, 25, 0.05)
    expect.close(np.asarray(losses, dtype="float64"), np.array(losses_ref),
                 "the 25 losses of train_linear against gradient descent", atol=1e-4, rtol=1e-4)
    expect.close(np.asarray(w, dtype="float64"), w_ref, "w after 25 steps", atol=1e-4)
    expect.close(float(np.asarray(b)), b_ref, "b after 25 steps", atol=1e-4)


# %%
rng = np.random.default_rng(ctx.seed)
true_w, true_b = np.array([[1.0], [2.0]], "float32"), 3.0
X = rng.normal(size=(cfg.n, 2)).astype("float32")
y = (X @ true_w + true_b + cfg.noise * rng.normal(size=(cfg.n, 1))).astype("float32")
w0 = rng.normal(size=(2, 1)).astype("float32")
w_tf, b_tf, losses_tf = train_linear(X, y, w0, cfg.steps, cfg.lr)
w_tf, b_tf = np.asarray(w_tf).ravel(), float(np.asarray(b_tf))
w_max_abs_error = float(np.abs(w_tf - true_w.ravel()).max())
b_abs_error = abs(b_tf - true_b)

# %% [markdown] lang="en"
# ## 6. The same in PyTorch
# A `tf.Variable` corresponds to a tensor with `requires_grad=True`, the tape to autograd's
# record, `tape.gradient` to `.backward()` and `assign_sub` to an in-place update under
# `torch.no_grad()`. Same data, same start, same steps.

# %% [markdown] lang="es"
# ## 6. Lo mismo en PyTorch
# Una `tf.Variable` corresponde a un tensor con `requires_grad=True`, la cinta al registro del
# autograd, `tape.gradient` a `.backward()` y `assign_sub` a una actualización en su sitio
# dentro de `torch.no_grad()`. Mismos datos, mismo inicio, mismos pasos.

# %%
Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
w_t = torch.tensor(w0, requires_grad=True)
b_t = torch.tensor(0.0, requires_grad=True)
losses_torch = []
for _ in range(cfg.steps):
    loss = ((Xt @ w_t + b_t - yt) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        w_t -= cfg.lr * w_t.grad
        b_t -= cfg.lr * b_t.grad
    w_t.grad = b_t.grad = None
    losses_torch.append(loss.item())
tf_vs_torch_max_diff = float(max(np.abs(w_t.detach().numpy().ravel() - w_tf).max(),
                                 abs(b_t.item() - b_tf)))

fig, (curve, path) = plt.subplots(1, 2, figsize=(11, 4))
curve.plot(losses_tf, label="TensorFlow (GradientTape)")
curve.plot(losses_torch, "--", label="PyTorch (autograd)")
curve.set(yscale="log", xlabel=ctx.t("step", "paso"), ylabel="MSE")
curve.legend()
path.bar(["w₁", "w₂", "b"], [w_tf[0], w_tf[1], b_tf], label=ctx.t("learned", "aprendido"))
path.scatter(["w₁", "w₂", "b"], [1.0, 2.0, 3.0], color="black", zorder=3,
             label=ctx.t("true", "verdadero"))
path.legend()
ctx.figure("linear_regression", fig)
ctx.table(["", "w₁", "w₂", "b", ctx.t("final MSE", "MSE final")],
          [[ctx.t("true", "verdadero"), 1.0, 2.0, 3.0, ""],
           ["TensorFlow", w_tf[0], w_tf[1], b_tf, losses_tf[-1]],
           ["PyTorch", *w_t.detach().numpy().ravel(), b_t.item(), losses_torch[-1]]])

# %%
ctx.finish({
    "w": w_tf.tolist(),
    "b": b_tf,
    "w_max_abs_error": w_max_abs_error,
    "b_abs_error": b_abs_error,
    "final_loss": losses_tf[-1],
    "tf_vs_torch_max_diff": tf_vs_torch_max_diff,
    "broadcast_shape_ok": broadcast_shape_ok,
})
