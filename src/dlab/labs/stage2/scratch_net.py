# %% [markdown] lang="en"
# Two layers written as X @ W1 + b1 → ReLU → @ W2 + b2, trained with cross-entropy,
# .backward() and a hand-written SGD step. Then three learning rates: one too small (slow),
# one good, one too large (the loss explodes to NaN and the training doctor says why).

# %% [markdown] lang="es"
# Dos capas escritas como X @ W1 + b1 → ReLU → @ W2 + b2, entrenadas con entropía cruzada,
# .backward() y un paso de SGD escrito a mano. Luego tres tasas de aprendizaje: una demasiado
# pequeña (lenta), una buena y una demasiado grande (la pérdida explota a NaN y el doctor de
# entrenamiento explica por qué).

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n_samples: int = 1000
    noise: float = 0.2
    hidden: int = 16
    epochs: int = 50
    batch_size: int = 32
    lr: float = 0.3  # good
    lr_small: float = 0.01
    lr_large: float = 100.0

    def check(self):
        positive(n_samples=self.n_samples, hidden=self.hidden, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, lr_small=self.lr_small,
                 lr_large=self.lr_large)


LAB = Lab(
    id="scratch-net",
    title_en="A neural network from scratch (no nn.Module)",
    title_es="Una red neuronal desde cero (sin nn.Module)",
    source="Stage 2 · session 3",
    block="stage2",
    dataset="moons (sklearn make_moons, noise=0.2, random_state=42)",
    criteria=(
        Criterion("test_accuracy", ">=", 0.95,
                  "Scratch network, good learning rate: test accuracy ≥ 0.95",
                  "Red desde cero, tasa de aprendizaje buena: exactitud en test ≥ 0.95"),
        Criterion("small_lr_loss_ratio", ">=", 2.0,
                  "Too-small learning rate: training loss ≥ 2× the good one's after the same "
                  "epochs",
                  "Tasa demasiado pequeña: pérdida de entrenamiento ≥ 2× la de la buena tras las "
                  "mismas épocas"),
        Criterion("large_lr_diverged", "is", True,
                  "Too-large learning rate: the loss becomes NaN or infinite",
                  "Tasa demasiado grande: la pérdida se vuelve NaN o infinita"),
        Criterion("doctor_caught_divergence", "is", True,
                  "The training doctor stops the too-large run with an explanation",
                  "El doctor de entrenamiento detiene la ejecución con la tasa demasiado grande "
                  "y explica por qué"),
    ),
    config=Config,
    quick={"n_samples": 300, "epochs": 3},
)

# %% [markdown] lang="en"
# ## 1. The network is four tensors
# No `nn.Module`, no `nn.Linear`: the whole model is two weight matrices and two bias vectors,
# leaf tensors with `requires_grad=True`, drawn from U(-1/√fan_in, 1/√fan_in) like
# `nn.Linear` does. The data are the two moons, split into training, validation and test.

# %% [markdown] lang="es"
# ## 1. La red son cuatro tensores
# Sin `nn.Module` ni `nn.Linear`: el modelo completo son dos matrices de pesos y dos vectores
# de sesgos, tensores hoja con `requires_grad=True`, sorteados de U(-1/√fan_in, 1/√fan_in)
# como hace `nn.Linear`. Los datos son las dos lunas, divididas en entrenamiento, validación y
# test.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from dlab.data import Batches, load
from dlab.engine import Trainer
from dlab.errors import TrainingError
from dlab.models import scratch_mlp
from dlab.models.two_layer import TwoLayerNet
from dlab.viz import decision_boundary

data = load("moons", n_samples=cfg.n_samples, noise=cfg.noise, seed=ctx.seed)
(X_train, y_train), (X_val, y_val), (X_test, y_test) = data.train, data.val, data.test

params = scratch_mlp.init_params(2, cfg.hidden, 2, seed=ctx.seed)
ctx.table([ctx.t("tensor", "tensor"), ctx.t("shape", "forma"), ctx.t("role", "papel")],
          [["W1", str(tuple(params["W1"].shape)), ctx.t("input → hidden weights",
                                                       "pesos entrada → oculta")],
           ["b1", str(tuple(params["b1"].shape)), ctx.t("one bias per hidden unit",
                                                       "un sesgo por unidad oculta")],
           ["W2", str(tuple(params["W2"].shape)), ctx.t("hidden → output weights",
                                                       "pesos oculta → salida")],
           ["b2", str(tuple(params["b2"].shape)), ctx.t("one bias per class",
                                                       "un sesgo por clase")]])

# %% [markdown] lang="en"
# The forward pass is matrix algebra. A mini-batch X of N points with 2 features becomes
# X @ W1 + b1, of shape (N, hidden): b1 is added to every row (broadcasting). ReLU keeps the
# shape, and @ W2 + b2 gives (N, 2) logits, one score per class. No softmax at the end: the
# cross-entropy applies log-softmax itself, more stably.

# %% [markdown] lang="es"
# El forward es álgebra lineal. Un mini-lote X de N puntos con 2 variables pasa a
# X @ W1 + b1, de forma (N, hidden): b1 se suma a cada fila (broadcasting). La ReLU conserva
# la forma y @ W2 + b2 da logits de forma (N, 2), un puntaje por clase. Sin softmax al final:
# la entropía cruzada aplica log-softmax por su cuenta, de forma más estable.

# %% exercise="two_layer_forward"
def two_layer_forward(params: dict, X: torch.Tensor) -> torch.Tensor:
    """[en] Return the logits relu(X @ W1 + b1) @ W2 + b2 for a batch `X` of shape (N, d).
    `params` holds the tensors W1 (d, h), b1 (h,), W2 (h, c) and b2 (c,); the result has
    shape (N, c). Use only tensor operations (`@`, `+`, `torch.relu`): no `nn.Linear`, no
    `nn.Module`, and no softmax at the end.

    [es] Devuelve los logits relu(X @ W1 + b1) @ W2 + b2 para un lote `X` de forma (N, d).
    `params` tiene los tensores W1 (d, h), b1 (h,), W2 (h, c) y b2 (c,); el resultado tiene
    forma (N, c). Usa solo operaciones de tensores (`@`, `+`, `torch.relu`): nada de
    `nn.Linear` ni `nn.Module`, y sin softmax al final.
    """
    H = torch.relu(X @ params["W1"] + params["b1"])  # b1 (h,) broadcasts over the N rows
    return H @ params["W2"] + params["b2"]


# %% check
import torch
import torch.nn.functional as F

from dlab.exercises import expect


def _params(d=2, h=4, c=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return {"W1": torch.randn(d, h, generator=gen), "b1": torch.randn(h, generator=gen),
            "W2": torch.randn(h, c, generator=gen), "b2": torch.randn(c, generator=gen)}


@ctx.check("two_layer_forward")
def gives_one_logit_per_class_and_row():
    X = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    out = two_layer_forward(_params(2, 4, 3), X)
    expect.type(out, torch.Tensor, "two_layer_forward(params, X)")
    expect.shape(out, (5, 3), "two_layer_forward(params with W1 (2, 4), W2 (4, 3), X (5, 2))")


@ctx.check("two_layer_forward")
def matches_two_linear_layers_with_relu():
    p = _params(2, 4, 3)
    X = torch.randn(5, 2, generator=torch.Generator().manual_seed(1))
    # F.linear(x, A, c) = x @ A.T + c: the nn.Linear layout stores the weight transposed.
    expected = F.linear(F.relu(F.linear(X, p["W1"].T, p["b1"])), p["W2"].T, p["b2"])
    expect.close(two_layer_forward(p, X), expected, "two_layer_forward(params, X)", atol=1e-5)


@ctx.check("two_layer_forward")
def relu_silences_negative_hidden_units():
    p = _params(2, 4, 3)
    p["W1"] = torch.zeros(2, 4)
    p["b1"] = -torch.ones(4)  # every hidden pre-activation is -1: ReLU makes them all 0
    out = two_layer_forward(p, torch.randn(3, 2))
    expect.close(out, p["b2"].expand(3, 3),
                 "two_layer_forward with every hidden pre-activation at -1 (ReLU gives 0, so "
                 "the logits are just b2)")


# %%
xb, _ = next(iter(Batches(X_train, y_train, batch_size=cfg.batch_size, shuffle=False)))
with torch.no_grad():
    pre = xb @ params["W1"] + params["b1"]
    logits = two_layer_forward(params, xb)
ctx.table([ctx.t("step", "paso"), ctx.t("shape", "forma")],
          [[ctx.t("mini-batch X", "mini-lote X"), str(tuple(xb.shape))],
           ["X @ W1 + b1", str(tuple(pre.shape))],
           ["relu(...)", str(tuple(torch.relu(pre).shape))],
           [ctx.t("logits = relu(...) @ W2 + b2", "logits = relu(...) @ W2 + b2"),
            str(tuple(logits.shape))]])

# %% [markdown] lang="en"
# ## 2. One step of gradient descent, by hand
# The cross-entropy turns the logits into one number; `.backward()` fills W1.grad ... b2.grad.
# The update θ ← θ - lr·grad then runs inside `torch.no_grad()`, so it is not recorded as
# part of the model, and the gradients are cleared before the next backward, because backward
# adds to them.

# %% [markdown] lang="es"
# ## 2. Un paso de descenso de gradiente, a mano
# La entropía cruzada resume los logits en un número; `.backward()` llena W1.grad ... b2.grad.
# La actualización θ ← θ - lr·grad se hace luego dentro de `torch.no_grad()`, para que no
# quede registrada como parte del modelo, y los gradientes se borran antes del siguiente
# backward, porque backward los suma.

# %% exercise="sgd_step"
def sgd_step(params: dict, lr: float) -> None:
    """[en] One step of plain SGD on every tensor of `params` (whose `.grad` was just filled
    by `loss.backward()`): θ ← θ - lr·θ.grad, in place (`p -= lr * p.grad`), inside
    `torch.no_grad()`. Then clear each gradient (`p.grad = None`) so the next backward starts
    from zero. Do not create new tensors (the dict must keep the same tensor objects) and do
    not use torch.optim. Return nothing.

    [es] Un paso de SGD simple sobre cada tensor de `params` (cuyo `.grad` acaba de llenar
    `loss.backward()`): θ ← θ - lr·θ.grad, en el lugar (`p -= lr * p.grad`), dentro de
    `torch.no_grad()`. Luego borra cada gradiente (`p.grad = None`) para que el siguiente
    backward empiece de cero. No crees tensores nuevos (el dict debe conservar los mismos
    objetos tensor) ni uses torch.optim. No devuelvas nada.
    """
    with torch.no_grad():  # the update is bookkeeping, not part of the model: keep it off
        for p in params.values():
            p -= lr * p.grad
    for p in params.values():
        p.grad = None


# %% check
import torch

from dlab.exercises import expect


def _with_grads(seed=0):
    gen = torch.Generator().manual_seed(seed)
    params = {"W": torch.randn(3, 2, generator=gen).requires_grad_(),
              "b": torch.randn(2, generator=gen).requires_grad_()}
    X = torch.randn(4, 3, generator=gen)
    ((X @ params["W"] + params["b"]) ** 2).mean().backward()
    return params


@ctx.check("sgd_step")
def moves_each_parameter_against_its_gradient():
    params = _with_grads()
    expected = {name: p.detach() - 0.5 * p.grad for name, p in params.items()}
    sgd_step(params, 0.5)
    for name in params:
        expect.close(params[name], expected[name], f'params["{name}"] after sgd_step(params, '
                     "0.5), which should be p - 0.5 * p.grad")


@ctx.check("sgd_step")
def updates_in_place_and_keeps_trainable_leaves():
    params = _with_grads()
    before = dict(params)
    sgd_step(params, 0.5)
    for name, p in params.items():
        expect.true(p is before[name] and p.is_leaf and p.requires_grad,
                    f'sgd_step replaced params["{name}"] or made it a non-trainable tensor: '
                    "update the same tensor in place (p -= lr * p.grad) inside "
                    "torch.no_grad().",
                    f'sgd_step reemplazó params["{name}"] o lo volvió un tensor no entrenable: '
                    "actualiza el mismo tensor en el lugar (p -= lr * p.grad) dentro de "
                    "torch.no_grad().")


@ctx.check("sgd_step")
def clears_the_gradients():
    params = _with_grads()
    sgd_step(params, 0.5)
    for name, p in params.items():
        expect.true(p.grad is None or not p.grad.any(),
                    f'params["{name}"].grad still holds the old gradient after sgd_step: the '
                    "next backward() would add to it. Set p.grad = None.",
                    f'params["{name}"].grad conserva el gradiente viejo tras sgd_step: el '
                    "siguiente backward() le sumaría el nuevo. Pon p.grad = None.")


# %% [markdown] lang="en"
# ## 3. The training loop
# One epoch is one pass over the mini-batches: forward, loss, backward, update, for each batch.
# A loss that has become NaN or infinite will never come back (every later step is NaN too),
# so the loop stops at the first one. The epochs around it use `dlab.data.Batches`, which
# shuffles each epoch exactly as the dlab `Trainer` does: this matters in section 5.

# %% [markdown] lang="es"
# ## 3. El bucle de entrenamiento
# Una época es una pasada por los mini-lotes: forward, pérdida, backward y actualización, para
# cada lote. Una pérdida que se volvió NaN o infinita ya no vuelve (todos los pasos siguientes
# también dan NaN), así que el bucle se detiene en la primera. Las épocas alrededor usan
# `dlab.data.Batches`, que baraja cada época exactamente como el `Trainer` de dlab: esto
# importa en la sección 5.

# %% exercise="train_epoch"
def train_epoch(params: dict, batches, lr: float) -> list:
    """[en] Train `params` in place for one epoch and return the list of the losses of its
    steps (Python floats, `loss.item()`). `batches` yields pairs (xb, yb): a float tensor
    (B, 2) and the class labels (B,). For each batch: logits = two_layer_forward(params, xb),
    loss = F.cross_entropy(logits, yb), loss.backward(), sgd_step(params, lr), then record
    the loss. If a loss is NaN or infinite (`math.isfinite`), record it and return at once.

    [es] Entrena `params` en el lugar durante una época y devuelve la lista de las pérdidas de
    sus pasos (floats de Python, `loss.item()`). `batches` entrega pares (xb, yb): un tensor
    float (B, 2) y las etiquetas de clase (B,). Para cada lote: logits =
    two_layer_forward(params, xb), loss = F.cross_entropy(logits, yb), loss.backward(),
    sgd_step(params, lr) y luego anota la pérdida. Si una pérdida es NaN o infinita
    (`math.isfinite`), anótala y devuelve la lista de inmediato.
    """
    losses = []
    for xb, yb in batches:
        loss = F.cross_entropy(two_layer_forward(params, xb), yb)  # the loss is a function
        loss.backward()
        sgd_step(params, lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]):
            break
    return losses


# %% check
import math

import torch
import torch.nn.functional as F

from dlab.exercises import expect


def _problem(seed=0):
    gen = torch.Generator().manual_seed(seed)
    params = {"W1": (torch.randn(2, 5, generator=gen) * 0.7).requires_grad_(),
              "b1": torch.zeros(5).requires_grad_(),
              "W2": (torch.randn(5, 2, generator=gen) * 0.7).requires_grad_(),
              "b2": torch.zeros(2).requires_grad_()}
    X = torch.randn(9, 2, generator=gen)
    y = (X[:, 0] * X[:, 1] > 0).long()
    return params, [(X[i:i + 3], y[i:i + 3]) for i in range(0, 9, 3)]


@ctx.check("train_epoch")
def matches_sgd_batch_by_batch():
    params, batches = _problem()
    reference, _ = _problem()
    expected = []
    for xb, yb in batches:  # the same steps with torch's layers and torch.autograd.grad
        hidden = F.relu(F.linear(xb, reference["W1"].T, reference["b1"]))
        loss = F.cross_entropy(F.linear(hidden, reference["W2"].T, reference["b2"]), yb)
        grads = torch.autograd.grad(loss, list(reference.values()))
        reference = {k: (v - 0.5 * g).detach().requires_grad_()
                     for (k, v), g in zip(reference.items(), grads)}
        expected.append(loss.item())
    losses = train_epoch(params, batches, 0.5)
    expect.type(losses, list, "train_epoch(params, batches, 0.5)")
    expect.equal(len(losses), 3, "len(train_epoch(params, batches, 0.5)) for 3 batches")
    expect.close(losses, expected, "train_epoch(params, batches, 0.5), the loss of each step",
                 atol=1e-5)
    for name in params:
        expect.close(params[name], reference[name], f'params["{name}"] after one epoch',
                     atol=1e-5)


@ctx.check("train_epoch")
def stops_at_the_first_non_finite_loss():
    params, batches = _problem()
    xb, yb = batches[1]
    batches[1] = (torch.full_like(xb, float("nan")), yb)  # the second batch gives a NaN loss
    losses = train_epoch(params, batches, 0.5)
    expect.equal(len(losses), 2, "len(train_epoch(...)) when the 2nd of 3 batches gives a NaN "
                 "loss (record it, then stop)")
    expect.true(math.isnan(losses[-1]),
                "The last loss returned should be the NaN that stopped the epoch.",
                "La última pérdida devuelta debería ser el NaN que detuvo la época.")


# %%
def train(lr: float):
    """Fresh weights (the same start for every lr), then up to cfg.epochs epochs."""
    p = scratch_mlp.init_params(2, cfg.hidden, 2, seed=ctx.seed)
    batches = Batches(X_train, y_train, batch_size=cfg.batch_size, shuffle=True, seed=ctx.seed)
    losses = []
    for epoch in range(1, cfg.epochs + 1):
        batches.set_epoch(epoch)  # epochs numbered from 1, as Trainer.fit(seed=...) draws them
        losses += train_epoch(p, batches, lr)
        if not math.isfinite(losses[-1]):
            break  # every step after a NaN would be NaN too
    return p, losses


@torch.no_grad()
def predict(p, X):
    return two_layer_forward(p, X).argmax(dim=1)


# %% [markdown] lang="en"
# ## 4. Three learning rates, same start, same batches
# Training loss (over the whole training set) and validation accuracy after the same number of
# epochs of mini-batch SGD:

# %% [markdown] lang="es"
# ## 4. Tres tasas de aprendizaje, mismo inicio, mismos lotes
# Pérdida de entrenamiento (sobre todo el conjunto de entrenamiento) y exactitud en validación
# tras el mismo número de épocas de SGD con mini-lotes:

# %%
lrs = {"small": cfg.lr_small, "good": cfg.lr, "large": cfg.lr_large}
runs = {}
for name, lr in lrs.items():
    p, step_losses = train(lr)
    with torch.no_grad():
        train_loss = F.cross_entropy(two_layer_forward(p, X_train), y_train).item()
    val_acc = (predict(p, X_val) == y_val).float().mean().item()
    runs[name] = {"params": p, "steps": step_losses, "train_loss": train_loss,
                  "val_accuracy": val_acc}
ctx.table(["lr", ctx.t("epochs", "épocas"), ctx.t("steps run", "pasos ejecutados"),
           ctx.t("training loss", "pérdida de entrenamiento"),
           ctx.t("validation accuracy", "exactitud en validación")],
          [[lrs[n], cfg.epochs, len(r["steps"]), r["train_loss"], r["val_accuracy"]]
           for n, r in runs.items()])

# %%
large = runs["large"]["steps"]
diverged = not math.isfinite(large[-1])
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
window = math.ceil(len(X_train) / cfg.batch_size)  # steps in one epoch
for name, color in (("small", "tab:blue"), ("good", "tab:green"), ("large", "tab:red")):
    losses = np.array(runs[name]["steps"])
    steps = np.arange(1, len(losses) + 1)
    if len(losses) >= window and np.isfinite(losses).all():
        # One mini-batch per step makes the raw curve noisy: overlay a one-epoch mean.
        axes[0].plot(steps, losses, color=color, linewidth=0.6, alpha=0.3)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        axes[0].plot(steps[window - 1:], smooth, color=color, label=f"lr = {lrs[name]:g}")
    else:
        axes[0].plot(steps, losses, color=color, label=f"lr = {lrs[name]:g}")
axes[0].set_yscale("log")
axes[0].set_ylim(0.005, 10)  # the large-lr curve leaves the frame upwards: see the right panel
axes[0].set_title(ctx.t("training loss per step (line: one-epoch mean)",
                        "pérdida de entrenamiento por paso (línea: media de una época)"))
axes[1].semilogy(np.arange(1, len(large) + 1), large, "o-", color="tab:red", markersize=3,
                 label=f"lr = {cfg.lr_large:g}")
if diverged:
    axes[1].axvline(len(large), color="k", linestyle="--", linewidth=1)
    axes[1].text(len(large), 1.0, f" {large[-1]} ", ha="right", va="bottom")
axes[1].set_title(ctx.t(f"lr = {cfg.lr_large:g}: first {len(large)} steps",
                        f"lr = {cfg.lr_large:g}: primeros {len(large)} pasos"))
for ax in axes:
    ax.set_xlabel(ctx.t("SGD step", "paso de SGD"))
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()
ctx.figure("lr_loss_curves", fig)

# %% [markdown] lang="en"
# Left (log scale): the small learning rate creeps down, the good one drops fast and flattens.
# Right: with the large one every step overshoots so far that the loss grows by orders of
# magnitude per step until it overflows to NaN.
#
# Why: SGD moves each weight by lr × slope. A tiny lr takes tiny steps, so after the same
# number of epochs the network is still far from a good solution. A huge lr jumps past the
# valley to a place where the slope is steeper, so the next jump is even larger: the weights
# grow without bound until float32 overflows (about 3.4e38) and inf - inf gives NaN.

# %% [markdown] lang="es"
# Izquierda (escala logarítmica): con la tasa pequeña la pérdida baja despacio, con la buena
# cae rápido y se aplana. Derecha: con la grande cada paso se pasa tanto de largo que la
# pérdida crece órdenes de magnitud por paso hasta desbordarse a NaN.
#
# Por qué: SGD mueve cada peso lr × pendiente. Con un lr diminuto los pasos son diminutos y
# tras las mismas épocas la red sigue lejos de una buena solución. Con un lr enorme el paso
# salta por encima del valle a un lugar con más pendiente, y el salto siguiente es todavía
# mayor: los pesos crecen sin límite hasta desbordar float32 (unos 3.4e38) e inf - inf da NaN.

# %% [markdown] lang="en"
# ## 5. The same mistake under the dlab Trainer
# `TwoLayerNet` is this very network as an `nn.Module` (next lab). With the same starting
# weights, the same batches and the large learning rate, the Trainer walks the same path to
# NaN, and its training doctor stops it at the first bad step and says why.

# %% [markdown] lang="es"
# ## 5. El mismo error con el Trainer de dlab
# `TwoLayerNet` es esta misma red como `nn.Module` (próximo laboratorio). Con los mismos pesos
# iniciales, los mismos lotes y la tasa de aprendizaje grande, el Trainer recorre el mismo
# camino hacia NaN, y su doctor de entrenamiento lo detiene en el primer paso malo y explica
# por qué.

# %%
model = TwoLayerNet(2, cfg.hidden, 2).load_scratch(
    scratch_mlp.init_params(2, cfg.hidden, 2, seed=ctx.seed))
trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=cfg.lr_large),
                  **ctx.trainer_options())
try:
    trainer.fit((X_train, y_train), epochs=cfg.epochs, batch_size=cfg.batch_size, seed=ctx.seed)
    doctor_caught, doctor_step, diagnosis = False, None, ctx.t(
        "The Trainer finished without complaint: this lr did not blow up here.",
        "El Trainer terminó sin quejarse: este lr no explotó aquí.")
except TrainingError as err:
    doctor_caught, doctor_step, diagnosis = True, trainer.global_step + 1, str(err)
ctx.table([ctx.t("training loop", "bucle de entrenamiento"),
           ctx.t("first non-finite step", "primer paso no finito")],
          [[ctx.t("ours (scratch)", "el nuestro (desde cero)"), len(large) if diverged else "-"],
           [ctx.t("dlab Trainer (stopped by the doctor)",
                  "Trainer de dlab (detenido por el doctor)"),
            doctor_step if doctor_caught else "-"]])
ctx.table([ctx.t("the doctor's diagnosis", "el diagnóstico del doctor")], [[diagnosis]])

# %% [markdown] lang="en"
# ## 6. The good network on the test split
# Every choice was made on validation; the test split is used once, here. The decision regions
# of the network trained by hand with the good learning rate, with the test points on top:

# %% [markdown] lang="es"
# ## 6. La red buena en la partición de test
# Todas las decisiones se tomaron en validación; la partición de test se usa una vez, aquí.
# Las regiones de decisión de la red entrenada a mano con la tasa buena, con los puntos de
# test encima:

# %%
good = runs["good"]["params"]
test_acc = (predict(good, X_test) == y_test).float().mean().item()


def predict_grid(grid):
    return predict(good, torch.as_tensor(grid, dtype=torch.float32)).numpy()


fig, ax = plt.subplots(figsize=(5.5, 4.5))
decision_boundary(ax, predict_grid, X_test.numpy(), y_test.numpy(),
                  ctx.t(f"lr {cfg.lr:g} — test accuracy {test_acc:.3f}",
                        f"lr {cfg.lr:g} — exactitud en test {test_acc:.3f}"))
ctx.figure("decision_boundary", fig)

# %%
ctx.finish({
    "test_accuracy": test_acc,
    "val_accuracy": runs["good"]["val_accuracy"],
    "train_loss_small_lr": runs["small"]["train_loss"],
    "train_loss_good_lr": runs["good"]["train_loss"],
    "small_lr_loss_ratio": runs["small"]["train_loss"] / runs["good"]["train_loss"],
    "large_lr_diverged": diverged,
    "large_lr_steps_to_nan": len(large) if diverged else None,
    "doctor_caught_divergence": doctor_caught,
    "doctor_stop_step": doctor_step,
})
