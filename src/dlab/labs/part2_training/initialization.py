# %% [markdown] lang="en"
# Three ways to draw the starting weights of the same ReLU network, written by hand: Glorot
# uniform (Keras' default), He uniform and He normal. First the variance of a freshly drawn
# layer is compared with its formula and the signal is followed through the layers before any
# training; then the MLP [300, 200, 100, 50] trains for 20 epochs from each start, and the
# norm of every weight matrix is compared before and after.

# %% [markdown] lang="es"
# Tres maneras de sacar los pesos iniciales de la misma red ReLU, escritas a mano: Glorot
# uniforme (la opción por defecto de Keras), He uniforme y He normal. Primero se compara la
# varianza de una capa recién inicializada con su fórmula y se sigue la señal a través de las
# capas antes de entrenar; después el MLP [300, 200, 100, 50] entrena 20 épocas desde cada
# punto de partida y se compara la norma de cada matriz de pesos antes y después.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    hidden: list = field(default_factory=lambda: [300, 200, 100, 50])
    epochs: int = 20
    batch_size: int = 128
    lr: float = 0.01             # plain SGD, the default of Keras' "sgd"
    train_subset: int = 20_000   # seeded subset of the 50k training images (0 = all)
    val_subset: int = 0          # 0 = all 10k validation images
    probe_size: int = 1000       # training images used to follow the signal at step 0

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 probe_size=self.probe_size)


LAB = Lab(
    id="initialization",
    title_en="Weight initialization: Glorot and He",
    title_es="Inicialización de pesos: Glorot y He",
    source="Part 2 · class 108 (homework)",
    block="part2-training",
    dataset="fashion_mnist (seeded 20k-image training subset, 10k validation; test unused)",
    criteria=(
        Criterion("he_gain_pp", ">=", 0.5,
                  "After 20 epochs, He's validation accuracy (mean of He uniform and He "
                  "normal) ≥ Glorot's + 0.5 pp",
                  "Tras 20 épocas, la exactitud de validación de He (media de He uniforme y He "
                  "normal) ≥ la de Glorot + 0.5 pp"),
        Criterion("he_gain_mean_pp", ">=", 0.5,
                  "He starts faster: its validation accuracy averaged over the 20 epochs ≥ "
                  "Glorot's + 0.5 pp",
                  "He arranca más rápido: su exactitud de validación promediada sobre las 20 "
                  "épocas ≥ la de Glorot + 0.5 pp"),
        Criterion("he_norm_spread", "<", 10.0,
                  "Best He network after training: the largest weight-matrix norm is less "
                  "than 10× the smallest (same order of magnitude across layers)",
                  "Mejor red He tras entrenar: la mayor norma de matriz de pesos es menos de "
                  "10× la menor (el mismo orden de magnitud en todas las capas)"),
        Criterion("glorot_variance_ratio", "between", (0.98, 1.02),
                  "A fresh Linear(784, 128) with your Glorot uniform: empirical Var(W) within "
                  "2 % of 2 / (fan_in + fan_out)",
                  "Una Linear(784, 128) recién creada con tu Glorot uniforme: Var(W) empírica a "
                  "menos del 2 % de 2 / (fan_in + fan_out)"),
    ),
    config=Config,
    quick={"epochs": 2, "train_subset": 2000, "val_subset": 1000, "probe_size": 200},
)

# %% [markdown] lang="en"
# ## 1. The data
# Fashion-MNIST as vectors of 784 pixels in [0, 1]. The three trainings use a seeded subset of
# 20,000 of the 50,000 training images, to stay within a few minutes on a laptop; the 10,000
# validation images measure the accuracy after every epoch. Nothing is chosen here, so the
# test split stays untouched.

# %% [markdown] lang="es"
# ## 1. Los datos
# Fashion-MNIST como vectores de 784 píxeles en [0, 1]. Los tres entrenamientos usan un
# subconjunto fijo (con semilla) de 20,000 de las 50,000 imágenes de entrenamiento, para
# quedarse en pocos minutos en una laptop; las 10,000 de validación miden la exactitud tras
# cada época. Aquí no se elige nada, así que la partición de test queda sin tocar.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine.variants import fit_run
from dlab.models import MLP
from dlab.models.init import activation_stds, init_weights
from dlab.viz.compare import curves, grouped_bars

data = load("fashion_mnist", seed=ctx.seed)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(train[1])], ["val", len(val[1])]])

# %% [markdown] lang="en"
# ## 2. Fan-in and fan-out
# Every initialization rule is written in terms of two numbers. `fan_in` is how many inputs
# each unit adds up, `fan_out` how many units each input feeds. PyTorch stores the weight of
# `nn.Linear(in, out)` as a matrix of shape (out, in): the fan-in is its *second* dimension.
# A convolution's weight has shape (out_channels, in_channels, kh, kw), and each output adds
# up in_channels · kh · kw inputs: the kernel's area multiplies both fans.

# %% [markdown] lang="es"
# ## 2. Fan-in y fan-out
# Toda regla de inicialización se escribe con dos números. `fan_in` es cuántas entradas suma
# cada unidad y `fan_out` a cuántas unidades alimenta cada entrada. PyTorch guarda el peso de
# `nn.Linear(in, out)` como una matriz de forma (out, in): el fan-in es su *segunda* dimensión.
# El peso de una convolución tiene forma (out_channels, in_channels, kh, kw), y cada salida suma
# in_channels · kh · kw entradas: el área del kernel multiplica ambos fans.

# %% exercise="fans"
def fans(weight: torch.Tensor) -> tuple:
    """[en] Return `(fan_in, fan_out)` as Python ints for a weight tensor of shape
    (out, in) (an `nn.Linear`) or (out_channels, in_channels, kh, kw, ...) (a convolution):
    fan_in = in · (product of the kernel sizes), fan_out = out · (product of the kernel
    sizes). For a Linear the product of the kernel sizes is 1.

    [es] Devuelve `(fan_in, fan_out)` como ints de Python para un tensor de pesos de forma
    (out, in) (una `nn.Linear`) o (out_channels, in_channels, kh, kw, ...) (una convolución):
    fan_in = in · (producto de los tamaños del kernel), fan_out = out · (producto de los
    tamaños del kernel). Para una Linear el producto de los tamaños del kernel es 1.
    """
    receptive = math.prod(weight.shape[2:])
    return int(weight.shape[1] * receptive), int(weight.shape[0] * receptive)


# %% check
import torch

from dlab.exercises import expect


@ctx.check("fans")
def linear_weights_are_out_by_in():
    result = fans(torch.empty(128, 784))
    expect.type(result, tuple, "fans(torch.empty(128, 784))")
    expect.equal(result, (784, 128), "fans(torch.empty(128, 784)) (the weight of "
                 "nn.Linear(784, 128), shape (out, in))")
    expect.equal(fans(torch.empty(10, 50)), (50, 10), "fans(torch.empty(10, 50))")


@ctx.check("fans")
def convolutions_count_the_kernel_area():
    expect.equal(fans(torch.empty(16, 3, 5, 5)), (75, 400),
                 "fans(torch.empty(16, 3, 5, 5)) (nn.Conv2d(3, 16, 5): each output adds up "
                 "3 · 5 · 5 inputs)")
    expect.equal(fans(torch.empty(8, 4, 3)), (12, 24), "fans(torch.empty(8, 4, 3)) "
                 "(nn.Conv1d(4, 8, 3))")


# %% [markdown] lang="en"
# ## 3. Three rules, by hand
# Each rule picks the variance of the weights so that the signal keeps its scale from layer to
# layer. A layer multiplies the variance of its input by fan_in · Var(W), and a ReLU halves it.
# **He** compensates for the ReLU: Var(W) = 2 / fan_in, drawn from N(0, 2 / fan_in) (He normal)
# or from U(−a, a) with a = √(6 / fan_in) (He uniform, the same variance, since a uniform on
# [−a, a] has variance a² / 3). **Glorot** balances the forward pass (1 / fan_in) and the
# backward pass (1 / fan_out) for activations that act like the identity near 0:
# Var(W) = 2 / (fan_in + fan_out), drawn from U(−a, a) with a = √(6 / (fan_in + fan_out)).
# Biases start at zero.

# %% [markdown] lang="es"
# ## 3. Tres reglas, a mano
# Cada regla elige la varianza de los pesos para que la señal conserve su escala de capa en
# capa. Una capa multiplica la varianza de su entrada por fan_in · Var(W), y una ReLU la reduce
# a la mitad. **He** compensa la ReLU: Var(W) = 2 / fan_in, sacada de N(0, 2 / fan_in) (He
# normal) o de U(−a, a) con a = √(6 / fan_in) (He uniforme, la misma varianza, porque una
# uniforme en [−a, a] tiene varianza a² / 3). **Glorot** equilibra la pasada hacia adelante
# (1 / fan_in) y la de vuelta (1 / fan_out) para activaciones que actúan como la identidad
# cerca de 0: Var(W) = 2 / (fan_in + fan_out), sacada de U(−a, a) con
# a = √(6 / (fan_in + fan_out)). Los sesgos empiezan en cero.

# %% exercise="init_layer_"
def init_layer_(layer: nn.Module, scheme: str) -> nn.Module:
    """[en] Re-initialize, in place, the weight and bias of `layer` (an `nn.Linear` or a
    convolution) and return `layer`. `scheme` is "glorot_uniform" (uniform on [−a, a] with
    a = √(6 / (fan_in + fan_out))), "he_uniform" (uniform on [−a, a] with a = √(6 / fan_in))
    or "he_normal" (normal with mean 0 and standard deviation √(2 / fan_in)); get the fans
    with your `fans`. Set the bias to zero. Draw the numbers yourself (`torch.rand`,
    `torch.randn`, or the tensor methods `.uniform_` / `.normal_`), without the
    `nn.init.xavier_*` / `nn.init.kaiming_*` helpers, and write them into the existing
    parameters under `torch.no_grad()` (e.g. `layer.weight.copy_(...)`).

    [es] Reinicializa, en el lugar, el peso y el sesgo de `layer` (una `nn.Linear` o una
    convolución) y devuelve `layer`. `scheme` es "glorot_uniform" (uniforme en [−a, a] con
    a = √(6 / (fan_in + fan_out))), "he_uniform" (uniforme en [−a, a] con a = √(6 / fan_in))
    o "he_normal" (normal con media 0 y desviación estándar √(2 / fan_in)); obtén los fans con
    tu `fans`. Pon el sesgo en cero. Saca los números tú (`torch.rand`, `torch.randn`, o los
    métodos de tensor `.uniform_` / `.normal_`), sin las funciones `nn.init.xavier_*` /
    `nn.init.kaiming_*`, y escríbelos en los parámetros existentes bajo `torch.no_grad()`
    (p. ej. `layer.weight.copy_(...)`).
    """
    fan_in, fan_out = fans(layer.weight)
    with torch.no_grad():
        if scheme == "he_normal":
            layer.weight.normal_(0.0, math.sqrt(2 / fan_in))
        else:
            spread = fan_in + fan_out if scheme == "glorot_uniform" else fan_in
            bound = math.sqrt(6 / spread)
            layer.weight.uniform_(-bound, bound)
        if layer.bias is not None:
            layer.bias.zero_()
    return layer


# %% check
import math

import torch
from torch import nn

from dlab.exercises import expect


def _fresh(scheme, layer=None):
    torch.manual_seed(0)
    layer = layer if layer is not None else nn.Linear(784, 128)
    weight = layer.weight
    result = init_layer_(layer, scheme)
    expect.true(result is layer, f"init_layer_(layer, '{scheme}') should return the same "
                "layer it received.", f"init_layer_(layer, '{scheme}') debe devolver la misma "
                "capa que recibió.")
    expect.true(layer.weight is weight and layer.weight.requires_grad,
                "init_layer_ replaced the weight parameter; write into the existing one under "
                "torch.no_grad() (e.g. layer.weight.copy_(...)), so an optimizer built before "
                "still sees it.",
                "init_layer_ reemplazó el parámetro del peso; escribe en el existente bajo "
                "torch.no_grad() (p. ej. layer.weight.copy_(...)), para que un optimizador "
                "creado antes lo siga viendo.")
    expect.close(layer.bias.detach(), torch.zeros_like(layer.bias),
                 f"bias after init_layer_(layer, '{scheme}') (it starts at zero)")
    return layer.weight.detach()


def _uniform_bound(w, bound, what):
    top = float(w.abs().max())
    expect.true(0.99 * bound <= top <= bound * 1.0001,
                f"The largest |w| after {what} is {top:.4f}; a uniform on [−a, a] with "
                f"a = {bound:.4f} reaches just under a, never beyond.",
                f"El mayor |w| después de {what} es {top:.4f}; una uniforme en [−a, a] con "
                f"a = {bound:.4f} llega justo por debajo de a, nunca más allá.")


@ctx.check("init_layer_")
def glorot_uniform_on_a_linear():
    w = _fresh("glorot_uniform")
    expect.close(float(w.var()), 2 / (784 + 128), "Var(W) after init_layer_(nn.Linear(784, "
                 "128), 'glorot_uniform') (2 / (fan_in + fan_out))", atol=0, rtol=0.03)
    _uniform_bound(w, math.sqrt(6 / (784 + 128)), "init_layer_(nn.Linear(784, 128), "
                   "'glorot_uniform')")


@ctx.check("init_layer_")
def he_uniform_and_he_normal_on_a_linear():
    w = _fresh("he_uniform")
    expect.close(float(w.var()), 2 / 784, "Var(W) after init_layer_(nn.Linear(784, 128), "
                 "'he_uniform') (2 / fan_in)", atol=0, rtol=0.03)
    _uniform_bound(w, math.sqrt(6 / 784), "init_layer_(nn.Linear(784, 128), 'he_uniform')")
    w = _fresh("he_normal")
    expect.close(float(w.var()), 2 / 784, "Var(W) after init_layer_(nn.Linear(784, 128), "
                 "'he_normal') (2 / fan_in)", atol=0, rtol=0.03)
    beyond = float((w.abs() > 2 * math.sqrt(2 / 784)).float().mean())
    expect.true(beyond > 0.02,
                f"Only {beyond:.2%} of the weights after 'he_normal' are beyond 2 standard "
                "deviations; a normal distribution puts about 4.6 % there.",
                f"Solo el {beyond:.2%} de los pesos tras 'he_normal' supera 2 desviaciones "
                "estándar; una normal deja alrededor del 4.6 % ahí.")


@ctx.check("init_layer_")
def convolutions_use_the_kernel_area():
    w = _fresh("he_normal", nn.Conv2d(16, 64, 3))
    expect.close(float(w.var()), 2 / (16 * 9), "Var(W) after init_layer_(nn.Conv2d(16, 64, 3), "
                 "'he_normal') (fan_in = 16 · 3 · 3)", atol=0, rtol=0.08)


# %% [markdown] lang="en"
# ## 4. A fresh layer against its formula
# The course's first check: draw a `Linear(784, 128)` and compare the empirical variance of its
# 100,352 weights with the formula. PyTorch's own default for `nn.Linear` is neither rule: a
# uniform on ±1/√fan_in, whose variance 1 / (3 · fan_in) is a sixth of He's.

# %% [markdown] lang="es"
# ## 4. Una capa recién creada contra su fórmula
# La primera comprobación del curso: crear una `Linear(784, 128)` y comparar la varianza
# empírica de sus 100,352 pesos con la fórmula. La opción por defecto de PyTorch para
# `nn.Linear` no es ninguna de las dos reglas: una uniforme en ±1/√fan_in, cuya varianza
# 1 / (3 · fan_in) es un sexto de la de He.

# %%
schemes = ("glorot_uniform", "he_uniform", "he_normal")
shown = {"glorot_uniform": ctx.t("Glorot uniform", "Glorot uniforme"),
         "he_uniform": ctx.t("He uniform", "He uniforme"), "he_normal": "He normal",
         "torch_default": ctx.t("PyTorch default", "por defecto de PyTorch")}
fan_in, fan_out = 784, 128
theory = {"glorot_uniform": 2 / (fan_in + fan_out), "he_uniform": 2 / fan_in,
          "he_normal": 2 / fan_in, "torch_default": 1 / (3 * fan_in)}
formula = {"glorot_uniform": "2 / (fan_in + fan_out)", "he_uniform": "2 / fan_in",
           "he_normal": "2 / fan_in", "torch_default": "1 / (3 · fan_in)"}
fresh_variance = {}
for scheme in theory:
    torch.manual_seed(ctx.seed)
    layer = nn.Linear(fan_in, fan_out)
    if scheme != "torch_default":
        init_layer_(layer, scheme)
    fresh_variance[scheme] = float(layer.weight.detach().var())
ctx.table(ctx.t("init|formula|Var(W) formula|Var(W) measured|measured / formula",
                "inicialización|fórmula|Var(W) fórmula|Var(W) medida|medida / fórmula"
                ).split("|"),
          [[shown[s], formula[s], f"{theory[s]:.3e}", f"{fresh_variance[s]:.3e}",
            f"{fresh_variance[s] / theory[s]:.4f}"] for s in theory],
          ctx.t("nn.Linear(784, 128): fan_in = 784, fan_out = 128",
                "nn.Linear(784, 128): fan_in = 784, fan_out = 128"))

# %% [markdown] lang="en"
# ## 5. The signal through the layers, before training
# The same 1,000 training images go through the untrained network [300, 200, 100, 50] under
# each initialization, and the standard deviation of every ReLU layer's output is measured.
# Two more starts are added for contrast: PyTorch's default, and N(0, 0.01²), a habit
# carried over from shallow models.

# %% [markdown] lang="es"
# ## 5. La señal a través de las capas, antes de entrenar
# Las mismas 1,000 imágenes de entrenamiento atraviesan la red [300, 200, 100, 50] sin
# entrenar con cada inicialización, y se mide la desviación estándar de la salida de cada capa
# ReLU. Se agregan dos puntos de partida más para contrastar: la opción por defecto de PyTorch
# y N(0, 0.01²), una costumbre heredada de los modelos poco profundos.


# %%
def build(scheme):
    """The MLP, seeded the same way for every scheme, with its Linear layers drawn by
    `scheme` (the PyTorch default when it is not one of yours)."""
    torch.manual_seed(ctx.seed)
    model = MLP(784, cfg.hidden, 10)
    if scheme in schemes:
        for layer in model:
            if isinstance(layer, nn.Linear):
                init_layer_(layer, scheme)
    return model


probe = train[0][:cfg.probe_size]
signal = {s: activation_stds(build(s), probe) for s in (*schemes, "torch_default")}
signal["normal_0.01"] = activation_stds(init_weights(build("torch_default"), "normal",
                                                     std=0.01), probe)
shown["normal_0.01"] = "N(0, 0.01²)"
fig, ax = plt.subplots(figsize=(7.5, 4.2))
for key, stds in signal.items():
    ax.plot(range(1, len(stds) + 1), stds, marker="o", label=shown[key])
ax.set_yscale("log")
ax.set_xticks(range(1, len(cfg.hidden) + 1))
ax.set_xlabel(ctx.t("hidden layer", "capa oculta"))
ax.set_ylabel(ctx.t("std of the ReLU output", "desv. estándar de la salida ReLU"))
ax.set_title(ctx.t("Signal at each layer before training",
                   "Señal en cada capa antes de entrenar"))
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
ctx.figure("signal_at_init", fig)

# %% [markdown] lang="en"
# He's variance keeps the signal at about the same size through the four layers. Glorot's is
# smaller by the factor fan_in / (fan_in + fan_out), between 0.6 and 0.72 in these layers, so
# the signal shrinks a little at each one; PyTorch's default (a sixth of He's variance)
# shrinks it faster, and N(0, 0.01²) leaves almost nothing by the last layer, and therefore
# almost no gradient.

# %% [markdown] lang="es"
# La varianza de He mantiene la señal de un tamaño parecido a lo largo de las cuatro capas.
# La de Glorot es más chica por el factor fan_in / (fan_in + fan_out), entre 0.6 y 0.72 en
# estas capas, así que la señal se achica un poco en cada una; la opción por defecto de
# PyTorch (un sexto de la varianza de He) la achica más rápido, y N(0, 0.01²) casi no deja
# nada en la última capa y, por lo tanto, casi nada de gradiente.

# %% [markdown] lang="en"
# ## 6. Twenty epochs from each start
# The three networks train the same way: SGD without momentum at learning rate 0.01 (an
# adaptive optimizer such as Adam rescales each weight's steps and blurs the difference the
# starting point makes), batches of 128 in the same order, 20 epochs. The norm of each weight
# matrix is recorded at the start and at the end.

# %% [markdown] lang="es"
# ## 6. Veinte épocas desde cada punto de partida
# Las tres redes entrenan igual: SGD sin momentum con tasa de aprendizaje 0.01 (un optimizador
# adaptativo como Adam reescala los pasos de cada peso y difumina la diferencia que hace el
# punto de partida), lotes de 128 en el mismo orden, 20 épocas. La norma de cada matriz de
# pesos se registra al principio y al final.

# %%
def kernel_norms(model):
    return [float(m.weight.detach().norm()) for m in model if isinstance(m, nn.Linear)]


runs, norms_before, norms_after = {}, {}, {}
for scheme in schemes:
    model = build(scheme)
    norms_before[scheme] = kernel_norms(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    # fp32: the runs differ by fractions of a point; bf16 rounding would add noise of that size.
    runs[scheme] = fit_run(model, optimizer, train, val, epochs=cfg.epochs,
                           batch_size=cfg.batch_size, seed=ctx.seed,
                           **ctx.trainer_options(precision="fp32"))
    norms_after[scheme] = kernel_norms(model)
    history = runs[scheme].history
    ctx.console.print(f"{shown[scheme]:>16}: " + ctx.t(
        f"val acc {history['val_accuracy'][-1]:.4f}  val loss {history['val_loss'][-1]:.3f}",
        f"exactitud val. {history['val_accuracy'][-1]:.4f}  pérdida val. "
        f"{history['val_loss'][-1]:.3f}"))

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.3))
curves(ax_loss, {shown[s]: r.history["val_loss"] for s, r in runs.items()},
       title=ctx.t("Validation loss", "Pérdida de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy")
curves(ax_acc, {shown[s]: r.history["val_accuracy"] for s, r in runs.items()},
       title=ctx.t("Validation accuracy", "Exactitud de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("accuracy", "exactitud"))
fig.tight_layout()
ctx.figure("validation_curves", fig)

# %% [markdown] lang="en"
# ## 7. Did the starting point matter?
# The course's claim is read on the final validation accuracy, with the two He variants
# averaged. A start mostly changes the first epochs, so the validation accuracy averaged over
# the 20 epochs (the area under the learning curve) is reported too. With a single run per
# initialization, differences of a fraction of a point are within the noise from one epoch to
# the next.

# %% [markdown] lang="es"
# ## 7. ¿Importó el punto de partida?
# La afirmación del curso se lee en la exactitud final de validación, promediando las dos
# variantes de He. El punto de partida cambia sobre todo las primeras épocas, así que también
# se informa la exactitud de validación promediada sobre las 20 épocas (el área bajo la curva
# de aprendizaje). Con una sola corrida por inicialización, diferencias de una fracción de
# punto están dentro del ruido de una época a la siguiente.

# %%
final = {s: r.history["val_accuracy"][-1] for s, r in runs.items()}
mean = {s: float(np.mean(r.history["val_accuracy"])) for s, r in runs.items()}
first = {s: r.history["val_accuracy"][0] for s, r in runs.items()}
ctx.table(ctx.t("init|val acc after epoch 1|final val acc|mean val acc over epochs",
                "inicialización|exact. val. tras la época 1|exact. val. final|"
                "exact. val. media por época").split("|"),
          [[shown[s], first[s], final[s], mean[s]] for s in schemes])
he_gain_pp = 100 * ((final["he_uniform"] + final["he_normal"]) / 2 - final["glorot_uniform"])
he_gain_mean_pp = 100 * ((mean["he_uniform"] + mean["he_normal"]) / 2 - mean["glorot_uniform"])

# %% [markdown] lang="en"
# ## 8. Weight norms before and after
# For the better He network (chosen on validation), the Frobenius norm of each weight matrix
# at the start and after training. A layer whose weights grew or shrank by orders of magnitude
# would be one that took over the learning, or one that stopped.

# %% [markdown] lang="es"
# ## 8. Normas de los pesos antes y después
# Para la mejor red He (elegida en validación), la norma de Frobenius de cada matriz de pesos
# al principio y tras entrenar. Una capa cuyos pesos crecieran o se achicaran órdenes de
# magnitud sería una que acaparó el aprendizaje, o una que se detuvo.

# %%
best_he = max(("he_uniform", "he_normal"), key=final.get)
layer_names = [f"{a}→{b}" for a, b in zip([784, *cfg.hidden], [*cfg.hidden, 10])]
fig, ax = plt.subplots(figsize=(8, 4.2))
grouped_bars(ax, layer_names,
             {ctx.t("before", "antes"): norms_before[best_he],
              ctx.t("after", "después"): norms_after[best_he]},
             title=ctx.t(f"Weight-matrix norms, {shown[best_he]}",
                         f"Normas de las matrices de pesos, {shown[best_he]}"),
             ylabel="‖W‖", fmt="{:.1f}")
ctx.figure("kernel_norms", fig)
ctx.table([ctx.t("init", "inicialización")] + layer_names + [ctx.t("largest / smallest",
                                                                   "mayor / menor")],
          [[f"{shown[s]} ({ctx.t(when, cuando)})", *norms, max(norms) / min(norms)]
           for s in schemes
           for when, cuando, norms in (("before", "antes", norms_before[s]),
                                       ("after", "después", norms_after[s]))])

# %% [markdown] lang="en"
# The spread across layers is set at the start by the widths: with He's variance, a matrix of
# fan_in × fan_out weights has an expected squared norm of fan_in · fan_out · 2 / fan_in, so
# ‖W‖ ≈ √(2 · fan_out), from 24.5 for the 300-unit layer down to 4.5 for the 10 outputs.
# Twenty epochs of plain SGD at this learning rate move every norm only a little, and no
# layer runs away from the others.

# %% [markdown] lang="es"
# La dispersión entre capas la fijan desde el principio los anchos: con la varianza de He, una
# matriz de fan_in × fan_out pesos tiene una norma al cuadrado esperada de
# fan_in · fan_out · 2 / fan_in, así que ‖W‖ ≈ √(2 · fan_out), desde 24.5 para la capa de 300
# unidades hasta 4.5 para las 10 salidas. Veinte épocas de SGD simple con esta tasa de
# aprendizaje mueven cada norma solo un poco, y ninguna capa se dispara respecto de las demás.

# %%
metrics = {"he_gain_pp": he_gain_pp, "he_gain_mean_pp": he_gain_mean_pp,
           "best_he": best_he,
           "he_norm_spread": max(norms_after[best_he]) / min(norms_after[best_he]),
           "glorot_variance_ratio": fresh_variance["glorot_uniform"] / theory["glorot_uniform"],
           "he_normal_variance_ratio": fresh_variance["he_normal"] / theory["he_normal"],
           "he_uniform_variance_ratio": fresh_variance["he_uniform"] / theory["he_uniform"],
           "torch_default_variance_ratio": fresh_variance["torch_default"]
           / theory["torch_default"],
           "normal_0.01_last_layer_std": signal["normal_0.01"][-1]}
for scheme in schemes:
    metrics |= {f"{scheme}_final_val_accuracy": final[scheme],
                f"{scheme}_mean_val_accuracy": mean[scheme],
                f"{scheme}_epoch1_val_accuracy": first[scheme],
                f"{scheme}_kernel_norms_before": norms_before[scheme],
                f"{scheme}_kernel_norms_after": norms_after[scheme]}
ctx.finish(metrics)
