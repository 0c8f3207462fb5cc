# %% [markdown] lang="en"
# The scratch-net network rewritten with two `nn.Linear` layers, `torch.optim.SGD` and the dlab
# Trainer. Same initial weights, same batches: at the end of training its weights equal those
# of the hand-written loop. PyTorch abstracts the mechanism; it does not hide or change it.

# %% [markdown] lang="es"
# La red de scratch-net reescrita con dos capas `nn.Linear`, `torch.optim.SGD` y el Trainer de
# dlab. Mismos pesos iniciales, mismos lotes: al terminar el entrenamiento sus pesos son iguales
# a los del bucle escrito a mano. PyTorch abstrae el mecanismo; no lo esconde ni lo cambia.

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
    lr: float = 0.3

    def check(self):
        positive(n_samples=self.n_samples, hidden=self.hidden, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr)


LAB = Lab(
    id="module-net",
    title_en="The same network with nn.Module, torch.optim and the Trainer",
    title_es="La misma red con nn.Module, torch.optim y el Trainer",
    source="Stage 2 · session 4",
    block="stage2",
    dataset="moons (sklearn make_moons, noise=0.2, random_state=42)",
    criteria=(
        Criterion("max_weight_diff", "<=", 1e-6,
                  "nn.Module + SGD + Trainer ends with the scratch loop's weights "
                  "(max |diff| ≤ 1e-6, float64)",
                  "nn.Module + SGD + Trainer termina con los pesos del bucle a mano "
                  "(máx |dif| ≤ 1e-6, float64)"),
        Criterion("test_accuracy", ">=", 0.95,
                  "nn.Module version: test accuracy ≥ 0.95",
                  "Versión nn.Module: exactitud en test ≥ 0.95"),
    ),
    config=Config,
    quick={"n_samples": 300, "epochs": 3},
)

# %% [markdown] lang="en"
# ## 1. The data and the starting weights
# The two moons of scratch-net, and the very same initial weights: `init_params` draws `W1`,
# `b1`, `W2`, `b2` from the range `nn.Linear` uses. Every version below starts from these
# four tensors and sees the same mini-batches in the same order.

# %% [markdown] lang="es"
# ## 1. Los datos y los pesos iniciales
# Las dos lunas de scratch-net y exactamente los mismos pesos iniciales: `init_params` sortea
# `W1`, `b1`, `W2`, `b2` en el rango que usa `nn.Linear`. Todas las versiones de abajo parten de
# estos cuatro tensores y ven los mismos mini-lotes en el mismo orden.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.data import Batches, load
from dlab.engine import Trainer
from dlab.models import scratch_mlp
from dlab.viz import decision_boundary

data = load("moons", n_samples=cfg.n_samples, noise=cfg.noise, seed=ctx.seed)
(X_train, y_train), (X_test, y_test) = data.train, data.test
steps = cfg.epochs * math.ceil(len(X_train) / cfg.batch_size)
start = scratch_mlp.init_params(2, cfg.hidden, 2, seed=ctx.seed)
ctx.table([ctx.t("what", "qué"), ctx.t("value", "valor")],
          [[ctx.t("training points", "puntos de entrenamiento"), len(y_train)],
           [ctx.t("test points", "puntos de test"), len(y_test)],
           [ctx.t("epochs × batches per epoch = SGD steps", "épocas × lotes por época = pasos "
                  "de SGD"), f"{cfg.epochs} × {math.ceil(len(X_train) / cfg.batch_size)} = "
                             f"{steps}"],
           [ctx.t("initial weights", "pesos iniciales"),
            ", ".join(f"{k} {tuple(v.shape)}" for k, v in start.items())]])

# %% [markdown] lang="en"
# ## 2. The network as an `nn.Module`
# A module declares its layers in `__init__` and says how they connect in `forward`. Each
# `nn.Linear` creates and registers its weight and bias, so `model.parameters()` finds all four
# tensors for the optimizer: no dict of parameters to maintain by hand. One detail matters when
# comparing with the scratch version: `nn.Linear` stores its weight as (out, in) and computes
# `x @ weight.T + bias`, so its weight is the transpose of the scratch `W`.

# %% [markdown] lang="es"
# ## 2. La red como `nn.Module`
# Un módulo declara sus capas en `__init__` y dice cómo se conectan en `forward`. Cada
# `nn.Linear` crea y registra su peso y su sesgo, así que `model.parameters()` encuentra los
# cuatro tensores para el optimizador: no hay un dict de parámetros que mantener a mano. Un
# detalle importa al comparar con la versión a mano: `nn.Linear` guarda su peso como (salida,
# entrada) y calcula `x @ weight.T + bias`, así que su peso es la traspuesta del `W` a mano.

# %% exercise="build_two_layer_net"
def build_two_layer_net(n_in: int, n_hidden: int, n_out: int) -> nn.Module:
    """[en] Define a class that subclasses `nn.Module` and return an instance of it. In
    `__init__`, call `super().__init__()` and create two layers as attributes with exactly
    these names: `self.hidden = nn.Linear(n_in, n_hidden)` and
    `self.out = nn.Linear(n_hidden, n_out)`. `forward(self, x)` takes `x` of shape (N, n_in)
    and returns the logits `out(relu(hidden(x)))`, of shape (N, n_out), with no softmax at the
    end (the cross-entropy applies it).

    [es] Define una clase que herede de `nn.Module` y devuelve una instancia de ella. En
    `__init__`, llama a `super().__init__()` y crea dos capas como atributos con exactamente
    estos nombres: `self.hidden = nn.Linear(n_in, n_hidden)` y
    `self.out = nn.Linear(n_hidden, n_out)`. `forward(self, x)` recibe `x` de forma
    (N, n_in) y devuelve los logits `out(relu(hidden(x)))`, de forma (N, n_out), sin softmax
    al final (la entropía cruzada ya la aplica).
    """
    class TwoLayerNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(n_in, n_hidden)
            self.out = nn.Linear(n_hidden, n_out)

        def forward(self, x):
            return self.out(torch.relu(self.hidden(x)))

    return TwoLayerNet()


# %% check
import torch
from torch import nn

from dlab.exercises import expect


@ctx.check("build_two_layer_net")
def returns_a_module_with_one_logit_per_class():
    model = build_two_layer_net(2, 4, 3)
    expect.type(model, nn.Module, "build_two_layer_net(2, 4, 3)")
    expect.shape(model(torch.zeros(5, 2)), (5, 3),
                 "build_two_layer_net(2, 4, 3)(torch.zeros(5, 2))")


@ctx.check("build_two_layer_net")
def registers_linear_layers_hidden_and_out():
    model = build_two_layer_net(2, 4, 3)
    for name, shape in (("hidden", (4, 2)), ("out", (3, 4))):
        layer = getattr(model, name, None)
        expect.true(isinstance(layer, nn.Linear),
                    f"build_two_layer_net(2, 4, 3).{name} should be an nn.Linear; it is "
                    f"{type(layer).__name__}. Create it in __init__ as "
                    f"self.{name} = nn.Linear(...).",
                    f"build_two_layer_net(2, 4, 3).{name} debería ser un nn.Linear; es "
                    f"{type(layer).__name__}. Créalo en __init__ como "
                    f"self.{name} = nn.Linear(...).")
        expect.equal(tuple(layer.weight.shape), shape,
                     f"build_two_layer_net(2, 4, 3).{name}.weight.shape")
    expect.equal(sorted(name for name, _ in model.named_parameters()),
                 ["hidden.bias", "hidden.weight", "out.bias", "out.weight"],
                 "sorted names of build_two_layer_net(2, 4, 3).named_parameters()")


@ctx.check("build_two_layer_net")
def forward_is_linear_relu_linear_without_softmax():
    torch.manual_seed(0)
    model = build_two_layer_net(3, 5, 2)
    hidden, out = getattr(model, "hidden", None), getattr(model, "out", None)
    expect.true(isinstance(hidden, nn.Linear) and isinstance(out, nn.Linear),
                "The model needs the nn.Linear layers self.hidden and self.out.",
                "El modelo necesita las capas nn.Linear self.hidden y self.out.")
    x = torch.randn(6, 3) * 3
    got = model(x)
    want = torch.relu(x @ hidden.weight.T + hidden.bias) @ out.weight.T + out.bias
    expect.true(not torch.allclose(got.sum(1), torch.ones(6), atol=1e-4),
                "forward returns probabilities (rows sum to 1): return the raw logits, without "
                "softmax.",
                "forward devuelve probabilidades (las filas suman 1): devuelve los logits, sin "
                "softmax.")
    expect.close(got, want, "build_two_layer_net(3, 5, 2)(x), compared with "
                 "relu(x @ hidden.weight.T + hidden.bias) @ out.weight.T + out.bias", atol=1e-5)


# %% [markdown] lang="en"
# ## 3. One training step with `torch.optim`
# The scratch loop cleared the gradients with `p.grad = None` and updated with
# `p -= lr * p.grad` inside `torch.no_grad()`. An optimizer holds the parameters it updates and
# does both: `optimizer.zero_grad()` and `optimizer.step()`. Between them, `loss.backward()`
# fills every `.grad`. Forgetting `zero_grad()` is the classic bug: `backward()` adds to `.grad`
# instead of overwriting it.

# %% [markdown] lang="es"
# ## 3. Un paso de entrenamiento con `torch.optim`
# El bucle a mano borraba los gradientes con `p.grad = None` y actualizaba con
# `p -= lr * p.grad` dentro de `torch.no_grad()`. Un optimizador guarda los parámetros que
# actualiza y hace ambas cosas: `optimizer.zero_grad()` y `optimizer.step()`. Entre ellas,
# `loss.backward()` llena cada `.grad`. Olvidar `zero_grad()` es el error clásico: `backward()`
# suma en `.grad` en lugar de sobrescribirlo.

# %% exercise="train_step"
def train_step(model: nn.Module, loss_fn, optimizer: torch.optim.Optimizer,
               xb: torch.Tensor, yb: torch.Tensor) -> float:
    """[en] Do one optimization step on the mini-batch (`xb`, `yb`): compute the logits
    `model(xb)` and the loss `loss_fn(logits, yb)`, clear the old gradients with
    `optimizer.zero_grad()`, call `loss.backward()`, then `optimizer.step()`. Return the loss
    computed before the update as a Python float (`loss.item()`). Do not update the weights by
    hand: the optimizer does it.

    [es] Haz un paso de optimización con el mini-lote (`xb`, `yb`): calcula los logits
    `model(xb)` y la pérdida `loss_fn(logits, yb)`, borra los gradientes viejos con
    `optimizer.zero_grad()`, llama a `loss.backward()` y luego a `optimizer.step()`. Devuelve la
    pérdida calculada antes de la actualización como un float de Python (`loss.item()`). No
    actualices los pesos a mano: lo hace el optimizador.
    """
    loss = loss_fn(model(xb), yb)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return loss.item()


# %% check
import copy

import torch
import torch.nn.functional as F
from torch import nn

from dlab.exercises import expect


def _small_problem():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3))
    return model, torch.randn(8, 2), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])


def _sgd_by_hand(model, x, y, lr, steps, accumulate=False):
    """The weights after `steps` SGD steps, with gradients from torch.autograd.grad."""
    model = copy.deepcopy(model)
    params = list(model.parameters())
    total = [torch.zeros_like(p) for p in params]
    for _ in range(steps):
        grads = torch.autograd.grad(F.cross_entropy(model(x), y), params)
        total = [t + g for t, g in zip(total, grads)] if accumulate else list(grads)
        with torch.no_grad():
            for p, g in zip(params, total):
                p -= lr * g
    return [p.detach() for p in params]


@ctx.check("train_step")
def returns_the_loss_before_the_update():
    model, x, y = _small_problem()
    want = F.cross_entropy(model(x), y).item()
    got = train_step(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1),
                     x, y)
    expect.type(got, float, "train_step(...)")
    expect.close(got, want, "train_step(model, nn.CrossEntropyLoss(), SGD(lr=0.1), x, y)")
    model, x, y = _small_problem()
    want = F.cross_entropy(model(x), y, reduction="sum").item()
    got = train_step(model, nn.CrossEntropyLoss(reduction="sum"),
                     torch.optim.SGD(model.parameters(), lr=0.1), x, y)
    expect.close(got, want, "train_step(model, nn.CrossEntropyLoss(reduction='sum'), ...): "
                 "the loss must come from loss_fn")


@ctx.check("train_step")
def updates_the_weights_like_one_sgd_step():
    model, x, y = _small_problem()
    want = _sgd_by_hand(model, x, y, lr=0.1, steps=1)
    train_step(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), x, y)
    for k, (p, w) in enumerate(zip(model.parameters(), want)):
        expect.close(p, w, f"parameter {k} after one train_step (SGD lr=0.1), compared with "
                     "p - 0.1 * grad", atol=1e-6)


@ctx.check("train_step")
def clears_old_gradients_before_backward():
    model, x, y = _small_problem()
    want = _sgd_by_hand(model, x, y, lr=0.1, steps=3)
    piled = _sgd_by_hand(model, x, y, lr=0.1, steps=3, accumulate=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        train_step(model, nn.CrossEntropyLoss(), optimizer, x, y)
    got = [p.detach() for p in model.parameters()]
    expect.true(not all(torch.allclose(g, w, atol=1e-6) for g, w in zip(got, piled)),
                "After 3 calls the gradients add up from one step to the next: call "
                "optimizer.zero_grad() before loss.backward().",
                "Tras 3 llamadas los gradientes se suman de un paso al siguiente: llama a "
                "optimizer.zero_grad() antes de loss.backward().")
    for k, (g, w) in enumerate(zip(got, want)):
        expect.close(g, w, f"parameter {k} after three train_step calls", atol=1e-6)


# %% [markdown] lang="en"
# ## 4. The race, in float32
# Three versions start from the same four tensors and see the same batches: the scratch loop
# of the previous lab, your `nn.Module` with `torch.optim.SGD` inside the dlab Trainer, and your
# module again driven by your own `train_step`, epoch after epoch. `Trainer.fit(seed=...)` draws
# its batches exactly as the scratch loop does (`Batches(X, y, batch_size, shuffle=True, seed)`,
# epochs numbered from 1). The progress bar and the doctor only read the loss; they never touch
# weights or gradients.

# %% [markdown] lang="es"
# ## 4. La carrera, en float32
# Tres versiones parten de los mismos cuatro tensores y ven los mismos lotes: el bucle a mano
# del laboratorio anterior, tu `nn.Module` con `torch.optim.SGD` dentro del Trainer de dlab, y
# tu módulo otra vez, movido por tu propio `train_step`, época tras época.
# `Trainer.fit(seed=...)` saca los lotes igual que el bucle a mano
# (`Batches(X, y, batch_size, shuffle=True, seed)`, con las épocas numeradas desde 1). La
# barra de progreso y el doctor solo leen la pérdida; nunca tocan pesos ni gradientes.

# %%
def load_scratch(model, params):
    """Copy scratch weights (W is (in, out)) into the module's nn.Linear layers ((out, in))."""
    model.load_state_dict({"hidden.weight": params["W1"].detach().T,
                           "hidden.bias": params["b1"].detach(),
                           "out.weight": params["W2"].detach().T,
                           "out.bias": params["b2"].detach()})
    return model


def scratch_layout(model):
    """The module's weights back in the scratch layout, on the CPU, to compare them."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    return {"W1": state["hidden.weight"].T, "b1": state["hidden.bias"],
            "W2": state["out.weight"].T, "b2": state["out.bias"]}


def max_diffs(ours, theirs):
    return {k: float((ours[k] - theirs[k]).abs().max()) for k in ours}


def race(dtype, options):
    """Train the scratch net, the module with the Trainer and the module with train_step, all
    from the same weights on the same batches; return what each one ended with."""
    # clone(): in float32, .to(dtype) would share storage with `start`, and the scratch loop
    # updates its parameters in place.
    X = X_train.to(dtype)
    params = {k: v.detach().to(dtype).clone().requires_grad_() for k, v in start.items()}
    scratch_mlp.train_scratch(params, X, y_train, lr=cfg.lr, epochs=cfg.epochs,
                              batch_size=cfg.batch_size, seed=ctx.seed)
    scratch = {k: v.detach().cpu() for k, v in params.items()}

    model = load_scratch(build_two_layer_net(2, cfg.hidden, 2).to(dtype), start)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=cfg.lr),
                      metrics=["accuracy"], **options)
    trainer.fit((X, y_train), epochs=cfg.epochs, batch_size=cfg.batch_size, seed=ctx.seed)

    own = load_scratch(build_two_layer_net(2, cfg.hidden, 2).to(dtype), start)
    optimizer, loss_fn = torch.optim.SGD(own.parameters(), lr=cfg.lr), nn.CrossEntropyLoss()
    batches = Batches(X, y_train, batch_size=cfg.batch_size, shuffle=True, seed=ctx.seed)
    for epoch in range(1, cfg.epochs + 1):
        batches.set_epoch(epoch)
        for xb, yb in batches:
            train_step(own, loss_fn, optimizer, xb, yb)
    return {"params": params, "trainer": trainer,
            "trainer_diffs": max_diffs(scratch, scratch_layout(model)),
            "own_diffs": max_diffs(scratch, scratch_layout(own))}


run32 = race(torch.float32, ctx.trainer_options(precision="fp32"))  # exact arithmetic
trainer, diffs32 = run32["trainer"], run32["trainer_diffs"]
test_acc = trainer.evaluate(data.test)["accuracy"]
scratch_test_acc = (scratch_mlp.predict(run32["params"], X_test) == y_test).float().mean().item()
ctx.table([ctx.t("version", "versión"),
           ctx.t(f"max |diff| with scratch after {steps} steps",
                 f"máx |dif| con el bucle a mano tras {steps} pasos"),
           ctx.t("test accuracy", "exactitud en test")],
          [[ctx.t("scratch loop", "bucle a mano"), ctx.t("(reference)", "(referencia)"),
            scratch_test_acc],
           ["nn.Module + SGD + Trainer", max(diffs32.values()), test_acc],
           [ctx.t("nn.Module + SGD + your train_step", "nn.Module + SGD + tu train_step"),
            max(run32["own_diffs"].values()), "—"]],
          "float32")

# %% [markdown] lang="en"
# ## 5. float64: a different computation, or rounding?
# In float32 the weights are close but not equal. `nn.Linear` computes `b + x Wᵀ` in one fused
# call, while the scratch code does `x @ W`, then `+ b`: the same math with a different order of
# floating-point operations, so the float32 round-off (about 1e-7) differs and drifts a little
# over the steps. In float64 round-off is about 1e-16: if the versions really do the same
# computation, the gap must shrink by the same factor. This check runs on the CPU (the scratch
# loop runs there, and Apple's MPS has no float64).

# %% [markdown] lang="es"
# ## 5. float64: ¿un cálculo distinto o redondeo?
# En float32 los pesos son parecidos pero no iguales. `nn.Linear` calcula `b + x Wᵀ` en una
# sola llamada fusionada, mientras que el código a mano hace `x @ W` y luego `+ b`: la misma
# matemática con otro orden de operaciones en coma flotante, así que el redondeo de float32
# (del orden de 1e-7) es distinto y deriva un poco a lo largo de los pasos. En float64 el
# redondeo es del orden de 1e-16: si las versiones hacen de verdad el mismo cálculo, la
# diferencia debe encogerse en la misma proporción. Esta comprobación corre en la CPU (el bucle
# a mano corre allí, y MPS de Apple no tiene float64).

# %%
run64 = race(torch.float64, {**ctx.trainer_options(precision="fp32"), "device": "cpu"})
diffs64, own64 = run64["trainer_diffs"], run64["own_diffs"]
max_diff = max(diffs64.values())
ctx.table([ctx.t("parameter", "parámetro"), "max |diff| float32", "max |diff| float64",
           ctx.t("max |diff| float64, your train_step", "máx |dif| float64, tu train_step")],
          [[k, diffs32[k], diffs64[k], own64[k]] for k in diffs32],
          ctx.t(f"Scratch loop vs nn.Module, weights after {steps} steps",
                f"Bucle a mano vs nn.Module, pesos tras {steps} pasos"))

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
names = list(diffs32)
pos = np.arange(len(names))
for shift, values, label in ((-0.27, diffs32, "float32 · Trainer"),
                             (0.0, diffs64, "float64 · Trainer"),
                             (0.27, own64, ctx.t("float64 · your train_step",
                                                 "float64 · tu train_step"))):
    axes[0].bar(pos + shift, [max(values[k], 1e-18) for k in names], 0.27, label=label)
axes[0].axhline(1e-6, color="k", linestyle="--", linewidth=1)
axes[0].set_xticks(pos, names)
axes[0].set_yscale("log")
axes[0].set_title(ctx.t(f"max |scratch - nn.Module| after {steps} steps",
                        f"máx |a mano - nn.Module| tras {steps} pasos"))
axes[0].legend()
axes[0].grid(alpha=0.3, axis="y")


def predict_grid(grid):
    return trainer.predict(torch.as_tensor(grid, dtype=torch.float32)).argmax(1).cpu().numpy()


decision_boundary(axes[1], predict_grid, X_test.numpy(), y_test.numpy(),
                  ctx.t(f"nn.Module — test accuracy {test_acc:.3f}",
                        f"nn.Module — exactitud en test {test_acc:.3f}"))
fig.tight_layout()
ctx.figure("same_weights", fig)

# %% [markdown] lang="en"
# Left: the largest weight difference per tensor (log scale; dashed line: 1e-6; a difference of
# exactly 0 is drawn at 1e-18). In float64 the gap falls by eight to nine orders of magnitude,
# like the round-off itself: the float32 difference was rounding, not a different algorithm.
# Right: the `nn.Module`'s decision regions, indistinguishable from scratch-net's.

# %% [markdown] lang="es"
# Izquierda: la mayor diferencia de pesos por tensor (escala logarítmica; línea punteada: 1e-6;
# una diferencia de exactamente 0 se dibuja en 1e-18). En float64 la diferencia cae entre ocho y
# nueve órdenes de magnitud, como el propio redondeo: la de float32 era redondeo, no un algoritmo
# distinto. Derecha: las regiones de decisión del `nn.Module`, idénticas a las de scratch-net.

# %% [markdown] lang="en"
# ## 6. What each abstraction took over

# %% [markdown] lang="es"
# ## 6. Qué asumió cada abstracción

# %%
t = ctx.t
ctx.table([t("job", "tarea"), t("scratch-net (by hand)", "scratch-net (a mano)"),
           "nn.Module + torch.optim + Trainer"],
          [[t("create and initialise parameters", "crear e inicializar parámetros"),
            t("4 tensors, requires_grad=True", "4 tensores, requires_grad=True"),
            f"nn.Linear(2, {cfg.hidden}), nn.Linear({cfg.hidden}, 2)"],
           [t("list parameters for the update", "listar parámetros para actualizar"),
            t("a dict we maintain", "un dict que mantenemos"), "model.parameters()"],
           ["forward", "relu(X @ W1 + b1) @ W2 + b2", "self.out(relu(self.hidden(x)))"],
           [t("clear gradients", "borrar gradientes"), "p.grad = None",
            "optimizer.zero_grad()"],
           [t("update", "actualizar"), "with no_grad(): p -= lr * p.grad", "optimizer.step()"],
           [t("batches, epochs, NaN check", "lotes, épocas, control de NaN"),
            t("our loop", "nuestro bucle"), "Trainer.fit"]],
          t("Who does what", "Quién hace qué"))

# %% [markdown] lang="en"
# The module version is shorter and harder to get wrong (no forgotten `zero_grad`, no update
# recorded in the graph, no parameter left out of the update), and switching to Adam or
# momentum is a one-word change. Underneath, it runs the computation you wrote by hand, step for
# step, as the weights above show.

# %% [markdown] lang="es"
# La versión con módulos es más corta y más difícil de romper (no hay `zero_grad` olvidado, ni
# actualización registrada en el grafo, ni parámetros que se quedan sin actualizar), y pasar a
# Adam o a momentum es cambiar una palabra. Por debajo ejecuta el mismo cálculo que escribimos a
# mano, paso a paso, como muestran los pesos de arriba.

# %%
ctx.finish({
    "max_weight_diff": max_diff,
    "max_weight_diff_float32": max(diffs32.values()),
    "own_loop_max_weight_diff": max(own64.values()),
    "sgd_steps": steps,
    "test_accuracy": test_acc,
    "scratch_test_accuracy": scratch_test_acc,
    "final_train_loss": trainer.history["loss"][-1],
})
