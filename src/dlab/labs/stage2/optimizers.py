# %% [markdown] lang="en"
# The same MLP, the same starting weights, the same batches: only the optimizer changes.
# Momentum and the adaptive methods (RMSProp, Adam) reach plain SGD's final loss in a fraction
# of the epochs. Then a deep ReLU network is trained from three initializations: too-small
# weights leave it stuck at chance level, He initialization trains fastest.

# %% [markdown] lang="es"
# El mismo MLP, los mismos pesos iniciales, los mismos lotes: solo cambia el optimizador.
# Momentum y los métodos adaptativos (RMSProp, Adam) alcanzan la pérdida final de SGD puro en
# una fracción de las épocas. Después se entrena una red ReLU profunda con tres
# inicializaciones: con pesos demasiado pequeños se queda en el nivel del azar; con la de He es
# la que más rápido aprende.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_subset: int = 10_000
    hidden: list = field(default_factory=lambda: [128, 64])
    epochs: int = 10
    batch_size: int = 64
    sgd_lr: float = 0.01       # plain SGD and SGD+momentum share it: momentum is the only change
    momentum: float = 0.9
    adaptive_lr: float = 1e-3  # RMSProp and Adam (their usual default)
    deep_hidden: list = field(default_factory=lambda: [128] * 5)
    init_epochs: int = 10
    init_lr: float = 0.01      # SGD + momentum for the init comparison
    tiny_std: float = 1e-3

    def check(self):
        positive(train_subset=self.train_subset, epochs=self.epochs, batch_size=self.batch_size,
                 sgd_lr=self.sgd_lr, adaptive_lr=self.adaptive_lr, init_epochs=self.init_epochs,
                 init_lr=self.init_lr, tiny_std=self.tiny_std)


LAB = Lab(
    id="optimizers",
    title_en="Optimizers and weight initialization",
    title_es="Optimizadores e inicialización de pesos",
    source="Stage 2 · session 7",
    block="stage2",
    dataset="fashion_mnist (seeded 10k-image training subset)",
    criteria=(
        Criterion("momentum_speedup", ">=", 2.0,
                  "SGD+momentum reaches plain SGD's final train loss in at most half the epochs",
                  "SGD+momentum alcanza la pérdida final de SGD puro en como mucho la mitad de "
                  "épocas"),
        Criterion("rmsprop_speedup", ">=", 2.0,
                  "RMSProp reaches plain SGD's final train loss in at most half the epochs",
                  "RMSProp alcanza la pérdida final de SGD puro en como mucho la mitad de épocas"),
        Criterion("adam_speedup", ">=", 2.0,
                  "Adam reaches plain SGD's final train loss in at most half the epochs",
                  "Adam alcanza la pérdida final de SGD puro en como mucho la mitad de épocas"),
        Criterion("tiny_to_he_loss_ratio", ">=", 1.5,
                  "Tiny init N(0, 0.001²): final train loss ≥ 1.5 × He init's",
                  "Inicialización diminuta N(0, 0.001²): pérdida final ≥ 1.5 × la de He"),
        Criterion("default_to_he_loss_ratio", ">", 1.0,
                  "He init ends with a lower train loss than PyTorch's default init",
                  "La inicialización de He termina con menor pérdida que la de PyTorch por "
                  "defecto"),
    ),
    config=Config,
    quick={"train_subset": 1000, "epochs": 2, "init_epochs": 2},
)

# %% [markdown] lang="en"
# ## 1. The data and the yardstick
# A seeded 10k-image subset of Fashion-MNIST (pixels ÷ 255) keeps each run under a minute and
# is plenty to rank optimizers. One MLP is trained four times, from the very same initial
# weights and batch order, changing only the optimizer. The yardstick: how many epochs each
# one needs to reach the training loss plain SGD ends with.

# %% [markdown] lang="es"
# ## 1. Los datos y la vara de medir
# Un subconjunto de 10k imágenes de Fashion-MNIST (píxeles ÷ 255) elegido con la semilla
# mantiene cada ejecución por debajo de un minuto y basta para ordenar optimizadores. Un MLP
# se entrena cuatro veces, desde los mismos pesos iniciales y con el mismo orden de lotes,
# cambiando solo el optimizador. La vara de medir: cuántas épocas necesita cada uno para
# llegar a la pérdida de entrenamiento con la que termina SGD puro.

# %%
import copy
import math

import matplotlib.pyplot as plt
import torch
from torch import nn

from dlab.data import load
from dlab.engine import Trainer
from dlab.engine.recorder import LossRecorder
from dlab.engine.rules import RuleOptimizer
from dlab.models import MLP
from dlab.models.init import activation_stds, init_weights
from dlab.viz.compare import curves, grouped_bars, smooth

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
INITS = ("default", "normal", "kaiming")

data = load("fashion_mnist", seed=ctx.seed)
pick = torch.randperm(len(data.train[1]),
                      generator=torch.Generator().manual_seed(ctx.seed))[:cfg.train_subset]
train = (data.train[0][pick], data.train[1][pick])
steps = math.ceil(len(pick) / cfg.batch_size)
ctx.table([ctx.t("training images", "imágenes de entrenamiento"),
           ctx.t("batch size", "tamaño de lote"), ctx.t("steps per epoch", "pasos por época"),
           ctx.t("epochs per optimizer", "épocas por optimizador")],
          [[len(pick), cfg.batch_size, steps, cfg.epochs]])


def train_once(model, optimizer, epochs):
    """Train on the subset; returns the loss of each epoch and every step's loss."""
    # progress=False: seven short runs; one summary line each reads better than 70 bars.
    recorder = LossRecorder()
    trainer = Trainer(model, optimizer, callbacks=[recorder], progress=False,
                      **ctx.trainer_options())
    history = trainer.fit(train, epochs=epochs, batch_size=cfg.batch_size, seed=ctx.seed)
    return history["loss"], recorder


def epochs_to_reach(losses, target):
    """First epoch (1-based) whose train loss is at or below ``target``; None if never."""
    return next((i + 1 for i, v in enumerate(losses) if v <= target), None)


# %% [markdown] lang="en"
# ## 2. Momentum
# Plain SGD steps along the current mini-batch gradient only: w ← w − η·g. In a narrow valley
# it zigzags across the walls and crawls along the floor. Momentum keeps a running sum of past
# gradients, the velocity v ← β·v + g, and steps along it: w ← w − η·v. The zigzag cancels
# out and the consistent downhill direction builds up speed (with β = 0.9, up to about ten
# times the step). With β = 0 the velocity is just the gradient: plain SGD, which is how this
# lab trains its SGD baseline.

# %% [markdown] lang="es"
# ## 2. Momentum
# SGD puro avanza solo según el gradiente del mini-lote actual: w ← w − η·g. En un valle
# estrecho zigzaguea entre las paredes y apenas avanza por el fondo. Momentum acumula los
# gradientes pasados en una velocidad v ← β·v + g y avanza según ella: w ← w − η·v. El zigzag
# se cancela y la dirección de bajada constante gana velocidad (con β = 0.9, hasta unas diez
# veces el paso). Con β = 0 la velocidad es el propio gradiente: SGD puro, que es como este
# laboratorio entrena su SGD de referencia.

# %% exercise="momentum_step"
def momentum_step(w: torch.Tensor, grad: torch.Tensor, velocity: torch.Tensor, lr: float,
                  beta: float) -> tuple:
    """[en] One step of SGD with momentum for one parameter tensor, in PyTorch's form:
    new_velocity = beta * velocity + grad, then new_w = w - lr * new_velocity. Return
    `(new_w, new_velocity)`, two tensors with the shape of `w`. `velocity` is all zeros before
    the first step. Compute new tensors with arithmetic (do not call torch.optim).

    [es] Un paso de SGD con momentum para un tensor de parámetros, en la forma de PyTorch:
    nueva_velocidad = beta * velocity + grad, y luego nuevo_w = w - lr * nueva_velocidad.
    Devuelve `(nuevo_w, nueva_velocidad)`, dos tensores con la forma de `w`. `velocity` vale
    todo ceros antes del primer paso. Calcula tensores nuevos con aritmética (no uses
    torch.optim).
    """
    velocity = beta * velocity + grad
    return w - lr * velocity, velocity


# %% check
import torch

from dlab.exercises import expect

_W = torch.tensor([1.0, -2.0, 0.5, 3.0])
_GRADS = [torch.tensor([0.5, -1.0, 2.0, 0.1]), torch.tensor([0.4, -0.8, -1.5, 0.1]),
          torch.tensor([0.6, -1.2, 1.0, 0.2])]


@ctx.check("momentum_step")
def beta_zero_is_plain_sgd():
    w, velocity = momentum_step(_W.clone(), _GRADS[0], torch.zeros(4), 0.1, 0.0)
    expect.shape(w, (4,), "momentum_step(...)[0]")
    expect.close(w, _W - 0.1 * _GRADS[0], "new w of momentum_step(w, g, zeros, lr=0.1, beta=0) "
                 "(plain SGD: w - lr * g)")
    expect.close(velocity, _GRADS[0], "new velocity of momentum_step(w, g, zeros, lr=0.1, "
                 "beta=0) (the gradient itself)")


@ctx.check("momentum_step")
def three_steps_match_torch_sgd_with_momentum():
    param = _W.clone().requires_grad_()
    reference = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    w, velocity = _W.clone(), torch.zeros(4)
    for step, grad in enumerate(_GRADS, start=1):
        param.grad = grad.clone()
        reference.step()
        w, velocity = momentum_step(w, grad, velocity, 0.1, 0.9)
        expect.close(w, param.detach(), f"w after {step} momentum_step(..., lr=0.1, beta=0.9) "
                     "(compared with torch.optim.SGD(momentum=0.9))", atol=1e-6)


# %% [markdown] lang="en"
# ## 3. Adam
# RMSProp divides each parameter's step by the recent size of its own gradient (a moving
# average of g²), so flat and steep directions both move at a sensible pace. Adam does both:
# momentum on the gradient (first moment m) and RMSProp-style scaling (second moment v). Both
# averages start at zero, so during the first steps they are too small; dividing them by
# 1 − βᵗ corrects that bias, which is why lr = 1e-3 works out of the box on most problems.
# RMSProp is raced with `torch.optim.RMSprop`; SGD, momentum and Adam run your functions.

# %% [markdown] lang="es"
# ## 3. Adam
# RMSProp divide el paso de cada parámetro por el tamaño reciente de su propio gradiente (una
# media móvil de g²), así las direcciones planas y las empinadas avanzan a un ritmo razonable.
# Adam hace ambas cosas: momentum sobre el gradiente (primer momento m) y escalado al estilo
# RMSProp (segundo momento v). Las dos medias empiezan en cero, así que en los primeros pasos
# son demasiado pequeñas; dividirlas por 1 − βᵗ corrige ese sesgo, y por eso lr = 1e-3
# funciona de entrada en la mayoría de problemas. RMSProp compite con `torch.optim.RMSprop`;
# SGD, momentum y Adam ejecutan tus funciones.

# %% exercise="adam_step"
def adam_step(w: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, v: torch.Tensor, t: int,
              lr: float, beta1: float = 0.9, beta2: float = 0.999,
              eps: float = 1e-8) -> tuple:
    """[en] One Adam step for one parameter tensor; `t` is the number of this step (1 for the
    first), `m` and `v` are all zeros before the first step. Compute
    new_m = beta1 * m + (1 - beta1) * grad and new_v = beta2 * v + (1 - beta2) * grad²,
    their bias-corrected versions m_hat = new_m / (1 - beta1**t) and
    v_hat = new_v / (1 - beta2**t), and new_w = w - lr * m_hat / (sqrt(v_hat) + eps).
    Return `(new_w, new_m, new_v)`, three tensors with the shape of `w` (new_m and new_v
    without the bias correction). Do not call torch.optim.

    [es] Un paso de Adam para un tensor de parámetros; `t` es el número de este paso (1 para
    el primero), `m` y `v` valen todo ceros antes del primer paso. Calcula
    nuevo_m = beta1 * m + (1 - beta1) * grad y nuevo_v = beta2 * v + (1 - beta2) * grad², sus
    versiones con corrección de sesgo m_hat = nuevo_m / (1 - beta1**t) y
    v_hat = nuevo_v / (1 - beta2**t), y nuevo_w = w - lr * m_hat / (sqrt(v_hat) + eps).
    Devuelve `(nuevo_w, nuevo_m, nuevo_v)`, tres tensores con la forma de `w` (nuevo_m y
    nuevo_v sin la corrección de sesgo). No uses torch.optim.
    """
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (v_hat.sqrt() + eps), m, v


# %% check
import torch

from dlab.exercises import expect

_W = torch.tensor([1.0, -2.0, 0.5, 3.0])
_GRADS = [torch.tensor([0.5, -1.0, 2.0, 0.1]), torch.tensor([0.4, -0.8, -1.5, 0.1]),
          torch.tensor([0.6, -1.2, 1.0, 0.2])]


@ctx.check("adam_step")
def first_step_moves_each_weight_by_about_lr():
    w, m, v = adam_step(_W.clone(), _GRADS[0], torch.zeros(4), torch.zeros(4), 1, 0.1)
    expect.shape(w, (4,), "adam_step(...)[0]")
    expect.close(m, 0.1 * _GRADS[0], "new m after the first adam_step (0.1 * grad)")
    expect.close(v, 0.001 * _GRADS[0] ** 2, "new v after the first adam_step (0.001 * grad²)")
    expect.close(_W - w, 0.1 * torch.sign(_GRADS[0]),
                 "w - new w after the first adam_step with lr=0.1 (with the bias correction, "
                 "m_hat / sqrt(v_hat) = grad / |grad|, so every weight moves by lr)", atol=1e-5)


@ctx.check("adam_step")
def three_steps_match_torch_adam():
    param = _W.clone().requires_grad_()
    reference = torch.optim.Adam([param], lr=0.1)
    w, m, v = _W.clone(), torch.zeros(4), torch.zeros(4)
    for t, grad in enumerate(_GRADS, start=1):
        param.grad = grad.clone()
        reference.step()
        w, m, v = adam_step(w, grad, m, v, t, 0.1)
        state = reference.state[param]
        expect.close(m, state["exp_avg"], f"m after step {t} (torch.optim.Adam's exp_avg)")
        expect.close(v, state["exp_avg_sq"], f"v after step {t} (torch.optim.Adam's exp_avg_sq)")
        expect.close(w, param.detach(), f"w after step {t} of adam_step(..., lr=0.1) (compared "
                     "with torch.optim.Adam)", atol=1e-5)


# %% [markdown] lang="en"
# ## 4. The race
# Four trainings from one set of initial weights, copied into every run: any difference is
# the optimizer's. SGD and SGD + momentum share the learning rate, so momentum is the only
# change between them; RMSProp and Adam use their usual default, 1e-3.

# %% [markdown] lang="es"
# ## 4. La carrera
# Cuatro entrenamientos desde un mismo conjunto de pesos iniciales, copiado en cada ejecución:
# cualquier diferencia es del optimizador. SGD y SGD + momentum comparten la tasa de
# aprendizaje, así que momentum es el único cambio entre ellos; RMSProp y Adam usan su valor
# habitual por defecto, 1e-3.

# %%
def momentum_rule(beta):
    """Your momentum_step as the update rule of an optimizer (the velocity starts at zero)."""
    def rule(w, grad, state, lr):
        velocity = state.get("velocity", torch.zeros_like(w))
        w, state["velocity"] = momentum_step(w, grad, velocity, lr, beta)
        return w
    return rule


def adam_rule(w, grad, state, lr):
    """Your adam_step as the update rule of an optimizer (m and v start at zero)."""
    state["t"] = state.get("t", 0) + 1
    m, v = state.get("m", torch.zeros_like(w)), state.get("v", torch.zeros_like(w))
    w, state["m"], state["v"] = adam_step(w, grad, m, v, state["t"], lr)
    return w


start = copy.deepcopy(MLP(784, cfg.hidden, 10).state_dict())
make = {
    "sgd": lambda p: RuleOptimizer(p, momentum_rule(0.0), lr=cfg.sgd_lr),
    "momentum": lambda p: RuleOptimizer(p, momentum_rule(cfg.momentum), lr=cfg.sgd_lr),
    "rmsprop": lambda p: torch.optim.RMSprop(p, lr=cfg.adaptive_lr),
    "adam": lambda p: RuleOptimizer(p, adam_rule, lr=cfg.adaptive_lr),
}
labels = {"sgd": "SGD", "momentum": f"SGD + momentum {cfg.momentum}",
          "rmsprop": "RMSProp", "adam": "Adam"}
lrs = {"sgd": cfg.sgd_lr, "momentum": cfg.sgd_lr, "rmsprop": cfg.adaptive_lr,
       "adam": cfg.adaptive_lr}
losses, recorders = {}, {}
for name in OPTIMIZERS:
    model = MLP(784, cfg.hidden, 10)
    model.load_state_dict(start)
    losses[name], recorders[name] = train_once(model, make[name](model.parameters()), cfg.epochs)
    ctx.console.print(f"{labels[name]:>20}: " + ctx.t("final train loss",
                                                     "pérdida final de entrenamiento")
                      + f" {losses[name][-1]:.4f}")

# The yardstick: the loss plain SGD ends with. How many epochs does each method need for it?
target = losses["sgd"][-1]
reach = {name: epochs_to_reach(losses[name], target) for name in OPTIMIZERS}
speedup = {name: (reach["sgd"] / reach[name] if reach[name] else None) for name in OPTIMIZERS}
ctx.table(ctx.t("optimizer|lr|final loss|epochs to SGD's final|speed-up",
                "optimizador|lr|pérdida final|épocas hasta la final de SGD|aceleración"
                ).split("|"),
          [[labels[n], lrs[n], losses[n][-1], reach[n] if reach[n] else ctx.t("never", "nunca"),
            f"{speedup[n]:.1f}×" if speedup[n] else "—"] for n in OPTIMIZERS],
          ctx.t("train loss: mean over each epoch's batches",
                "pérdida de entrenamiento: media de los lotes de cada época"))

# %% [markdown] lang="en"
# Left, the loss of every step (a moving average); the dashed line is where plain SGD ends
# after all its epochs. Right, the epochs each optimizer needs to get there.

# %% [markdown] lang="es"
# A la izquierda, la pérdida de cada paso (media móvil); la línea discontinua es donde termina
# SGD puro tras todas sus épocas. A la derecha, las épocas que necesita cada optimizador para
# llegar ahí.

# %%
fig, (ax_curve, ax_bar) = plt.subplots(1, 2, figsize=(12, 4.2),
                                       gridspec_kw={"width_ratios": [2, 1]})
window = max(steps // 10, 1)
curves(ax_curve, {labels[n]: (recorders[n].epochs(), smooth(recorders[n].losses, window))
                  for n in OPTIMIZERS},
       title=ctx.t("Training loss per step (moving average)",
                   "Pérdida de entrenamiento por paso (media móvil)"),
       xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy", logy=True,
       hlines={ctx.t("SGD's final loss", "pérdida final de SGD"): target})
grouped_bars(ax_bar, [labels[n].replace(" + ", "\n+ ") for n in OPTIMIZERS],
             {"": [reach[n] or 0 for n in OPTIMIZERS]}, fmt="{:d}",
             title=ctx.t("Epochs to reach SGD's final loss",
                         "Épocas hasta la pérdida final de SGD"),
             ylabel=ctx.t("epochs", "épocas"))
fig.tight_layout()
ctx.figure("optimizers", fig)

# %% [markdown] lang="en"
# ## 5. Initialization
# A deeper MLP (five hidden ReLU layers of 128) is trained with SGD + momentum from three
# initializations: PyTorch's default, N(0, 0.001²), and He. SGD is used here because Adam
# rescales every gradient by its own size, which would partly hide how small the gradients
# are. Each layer multiplies the variance of its input by fan_in × Var(w), and ReLU halves it;
# He initialization picks Var(w) = 2 / fan_in, which exactly compensates ReLU, so the signal
# keeps its scale at any depth.

# %% [markdown] lang="es"
# ## 5. Inicialización
# Un MLP más profundo (cinco capas ocultas ReLU de 128) se entrena con SGD + momentum desde
# tres inicializaciones: la de PyTorch por defecto, N(0, 0.001²) y la de He. Se usa SGD porque
# Adam reescala cada gradiente por su propio tamaño, lo que ocultaría en parte lo pequeños que
# son los gradientes. Cada capa multiplica la varianza de su entrada por fan_in × Var(w), y
# ReLU la reduce a la mitad; la inicialización de He elige Var(w) = 2 / fan_in, que compensa
# exactamente a ReLU, y la señal conserva su escala a cualquier profundidad.

# %% exercise="he_init"
def he_init(model: nn.Module) -> nn.Module:
    """[en] He (Kaiming) initialization, in place: for every `nn.Linear` layer of `model`
    (look through `model.modules()`), draw its weight from a normal distribution with mean 0
    and standard deviation sqrt(2 / fan_in), where fan_in is the number of inputs of the layer
    (`weight.shape[1]`: a weight has shape (out_features, in_features)), and set its bias to
    zero. Leave every other module alone and return `model`. Use `nn.init.normal_` and
    `nn.init.zeros_` (they work without autograd), not `nn.init.kaiming_normal_`.

    [es] Inicialización de He (Kaiming), en el sitio: para cada capa `nn.Linear` de `model`
    (recorre `model.modules()`), toma sus pesos de una normal con media 0 y desviación típica
    sqrt(2 / fan_in), donde fan_in es el número de entradas de la capa (`weight.shape[1]`: un
    peso tiene forma (out_features, in_features)), y pon su sesgo a cero. No toques los demás
    módulos y devuelve `model`. Usa `nn.init.normal_` y `nn.init.zeros_` (funcionan sin
    autograd), no `nn.init.kaiming_normal_`.
    """
    for layer in model.modules():
        if isinstance(layer, nn.Linear):
            fan_in = layer.weight.shape[1]
            nn.init.normal_(layer.weight, mean=0.0, std=math.sqrt(2.0 / fan_in))
            nn.init.zeros_(layer.bias)
    return model


# %% check
import torch
from torch import nn

from dlab.exercises import expect
from dlab.models.init import activation_stds


@ctx.check("he_init")
def weights_have_variance_two_over_fan_in():
    model = nn.Sequential(nn.Linear(500, 100), nn.ReLU(), nn.Linear(100, 400))
    returned = he_init(model)
    expect.true(returned is model, "he_init must return the model it was given, initialized in "
                "place.", "he_init debe devolver el mismo modelo que recibe, inicializado en el "
                "sitio.")
    for layer in (model[0], model[2]):
        fan_out, fan_in = layer.weight.shape
        what = f"variance of the weight of nn.Linear({fan_in}, {fan_out}) after he_init " \
               f"(expected 2 / fan_in = {2 / fan_in:g})"
        variance = float(layer.weight.detach().var())
        expect.between(variance, 0.95 * 2 / fan_in, 1.05 * 2 / fan_in, what)
        expect.between(float(layer.weight.detach().mean()), -0.01, 0.01,
                       f"mean of the weight of nn.Linear({fan_in}, {fan_out}) after he_init")
        expect.close(layer.bias, torch.zeros(fan_out),
                     f"bias of nn.Linear({fan_in}, {fan_out}) after he_init")


@ctx.check("he_init")
def signal_keeps_its_scale_through_eight_relu_layers():
    torch.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [nn.Linear(256, 256), nn.ReLU()]
    stds = activation_stds(he_init(nn.Sequential(*layers)), torch.randn(512, 256))
    expect.between(stds[-1] / stds[0], 0.4, 2.5,
                   "std after the 8th ReLU layer / std after the 1st, with he_init")


# %% [markdown] lang="en"
# The same draw of PyTorch's default weights in every run, then: the default as it is, every
# weight from N(0, 0.001²) with zero biases, or your `he_init`. Before training, a probe of
# 1,000 images measures how much signal is left after each hidden layer.

# %% [markdown] lang="es"
# En cada ejecución, la misma extracción de los pesos por defecto de PyTorch, y luego: esos
# pesos tal cual, todos los pesos de N(0, 0.001²) con sesgos cero, o tu `he_init`. Antes de
# entrenar, una muestra de 1000 imágenes mide cuánta señal queda tras cada capa oculta.

# %%
depth = len(cfg.deep_hidden)
initialize = {"default": lambda model: model,
              "normal": lambda model: init_weights(model, "normal", std=cfg.tiny_std),
              "kaiming": he_init}
init_labels = {"default": ctx.t("PyTorch default", "PyTorch por defecto"),
               "normal": f"N(0, {cfg.tiny_std:g}²)", "kaiming": "He (Kaiming)"}
probe = train[0][:1000]
stds, init_losses, init_recorders = {}, {}, {}
for scheme in INITS:
    torch.manual_seed(ctx.seed)  # the default-init draw is the same in every run
    model = initialize[scheme](MLP(784, cfg.deep_hidden, 10))
    stds[scheme] = activation_stds(model, probe)
    optimizer = RuleOptimizer(model.parameters(), momentum_rule(cfg.momentum), lr=cfg.init_lr)
    init_losses[scheme], init_recorders[scheme] = train_once(model, optimizer, cfg.init_epochs)
    ctx.console.print(f"{init_labels[scheme]:>20}: " + ctx.t("final train loss",
                                                            "pérdida final de entrenamiento")
                      + f" {init_losses[scheme][-1]:.4f}")
ctx.table(ctx.t(f"init|std after layer 1|std after layer {depth}|final loss",
                f"inicialización|std tras la capa 1|std tras la capa {depth}|pérdida final"
                ).split("|"),
          [[init_labels[s], stds[s][0], stds[s][-1], init_losses[s][-1]] for s in INITS])

# %% [markdown] lang="en"
# Left: how much signal survives each layer before any training. Right: what that does to
# training.

# %% [markdown] lang="es"
# Izquierda: cuánta señal sobrevive a cada capa antes de entrenar. Derecha: qué efecto tiene en
# el entrenamiento.

# %%
chance = math.log(10)  # cross-entropy of a uniform guess over 10 classes
fig, (ax_std, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.2))
curves(ax_std, {init_labels[s]: stds[s] for s in INITS},
       title=ctx.t("Signal at initialization: std of each layer's output",
                   "Señal al inicializar: desviación típica de la salida de cada capa"),
       xlabel=ctx.t("hidden layer", "capa oculta"), ylabel="std", logy=True)
ax_std.set_xticks(range(1, depth + 1))
curves(ax_loss, {init_labels[s]: (init_recorders[s].epochs(),
                                  smooth(init_recorders[s].losses, window)) for s in INITS},
       title=ctx.t("Training loss per step (moving average)",
                   "Pérdida de entrenamiento por paso (media móvil)"),
       xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy",
       hlines={ctx.t("chance: ln 10", "azar: ln 10"): chance})
fig.tight_layout()
ctx.figure("initialization", fig)

# %% [markdown] lang="en"
# With weights of std 0.001 the factor fan_in × Var(w) is about 1e-4 per layer, so after
# a few layers the signal, and with it every gradient, is essentially zero: the network
# outputs the same logits for every image and the loss stays at ln 10 ≈ 2.303, the loss of a
# uniform guess. PyTorch's default weights are smaller than He's (Var(w) = 1 / (3·fan_in):
# about 6× less variance per layer); its random biases keep some signal alive, so it does
# train, but only after a plateau near chance level.

# %% [markdown] lang="es"
# Con pesos de desviación 0.001 el factor fan_in × Var(w) es de ~1e-4 por capa: tras unas
# pocas capas la señal, y con ella todos los gradientes, es prácticamente cero; la red da los
# mismos logits para todas las imágenes y la pérdida se queda en ln 10 ≈ 2.303, la de adivinar
# al azar. Los pesos por defecto de PyTorch son más pequeños que los de He
# (Var(w) = 1 / (3·fan_in): unas 6 veces menos varianza por capa); sus sesgos aleatorios
# mantienen algo de señal, así que sí entrena, pero tras una meseta cerca del azar.

# %%
metrics = {"sgd_target_loss": target}
for name in OPTIMIZERS:
    metrics[f"{name}_final_loss"] = losses[name][-1]
    metrics[f"{name}_epochs_to_sgd_loss"] = reach[name]
    metrics[f"{name}_speedup"] = speedup[name]
short = {"default": "default", "normal": "tiny", "kaiming": "he"}
for scheme in INITS:
    metrics[f"init_{short[scheme]}_final_loss"] = init_losses[scheme][-1]
    metrics[f"init_{short[scheme]}_last_layer_std"] = stds[scheme][-1]
he = init_losses["kaiming"][-1]
metrics["tiny_to_he_loss_ratio"] = init_losses["normal"][-1] / he
metrics["default_to_he_loss_ratio"] = init_losses["default"][-1] / he
ctx.finish(metrics)
