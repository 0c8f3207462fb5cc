# %% [markdown] lang="en"
# JAX is NumPy with function transformations: `grad` turns a function into its gradient,
# `jit` compiles it with XLA, `vmap` vectorizes it over a batch, and randomness is explicit,
# through keys. Flax NNX builds networks on top of it, in a style close to PyTorch, and Optax
# supplies the optimizers. This lab checks `grad` against torch's autograd, measures what `jit`
# buys, and trains an NNX MLP on Fashion-MNIST next to the same network in PyTorch.

# %% [markdown] lang="es"
# JAX es NumPy con transformaciones de funciones: `grad` convierte una función en su
# gradiente, `jit` la compila con XLA, `vmap` la vectoriza sobre un lote, y el azar es
# explícito, a través de claves. Flax NNX construye redes encima, con un estilo cercano a
# PyTorch, y Optax aporta los optimizadores. Este laboratorio compara `grad` con el autograd de
# torch, mide lo que aporta `jit` y entrena un MLP NNX en Fashion-MNIST junto a la misma red en
# PyTorch.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    hidden: int = 256
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3
    train_subset: int = 0  # 0 = all 50k training images (quick mode uses fewer)

    def check(self):
        positive(hidden=self.hidden, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr)


LAB = Lab(
    id="jax-flax",
    title_en="JAX and Flax NNX: grad, jit, vmap, keys, an MLP on Fashion-MNIST",
    title_es="JAX y Flax NNX: grad, jit, vmap, claves, un MLP en Fashion-MNIST",
    source="Part 2 · class 173 (homework)",
    block="part2-frameworks",
    dataset="fashion_mnist (50k train / 10k val / 10k test)",
    criteria=(
        Criterion("test_accuracy", ">=", 0.87, "Flax NNX MLP test accuracy ≥ 0.87",
                  "Exactitud en test del MLP de Flax NNX ≥ 0.87"),
        Criterion("jit_first_over_second_call", ">=", 10.0,
                  "jit is active: the first call (tracing + XLA compilation) of the training "
                  "step takes ≥ 10× the second",
                  "jit está activo: la primera llamada (trazado + compilación XLA) del paso de "
                  "entrenamiento tarda ≥ 10× la segunda"),
        Criterion("jit_speedup", ">=", 5.0,
                  "A small numeric function runs ≥ 5× faster under jit than eagerly",
                  "Una pequeña función numérica corre ≥ 5× más rápido con jit que sin él"),
        Criterion("grad_max_diff_vs_torch", "<=", 1e-5,
                  "jax.grad agrees with torch.autograd on the same function (≤ 1e-5)",
                  "jax.grad coincide con torch.autograd en la misma función (≤ 1e-5)"),
        Criterion("vmap_matches_loop", "is", True,
                  "vmap over examples gives what a Python loop gives (to float32 rounding)",
                  "vmap sobre los ejemplos da lo mismo que un bucle de Python (salvo el "
                  "redondeo de float32)"),
    ),
    config=Config,
    quick={"epochs": 1, "train_subset": 5000},
    timed=("jit_first_over_second_call", "jit_speedup", "first_call_seconds",
           "second_call_seconds", "eager_seconds", "jit_seconds", "jax_seconds_per_epoch",
           "torch_seconds_per_epoch", "jax_over_torch_time"),
    requires={"jax": "jax", "flax": "jax", "optax": "jax"},
)

# %% [markdown] lang="en"
# ## 1. jax.numpy
# `jax.numpy` follows NumPy's API, but its arrays are immutable: `x[0] = 10` is an error, and
# `x.at[0].set(10)` returns a new array. Pure functions of immutable arrays are what lets JAX
# transform them safely.

# %% [markdown] lang="es"
# ## 1. jax.numpy
# `jax.numpy` sigue la API de NumPy, pero sus arrays son inmutables: `x[0] = 10` es un error, y
# `x.at[0].set(10)` devuelve un array nuevo. Las funciones puras sobre arrays inmutables son lo
# que permite a JAX transformarlas con seguridad.

# %%
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
import torch
from flax import nnx

from dlab.data import load

x = jnp.array([1.0, 2.0, 3.0])
try:
    x[0] = 10.0
    assignment = "allowed"
except TypeError as exc:
    assignment = f"TypeError: {str(exc).splitlines()[0][:60]}…"
ctx.table(["", "NumPy", "jax.numpy"],
          [["sum(x**2)", float(np.sum(np.array([1.0, 2.0, 3.0]) ** 2)), float(jnp.sum(x ** 2))],
           ["x[0] = 10", "allowed", assignment],
           ["x.at[0].set(10)", "—", str(x.at[0].set(10.0).tolist())]])

# %% [markdown] lang="en"
# ## 2. grad
# `jax.grad(f)` is a function that returns the gradient of `f` with respect to its first
# argument (`argnums` picks others); `jax.value_and_grad` returns the value too. For
# f(x) = x³, f'(2) = 12. Below, the mean squared error of a linear model, differentiated by JAX
# and by torch's autograd on the same numbers.

# %% [markdown] lang="es"
# ## 2. grad
# `jax.grad(f)` es una función que devuelve el gradiente de `f` respecto a su primer argumento
# (`argnums` elige otros); `jax.value_and_grad` devuelve también el valor. Para f(x) = x³,
# f'(2) = 12. Abajo, el error cuadrático medio de un modelo lineal, derivado por JAX y por el
# autograd de torch sobre los mismos números.

# %% exercise="mse_value_and_grad"
def mse_value_and_grad(w, b, X, y):
    """[en] For a linear model `pred = X @ w + b` (`X` of shape (N, D), `w` (D,), `b` a
    scalar, `y` (N,)), return `(loss, dw, db)`: the mean squared error
    `mean((pred - y) ** 2)` and its gradients with respect to `w` and `b`, computed with
    `jax.value_and_grad` (with `argnums=(0, 1)`) on a function written with `jax.numpy`.

    [es] Para un modelo lineal `pred = X @ w + b` (`X` de forma (N, D), `w` (D,), `b` un
    escalar, `y` (N,)), devuelve `(loss, dw, db)`: el error cuadrático medio
    `mean((pred - y) ** 2)` y sus gradientes respecto a `w` y `b`, calculados con
    `jax.value_and_grad` (con `argnums=(0, 1)`) sobre una función escrita con `jax.numpy`.
    """
    def mse(w, b):
        return jnp.mean((X @ w + b - y) ** 2)

    loss, (dw, db) = jax.value_and_grad(mse, argnums=(0, 1))(jnp.asarray(w), jnp.asarray(b))
    return loss, dw, db


# %% check
import numpy as np
import torch

from dlab.exercises import expect


def _torch_mse_grads(w, b, X, y):
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    loss = ((torch.tensor(X, dtype=torch.float64) @ tw + tb
             - torch.tensor(y, dtype=torch.float64)) ** 2).mean()
    loss.backward()
    return loss.item(), tw.grad.numpy(), float(tb.grad)


@ctx.check("mse_value_and_grad")
def returns_the_loss_and_both_gradients():
    X = np.array([[1.0, 2.0], [3.0, -1.0]], "float32")
    w, b, y = np.array([0.5, -0.5], "float32"), np.float32(0.1), np.array([1.0, 0.0], "float32")
    result = mse_value_and_grad(w, b, X, y)
    expect.type(result, tuple, "mse_value_and_grad(w, b, X, y)")
    expect.equal(len(result), 3, "len(mse_value_and_grad(w, b, X, y))")
    loss, dw, db = result
    expect.close(float(np.asarray(loss)), 3.185, "loss of mse_value_and_grad(w, b, X, y) for "
                 "X = [[1, 2], [3, -1]], w = [0.5, -0.5], b = 0.1, y = [1, 0]", atol=1e-5)
    expect.shape(np.asarray(dw), (2,), "dw of mse_value_and_grad")


@ctx.check("mse_value_and_grad")
def agrees_with_torch_autograd():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 5)).astype("float32")
    w, y = rng.normal(size=5).astype("float32"), rng.normal(size=32).astype("float32")
    b = np.float32(0.3)
    loss, dw, db = mse_value_and_grad(w, b, X, y)
    t_loss, t_dw, t_db = _torch_mse_grads(w, b, X, y)
    expect.close(float(np.asarray(loss)), t_loss, "loss against torch", atol=1e-5)
    expect.close(np.asarray(dw, dtype="float64"), t_dw, "dw against torch.autograd", atol=1e-5)
    expect.close(float(np.asarray(db)), t_db, "db against torch.autograd", atol=1e-5)


# %%
rng = np.random.default_rng(ctx.seed)
X_lin = rng.normal(size=(256, 8)).astype("float32")
w_lin, y_lin = rng.normal(size=8).astype("float32"), rng.normal(size=256).astype("float32")
loss, dw, db = mse_value_and_grad(w_lin, np.float32(0.5), X_lin, y_lin)
w_t = torch.tensor(w_lin, requires_grad=True)
b_t = torch.tensor(0.5, requires_grad=True)
loss_t = ((torch.from_numpy(X_lin) @ w_t + b_t - torch.from_numpy(y_lin)) ** 2).mean()
loss_t.backward()
grad_max_diff_vs_torch = float(max(np.abs(np.asarray(dw) - w_t.grad.numpy()).max(),
                                   abs(float(np.asarray(db)) - float(b_t.grad))))
cube_slope = float(jax.grad(lambda v: v ** 3)(2.0))
ctx.table(["", "JAX", "torch"],
          [["d(x³)/dx at 2", cube_slope, 12.0],
           ["MSE", float(np.asarray(loss)), loss_t.item()],
           [ctx.t("max |dw, db difference|", "máx |diferencia dw, db|"), grad_max_diff_vs_torch,
            ""]])

# %% [markdown] lang="en"
# ## 3. jit
# Called eagerly, every `jax.numpy` operation is dispatched on its own. `jax.jit` traces the
# function once into a graph and compiles it with XLA, which fuses the operations; the first
# call pays for tracing and compiling, the next ones reuse the compiled code. A stack of 20
# small matrix products with `tanh`, timed both ways (best of 5 rounds of 200 calls).

# %% [markdown] lang="es"
# ## 3. jit
# En modo inmediato (eager), cada operación de `jax.numpy` se despacha por separado. `jax.jit`
# traza la función una vez como grafo y la compila con XLA, que fusiona las operaciones; la
# primera llamada paga el trazado y la compilación, las siguientes reutilizan el código
# compilado. Una pila de 20 productos de matrices pequeñas con `tanh`, medida de las dos
# maneras (la mejor de 5 rondas de 200 llamadas).

# %%
def tanh_stack(v, weights):
    for _ in range(20):
        v = jnp.tanh(v @ weights) * 0.9 + 0.1
    return v


def best_seconds_per_call(fn, *args, calls: int = 200, rounds: int = 5) -> float:
    fn(*args).block_until_ready()  # warm: compile, allocate
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            out = fn(*args)
        out.block_until_ready()  # JAX is asynchronous: wait for the result
        best = min(best, (time.perf_counter() - started) / calls)
    return best


v0, weights = jnp.ones((32, 32)), jnp.eye(32) * 0.5
eager_seconds = best_seconds_per_call(tanh_stack, v0, weights)
jit_seconds = best_seconds_per_call(jax.jit(tanh_stack), v0, weights)
jit_speedup = eager_seconds / jit_seconds
ctx.table(["tanh_stack", ctx.t("µs per call", "µs por llamada")],
          [["eager", eager_seconds * 1e6], ["jax.jit", jit_seconds * 1e6],
           [ctx.t("speedup", "aceleración"), jit_speedup]])

# %% [markdown] lang="en"
# ## 4. vmap
# A function written for one example becomes a function of a batch with `jax.vmap`, with no
# loop and no batch dimension in its code. Per-example losses of the linear model, by `vmap`
# and by a Python loop.

# %% [markdown] lang="es"
# ## 4. vmap
# Una función escrita para un ejemplo se vuelve una función de un lote con `jax.vmap`, sin
# bucle y sin dimensión de lote en su código. Pérdidas por ejemplo del modelo lineal, con
# `vmap` y con un bucle de Python.

# %%
def example_loss(x_i, y_i):
    return (x_i @ w_lin + 0.5 - y_i) ** 2


by_vmap = jax.vmap(example_loss)(X_lin, y_lin)
by_loop = jnp.stack([example_loss(X_lin[i], y_lin[i]) for i in range(len(y_lin))])
vmap_max_diff = float(jnp.abs(by_vmap - by_loop).max())
# The same sums, reduced in another order: equal up to float32 rounding.
vmap_matches_loop = bool(jnp.allclose(by_vmap, by_loop, rtol=1e-5, atol=1e-6))
ctx.table([ctx.t("per-example losses", "pérdidas por ejemplo"), ctx.t("shape", "forma"),
           ctx.t("max |vmap − loop|", "máx |vmap − bucle|")],
          [["jax.vmap(example_loss)", str(by_vmap.shape), vmap_max_diff]])

# %% [markdown] lang="en"
# ## 5. Keys, not a global seed
# JAX has no hidden random state: every random function takes a key, and the same key always
# gives the same numbers. Reusing a key is the classic mistake (the "random" dropout masks of
# every layer come out identical); `jax.random.split` makes fresh, independent keys.

# %% [markdown] lang="es"
# ## 5. Claves, no una semilla global
# JAX no tiene estado aleatorio oculto: cada función aleatoria recibe una clave, y la misma
# clave da siempre los mismos números. Reutilizar una clave es el error clásico (las máscaras
# de dropout "aleatorias" de todas las capas salen idénticas); `jax.random.split` crea claves
# nuevas e independientes.

# %% exercise="dropout_masks"
def dropout_masks(seed: int, n: int, shape: tuple, rate: float):
    """[en] Return `n` dropout masks as one boolean array of shape `(n, *shape)`, True where a
    unit is kept: split `jax.random.PRNGKey(seed)` into `n` keys with `jax.random.split`,
    and draw mask `i` with `jax.random.bernoulli(keys[i], 1 - rate, shape)`.

    [es] Devuelve `n` máscaras de dropout como un único array booleano de forma
    `(n, *shape)`, True donde la neurona se conserva: divide `jax.random.PRNGKey(seed)` en
    `n` claves con `jax.random.split`, y genera la máscara `i` con
    `jax.random.bernoulli(keys[i], 1 - rate, shape)`.
    """
    keys = jax.random.split(jax.random.PRNGKey(seed), n)
    return jnp.stack([jax.random.bernoulli(key, 1 - rate, shape) for key in keys])


# %% check
import jax
import numpy as np

from dlab.exercises import expect


@ctx.check("dropout_masks")
def one_fresh_key_per_mask():
    masks = np.asarray(dropout_masks(0, 4, (3, 50), 0.5))
    expect.shape(masks, (4, 3, 50), "dropout_masks(0, 4, (3, 50), 0.5)")
    expect.equal(masks.dtype.name, "bool", "dtype of dropout_masks(0, 4, (3, 50), 0.5)")
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    expected = np.stack([np.asarray(jax.random.bernoulli(k, 0.5, (3, 50))) for k in keys])
    expect.true(len({m.tobytes() for m in masks}) == 4,
                "The 4 masks of dropout_masks(0, 4, (3, 50), 0.5) must all differ: each one "
                "needs its own key from jax.random.split.",
                "Las 4 máscaras de dropout_masks(0, 4, (3, 50), 0.5) deben ser todas "
                "distintas: cada una necesita su propia clave de jax.random.split.")
    expect.equal(masks.tolist(), expected.tolist(), "dropout_masks(0, 4, (3, 50), 0.5)")


@ctx.check("dropout_masks")
def is_reproducible_and_keeps_one_minus_rate():
    first = np.asarray(dropout_masks(7, 2, (1000,), 0.2))
    again = np.asarray(dropout_masks(7, 2, (1000,), 0.2))
    expect.equal(first.tolist(), again.tolist(), "dropout_masks(7, ...) called twice")
    expect.between(float(first.mean()), 0.75, 0.85,
                   "share of kept units in dropout_masks(7, 2, (1000,), 0.2)")


# %%
split_masks = np.asarray(dropout_masks(ctx.seed, 3, (8,), 0.5))
reused = np.stack([np.asarray(jax.random.bernoulli(jax.random.PRNGKey(ctx.seed), 0.5, (8,)))
                   for _ in range(3)])
ctx.table([ctx.t("mask", "máscara"), ctx.t("one key reused", "una clave reutilizada"),
           ctx.t("split keys", "claves divididas")],
          [[i, "".join("1" if k else "0" for k in r), "".join("1" if k else "0" for k in s)]
           for i, (r, s) in enumerate(zip(reused, split_masks))])

# %% [markdown] lang="en"
# ## 6. An MLP in Flax NNX, trained with Optax
# An `nnx.Module` holds its layers as attributes, like a PyTorch module; `nnx.Rngs` hands out
# the keys that initialize them. The training step computes the loss and its gradients with
# `nnx.value_and_grad`, lets the Optax optimizer update the weights in place, and is compiled
# once with `nnx.jit`. The same network is trained in PyTorch by the dlab Trainer on the same
# images, for the same epochs, with the same batch size and learning rate.

# %% [markdown] lang="es"
# ## 6. Un MLP en Flax NNX, entrenado con Optax
# Un `nnx.Module` guarda sus capas como atributos, como un módulo de PyTorch; `nnx.Rngs`
# reparte las claves que las inicializan. El paso de entrenamiento calcula la pérdida y sus
# gradientes con `nnx.value_and_grad`, deja que el optimizador de Optax actualice los pesos en
# su sitio, y se compila una vez con `nnx.jit`. La misma red se entrena en PyTorch con el
# Trainer de dlab sobre las mismas imágenes, las mismas épocas, el mismo tamaño de lote y la
# misma tasa de aprendizaje.

# %%
class MLP(nnx.Module):
    def __init__(self, n_in: int, hidden: int, n_out: int, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(n_in, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, n_out, rngs=rngs)

    def __call__(self, x):
        return self.out(jax.nn.relu(self.hidden(x)))


@nnx.jit
def train_step(model, optimizer, xb, yb):
    def loss_fn(model):
        logits = model(xb)
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def predict(model, x):
    return model(x)


def accuracy(model, X, y) -> float:
    return float((jnp.argmax(predict(model, X), axis=1) == y).mean())


data = load("fashion_mnist", seed=ctx.seed)
X_train, y_train = (t.numpy() for t in data.train)
if cfg.train_subset:
    X_train, y_train = X_train[:cfg.train_subset], y_train[:cfg.train_subset]
X_val, y_val = (t.numpy() for t in data.val)
model = MLP(784, cfg.hidden, 10, rngs=nnx.Rngs(ctx.seed))
optimizer = nnx.Optimizer(model, optax.adam(cfg.lr), wrt=nnx.Param)
order_rng = np.random.default_rng(ctx.seed)
history, call_seconds = [], []
for epoch in range(1, cfg.epochs + 1):
    started = time.perf_counter()
    order = order_rng.permutation(len(y_train))
    for first in range(0, len(order) - cfg.batch_size + 1, cfg.batch_size):
        batch = order[first:first + cfg.batch_size]
        tick = time.perf_counter()
        loss = train_step(model, optimizer, X_train[batch], y_train[batch])
        if len(call_seconds) < 2:  # time the first (compiling) and the second call
            loss.block_until_ready()
            call_seconds.append(time.perf_counter() - tick)
    loss.block_until_ready()
    seconds = time.perf_counter() - started
    history.append({"epoch": epoch, "loss": float(loss), "val_accuracy":
                    accuracy(model, X_val, y_val), "seconds": seconds})
    ctx.console.print(f"flax epoch {epoch}/{cfg.epochs}  loss {history[-1]['loss']:.4f}  "
                      f"val_accuracy {history[-1]['val_accuracy']:.4f}  ({seconds:.1f}s)",
                      highlight=False)
first_call_seconds, second_call_seconds = call_seconds
jit_first_over_second_call = first_call_seconds / second_call_seconds
jax_seconds_per_epoch = float(np.median([h["seconds"] for h in history[1:] or history]))

# %%
from torch import nn

from dlab.engine import Trainer, metrics

torch.manual_seed(ctx.seed)
torch_model = nn.Sequential(nn.Linear(784, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 10))
trainer = Trainer(torch_model, torch.optim.Adam(torch_model.parameters(), lr=cfg.lr),
                  metrics=["accuracy"], **ctx.trainer_options(precision="fp32"))
started = time.perf_counter()
torch_history = trainer.fit((torch.from_numpy(X_train), torch.from_numpy(y_train)), data.val,
                            epochs=cfg.epochs, batch_size=cfg.batch_size, seed=ctx.seed)
torch_seconds_per_epoch = (time.perf_counter() - started) / cfg.epochs

# %% [markdown] lang="en"
# Validation accuracy per epoch for both, and the cost of `jit` on the training step: the
# first call traces and compiles, the second only runs.

# %% [markdown] lang="es"
# Exactitud de validación por época de las dos, y el costo de `jit` en el paso de
# entrenamiento: la primera llamada traza y compila, la segunda solo ejecuta.

# %%
fig, (curves, calls) = plt.subplots(1, 2, figsize=(11, 4))
curves.plot([h["epoch"] for h in history], [h["val_accuracy"] for h in history], marker="o",
            label="Flax NNX")
curves.plot(range(1, len(torch_history) + 1), torch_history["val_accuracy"], marker="s",
            label="PyTorch (dlab Trainer)")
curves.set(xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("val accuracy", "exactitud val"))
curves.legend()
calls.bar([ctx.t("1st call", "1.ª llamada"), ctx.t("2nd call", "2.ª llamada")],
          [first_call_seconds * 1e3, second_call_seconds * 1e3])
calls.set(yscale="log", ylabel="ms", title="train_step (nnx.jit)")
ctx.figure("flax_training", fig)

X_test, y_test = (t.numpy() for t in data.test)
test_accuracy = accuracy(model, X_test, y_test)
torch_test_accuracy = metrics.accuracy(trainer.predict(data.test[0]), data.test[1])
ctx.table(["", "Flax NNX + Optax", "PyTorch (dlab Trainer)"],
          [[ctx.t("test accuracy", "exactitud test"), test_accuracy, torch_test_accuracy],
           [ctx.t("seconds per epoch", "segundos por época"), jax_seconds_per_epoch,
            torch_seconds_per_epoch],
           [ctx.t("train_step 1st / 2nd call (ms)", "train_step 1.ª / 2.ª llamada (ms)"),
            f"{first_call_seconds * 1e3:.1f} / {second_call_seconds * 1e3:.2f}", "—"]])

# %%
ctx.finish({
    "test_accuracy": test_accuracy,
    "torch_test_accuracy": torch_test_accuracy,
    "val_accuracy": history[-1]["val_accuracy"],
    "grad_max_diff_vs_torch": grad_max_diff_vs_torch,
    "cube_slope_at_2": cube_slope,
    "vmap_max_diff": vmap_max_diff,
    "vmap_matches_loop": vmap_matches_loop,
    "eager_seconds": eager_seconds,
    "jit_seconds": jit_seconds,
    "jit_speedup": jit_speedup,
    "first_call_seconds": first_call_seconds,
    "second_call_seconds": second_call_seconds,
    "jit_first_over_second_call": jit_first_over_second_call,
    "jax_seconds_per_epoch": jax_seconds_per_epoch,
    "torch_seconds_per_epoch": torch_seconds_per_epoch,
    "jax_over_torch_time": jax_seconds_per_epoch / torch_seconds_per_epoch,
})
