# %% [markdown] lang="en"
# The same MLP [300, 200, 100, 50] is trained on Fashion-MNIST with six activation functions,
# everything else equal: ReLU, LeakyReLU(0.1), ELU, GELU (the one you write), SiLU (Swish) and
# Mish. For each: validation accuracy, seconds per epoch, and the share of dead units in every
# layer, units whose slope is zero for every input, so no gradient reaches their weights. Then
# a learning rate ten times too high shows ReLUs dying and LeakyReLU surviving.

# %% [markdown] lang="es"
# El mismo MLP [300, 200, 100, 50] se entrena en Fashion-MNIST con seis funciones de
# activación, con todo lo demás igual: ReLU, LeakyReLU(0.1), ELU, GELU (la que escribes tú),
# SiLU (Swish) y Mish. Para cada una: exactitud de validación, segundos por época y la
# proporción de unidades muertas en cada capa, unidades cuya pendiente es cero para toda
# entrada, de modo que ningún gradiente llega a sus pesos. Después, una tasa de aprendizaje
# diez veces demasiado alta muestra a las ReLU morir y a LeakyReLU sobrevivir.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    hidden: list = field(default_factory=lambda: [300, 200, 100, 50])
    epochs: int = 15
    batch_size: int = 128
    lr: float = 1e-3             # Adam
    high_lr: float = 1e-2        # the "too high" learning rate of section 6
    high_lr_epochs: int = 5
    train_subset: int = 20_000   # seeded subset of the 50k training images (0 = all)
    val_subset: int = 0          # 0 = all 10k validation images
    probe_size: int = 2000       # training images on which dead units are counted
    dead_slope: float = 1e-3     # a unit is dead when |f'(z)| < dead_slope on every probe image

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 high_lr=self.high_lr, high_lr_epochs=self.high_lr_epochs,
                 probe_size=self.probe_size, dead_slope=self.dead_slope)


LAB = Lab(
    id="activations",
    title_en="Activation functions: ReLU, LeakyReLU, ELU, GELU, SiLU, Mish",
    title_es="Funciones de activación: ReLU, LeakyReLU, ELU, GELU, SiLU, Mish",
    source="Part 2 · class 109 (homework)",
    block="part2-training",
    dataset="fashion_mnist (seeded 20k-image training subset, 10k validation, 10k test)",
    criteria=(
        Criterion("course_winner_gelu_or_elu", "is", True,
                  "GELU or ELU wins on final validation accuracy among the course's four "
                  "(ReLU, LeakyReLU(0.1), ELU, GELU)",
                  "GELU o ELU gana en exactitud final de validación entre las cuatro del curso "
                  "(ReLU, LeakyReLU(0.1), ELU, GELU)"),
        Criterion("max_dead_share_leaky_elu_gelu", "<", 0.05,
                  "LeakyReLU, ELU and GELU: fewer than 5 % dead units in every layer",
                  "LeakyReLU, ELU y GELU: menos del 5 % de unidades muertas en cada capa"),
        Criterion("leaky_rescues_high_lr", "is", True,
                  "At a learning rate 10× higher, ReLU loses a larger share of units than "
                  "LeakyReLU(0.1), which stays under 5 % dead in every layer",
                  "Con una tasa de aprendizaje 10× mayor, ReLU pierde una proporción de "
                  "unidades mayor que LeakyReLU(0.1), que se queda por debajo del 5 % de "
                  "muertas en cada capa"),
    ),
    config=Config,
    quick={"epochs": 2, "high_lr_epochs": 1, "train_subset": 2000, "val_subset": 1000,
           "probe_size": 500},
    timed=("relu_seconds_per_epoch", "leaky_relu_seconds_per_epoch", "elu_seconds_per_epoch",
           "gelu_seconds_per_epoch", "silu_seconds_per_epoch", "mish_seconds_per_epoch"),
)

# %% [markdown] lang="en"
# ## 1. The data
# Fashion-MNIST as vectors of 784 pixels in [0, 1]. The trainings use a seeded subset of
# 20,000 of the 50,000 training images, to keep eight of them within a few minutes on a
# laptop; the 10,000 validation images pick the winner, and the test split scores it once at
# the end.

# %% [markdown] lang="es"
# ## 1. Los datos
# Fashion-MNIST como vectores de 784 píxeles en [0, 1]. Los entrenamientos usan un subconjunto
# fijo (con semilla) de 20,000 de las 50,000 imágenes de entrenamiento, para que ocho de ellos
# quepan en pocos minutos en una laptop; las 10,000 imágenes de validación eligen a la
# ganadora, y la partición de test la evalúa una sola vez al final.

# %%
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine.variants import fit_run
from dlab.models import MLP
from dlab.models.activations import FunctionActivation, activation_inputs
from dlab.models.init import init_weights
from dlab.viz.compare import curves, grouped_bars

data = load("fashion_mnist", seed=ctx.seed)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(train[1])], ["val", len(val[1])], ["test", len(data.test[1])]])

# %% [markdown] lang="en"
# ## 2. GELU, by hand
# GELU weighs its input by the probability that a standard normal variable is below it:
# GELU(x) = x · Φ(x), with Φ the normal cumulative distribution function,
# Φ(x) = (1 + erf(x / √2)) / 2. It is smooth, dips slightly below zero for negative inputs and
# tends to ReLU far from 0. Before `erf` was fast everywhere, a tanh-based formula was used as
# an approximation; the two differ by less than 10⁻³.

# %% [markdown] lang="es"
# ## 2. GELU, a mano
# GELU pondera su entrada por la probabilidad de que una normal estándar quede por debajo de
# ella: GELU(x) = x · Φ(x), con Φ la función de distribución acumulada normal,
# Φ(x) = (1 + erf(x / √2)) / 2. Es suave, baja un poco por debajo de cero con entradas
# negativas y tiende a ReLU lejos de 0. Antes de que `erf` fuera rápida en todas partes se usaba
# como aproximación una fórmula con tanh; las dos difieren en menos de 10⁻³.

# %% exercise="gelu"
def gelu(x: torch.Tensor, approximate: bool = False) -> torch.Tensor:
    """[en] Return GELU(x) elementwise. Exact (`approximate=False`): x · Φ(x) with
    Φ(x) = (1 + erf(x / √2)) / 2 (use `torch.erf`). Approximate (`approximate=True`):
    0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))). Keep the result differentiable and
    do not use `nn.GELU` or `F.gelu`.

    [es] Devuelve GELU(x) elemento a elemento. Exacta (`approximate=False`): x · Φ(x) con
    Φ(x) = (1 + erf(x / √2)) / 2 (usa `torch.erf`). Aproximada (`approximate=True`):
    0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))). Mantén el resultado derivable y no
    uses `nn.GELU` ni `F.gelu`.
    """
    if approximate:
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return x * (1 + torch.erf(x / math.sqrt(2))) / 2


# %% check
import torch
import torch.nn.functional as F

from dlab.exercises import expect


@ctx.check("gelu")
def exact_gelu_matches_torch():
    x = torch.linspace(-6, 6, 1201)
    out = gelu(x)
    expect.type(out, torch.Tensor, "gelu(x)")
    expect.close(out, F.gelu(x), "gelu(torch.linspace(-6, 6, 1201))", atol=1e-6)
    grid = x[:1200].reshape(3, 400)
    expect.close(gelu(grid), F.gelu(grid), "gelu(x) on a (3, 400) tensor (elementwise, same "
                 "shape)", atol=1e-6)


@ctx.check("gelu")
def tanh_approximation_matches_torch():
    x = torch.linspace(-6, 6, 1201)
    expect.close(gelu(x, approximate=True), F.gelu(x, approximate="tanh"),
                 "gelu(x, approximate=True)", atol=1e-6)


@ctx.check("gelu")
def gradients_match_torch():
    x = torch.linspace(-5, 5, 101)
    mine, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    out = gelu(mine)
    expect.true(isinstance(out, torch.Tensor) and out.requires_grad,
                "gelu's result is not connected to x: keep it differentiable (no .detach(), "
                "no torch.no_grad()).",
                "El resultado de gelu no está conectado a x: mantenlo derivable (sin "
                ".detach() ni torch.no_grad()).")
    out.sum().backward()
    F.gelu(theirs).sum().backward()
    expect.close(mine.grad, theirs.grad, "the slope GELU'(x) (gradient of gelu(x).sum())",
                 atol=1e-5)


# %% [markdown] lang="en"
# The six functions and their slopes on [−3, 3]. Every one of them is the identity for large
# positive inputs; they differ in what they do below zero. ReLU's slope there is exactly 0,
# LeakyReLU's is 0.1, ELU's decays smoothly toward 0, and GELU, SiLU and Mish dip below zero
# before flattening out.

# %% [markdown] lang="es"
# Las seis funciones y sus pendientes en [−3, 3]. Todas son la identidad para entradas
# positivas grandes; se diferencian en lo que hacen por debajo de cero. Allí la pendiente de
# ReLU es exactamente 0, la de LeakyReLU es 0.1, la de ELU decae suavemente hacia 0, y GELU,
# SiLU y Mish bajan un poco de cero antes de aplanarse.

# %%
activations = {  # key: (label, a function that makes the layer)
    "relu": ("ReLU", nn.ReLU),
    "leaky_relu": ("LeakyReLU(0.1)", lambda: nn.LeakyReLU(0.1)),
    "elu": ("ELU", nn.ELU),
    "gelu": (ctx.t("GELU (yours)", "GELU (la tuya)"), lambda: FunctionActivation(gelu)),
    "silu": ("SiLU (Swish)", nn.SiLU),
    "mish": ("Mish", nn.Mish),
}
x = torch.linspace(-3, 3, 601, requires_grad=True)
fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(12, 4.2))
for key, (label, make) in activations.items():
    y = make()(x)
    (slope,) = torch.autograd.grad(y.sum(), x)
    ax_f.plot(x.detach(), y.detach(), label=label)
    ax_d.plot(x.detach(), slope, label=label)
for ax, title in ((ax_f, ctx.t("f(x)", "f(x)")), (ax_d, ctx.t("slope f'(x)", "pendiente f'(x)"))):
    ax.axhline(0, color="k", linewidth=0.6)
    ax.axvline(0, color="k", linewidth=0.6)
    ax.set_xlabel("x")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
ctx.figure("activations", fig)

# %% [markdown] lang="en"
# ## 3. Six networks, one recipe
# Each network starts from the same He-normal weights (the same seed before every build),
# trains with Adam at learning rate 1e-3 on batches of 128 in the same order for 15 epochs.
# The GELU network runs your `gelu`. The time per epoch includes the validation pass.

# %% [markdown] lang="es"
# ## 3. Seis redes, una receta
# Cada red parte de los mismos pesos He normal (la misma semilla antes de construir cada una)
# y entrena con Adam, tasa de aprendizaje 1e-3, lotes de 128 en el mismo orden, durante 15
# épocas. La red con GELU ejecuta tu `gelu`. El tiempo por época incluye la pasada de
# validación.

# %%
def build(make):
    torch.manual_seed(ctx.seed)
    return init_weights(MLP(784, cfg.hidden, 10, activation=make), "kaiming")


def train_with(make, lr, epochs):
    model = build(make)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    # fp32: the dead-unit count reads slopes near zero; bf16 would round them.
    return fit_run(model, optimizer, train, val, epochs=epochs, batch_size=cfg.batch_size,
                   seed=ctx.seed, **ctx.trainer_options(precision="fp32"))


runs = {}
for key, (label, make) in activations.items():
    runs[key] = train_with(make, cfg.lr, cfg.epochs)
    history = runs[key].history
    ctx.console.print(f"{label:>16}: " + ctx.t(
        f"val acc {history['val_accuracy'][-1]:.4f}  "
        f"({runs[key].seconds / len(history):.2f} s/epoch)",
        f"exactitud val. {history['val_accuracy'][-1]:.4f}  "
        f"({runs[key].seconds / len(history):.2f} s/época)"))

fig, ax = plt.subplots(figsize=(8, 4.3))
curves(ax, {activations[k][0]: r.history["val_accuracy"] for k, r in runs.items()},
       title=ctx.t("Validation accuracy", "Exactitud de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("accuracy", "exactitud"))
ctx.figure("validation_curves", fig)

# %% [markdown] lang="en"
# ## 4. Dead units
# A unit is dead when the slope of its activation is (almost) zero for every input it gets:
# backpropagation multiplies by that slope, so the weights that feed the unit receive no
# gradient and never change again. For ReLU that means the unit's pre-activation is negative
# on every image. The pre-activations z of each layer are collected on 2,000 training images,
# and a unit counts as dead when |f'(z)| < 10⁻³ on all of them.

# %% [markdown] lang="es"
# ## 4. Unidades muertas
# Una unidad está muerta cuando la pendiente de su activación es (casi) cero para toda entrada
# que recibe: la retropropagación multiplica por esa pendiente, así que los pesos que alimentan
# a la unidad no reciben gradiente y ya no cambian. Para ReLU eso significa que la
# preactivación de la unidad es negativa en todas las imágenes. Las preactivaciones z de cada
# capa se recogen sobre 2,000 imágenes de entrenamiento, y una unidad cuenta como muerta cuando
# |f'(z)| < 10⁻³ en todas ellas.

# %% exercise="dead_units"
def dead_units(z: torch.Tensor, activation, tol: float = 1e-3) -> torch.Tensor:
    """[en] `z` holds the pre-activations of one layer, shape (samples, units); `activation`
    is the layer's activation, a function applied elementwise (e.g. `nn.ReLU()`). Return a
    bool tensor of shape (units,), True for every unit whose slope |f'(z)| is below `tol`
    for *all* samples. Get the slopes with autograd: on a copy of `z` that requires grad,
    `torch.autograd.grad(activation(z).sum(), z)` gives f'(z) elementwise.

    [es] `z` tiene las preactivaciones de una capa, forma (muestras, unidades); `activation`
    es la activación de la capa, una función que se aplica elemento a elemento (p. ej.
    `nn.ReLU()`). Devuelve un tensor bool de forma (unidades,), True para cada unidad cuya
    pendiente |f'(z)| queda por debajo de `tol` en *todas* las muestras. Obtén las pendientes
    con autograd: sobre una copia de `z` que requiera gradiente,
    `torch.autograd.grad(activation(z).sum(), z)` da f'(z) elemento a elemento.
    """
    z = z.detach().clone().requires_grad_(True)
    (slope,) = torch.autograd.grad(activation(z).sum(), z)
    return (slope.abs() < tol).all(dim=0)


# %% check
import torch
from torch import nn

from dlab.exercises import expect


def _columns(*values, n=2000):
    """One column (unit) per value, with n samples (rows) equal to it."""
    return torch.tensor(values, dtype=torch.float32).repeat(n, 1)


@ctx.check("dead_units")
def relu_units_die_only_if_never_active():
    z = _columns(-1.0, -1.0, 0.5)
    z[-1, 1] = 2.0  # unit 1 is active on one sample out of 2000
    result = dead_units(z, nn.ReLU())
    expect.type(result, torch.Tensor, "dead_units(z, nn.ReLU())")
    expect.equal(tuple(result.shape), (3,), "shape of dead_units(z (2000 × 3), nn.ReLU()) (one "
                 "flag per unit)")
    expect.equal(result.tolist(), [True, False, False],
                 "dead_units(z, nn.ReLU()) for units always negative / positive on 1 sample of "
                 "2000 / always positive")


@ctx.check("dead_units")
def a_small_slope_is_not_death():
    z = _columns(-4.0, -20.0, -2.0)
    expect.equal(dead_units(z, nn.LeakyReLU(0.1)).tolist(), [False, False, False],
                 "dead_units(z < 0, nn.LeakyReLU(0.1)) (its slope below 0 is 0.1)")
    expect.equal(dead_units(z, nn.ELU()).tolist(), [False, True, False],
                 "dead_units(z, nn.ELU()) for z = -4, -20, -2 (ELU's slope is e^z below 0)")
    expect.equal(dead_units(z, nn.GELU()).tolist(), [True, True, False],
                 "dead_units(z, nn.GELU()) for z = -4, -20, -2")


@ctx.check("dead_units")
def leaves_its_input_alone():
    z = _columns(-1.0, 3.0, n=10)
    before = z.clone()
    dead_units(z, nn.ReLU())
    expect.close(z, before, "z after dead_units(z, nn.ReLU())")
    expect.true(not z.requires_grad and z.grad is None,
                "dead_units changed its input z (requires_grad or .grad); work on a copy "
                "(z.detach().clone().requires_grad_()).",
                "dead_units cambió su entrada z (requires_grad o .grad); trabaja sobre una "
                "copia (z.detach().clone().requires_grad_()).")


# %% [markdown] lang="en"
# Your `dead_units` runs on every hidden layer of every trained network.

# %% [markdown] lang="es"
# Tu `dead_units` se aplica a cada capa oculta de cada red entrenada.

# %%
probe = train[0][:cfg.probe_size]


def dead_shares(model):
    """Share of dead units in each hidden layer, first to last."""
    return [float(dead_units(z, layer, cfg.dead_slope).float().mean())
            for _, layer, z in activation_inputs(model, probe)]


dead = {key: dead_shares(run.trainer.model) for key, run in runs.items()}
final = {key: run.history["val_accuracy"][-1] for key, run in runs.items()}
per_epoch = {key: run.seconds / len(run.history) for key, run in runs.items()}
layer_names = [ctx.t(f"layer {i} ({n})", f"capa {i} ({n})")
               for i, n in enumerate(cfg.hidden, start=1)]
ctx.table([ctx.t("activation", "activación"), ctx.t("final val acc", "exact. val. final"),
           ctx.t("s/epoch", "s/época"), *[ctx.t(f"dead, {n}", f"muertas, {n}")
                                          for n in layer_names]],
          [[label, final[k], per_epoch[k], *[f"{share:.1%}" for share in dead[k]]]
           for k, (label, _) in activations.items()])

fig, ax = plt.subplots(figsize=(10, 4.2))
grouped_bars(ax, layer_names, {activations[k][0]: [100 * s for s in dead[k]] for k in runs},
             title=ctx.t("Dead units per layer after training",
                         "Unidades muertas por capa tras entrenar"),
             ylabel=ctx.t("% of the layer's units", "% de las unidades de la capa"),
             fmt="{:.1f}")
ctx.figure("dead_units", fig)

# %% [markdown] lang="en"
# ## 5. Dying ReLUs at a high learning rate
# With a learning rate ten times larger, one big update can push a ReLU unit's bias and
# weights so far that its pre-activation is negative for every image; from then on it gets no
# gradient and cannot come back. LeakyReLU keeps a slope of 0.1 below zero, so a unit pushed
# there still learns its way out. Both train for 5 epochs at the high rate; the training
# doctor warns when it sees more than half of a layer dead.

# %% [markdown] lang="es"
# ## 5. ReLU que mueren con una tasa de aprendizaje alta
# Con una tasa de aprendizaje diez veces mayor, una sola actualización grande puede empujar el
# sesgo y los pesos de una unidad ReLU tan lejos que su preactivación sea negativa para toda
# imagen; desde ahí no recibe gradiente y no puede volver. LeakyReLU conserva una pendiente de
# 0.1 por debajo de cero, así que una unidad empujada allí todavía aprende a salir. Ambas
# entrenan 5 épocas con la tasa alta; el doctor de entrenamiento avisa cuando ve más de la
# mitad de una capa muerta.

# %%
high = {key: train_with(activations[key][1], cfg.high_lr, cfg.high_lr_epochs)
        for key in ("relu", "leaky_relu")}
high_dead = {key: dead_shares(run.trainer.model) for key, run in high.items()}
units = sum(cfg.hidden)
high_share = {key: sum(s * n for s, n in zip(shares, cfg.hidden)) / units
              for key, shares in high_dead.items()}
ctx.table([ctx.t("activation", "activación"), ctx.t("final val acc", "exact. val. final"),
           *[ctx.t(f"dead, {n}", f"muertas, {n}") for n in layer_names],
           ctx.t("dead, all layers", "muertas, todas las capas")],
          [[activations[k][0], run.history["val_accuracy"][-1],
            *[f"{share:.1%}" for share in high_dead[k]], f"{high_share[k]:.1%}"]
           for k, run in high.items()],
          ctx.t(f"Adam, learning rate {cfg.high_lr:g}, {cfg.high_lr_epochs} epochs",
                f"Adam, tasa de aprendizaje {cfg.high_lr:g}, {cfg.high_lr_epochs} épocas"))

# %% [markdown] lang="en"
# ## 6. One look at the test set
# The activation with the best validation accuracy, among all six, is scored once on the test
# split. On a network of four layers the six end up close to each other: with one run each,
# a gap of a few tenths of a point at the top is about the size of the change from one epoch
# to the next, so the ranking says less than the dead-unit counts and the timings do.

# %% [markdown] lang="es"
# ## 6. Una sola mirada al conjunto de test
# La activación con la mejor exactitud de validación, entre las seis, se evalúa una sola vez en
# la partición de test. En una red de cuatro capas las seis terminan cerca unas de otras: con
# una sola corrida cada una, una diferencia de unas décimas de punto arriba de la tabla es del
# tamaño del cambio de una época a la siguiente, así que el orden dice menos que los conteos de
# unidades muertas y los tiempos.

# %%
winner = max(final, key=final.get)
course_four = ("relu", "leaky_relu", "elu", "gelu")
course_winner = max(course_four, key=final.get)
test_accuracy = runs[winner].trainer.evaluate(data.test)["accuracy"]
ctx.table([ctx.t("winner (validation)", "ganadora (validación)"),
           ctx.t("val acc", "exact. val."), ctx.t("test acc", "exact. test"),
           ctx.t("winner among the course's four", "ganadora entre las cuatro del curso")],
          [[activations[winner][0], final[winner], test_accuracy,
            activations[course_winner][0]]])

# %%
metrics = {
    "course_winner": course_winner, "course_winner_gelu_or_elu": course_winner in ("gelu", "elu"),
    "winner": winner, "winner_test_accuracy": test_accuracy,
    "max_dead_share_leaky_elu_gelu": max(max(dead[k]) for k in ("leaky_relu", "elu", "gelu")),
    "relu_dead_share": sum(s * n for s, n in zip(dead["relu"], cfg.hidden)) / units,
    "high_lr_relu_dead_share": high_share["relu"],
    "high_lr_leaky_dead_share": high_share["leaky_relu"],
    "leaky_rescues_high_lr": high_share["relu"] > high_share["leaky_relu"]
    and max(high_dead["leaky_relu"]) < 0.05,
}
for key in activations:
    metrics |= {f"{key}_final_val_accuracy": final[key],
                f"{key}_seconds_per_epoch": per_epoch[key],
                f"{key}_dead_share_per_layer": dead[key]}
ctx.finish(metrics)
