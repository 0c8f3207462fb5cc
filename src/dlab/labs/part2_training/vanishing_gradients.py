# %% [markdown] lang="en"
# A network of 20 hidden layers is trained four times on Fashion-MNIST, changing only the
# activation, the initialization and whether BatchNorm is there: sigmoid with Glorot, ReLU with
# Glorot, ReLU with He, and ReLU with He and BatchNorm. Before the first update, the gradient
# of every layer's weights is measured; then each network trains for 20 epochs with plain SGD
# and the learning curves are drawn side by side.

# %% [markdown] lang="es"
# Una red de 20 capas ocultas se entrena cuatro veces en Fashion-MNIST cambiando solo la
# activación, la inicialización y si lleva BatchNorm: sigmoide con Glorot, ReLU con Glorot,
# ReLU con He, y ReLU con He y BatchNorm. Antes de la primera actualización se mide el
# gradiente de los pesos de cada capa; después cada red entrena 20 épocas con SGD simple y se
# dibujan las curvas de aprendizaje lado a lado.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    depth: int = 20              # hidden layers
    width: int = 100             # units per hidden layer
    epochs: int = 20
    batch_size: int = 128
    lr: float = 0.01             # plain SGD, the default of Keras' "sgd"
    train_subset: int = 20_000   # seeded subset of the 50k training images (0 = all)
    val_subset: int = 0          # 0 = all 10k validation images
    probe_size: int = 256        # training images of the batch whose gradients are measured

    def check(self):
        positive(depth=self.depth, width=self.width, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, probe_size=self.probe_size)


LAB = Lab(
    id="vanishing-gradients",
    title_en="Vanishing gradients in a 20-layer MLP",
    title_es="Gradientes que se desvanecen en un MLP de 20 capas",
    source="Part 2 · class 107 (homework)",
    block="part2-training",
    dataset="fashion_mnist (seeded 20k-image training subset, 10k validation; test unused)",
    criteria=(
        Criterion("sigmoid_grad_ratio", "<=", 1e-2,
                  "Sigmoid + Glorot: the first layer's weight gradient is orders of magnitude "
                  "(at least 100×) below the last layer's at step 0",
                  "Sigmoide + Glorot: el gradiente de los pesos de la primera capa está órdenes "
                  "de magnitud (al menos 100×) por debajo del de la última en el paso 0"),
        Criterion("sigmoid_final_val_accuracy", "<=", 0.20,
                  "Sigmoid + Glorot practically does not learn: final validation accuracy "
                  "within 10 pp of chance (≤ 0.20)",
                  "Sigmoide + Glorot prácticamente no aprende: exactitud final de validación a "
                  "menos de 10 pp del azar (≤ 0.20)"),
        Criterion("first_three_rank_as_course", "is", True,
                  "Final validation accuracy: sigmoid + Glorot < ReLU + Glorot (learns slowly) "
                  "< ReLU + He (learns reasonably)",
                  "Exactitud final de validación: sigmoide + Glorot < ReLU + Glorot (aprende "
                  "lento) < ReLU + He (aprende razonablemente)"),
        Criterion("bn_best_final", "is", True,
                  "ReLU + He + BatchNorm learns best: highest final validation accuracy of the "
                  "four",
                  "ReLU + He + BatchNorm aprende mejor: la mayor exactitud final de validación "
                  "de las cuatro"),
        Criterion("bn_best_mean", "is", True,
                  "ReLU + He + BatchNorm learns fastest: highest validation accuracy averaged "
                  "over the epochs (area under the learning curve)",
                  "ReLU + He + BatchNorm aprende más rápido: la mayor exactitud de validación "
                  "promediada sobre las épocas (área bajo la curva de aprendizaje)"),
    ),
    config=Config,
    quick={"epochs": 2, "train_subset": 2000, "val_subset": 1000},
    timed=("sigmoid_glorot_seconds_per_epoch", "relu_glorot_seconds_per_epoch",
           "relu_he_seconds_per_epoch", "relu_he_bn_seconds_per_epoch"),
)

# %% [markdown] lang="en"
# ## 1. The data
# Fashion-MNIST as vectors of 784 pixels in [0, 1]. To keep the four trainings within a few
# minutes on a laptop, they use a seeded subset of 20,000 of the 50,000 training images; the
# 10,000 validation images measure the accuracy after every epoch. Nothing is chosen here, so
# the test split stays untouched.

# %% [markdown] lang="es"
# ## 1. Los datos
# Fashion-MNIST como vectores de 784 píxeles en [0, 1]. Para que los cuatro entrenamientos
# quepan en pocos minutos en una laptop, usan un subconjunto fijo (con semilla) de 20,000 de
# las 50,000 imágenes de entrenamiento; las 10,000 de validación miden la exactitud tras cada
# época. Aquí no se elige nada, así que la partición de test queda sin tocar.

# %%
import copy

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator
from torch import nn

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine.variants import fit_run
from dlab.viz.compare import curves

data = load("fashion_mnist", seed=ctx.seed)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(train[1])], ["val", len(val[1])]])

# %% [markdown] lang="en"
# ## 2. Four deep networks
# Each network stacks `depth` hidden blocks `Linear → (BatchNorm) → activation` and ends in a
# linear layer with 10 logits. Two initializations are compared. **Glorot** (uniform) draws
# each weight from U(−a, a) with a = √(6 / (fan_in + fan_out)), so that Var(W) =
# 2 / (fan_in + fan_out): it keeps the variance of the signal steady for activations that
# behave like the identity around 0, such as sigmoid and tanh. **He** (normal) draws from
# N(0, 2 / fan_in): twice as much variance as needed for a linear unit, because a ReLU sets
# half of its inputs to zero. BatchNorm goes between the linear layer and the activation; it
# re-standardizes each unit over the batch, whatever the weights did to its scale.

# %% [markdown] lang="es"
# ## 2. Cuatro redes profundas
# Cada red apila `depth` bloques ocultos `Linear → (BatchNorm) → activación` y termina en una
# capa lineal con 10 logits. Se comparan dos inicializaciones. **Glorot** (uniforme) saca cada
# peso de U(−a, a) con a = √(6 / (fan_in + fan_out)), de modo que Var(W) =
# 2 / (fan_in + fan_out): mantiene estable la varianza de la señal con activaciones que se
# comportan como la identidad cerca de 0, como la sigmoide y la tanh. **He** (normal) saca de
# N(0, 2 / fan_in): el doble de varianza de la que necesitaría una unidad lineal, porque una
# ReLU pone en cero la mitad de sus entradas. BatchNorm va entre la capa lineal y la
# activación; vuelve a estandarizar cada unidad sobre el lote, sin importar lo que los pesos
# hayan hecho con su escala.

# %% exercise="build_deep_mlp"
def build_deep_mlp(depth: int, width: int, activation: str, init: str,
                   batchnorm: bool) -> nn.Sequential:
    """[en] Return an `nn.Sequential` for vectors of 784 pixels and 10 classes: `depth` hidden
    blocks, each `nn.Linear(previous width, width)`, then `nn.BatchNorm1d(width)` only if
    `batchnorm`, then the activation (`nn.Sigmoid()` if `activation` is "sigmoid",
    `nn.ReLU()` if it is "relu"); then a last `nn.Linear(width, 10)` with nothing after it.
    Initialize the weight of every `nn.Linear` (the last one too) with Glorot uniform
    (`nn.init.xavier_uniform_`) if `init` is "glorot", or with He normal
    (`nn.init.kaiming_normal_(weight, nonlinearity="relu")`) if it is "he", and set every
    bias to zero.

    [es] Devuelve un `nn.Sequential` para vectores de 784 píxeles y 10 clases: `depth` bloques
    ocultos, cada uno `nn.Linear(ancho anterior, width)`, luego `nn.BatchNorm1d(width)` solo si
    `batchnorm`, luego la activación (`nn.Sigmoid()` si `activation` es "sigmoid", `nn.ReLU()`
    si es "relu"); después una última `nn.Linear(width, 10)` sin nada detrás. Inicializa el
    peso de cada `nn.Linear` (también la última) con Glorot uniforme
    (`nn.init.xavier_uniform_`) si `init` es "glorot", o con He normal
    (`nn.init.kaiming_normal_(weight, nonlinearity="relu")`) si es "he", y pon cada sesgo en
    cero.
    """
    layers, previous = [], 784
    for _ in range(depth):
        layers.append(nn.Linear(previous, width))
        if batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
        previous = width
    layers.append(nn.Linear(previous, 10))
    for layer in layers:
        if isinstance(layer, nn.Linear):
            if init == "glorot":
                nn.init.xavier_uniform_(layer.weight)
            else:
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)
    return nn.Sequential(*layers)


# %% check
import math

import torch
from torch import nn

from dlab.exercises import expect


def _leaves(model):
    return [type(m).__name__ for m in model.modules() if not list(m.children())]


@ctx.check("build_deep_mlp")
def blocks_in_the_right_order():
    model = build_deep_mlp(3, 50, "relu", "he", True)
    expect.type(model, nn.Sequential, 'build_deep_mlp(3, 50, "relu", "he", True)')
    expect.equal(_leaves(model), ["Linear", "BatchNorm1d", "ReLU"] * 3 + ["Linear"],
                 'layers of build_deep_mlp(3, 50, "relu", "he", True) (BatchNorm goes between '
                 "the Linear and the activation)")
    expect.equal(_leaves(build_deep_mlp(2, 50, "sigmoid", "glorot", False)),
                 ["Linear", "Sigmoid"] * 2 + ["Linear"],
                 'layers of build_deep_mlp(2, 50, "sigmoid", "glorot", False)')
    sizes = [tuple(m.weight.shape) for m in build_deep_mlp(3, 50, "relu", "he", False)
             if isinstance(m, nn.Linear)]
    expect.equal(sizes, [(50, 784), (50, 50), (50, 50), (10, 50)],
                 'weight shapes of the nn.Linear layers of build_deep_mlp(3, 50, "relu", ...)')
    expect.shape(build_deep_mlp(3, 50, "relu", "he", True)(torch.zeros(4, 784)), (4, 10),
                 'build_deep_mlp(3, 50, "relu", "he", True)(torch.zeros(4, 784))')


@ctx.check("build_deep_mlp")
def glorot_uniform_weights_and_zero_biases():
    torch.manual_seed(0)
    linears = [m for m in build_deep_mlp(2, 400, "sigmoid", "glorot", False)
               if isinstance(m, nn.Linear)]
    w = linears[0].weight.detach()
    limit = math.sqrt(6 / (784 + 400))
    expect.close(float(w.var()), 2 / (784 + 400), "variance of the first layer's weights "
                 'with init="glorot" (Glorot: 2 / (fan_in + fan_out), fan_in = 784, '
                 "fan_out = 400)", atol=0, rtol=0.03)
    expect.true(float(w.abs().max()) <= limit * 1.0001,
                f"Some first-layer weights are beyond ±{limit:.4f} = ±√(6 / (784 + 400)): "
                "Glorot uniform draws from a uniform distribution bounded there, not from a "
                "normal one.",
                f"Algunos pesos de la primera capa superan ±{limit:.4f} = ±√(6 / (784 + 400)): "
                "Glorot uniforme saca de una distribución uniforme acotada ahí, no de una "
                "normal.")
    expect.close(float(linears[-1].weight.detach().var()), 2 / (400 + 10), "variance of the "
                 'last layer\'s weights with init="glorot"', atol=0, rtol=0.15)
    for layer in linears:
        expect.close(layer.bias.detach(), torch.zeros_like(layer.bias), "biases of every "
                     "nn.Linear (they start at zero)")


@ctx.check("build_deep_mlp")
def he_normal_weights():
    torch.manual_seed(0)
    linears = [m for m in build_deep_mlp(2, 400, "relu", "he", False)
               if isinstance(m, nn.Linear)]
    w = linears[0].weight.detach()
    expect.close(float(w.var()), 2 / 784, 'variance of the first layer\'s weights with '
                 'init="he" (He: 2 / fan_in, fan_in = 784 inputs)', atol=0, rtol=0.03)
    beyond = float((w.abs() > 2 * math.sqrt(2 / 784)).float().mean())
    expect.true(beyond > 0.02,
                f"Only {beyond:.2%} of the first-layer weights are beyond 2 standard "
                "deviations; a normal distribution puts about 4.6 % there. He normal draws "
                "from N(0, 2 / fan_in), not from a uniform distribution.",
                f"Solo el {beyond:.2%} de los pesos de la primera capa supera 2 desviaciones "
                "estándar; una normal deja alrededor del 4.6 % ahí. He normal saca de "
                "N(0, 2 / fan_in), no de una distribución uniforme.")
    expect.close(float(linears[1].weight.detach().var()), 2 / 400, 'variance of the second '
                 'layer\'s weights with init="he" (fan_in = 400)', atol=0, rtol=0.03)
    for layer in linears:
        expect.close(layer.bias.detach(), torch.zeros_like(layer.bias), "biases of every "
                     "nn.Linear (they start at zero)")


# %% [markdown] lang="en"
# ## 3. The gradient of each layer before any update
# Backpropagation multiplies, layer after layer going back, by each layer's weights and by the
# slope of its activation. The sigmoid's slope is at most 0.25 (at 0) and much smaller once it
# saturates, so the product over 20 layers shrinks geometrically; ReLU's slope is 0 or 1. The
# size of the gradient each layer receives is the norm ‖∂L/∂W‖ of its weight's gradient, for
# one batch of training images, before the first update.

# %% [markdown] lang="es"
# ## 3. El gradiente de cada capa antes de cualquier actualización
# La retropropagación multiplica, capa tras capa hacia atrás, por los pesos de cada capa y por
# la pendiente de su activación. La pendiente de la sigmoide es como mucho 0.25 (en 0) y mucho
# menor cuando satura, así que el producto a lo largo de 20 capas se achica geométricamente; la
# pendiente de ReLU es 0 o 1. El tamaño del gradiente que recibe cada capa es la norma ‖∂L/∂W‖
# del gradiente de su peso, para un lote de imágenes de entrenamiento, antes de la primera
# actualización.

# %% exercise="layer_grad_norms"
def layer_grad_norms(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> list:
    """[en] Return the norm ‖∂L/∂W‖ of the gradient of the weight of every `nn.Linear` of
    `model`, from the first layer to the last, as a list of Python floats, where L is the
    cross-entropy of `model(x)` against the labels `y` (one forward and one backward pass).
    Biases are not included. Do not change the weights, and do not let a gradient left in
    `.grad` by an earlier pass add up with yours (zero the gradients first, or use
    `torch.autograd.grad`, which does not touch `.grad`).

    [es] Devuelve la norma ‖∂L/∂W‖ del gradiente del peso de cada `nn.Linear` de `model`, de
    la primera capa a la última, como una lista de floats de Python, donde L es la entropía
    cruzada de `model(x)` contra las etiquetas `y` (una pasada hacia adelante y una hacia
    atrás). Los sesgos no se incluyen. No cambies los pesos ni dejes que un gradiente que
    quedó en `.grad` de una pasada anterior se sume al tuyo (pon los gradientes en cero
    primero, o usa `torch.autograd.grad`, que no toca `.grad`).
    """
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    loss = nn.functional.cross_entropy(model(x), y)
    return [float(g.norm()) for g in torch.autograd.grad(loss, weights)]


# %% check
import torch
from torch import nn

from dlab.diagnostics.vanishing import weight_gradient_norms
from dlab.exercises import expect


def _small_net():
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(6, 8), nn.Sigmoid(), nn.Linear(8, 5), nn.Sigmoid(),
                          nn.Linear(5, 3))
    g = torch.Generator().manual_seed(4)
    return model, torch.randn(10, 6, generator=g), torch.randint(0, 3, (10,), generator=g)


@ctx.check("layer_grad_norms")
def one_norm_per_weight_from_first_to_last():
    model, x, y = _small_net()
    got = layer_grad_norms(model, x, y)
    expect.type(got, list, "layer_grad_norms(model, x, y)")
    expect.equal(len(got), 3, "len(layer_grad_norms(...)) for a model with 3 nn.Linear "
                 "(weights only, no biases)")
    expect.true(all(isinstance(v, float) for v in got),
                "layer_grad_norms should return Python floats (float(tensor.norm())).",
                "layer_grad_norms debe devolver floats de Python (float(tensor.norm())).")
    expected = [norm for _, norm in weight_gradient_norms(model, x, y, nn.CrossEntropyLoss())]
    expect.close(got, expected, "layer_grad_norms(model, x, y) (first layer first)",
                 atol=1e-7, rtol=1e-4)


@ctx.check("layer_grad_norms")
def repeated_calls_agree_and_weights_stay():
    model, x, y = _small_net()
    before = [p.detach().clone() for p in model.parameters()]
    for p in model.parameters():  # a gradient left over by someone else must not count
        p.grad = torch.ones_like(p)
    first = layer_grad_norms(model, x, y)
    second = layer_grad_norms(model, x, y)
    expected = [norm for _, norm in weight_gradient_norms(model, x, y, nn.CrossEntropyLoss())]
    expect.close(first, expected, "layer_grad_norms(model, x, y) when the parameters already "
                 "hold a gradient (zero it first, or use torch.autograd.grad)", atol=1e-7,
                 rtol=1e-4)
    expect.close(second, first, "a second call of layer_grad_norms(model, x, y) (gradients "
                 "must not add up between calls)", atol=1e-7, rtol=1e-4)
    for p, b in zip(model.parameters(), before):
        expect.close(p.detach(), b, "the model's parameters after layer_grad_norms (no "
                     "optimizer step)")


# %% [markdown] lang="en"
# Each network is measured on a copy of itself, on the same batch of 256 training images; the
# training below starts from the untouched original. A fifth network, ReLU with weights drawn
# from N(0, 1), shows the opposite failure: far too much variance, which every layer
# multiplies, so the gradients explode instead. It is not trained.

# %% [markdown] lang="es"
# Cada red se mide sobre una copia de sí misma, con el mismo lote de 256 imágenes de
# entrenamiento; el entrenamiento de abajo parte del original intacto. Una quinta red, ReLU con
# pesos sacados de N(0, 1), muestra la falla opuesta: demasiada varianza, que cada capa
# multiplica, así que los gradientes explotan. Esa no se entrena.

# %%
conditions = {  # key: (label, activation, init, batchnorm)
    "sigmoid_glorot": (ctx.t("sigmoid + Glorot", "sigmoide + Glorot"), "sigmoid", "glorot",
                       False),
    "relu_glorot": ("ReLU + Glorot", "relu", "glorot", False),
    "relu_he": ("ReLU + He", "relu", "he", False),
    "relu_he_bn": ("ReLU + He + BN", "relu", "he", True),
}
probe_x, probe_y = train[0][:cfg.probe_size], train[1][:cfg.probe_size]
models, grad_norms = {}, {}
for key, (label, activation, init, batchnorm) in conditions.items():
    torch.manual_seed(ctx.seed)
    models[key] = build_deep_mlp(cfg.depth, cfg.width, activation, init, batchnorm)
    grad_norms[key] = layer_grad_norms(copy.deepcopy(models[key]), probe_x, probe_y)

torch.manual_seed(ctx.seed)
exploding = build_deep_mlp(cfg.depth, cfg.width, "relu", "he", False)
for layer in exploding:
    if isinstance(layer, nn.Linear):
        nn.init.normal_(layer.weight, std=1.0)
exploding_label = ctx.t("ReLU + N(0, 1) (not trained)", "ReLU + N(0, 1) (no se entrena)")
grad_norms["relu_normal1"] = layer_grad_norms(exploding, probe_x, probe_y)
labels = {key: c[0] for key, c in conditions.items()} | {"relu_normal1": exploding_label}

ctx.table(ctx.t("network|‖∂L/∂W‖ first layer|‖∂L/∂W‖ last layer|first / last",
                "red|‖∂L/∂W‖ primera capa|‖∂L/∂W‖ última capa|primera / última").split("|"),
          [[labels[k], f"{g[0]:.2e}", f"{g[-1]:.2e}", f"{g[0] / g[-1]:.1e}"]
           for k, g in grad_norms.items()])

fig, ax = plt.subplots(figsize=(8.5, 4.5))
for key, norms in grad_norms.items():
    ax.plot(range(1, len(norms) + 1), norms, marker="o", markersize=3, label=labels[key],
            linestyle=":" if key == "relu_normal1" else "-")
ax.set_yscale("log")
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_xlabel(ctx.t("layer (1 = first, next to the input)",
                    "capa (1 = la primera, junto a la entrada)"))
ax.set_ylabel("‖∂L/∂W‖")
ax.set_title(ctx.t("Weight-gradient norm of each layer before the first update",
                   "Norma del gradiente de los pesos de cada capa antes de la primera "
                   "actualización"))
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
ctx.figure("gradient_norms", fig)

# %% [markdown] lang="en"
# With sigmoids the first layer gets a gradient many orders of magnitude smaller than the
# last: whatever the learning rate, the layers next to the input hardly move. ReLU with
# Glorot keeps the gradients of the same order from layer to layer, but all of them small,
# because Glorot's variance is half of what a ReLU layer needs: the signal halves at every
# layer on the way in and the gradient at every layer on the way back. He's variance keeps
# both steady. With BatchNorm the first layer's gradient is the largest: a BatchNorm layer
# makes its output independent of the scale of the weights just before it, and the gradient of
# those weights then grows as they shrink (it scales as 1 / ‖W‖); the first layer, with 784
# inputs, gets He's smallest weights.

# %% [markdown] lang="es"
# Con sigmoides la primera capa recibe un gradiente muchos órdenes de magnitud menor que la
# última: con cualquier tasa de aprendizaje, las capas cercanas a la entrada casi no se
# mueven. ReLU con Glorot mantiene los gradientes del mismo orden de capa a capa, pero todos
# pequeños, porque la varianza de Glorot es la mitad de la que necesita una capa ReLU: la señal
# se reduce a la mitad en cada capa al ir hacia adelante y el gradiente en cada capa al volver.
# La varianza de He mantiene ambos estables. Con BatchNorm el gradiente de la primera capa es el
# mayor de todos: una capa BatchNorm hace que su salida no dependa de la escala de los pesos
# que tiene justo antes, y el gradiente de esos pesos crece cuando ellos se achican (escala como
# 1 / ‖W‖); la primera capa, con 784 entradas, recibe los pesos más pequeños de He.

# %% [markdown] lang="en"
# ## 4. Twenty epochs of plain SGD
# The four networks train the same way: the same seed before each build, SGD without momentum
# at learning rate 0.01, batches of 128 in the same order, 20 epochs. Plain SGD is the honest
# test here: an adaptive optimizer such as Adam divides each weight's step by the size of its
# own recent gradients, which partly hides a vanishing gradient. The training doctor warns
# about the sigmoid network before its first step.

# %% [markdown] lang="es"
# ## 4. Veinte épocas de SGD simple
# Las cuatro redes entrenan igual: la misma semilla antes de construir cada una, SGD sin
# momentum con tasa de aprendizaje 0.01, lotes de 128 en el mismo orden, 20 épocas. SGD simple
# es la prueba honesta aquí: un optimizador adaptativo como Adam divide el paso de cada peso
# por el tamaño de sus propios gradientes recientes, lo que disimula en parte un gradiente que
# se desvanece. El doctor de entrenamiento avisa sobre la red con sigmoides antes de su primer
# paso.

# %%
runs = {}
for key, model in models.items():
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    # fp32: the sigmoid network's gradients are tiny; bf16 would blur them further.
    runs[key] = fit_run(model, optimizer, train, val, epochs=cfg.epochs,
                        batch_size=cfg.batch_size, seed=ctx.seed,
                        **ctx.trainer_options(precision="fp32"))
    history = runs[key].history
    ctx.console.print(f"{labels[key]:>18}: " + ctx.t(
        f"train loss {history['loss'][-1]:.3f}  val acc {history['val_accuracy'][-1]:.3f}  "
        f"({runs[key].seconds / len(history):.1f} s/epoch)",
        f"pérdida entren. {history['loss'][-1]:.3f}  exactitud val. "
        f"{history['val_accuracy'][-1]:.3f}  ({runs[key].seconds / len(history):.1f} s/época)"))

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.3))
curves(ax_loss, {labels[k]: r.history["loss"] for k, r in runs.items()},
       title=ctx.t("Training loss", "Pérdida de entrenamiento"),
       xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy")
curves(ax_acc, {labels[k]: r.history["val_accuracy"] for k, r in runs.items()},
       title=ctx.t("Validation accuracy", "Exactitud de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("accuracy", "exactitud"),
       hlines={ctx.t("chance (0.10)", "azar (0.10)"): 0.1})
fig.tight_layout()
ctx.figure("training_curves", fig)

# %% [markdown] lang="en"
# The sigmoid network's loss stays at ln 10 ≈ 2.30, the loss of a uniform guess over ten
# classes: its first layers never leave their starting point. ReLU + Glorot spends its first
# epochs almost as flat, while the small gradients slowly grow the weights, and only then
# starts to learn. Both He networks learn from the first epoch; without BatchNorm, a stack of
# 20 layers at this learning rate is jumpy, and its validation accuracy can drop several
# points from one epoch to the next, while the normalized network climbs steadily.

# %% [markdown] lang="es"
# La pérdida de la red con sigmoides se queda en ln 10 ≈ 2.30, la pérdida de adivinar al azar
# entre diez clases: sus primeras capas nunca salen de su punto de partida. ReLU + Glorot pasa
# sus primeras épocas casi igual de plana, mientras los gradientes pequeños agrandan poco a
# poco los pesos, y recién entonces empieza a aprender. Las dos redes con He aprenden desde la
# primera época; sin BatchNorm, una pila de 20 capas con esta tasa de aprendizaje da saltos, y
# su exactitud de validación puede caer varios puntos de una época a la siguiente, mientras
# que la red normalizada sube de forma pareja.

# %% [markdown] lang="en"
# ## 5. How the four compare
# The course expects sigmoid to practically not learn, ReLU + Glorot to learn slowly, ReLU +
# He reasonably, and ReLU + He + BatchNorm fastest and best. "Best" is read on the final
# validation accuracy; "fastest" on the validation accuracy averaged over all epochs, which is
# larger for a curve that rises early.

# %% [markdown] lang="es"
# ## 5. Cómo se comparan las cuatro
# El curso espera que la sigmoide prácticamente no aprenda, que ReLU + Glorot aprenda lento,
# ReLU + He razonablemente, y ReLU + He + BatchNorm más rápido y mejor. "Mejor" se lee en la
# exactitud final de validación; "más rápido", en la exactitud de validación promediada sobre
# todas las épocas, que es mayor para una curva que sube temprano.

# %%
final = {k: r.history["val_accuracy"][-1] for k, r in runs.items()}
mean = {k: float(np.mean(r.history["val_accuracy"])) for k, r in runs.items()}
ctx.table(ctx.t("network|final train loss|final val acc|mean val acc over epochs|s/epoch",
                "red|pérdida entren. final|exact. val. final|exact. val. media por época|"
                "s/época").split("|"),
          [[labels[k], r.history["loss"][-1], final[k], mean[k], r.seconds / len(r.history)]
           for k, r in runs.items()])

# %%
metrics = {
    "sigmoid_grad_ratio": grad_norms["sigmoid_glorot"][0] / grad_norms["sigmoid_glorot"][-1],
    "sigmoid_final_val_accuracy": final["sigmoid_glorot"],
    "first_three_rank_as_course": final["sigmoid_glorot"] < final["relu_glorot"]
    < final["relu_he"],
    "bn_best_final": max(final, key=final.get) == "relu_he_bn",
    "bn_best_mean": max(mean, key=mean.get) == "relu_he_bn",
    "exploding_first_layer_grad": grad_norms["relu_normal1"][0],
}
for key, run in runs.items():
    norms = grad_norms[key]
    metrics |= {f"{key}_first_layer_grad": norms[0], f"{key}_last_layer_grad": norms[-1],
                f"{key}_final_val_accuracy": final[key], f"{key}_mean_val_accuracy": mean[key],
                f"{key}_final_train_loss": run.history["loss"][-1],
                f"{key}_seconds_per_epoch": run.seconds / len(run.history)}
ctx.finish(metrics)
