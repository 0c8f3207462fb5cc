# %% [markdown] lang="en"
# A single perceptron learns AND and OR but can never get XOR right, since no line separates
# XOR's classes. One hidden layer of 8 ReLU units solves XOR; with linear activations the same
# network cannot. Backprop by hand matches torch autograd.

# %% [markdown] lang="es"
# Un perceptrón aprende AND y OR pero nunca acierta XOR, porque ninguna recta separa sus
# clases. Una capa oculta de 8 unidades ReLU resuelve XOR; con activaciones lineales la misma
# red no puede. La retropropagación a mano coincide con el autograd de torch.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    perceptron_epochs: int = 20
    perceptron_lr: float = 0.1
    hidden: int = 8
    epochs: int = 200  # one full-batch step per epoch: the 4 XOR points are the whole data set
    lr: float = 0.05

    def check(self):
        positive(perceptron_epochs=self.perceptron_epochs, perceptron_lr=self.perceptron_lr,
                 hidden=self.hidden, epochs=self.epochs, lr=self.lr)


LAB = Lab(
    id="perceptron-xor",
    title_en="Perceptron, XOR and the MLP",
    title_es="Perceptrón, XOR y el MLP",
    source="Part 2 · class 100",
    block="part2-foundations",
    dataset="truth tables of AND, OR, XOR (4 points each)",
    criteria=(
        Criterion("perceptron_and_accuracy", ">=", 1.0,
                  "Perceptron learns AND (accuracy 1.0)",
                  "El perceptrón aprende AND (exactitud 1.0)"),
        Criterion("perceptron_or_accuracy", ">=", 1.0,
                  "Perceptron learns OR (accuracy 1.0)",
                  "El perceptrón aprende OR (exactitud 1.0)"),
        Criterion("perceptron_xor_max_accuracy", "<", 1.0,
                  "Perceptron never solves XOR (best epoch accuracy < 1.0)",
                  "El perceptrón nunca resuelve XOR (mejor exactitud por época < 1.0)"),
        Criterion("mlp_relu_accuracy", ">=", 1.0,
                  "MLP [8] with ReLU solves XOR (accuracy 1.0)",
                  "El MLP [8] con ReLU resuelve XOR (exactitud 1.0)"),
        Criterion("mlp_linear_accuracy", "<=", 0.75,
                  "The same MLP with linear activations cannot (accuracy ≤ 0.75)",
                  "El mismo MLP con activaciones lineales no puede (exactitud ≤ 0.75)"),
        Criterion("backprop_max_abs_diff", "<=", 1e-6,
                  "Backprop by hand (1-2-1 MLP, MSE) equals torch autograd (max |diff| ≤ 1e-6)",
                  "Retropropagación a mano (MLP 1-2-1, MSE) igual a autograd de torch "
                  "(máx |dif| ≤ 1e-6)"),
    ),
    config=Config,
    quick={"perceptron_epochs": 10, "epochs": 20},
)

# %% [markdown] lang="en"
# ## 1. One perceptron on three logic gates
# Rosenblatt's perceptron is one weighted sum and a step: it predicts 1 when w·x + b ≥ 0 and
# 0 otherwise. It learns from its mistakes, one sample at a time: when it says 0 but the
# answer is 1, the rule adds η·x to w (and η to b), which raises w·x + b for that input; when
# it says 1 but the answer is 0, it subtracts them. When it is right, nothing moves.

# %% [markdown] lang="es"
# ## 1. Un perceptrón con tres compuertas lógicas
# El perceptrón de Rosenblatt es una suma ponderada y un escalón: predice 1 cuando
# w·x + b ≥ 0 y 0 en otro caso. Aprende de sus errores, una muestra a la vez: cuando dice 0
# pero la respuesta es 1, la regla suma η·x a w (y η a b), lo que sube w·x + b para esa
# entrada; cuando dice 1 pero la respuesta es 0, los resta. Cuando acierta, nada se mueve.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.engine import Trainer, metrics
from dlab.scratch import Perceptron, truth_table
from dlab.scratch import init_params as init_121
from dlab.viz.gates import gate_regions

gates = ("and", "or", "xor")
ctx.table(["x1", "x2"] + [g.upper() for g in gates],
          [[int(a), int(b)] + [int(truth_table(g)[1][i]) for g in gates]
           for i, (a, b) in enumerate(truth_table("and")[0])])


# %% exercise="perceptron_update"
def perceptron_update(w: np.ndarray, b: float, x: np.ndarray, y: float, lr: float):
    """[en] One step of the perceptron rule on one sample. `w` (shape (n,)) and `b` (a number)
    are the current weights and bias, `x` (shape (n,)) the input, `y` its target (0 or 1),
    `lr` the learning rate η. First predict ŷ = 1 if w·x + b >= 0, else 0 (note: exactly 0
    counts as 1). Then, with error = y - ŷ (so 0, 1 or -1), return the pair
    (w + η·error·x, b + η·error). When the prediction is right nothing changes.

    [es] Un paso de la regla del perceptrón con una muestra. `w` (forma (n,)) y `b` (un
    número) son los pesos y el sesgo actuales, `x` (forma (n,)) la entrada, `y` su objetivo
    (0 o 1) y `lr` la tasa de aprendizaje η. Primero predice ŷ = 1 si w·x + b >= 0, y 0 si no
    (ojo: exactamente 0 cuenta como 1). Luego, con error = y - ŷ (o sea 0, 1 o -1), devuelve
    el par (w + η·error·x, b + η·error). Si la predicción es correcta no cambia nada.
    """
    y_hat = 1.0 if x @ w + b >= 0 else 0.0
    error = y - y_hat
    return w + lr * error * x, b + lr * error


# %% check
import numpy as np

from dlab.exercises import expect


def _update(w, b, x, y, lr):
    result = perceptron_update(np.array(w, dtype=float), b, np.array(x, dtype=float), y, lr)
    expect.true(isinstance(result, tuple) and len(result) == 2,
                "perceptron_update must return a pair (w, b).",
                "perceptron_update debe devolver un par (w, b).", "wrong_type")
    return np.asarray(result[0], dtype=float), float(result[1])


@ctx.check("perceptron_update")
def a_right_prediction_changes_nothing():
    # w·x + b = 0.5 - 0 + 0.1 = 0.6 >= 0: predicts 1, and the target is 1.
    w, b = _update([0.5, -0.2], 0.1, [1.0, 0.0], 1.0, 0.1)
    expect.shape(w, (2,), "w returned by perceptron_update")
    expect.close(w, [0.5, -0.2], "w after a right prediction (w·x + b = 0.6, y = 1)")
    expect.close(b, 0.1, "b after a right prediction (w·x + b = 0.6, y = 1)")


@ctx.check("perceptron_update")
def a_missed_one_adds_lr_times_x():
    # w·x + b = -0.5 + 0.2 - 0.1 = -0.4 < 0: predicts 0, but the target is 1 (error +1).
    w, b = _update([-0.5, 0.2], -0.1, [1.0, 1.0], 1.0, 0.1)
    expect.close(w, [-0.4, 0.3], "w after predicting 0 for y = 1 (w=[-0.5, 0.2], x=[1, 1], "
                 "lr=0.1)")
    expect.close(b, 0.0, "b after predicting 0 for y = 1 (b=-0.1, lr=0.1)", atol=1e-9)


@ctx.check("perceptron_update")
def a_false_one_subtracts_and_zero_counts_as_one():
    # w·x + b = 0.3 - 0.3 + 0 = 0 exactly: the step says 1, but the target is 0 (error -1).
    w, b = _update([0.3, 0.5], 0.0, [1.0, -0.6], 0.0, 0.5)
    expect.close(w, [-0.2, 0.8], "w after predicting 1 for y = 0 at w·x + b = 0 exactly "
                 "(w=[0.3, 0.5], x=[1, -0.6], lr=0.5)")
    expect.close(b, -0.5, "b after predicting 1 for y = 0 at w·x + b = 0 exactly (b=0, "
                 "lr=0.5)")


# %% [markdown] lang="en"
# The same rule, with the same start, trained for a few epochs on each gate:

# %% [markdown] lang="es"
# La misma regla, desde el mismo punto de partida, entrenada unas épocas en cada compuerta:

# %%
perceptrons, curves = {}, {}
for gate in gates:
    X, y = truth_table(gate)
    perceptrons[gate] = Perceptron(2, lr=cfg.perceptron_lr, seed=ctx.seed)
    curves[gate] = perceptrons[gate].fit(X, y, perceptron_update, epochs=cfg.perceptron_epochs)
ctx.table([ctx.t("gate", "compuerta"), ctx.t("final accuracy", "exactitud final"),
           ctx.t("best epoch accuracy", "mejor exactitud por época"), "w", "b"],
          [[g.upper(), curves[g][-1], max(curves[g]),
            np.array2string(perceptrons[g].w, precision=2), round(perceptrons[g].b, 2)]
           for g in gates])

fig, ax = plt.subplots(figsize=(6, 3.6))
epochs = np.arange(1, cfg.perceptron_epochs + 1)
for gate, style in zip(gates, ("o-", "s--", "^-")):
    ax.plot(epochs, curves[gate], style, label=gate.upper(), markersize=4)
ax.set_ylim(0, 1.05)
ax.xaxis.get_major_locator().set_params(integer=True)
ax.set_xlabel(ctx.t("epoch", "época"))
ax.set_ylabel(ctx.t("accuracy", "exactitud"))
ax.grid(alpha=0.3)
ax.legend()
ctx.figure("perceptron_accuracy", fig)

# %% [markdown] lang="en"
# Accuracy over the 4 rows of the truth table after each epoch: AND and OR reach 1.0 and stay
# there; XOR never does, the weights keep cycling. Below, where each trained perceptron says 1
# (red) and 0 (blue): always a half-plane.

# %% [markdown] lang="es"
# Exactitud sobre las 4 filas de la tabla de verdad tras cada época: AND y OR llegan a 1.0 y
# se quedan; XOR nunca llega, los pesos dan vueltas sin converger. Abajo, dónde cada
# perceptrón entrenado dice 1 (rojo) y 0 (azul): siempre un semiplano.

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
for ax, gate in zip(axes, gates):
    X, y = truth_table(gate)
    accuracy = ctx.t("accuracy", "exactitud")
    gate_regions(ax, perceptrons[gate].predict, X, y,
                 f"{gate.upper()} — {accuracy} {curves[gate][-1]:.2f}")
ctx.figure("perceptron_regions", fig)

# %% [markdown] lang="en"
# For XOR, any half-plane gets at least one of the four corners wrong. The perceptron rule only
# moves the weights on mistakes, and it is guaranteed to stop once one line separates the
# classes. XOR has no such line: the points (0,1) and (1,0) must land on one side and (0,0),
# (1,1) on the other, so the rule keeps correcting one corner at the expense of another,
# forever.

# %% [markdown] lang="es"
# Para XOR, cualquier semiplano se equivoca en al menos una de las cuatro esquinas. La regla
# del perceptrón solo mueve los pesos cuando se equivoca, y está garantizado que se detiene si
# existe una recta que separe las clases. XOR no tiene esa recta: (0,1) y (1,0) deben caer de
# un lado y (0,0), (1,1) del otro, así que la regla corrige una esquina a costa de otra,
# indefinidamente.

# %% [markdown] lang="en"
# ## 2. An MLP on XOR: ReLU vs linear activations
# A hidden layer of 8 units between the inputs and the two output logits, trained with Adam on
# the 4 points (one full-batch step per epoch). The same network is trained twice, from the
# very same weights: once with a ReLU after the hidden layer, once with no activation at all.
#
# The inputs are written as -1/+1 instead of 0/1: zero-mean inputs, for the same reason we
# standardize features. With them and He initialization of the hidden layer (variance
# 2/fan_in), 100 of 100 seeds reached accuracy 1.0 when we tried; with 0/1 inputs and torch's
# default initialization, about 1 seed in 10 got stuck with every ReLU unit silent on two of
# the points.

# %% [markdown] lang="es"
# ## 2. Un MLP sobre XOR: ReLU vs activaciones lineales
# Una capa oculta de 8 unidades entre las entradas y los dos logits de salida, entrenada con
# Adam sobre los 4 puntos (un paso con el lote completo por época). La misma red se entrena
# dos veces, desde exactamente los mismos pesos: una con una ReLU después de la capa oculta y
# otra sin ninguna activación.
#
# Las entradas se escriben como -1/+1 en lugar de 0/1: entradas de media cero, por la misma
# razón por la que estandarizamos variables. Con ellas y la inicialización de He en la capa
# oculta (varianza 2/fan_in), 100 de 100 semillas llegaron a exactitud 1.0 cuando lo probamos;
# con entradas 0/1 y la inicialización por defecto de torch, cerca de 1 semilla de cada 10 se
# quedaba atascada, con todas las unidades ReLU apagadas en dos de los puntos.

# %% exercise="build_xor_mlp"
def build_xor_mlp(hidden: int, activation: str) -> nn.Module:
    """[en] Return an `nn.Sequential` for XOR with one hidden layer: `nn.Linear(2, hidden)`,
    then `nn.ReLU()` if `activation` is "relu" (and nothing, or `nn.Identity()`, if it is
    "linear"), then `nn.Linear(hidden, 2)` to the 2 output logits, with no activation after
    it. Create the two `nn.Linear` layers in this order (input layer first), so that a given
    seed gives the same starting weights as ours.

    [es] Devuelve un `nn.Sequential` para XOR con una capa oculta: `nn.Linear(2, hidden)`,
    luego `nn.ReLU()` si `activation` es "relu" (y nada, o `nn.Identity()`, si es "linear"),
    y luego `nn.Linear(hidden, 2)` hacia los 2 logits de salida, sin activación después. Crea
    las dos capas `nn.Linear` en ese orden (primero la de entrada), para que una semilla dada
    dé los mismos pesos iniciales que los nuestros.
    """
    layers = [nn.Linear(2, hidden)]
    if activation == "relu":
        layers.append(nn.ReLU())
    return nn.Sequential(*layers, nn.Linear(hidden, 2))


# %% check
import torch
from torch import nn

from dlab.exercises import expect


def _linear_shapes(model):
    return [tuple(m.weight.shape) for m in model.modules() if isinstance(m, nn.Linear)]


@ctx.check("build_xor_mlp")
def has_one_hidden_layer_and_two_logits():
    model = build_xor_mlp(8, "relu")
    expect.type(model, nn.Module, 'build_xor_mlp(8, "relu")')
    expect.shape(model(torch.zeros(4, 2)), (4, 2), 'build_xor_mlp(8, "relu")(torch.zeros(4, 2))')
    expect.equal(_linear_shapes(model), [(8, 2), (2, 8)],
                 'weight shapes of the nn.Linear layers of build_xor_mlp(8, "relu"), in order')
    expect.equal(_linear_shapes(build_xor_mlp(3, "linear")), [(3, 2), (2, 3)],
                 'weight shapes of the nn.Linear layers of build_xor_mlp(3, "linear"), in order')


@ctx.check("build_xor_mlp")
def relu_version_bends_and_ends_in_raw_logits():
    model = build_xor_mlp(8, "relu")
    relus = sum(isinstance(m, nn.ReLU) for m in model.modules())
    expect.equal(relus, 1, 'number of nn.ReLU in build_xor_mlp(8, "relu")')
    expect.last_layer_linear(model, 'build_xor_mlp(8, "relu")')


@ctx.check("build_xor_mlp")
def linear_version_is_one_affine_map():
    torch.manual_seed(0)
    model = build_xor_mlp(8, "linear")
    a, b = torch.randn(5, 2), torch.randn(5, 2)
    with torch.no_grad():
        # An affine map f satisfies f(a) + f(b) = f(a + b) + f(0).
        gap = (model(a) + model(b) - model(a + b) - model(torch.zeros(5, 2))).abs().max()
    expect.true(float(gap) < 1e-5,
                'build_xor_mlp(8, "linear") is not a linear (affine) map: it must have no '
                "activation function between its two nn.Linear layers.",
                'build_xor_mlp(8, "linear") no es una función lineal (afín): no debe tener '
                "ninguna función de activación entre sus dos capas nn.Linear.")


# %%
X_np, y_np = truth_table("xor")
X = torch.tensor(2 * X_np - 1, dtype=torch.float32)  # false/true as -1/+1
y = torch.tensor(y_np, dtype=torch.int64)


def train_xor(activation: str):
    torch.manual_seed(ctx.seed)  # both variants start from the very same weights
    model = build_xor_mlp(cfg.hidden, activation)
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    nn.init.kaiming_normal_(first.weight, nonlinearity="relu")  # He init: variance 2/fan_in
    nn.init.zeros_(first.bias)
    # progress=False: 4 points make one step per epoch, and a line per epoch is just noise.
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr),
                      metrics=["accuracy"], **ctx.trainer_options(), progress=False)
    history = trainer.fit((X, y), epochs=cfg.epochs, batch_size=4, seed=ctx.seed)
    return trainer, history, trainer.evaluate((X, y))


relu_trainer, relu_history, relu_eval = train_xor("relu")
linear_trainer, linear_history, linear_eval = train_xor("linear")
ctx.table([ctx.t("activation", "activación"), ctx.t("epochs", "épocas"),
           ctx.t("accuracy", "exactitud"), ctx.t("loss", "pérdida")],
          [["ReLU", cfg.epochs, relu_eval["accuracy"], relu_eval["loss"]],
           [ctx.t("linear", "lineal"), cfg.epochs, linear_eval["accuracy"],
            linear_eval["loss"]]])


# %%
def regions(trainer):
    return lambda grid: metrics.predictions(
        trainer.predict(torch.as_tensor(grid, dtype=torch.float32)))


fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
gate_regions(axes[0], regions(relu_trainer), X.numpy(), y_np,
             ctx.t(f"ReLU — accuracy {relu_eval['accuracy']:.2f}",
                   f"ReLU — exactitud {relu_eval['accuracy']:.2f}"))
gate_regions(axes[1], regions(linear_trainer), X.numpy(), y_np,
             ctx.t(f"linear — accuracy {linear_eval['accuracy']:.2f}",
                   f"lineal — exactitud {linear_eval['accuracy']:.2f}"))
axes[2].semilogy(relu_history["epoch"], relu_history["loss"], label="ReLU")
axes[2].semilogy(linear_history["epoch"], linear_history["loss"],
                 label=ctx.t("linear", "lineal"))
axes[2].set_xlabel(ctx.t("epoch", "época"))
axes[2].set_title(ctx.t("training loss (cross-entropy)",
                        "pérdida de entrenamiento (entropía cruzada)"))
axes[2].grid(alpha=0.3)
axes[2].legend()
fig.tight_layout()
ctx.figure("xor_mlp_regions", fig)

# %% [markdown] lang="en"
# With ReLU the plane is cut into pieces that put opposite corners together; with linear
# activations the boundary is a single line, and the loss stalls at ln 2 ≈ 0.69 (a coin flip).
#
# Why the linear version fails: without an activation, W2 (W1 x + b1) + b2 is just W x + b
# with W = W2 W1. However many layers you stack, the network is one linear classifier, the
# perceptron's problem all over again, so it gets at most 3 of the 4 corners right. The ReLU
# bends the map, and that is what lets the hidden layer re-arrange the corners so that one
# line can split them.

# %% [markdown] lang="es"
# Con ReLU el plano se parte en trozos que juntan las esquinas opuestas; con activaciones
# lineales la frontera es una sola recta y la pérdida se estanca en ln 2 ≈ 0.69 (una moneda
# al aire).
#
# Por qué falla la versión lineal: sin activación, W2 (W1 x + b1) + b2 es simplemente W x + b
# con W = W2 W1. Por muchas capas que se apilen, la red es un único clasificador lineal, el
# mismo problema del perceptrón, y acierta como mucho 3 de las 4 esquinas. La ReLU dobla la
# transformación, y eso permite que la capa oculta reacomode las esquinas de modo que una
# recta pueda separarlas.

# %% [markdown] lang="en"
# ## 3. Backprop by hand vs autograd
# The smallest network with a hidden layer: 1 input, 2 tanh hidden units, 1 output, and the
# squared error of one sample (x = 0.5, y = 1):
#
#     z1 = W1 x + b1   (2,)      h = tanh(z1)   (2,)      ŷ = W2 h + b2   (1,)      L = (ŷ - y)²
#
# Backprop walks this chain from the end: dL/dŷ = 2 (ŷ - y); then the output layer's
# gradients; then dL/dh = W2ᵀ dL/dŷ, through the tanh (tanh' = 1 - tanh²), and the same
# pattern one layer down. Each gradient reuses the one computed just before it: that reuse is
# all backprop is.

# %% [markdown] lang="es"
# ## 3. Retropropagación a mano vs autograd
# La red más pequeña con una capa oculta: 1 entrada, 2 unidades ocultas tanh, 1 salida, y el
# error cuadrático de una muestra (x = 0.5, y = 1):
#
#     z1 = W1 x + b1   (2,)      h = tanh(z1)   (2,)      ŷ = W2 h + b2   (1,)      L = (ŷ - y)²
#
# La retropropagación recorre esta cadena desde el final: dL/dŷ = 2 (ŷ - y); luego los
# gradientes de la capa de salida; luego dL/dh = W2ᵀ dL/dŷ, a través de la tanh
# (tanh' = 1 - tanh²), y el mismo patrón una capa más abajo. Cada gradiente reutiliza el que
# se calculó justo antes: esa reutilización es todo lo que es la retropropagación.

# %% exercise="backprop_by_hand"
def backprop_by_hand(params: dict, x: float, y: float) -> dict:
    """[en] Gradients of L = (ŷ - y)² for the 1-2-1 network h = tanh(W1 x + b1),
    ŷ = W2 h + b2, on one sample, by the chain rule, with numpy only (no torch, no autograd).
    `params` holds numpy arrays W1 (2, 1), b1 (2,), W2 (1, 2), b2 (1,); `x` and `y` are
    numbers. Return a dict {"W1": dL/dW1, "b1": dL/db1, "W2": dL/dW2, "b2": dL/db2}, each
    with the shape of its parameter. Run the forward pass first and keep h and ŷ: the
    backward pass needs them (tanh'(z1) = 1 - h²).

    [es] Gradientes de L = (ŷ - y)² para la red 1-2-1 h = tanh(W1 x + b1), ŷ = W2 h + b2,
    con una muestra, por la regla de la cadena y solo con numpy (sin torch ni autograd).
    `params` tiene arreglos de numpy W1 (2, 1), b1 (2,), W2 (1, 2), b2 (1,); `x` e `y` son
    números. Devuelve un dict {"W1": dL/dW1, "b1": dL/db1, "W2": dL/dW2, "b2": dL/db2}, cada
    uno con la forma de su parámetro. Haz primero el forward y guarda h e ŷ: el backward los
    necesita (tanh'(z1) = 1 - h²).
    """
    x = np.array([x], dtype=np.float64)
    h = np.tanh(params["W1"] @ x + params["b1"])  # (2,)
    y_hat = params["W2"] @ h + params["b2"]  # (1,)
    d_y_hat = 2 * (y_hat - y)  # (1,)
    d_W2 = np.outer(d_y_hat, h)  # (1, 2): dL/dW2[0, j] = dL/dŷ · h_j
    d_b2 = d_y_hat
    d_h = params["W2"].T @ d_y_hat  # (2,): h_j reaches L only through ŷ, with weight W2[0, j]
    d_z1 = d_h * (1 - h**2)  # (2,): through the tanh
    d_W1 = np.outer(d_z1, x)  # (2, 1): the output layer's pattern, one layer down
    d_b1 = d_z1
    return {"W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2}


# %% check
import numpy as np
import torch

from dlab.exercises import expect

_PARAMS = {"W1": np.array([[0.8], [-1.2]]), "b1": np.array([0.1, 0.4]),
           "W2": np.array([[1.5, -0.7]]), "b2": np.array([0.2])}


def _autograd(x, y):
    p = {k: torch.tensor(v, requires_grad=True) for k, v in _PARAMS.items()}
    h = torch.tanh(p["W1"] @ torch.tensor([x], dtype=torch.float64) + p["b1"])
    ((p["W2"] @ h + p["b2"] - y) ** 2).sum().backward()
    return {k: t.grad.numpy() for k, t in p.items()}


def _by_hand(x, y):
    grads = backprop_by_hand({k: v.copy() for k, v in _PARAMS.items()}, x, y)
    expect.type(grads, dict, "backprop_by_hand(params, x, y)")
    expect.equal(sorted(grads), ["W1", "W2", "b1", "b2"], "sorted keys of the returned dict")
    return grads


@ctx.check("backprop_by_hand")
def one_gradient_per_parameter_with_its_shape():
    grads = _by_hand(0.5, 1.0)
    for name, value in _PARAMS.items():
        expect.shape(np.asarray(grads[name]), value.shape, f'backprop_by_hand(...)["{name}"]')


@ctx.check("backprop_by_hand")
def output_layer_gradients_match_autograd():
    grads, ref = _by_hand(0.5, 1.0), _autograd(0.5, 1.0)
    expect.close(grads["b2"], ref["b2"], 'dL/db2 = backprop_by_hand(params, 0.5, 1.0)["b2"]')
    expect.close(grads["W2"], ref["W2"], 'dL/dW2 = backprop_by_hand(params, 0.5, 1.0)["W2"]')


@ctx.check("backprop_by_hand")
def hidden_layer_gradients_match_autograd():
    for x, y in ((0.5, 1.0), (-2.0, -0.3)):
        grads, ref = _by_hand(x, y), _autograd(x, y)
        expect.close(grads["b1"], ref["b1"], f'dL/db1 = backprop_by_hand(params, {x}, {y})["b1"]')
        expect.close(grads["W1"], ref["W1"], f'dL/dW1 = backprop_by_hand(params, {x}, {y})["W1"]')


# %% [markdown] lang="en"
# The same network in torch (float64, like numpy), differentiated by autograd, next to the
# gradients by hand:

# %% [markdown] lang="es"
# La misma red en torch (float64, como numpy), derivada por autograd, junto a los gradientes a
# mano:

# %%
params = init_121(seed=ctx.seed)
x_sample, y_sample = 0.5, 1.0
by_hand = backprop_by_hand(params, x_sample, y_sample)

t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
x_t = torch.tensor([x_sample], dtype=torch.float64)
y_hat = t["W2"] @ torch.tanh(t["W1"] @ x_t + t["b1"]) + t["b2"]
((y_hat - y_sample) ** 2).sum().backward()

rows, max_diff = [], 0.0
for name in ("W1", "b1", "W2", "b2"):
    auto = t[name].grad.numpy()
    mine = np.asarray(by_hand[name], dtype=np.float64).reshape(auto.shape)
    max_diff = max(max_diff, float(np.abs(mine - auto).max()))
    for idx in np.ndindex(auto.shape):
        rows.append([f"dL/d{name}{list(idx)}", float(mine[idx]), float(auto[idx])])
ctx.table([ctx.t("gradient", "gradiente"), ctx.t("by hand", "a mano"), "autograd"], rows)
ctx.table([ctx.t("largest |by hand - autograd|", "mayor |a mano - autograd|")], [[max_diff]])

# %% [markdown] lang="en"
# The largest difference is floating-point round-off. Autograd applies the same chain rule,
# but builds it for any graph, so nobody has to derive it by hand again.

# %% [markdown] lang="es"
# La mayor diferencia es redondeo de punto flotante. Autograd aplica la misma regla de la
# cadena, pero la arma para cualquier grafo, sin derivar nada a mano.

# %%
ctx.finish({
    "perceptron_and_accuracy": curves["and"][-1],
    "perceptron_or_accuracy": curves["or"][-1],
    "perceptron_xor_accuracy": curves["xor"][-1],
    "perceptron_xor_max_accuracy": max(curves["xor"]),
    "mlp_relu_accuracy": relu_eval["accuracy"],
    "mlp_relu_loss": relu_eval["loss"],
    "mlp_linear_accuracy": linear_eval["accuracy"],
    "mlp_linear_loss": linear_eval["loss"],
    "backprop_max_abs_diff": max_diff,
})
