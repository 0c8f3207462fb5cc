# %% [markdown] lang="en"
# Eleven ways to update the same weights. One MLP on Fashion-MNIST is trained from the same
# starting point with SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, Adam + L2, AdamW and three
# recent methods written for this course from their papers: Lion (sign of the momentum),
# Sophia (a clipped Newton step with a cheap curvature estimate) and Schedule-Free AdamW (an
# average instead of a learning-rate schedule). Then the learning rate of SGD, AdamW and Lion is
# tuned with a sweep, a small Vision Transformer replays the comparison of the modern methods,
# and for every optimizer the bytes it keeps between steps are counted exactly.

# %% [markdown] lang="es"
# Once maneras de actualizar los mismos pesos. Un MLP sobre Fashion-MNIST se entrena desde el
# mismo punto de partida con SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, Adam + L2, AdamW y
# tres métodos recientes escritos para este curso a partir de sus artículos: Lion (signo del
# momentum), Sophia (un paso de Newton recortado con una estimación barata de la curvatura) y
# Schedule-Free AdamW (un promedio en lugar de un calendario de tasa de aprendizaje). Después se
# ajusta con un barrido la tasa de aprendizaje de SGD, AdamW y Lion, un Vision Transformer
# pequeño repite la comparación de los métodos modernos y, para cada optimizador, se cuentan
# exactamente los bytes que guarda entre pasos.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive

RACE = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adam_l2", "adamw", "lion",
        "sophia", "schedule_free")
VIT_RACE = ("adamw", "lion", "sophia", "schedule_free")


@dataclass
class Config:
    train_subset: int = 10_000  # seeded subset of the 50k training images (CPU budget)
    val_subset: int = 0         # 0 = the whole 10k validation split
    hidden: list = field(default_factory=lambda: [300, 100])
    batch_size: int = 128
    epochs: int = 15            # the race of eleven optimizers on the MLP (course: 20)
    sgd_lr: float = 0.01        # SGD, momentum and Nesterov (course values)
    adagrad_lr: float = 0.01
    adam_lr: float = 1e-3       # RMSProp, Adam, Adam + L2, AdamW, Schedule-Free AdamW
    weight_decay: float = 1e-2  # AdamW and Schedule-Free (decoupled), Adam + L2 (in the gradient)
    lion_lr: float = 1e-4
    lion_wd: float = 0.1
    sophia_lr: float = 3e-4
    sophia_rho: float = 0.05    # the paper's γ for Sophia-G
    sophia_wd: float = 0.1
    sophia_every: int = 10      # steps between two curvature estimates (the paper's k)
    sf_warmup_steps: int = 100
    lr_range: list = field(default_factory=lambda: [1e-5, 1e-2])     # AdamW and Lion sweeps
    sgd_lr_range: list = field(default_factory=lambda: [1e-3, 1.0])  # SGD sweep
    sweep_points: int = 5
    sweep_epochs: int = 5
    final_epochs: int = 20      # each swept optimizer at its best learning rate (course: 30)
    vit_epochs: int = 8
    vit_depth: int = 2
    vit_dim: int = 64
    vit_heads: int = 4
    vit_patch: int = 7
    vit_adamw_wd: float = 0.05  # course values for the ViT: AdamW wd 0.05, Lion wd 0.5
    vit_lion_wd: float = 0.5

    def check(self):
        positive(train_subset=self.train_subset, batch_size=self.batch_size, epochs=self.epochs,
                 sgd_lr=self.sgd_lr, adagrad_lr=self.adagrad_lr, adam_lr=self.adam_lr,
                 lion_lr=self.lion_lr, sophia_lr=self.sophia_lr, sophia_rho=self.sophia_rho,
                 sophia_every=self.sophia_every, sweep_points=self.sweep_points,
                 sweep_epochs=self.sweep_epochs, final_epochs=self.final_epochs,
                 vit_epochs=self.vit_epochs, vit_depth=self.vit_depth)


LAB = Lab(
    id="optimizers-modern",
    title_en="From SGD to Lion, Sophia and Schedule-Free: optimizers on an MLP and a small ViT",
    title_es="De SGD a Lion, Sophia y Schedule-Free: optimizadores en un MLP y un ViT pequeño",
    source="Part 2 · class 113 and class 114 (homeworks)",
    block="part2-training",
    dataset="fashion_mnist (seeded 10k-image training subset, 10k validation, official 10k test)",
    criteria=(
        Criterion("adamw_minus_adam_pp", ">=", 0.3,
                  "AdamW (wd 1e-2) beats Adam by ≥ 0.3 pp of validation accuracy (class 113)",
                  "AdamW (wd 1e-2) supera a Adam por ≥ 0.3 pp de exactitud de validación "
                  "(clase 113)",
                  evidence="Measured −0.06 pp in full mode (Adam 0.8711, AdamW 0.8705; 15 "
                           "epochs on 10k images, seed 0). With lr·λ = 1e-5 per step the "
                           "decoupled decay shrinks the weights by about 1 % over the 1,185 "
                           "steps, too little to move accuracy on this budget. Decoupling "
                           "does matter against Adam + L2 with the same λ: +4.17 pp (next "
                           "criterion)."),
        Criterion("adamw_minus_adam_l2_pp", ">=", 0.3,
                  "AdamW beats Adam + L2 with the same coefficient 1e-2 by ≥ 0.3 pp of "
                  "validation accuracy (class 113, exercise 3)",
                  "AdamW supera a Adam + L2 con el mismo coeficiente 1e-2 por ≥ 0.3 pp de "
                  "exactitud de validación (clase 113, ejercicio 3)"),
        Criterion("lion_minus_adamw_pp", ">=", -1.0,
                  "Lion at its best learning rate is within 1 pp of AdamW at its best",
                  "Lion con su mejor tasa queda a menos de 1 pp de AdamW con la suya"),
        Criterion("adamw_to_lion_lr_ratio", "between", (3, 10),
                  "Lion's best learning rate is 3–10× smaller than AdamW's",
                  "La mejor tasa de Lion es de 3 a 10 veces menor que la de AdamW",
                  evidence="Measured ratio 1 in full mode: on the shared grid 1e-5 … 1e-2 "
                           "both peak at 1.78e-3 after 5 epochs (AdamW 0.8517, Lion 0.8552; "
                           "Lion at 3.16e-4: 0.8382). On this small MLP and short budget Lion "
                           "tolerates AdamW's learning rate; its sensitivity shows one grid "
                           "step higher (next criterion)."),
        Criterion("lion_minus_adamw_at_max_lr_pp", "<=", -1.0,
                  "At the largest learning rate of the shared grid (1e-2), Lion falls ≥ 1 pp "
                  "behind AdamW: a sign update moves every weight by the whole learning rate",
                  "Con la mayor tasa de la grilla común (1e-2), Lion queda ≥ 1 pp detrás de "
                  "AdamW: una actualización por signo mueve cada peso la tasa completa"),
        Criterion("lion_state_saving_mlp", ">=", 0.30,
                  "Lion keeps ≥ 30 % less optimizer state than AdamW (MLP)",
                  "Lion guarda ≥ 30 % menos estado del optimizador que AdamW (MLP)"),
        Criterion("lion_state_saving_vit", ">=", 0.30,
                  "Lion keeps ≥ 30 % less optimizer state than AdamW (ViT, class 114)",
                  "Lion guarda ≥ 30 % menos estado del optimizador que AdamW (ViT, clase 114)"),
        Criterion("best_modern_minus_adamw_vit_pp", ">=", 0.0,
                  "On the ViT, at least one of Lion, Sophia and Schedule-Free AdamW matches or "
                  "beats AdamW's validation accuracy (class 114)",
                  "En el ViT, al menos uno de Lion, Sophia y Schedule-Free AdamW iguala o supera "
                  "la exactitud de validación de AdamW (clase 114)"),
    ),
    config=Config,
    quick={"train_subset": 1000, "val_subset": 1000, "epochs": 1, "sweep_points": 2,
           "sweep_epochs": 1, "final_epochs": 1, "vit_epochs": 1, "sf_warmup_steps": 4},
    timed=tuple(f"{name}_{clock}_per_epoch" for name in RACE for clock in ("s", "cpu_s"))
    + tuple(f"vit_{name}_{clock}_per_epoch" for name in VIT_RACE for clock in ("s", "cpu_s"))
    + ("sophia_time_overhead_vit",),
)

# %% [markdown] lang="en"
# ## 1. The data and the rules of the race
# A seeded subset of 10,000 training images keeps the whole lab within a few minutes on a laptop
# CPU; all 10,000 validation images rank the optimizers, and the official test set is used once,
# at the end. Every run starts from the same initial weights and sees the same batches in the
# same order: any difference comes from the optimizer. All runs use one CPU thread and full
# fp32 precision, so the seconds per epoch are comparable and no rounding noise gets mixed into
# differences of a few tenths of a point. Each epoch is timed twice: wall-clock time, and the
# CPU time of this process, which leaves out the time other programs take on a busy machine
# (each run reports its fastest epoch). Accuracy is that of each run's best validation epoch,
# the one a checkpoint callback would keep.

# %% [markdown] lang="es"
# ## 1. Los datos y las reglas de la carrera
# Un subconjunto de 10.000 imágenes de entrenamiento, elegido con la semilla, mantiene el
# laboratorio en pocos minutos en la CPU de un portátil; las 10.000 imágenes de validación
# ordenan a los optimizadores, y el test oficial se usa una sola vez, al final. Cada ejecución
# parte de los mismos pesos iniciales y ve los mismos lotes en el mismo orden: cualquier
# diferencia viene del optimizador. Todas usan un solo hilo de CPU y precisión fp32 completa,
# así los segundos por época son comparables y el redondeo no se mezcla con diferencias de unas
# décimas. Cada época se cronometra dos veces: tiempo de reloj y tiempo de CPU de este proceso,
# que deja fuera el tiempo que se llevan otros programas en una máquina ocupada (cada ejecución
# informa su época más rápida). La exactitud es la de la mejor época de validación de cada
# ejecución, la que guardaría un callback de checkpoint.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine import EarlyStopping, metrics
from dlab.engine.rules import RuleOptimizer
from dlab.engine.timing import EpochTimer, torch_threads
from dlab.engine.variants import fit_run
from dlab.models import MLP
from dlab.models.vit import ViT
from dlab.optim import ScheduleFreeAdamW, Sophia, SophiaHessian
from dlab.viz.compare import grouped_bars

data = load("fashion_mnist", seed=ctx.seed)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
ctx.table([ctx.t("training images", "imágenes de entrenamiento"),
           ctx.t("validation images", "imágenes de validación"),
           ctx.t("test images", "imágenes de test"), ctx.t("batch size", "tamaño de lote"),
           ctx.t("steps per epoch", "pasos por época")],
          [[len(train[1]), len(val[1]), len(data.test[1]), cfg.batch_size,
            math.ceil(len(train[1]) / cfg.batch_size)]])


def train_run(make_model, make_optimizer, epochs, keep_best=False):
    """Train one model from the seed's initial weights. Returns its trainer and history, its
    best validation accuracy (NaN if the loss became NaN or infinite), the wall and CPU
    seconds of its fastest epoch (interference from other programs only ever adds time) and
    the bytes of its optimizer's state."""
    torch.manual_seed(ctx.seed)  # the same initial weights in every run
    model = make_model()
    optimizer = make_optimizer(model.parameters())
    wall, cpu = EpochTimer(), EpochTimer(clock=time.process_time)
    callbacks = [wall, cpu]
    if isinstance(optimizer, Sophia):
        callbacks.append(SophiaHessian(optimizer, every=cfg.sophia_every))
    if keep_best:  # put back the weights of the best validation epoch when training ends
        callbacks.append(EarlyStopping("val_accuracy", patience=epochs, mode="max"))
    run = fit_run(model, optimizer, train, val, epochs=epochs, batch_size=cfg.batch_size,
                  seed=ctx.seed, callbacks=callbacks, **ctx.trainer_options(precision="fp32"))
    return {"trainer": run.trainer, "history": run.history,
            "accuracy": math.nan if run.diverged else max(run.history["val_accuracy"]),
            "seconds": min(wall.seconds, default=math.nan),
            "cpu_seconds": min(cpu.seconds, default=math.nan),
            "state_bytes": state_bytes(optimizer)}


def mlp():
    return MLP(784, cfg.hidden, 10)


def pp(a, b):
    """a − b in percentage points."""
    return 100 * (a - b)


def or_chance(accuracy):
    """A diverged run (NaN) scores what guessing among 10 classes does."""
    return 0.1 if math.isnan(accuracy) else accuracy


# %% [markdown] lang="en"
# ## 2. From SGD to AdamW in one paragraph each
# **SGD** steps along the mini-batch gradient: w ← w − η·g. **Momentum** keeps a velocity
# v ← β·v + g and steps along it, which cancels zigzags and speeds up steady slopes;
# **Nesterov** evaluates that velocity one step ahead, so it brakes sooner. **AdaGrad** divides
# each weight's step by the root of the sum of all its past g², so weights with large gradients
# slow down, but the sum only grows and learning eventually stalls; **RMSProp** replaces the sum
# by a moving average. **Adam** combines a momentum (first moment m) with RMSProp's scaling
# (second moment v) and corrects both for starting at zero. Adam's `weight_decay` adds λ·w to
# the gradient (an L2 penalty), so the pull towards zero is then divided by √v like everything
# else and weights with large gradients barely feel it. **AdamW** (Loshchilov & Hutter, 2019)
# applies the decay apart: w ← w − η·λ·w, the same relative pull for every weight. Adam + L2
# and AdamW below use the same λ = 0.01; only where it enters differs.

# %% [markdown] lang="es"
# ## 2. De SGD a AdamW, un párrafo cada uno
# **SGD** avanza según el gradiente del mini-lote: w ← w − η·g. **Momentum** guarda una
# velocidad v ← β·v + g y avanza según ella, lo que cancela los zigzags y acelera en pendientes
# constantes; **Nesterov** evalúa esa velocidad un paso por delante, así frena antes.
# **AdaGrad** divide el paso de cada peso por la raíz de la suma de todos sus g² pasados: los
# pesos con gradientes grandes van más despacio, pero la suma solo crece y el aprendizaje acaba
# por detenerse; **RMSProp** cambia la suma por una media móvil. **Adam** combina un momentum
# (primer momento m) con el escalado de RMSProp (segundo momento v) y corrige ambos por empezar
# en cero. El `weight_decay` de Adam suma λ·w al gradiente (una penalización L2), así que ese
# empuje hacia cero queda dividido por √v como todo lo demás y los pesos con gradientes grandes
# casi no lo notan. **AdamW** (Loshchilov y Hutter, 2019) aplica el decaimiento aparte:
# w ← w − η·λ·w, el mismo empuje relativo para cada peso. Adam + L2 y AdamW usan abajo el mismo
# λ = 0.01; solo cambia dónde entra.

# %% [markdown] lang="en"
# ## 3. Lion: only the sign
# Lion (Chen et al., 2023) was found by a program searching the space of update rules. It keeps
# a single momentum m and, each step, moves every weight by exactly η in the direction of the
# sign of an interpolation between m and the new gradient: c = β1·m + (1 − β1)·g,
# w ← w − η·(sign(c) + λ·w), and only then m ← β2·m + (1 − β2)·g, with a slower β2 = 0.99 than
# β1 = 0.9. Since every coordinate moves by the full η, its learning rate must be several
# times smaller than AdamW's, and its weight decay several times larger to keep the same η·λ.
# The Lion runs of this lab all train with your `lion_step`.

# %% [markdown] lang="es"
# ## 3. Lion: solo el signo
# Lion (Chen et al., 2023) lo encontró un programa que exploraba el espacio de reglas de
# actualización. Guarda un solo momentum m y, en cada paso, mueve cada peso exactamente η en la
# dirección del signo de una interpolación entre m y el gradiente nuevo:
# c = β1·m + (1 − β1)·g, w ← w − η·(sign(c) + λ·w), y solo después m ← β2·m + (1 − β2)·g, con un
# β2 = 0.99 más lento que β1 = 0.9. Como cada coordenada se mueve η completo, su tasa de
# aprendizaje debe ser varias veces menor que la de AdamW, y su decaimiento de pesos varias veces
# mayor para mantener el mismo η·λ. Todas las ejecuciones de Lion de este laboratorio entrenan
# con tu `lion_step`.

# %% exercise="lion_step"
def lion_step(w: torch.Tensor, grad: torch.Tensor, m: torch.Tensor, lr: float,
              beta1: float = 0.9, beta2: float = 0.99, weight_decay: float = 0.0) -> tuple:
    """[en] One Lion step for one parameter tensor (Chen et al. 2023, Algorithm 2). `m` is the
    momentum (all zeros before the first step). Compute the direction
    c = beta1 * m + (1 - beta1) * grad, the new weights
    new_w = w - lr * (torch.sign(c) + weight_decay * w) and the new momentum
    new_m = beta2 * m + (1 - beta2) * grad (from the old m). Return `(new_w, new_m)`, two new
    tensors with the shape of `w`; do not modify `w` or `m` in place and do not use
    torch.optim.

    [es] Un paso de Lion para un tensor de parámetros (Chen et al. 2023, algoritmo 2). `m` es el
    momentum (todo ceros antes del primer paso). Calcula la dirección
    c = beta1 * m + (1 - beta1) * grad, los pesos nuevos
    nuevo_w = w - lr * (torch.sign(c) + weight_decay * w) y el momentum nuevo
    nuevo_m = beta2 * m + (1 - beta2) * grad (a partir del m anterior). Devuelve
    `(nuevo_w, nuevo_m)`, dos tensores nuevos con la forma de `w`; no modifiques `w` ni `m` en
    el sitio y no uses torch.optim.
    """
    direction = torch.sign(beta1 * m + (1 - beta1) * grad)
    new_w = w - lr * (direction + weight_decay * w)
    return new_w, beta2 * m + (1 - beta2) * grad


# %% check
import torch

from dlab.exercises import expect
from dlab.optim import Lion

_W = torch.tensor([1.0, -2.0, 0.5, 3.0])
_GRADS = [torch.tensor([0.5, -1.0, 2.0, -0.1]), torch.tensor([-0.4, -0.8, -1.5, 0.3]),
          torch.tensor([0.6, 1.2, -1.0, 0.2]), torch.tensor([-0.9, 0.1, 0.3, -0.2]),
          torch.tensor([0.2, -0.3, -0.4, 0.5])]


@ctx.check("lion_step")
def first_step_moves_every_weight_by_lr():
    result = lion_step(_W.clone(), _GRADS[0], torch.zeros(4), 0.1)
    expect.type(result, tuple, "lion_step(w, g, zeros, lr=0.1)")
    w, m = result
    expect.shape(w, (4,), "lion_step(...)[0]")
    expect.close(w, _W - 0.1 * torch.sign(_GRADS[0]),
                 "new w after a first lion_step with lr=0.1 (every weight moves by lr against "
                 "the sign of its gradient)")
    expect.close(m, 0.01 * _GRADS[0], "new m after a first lion_step ((1 - beta2) * grad, "
                 "beta2 = 0.99)")


@ctx.check("lion_step")
def the_size_of_the_gradient_does_not_matter():
    m = torch.tensor([0.3, 0.2, -0.1, 0.05])
    small, _ = lion_step(_W.clone(), _GRADS[1], m.clone(), 0.1)
    large, _ = lion_step(_W.clone(), 1000 * _GRADS[1], 1000 * m, 0.1)
    expect.close(large, small, "new w when grad and m are 1000× larger (Lion steps along a "
                 "sign: only the direction counts)")


@ctx.check("lion_step")
def weight_decay_is_decoupled():
    w, _ = lion_step(_W.clone(), torch.zeros(4), torch.zeros(4), 0.1, weight_decay=0.5)
    expect.close(w, _W * (1 - 0.1 * 0.5),
                 "new w of lion_step(w, zero grad, zero m, lr=0.1, weight_decay=0.5) (the decay "
                 "is applied apart from the sign: w - lr * weight_decay * w)")


@ctx.check("lion_step")
def five_steps_match_the_library_lion():
    param = _W.clone().requires_grad_()
    reference = Lion([param], lr=0.1, betas=(0.9, 0.99), weight_decay=0.2)
    w, m = _W.clone(), torch.zeros(4)
    for step, grad in enumerate(_GRADS, start=1):
        param.grad = grad.clone()
        reference.step()
        w, m = lion_step(w, grad, m, 0.1, 0.9, 0.99, 0.2)
        expect.close(m, reference.state[param]["exp_avg"],
                     f"m after step {step} of lion_step(..., beta1=0.9, beta2=0.99)")
        expect.close(w, param.detach(), f"w after step {step} of lion_step(..., lr=0.1, "
                     "weight_decay=0.2) (compared with dlab.optim.Lion)", atol=1e-6)


# %%
def lion_optimizer(params, lr, weight_decay):
    """Your lion_step as the update rule of an optimizer (the momentum starts at zero)."""
    def rule(w, grad, state, lr):
        if "m" not in state:
            state["m"] = torch.zeros_like(w)
        w, state["m"] = lion_step(w, grad, state["m"], lr, 0.9, 0.99, weight_decay)
        return w
    return RuleOptimizer(params, rule, lr=lr)


# %% [markdown] lang="en"
# ## 4. What an optimizer remembers
# Between two steps an optimizer keeps buffers for every parameter: nothing for SGD, one
# velocity for momentum, Nesterov and Lion, a sum of squares for AdaGrad, two moments for Adam
# and AdamW. On a large model that memory counts as much as the weights themselves. PyTorch
# keeps these buffers in `optimizer.state`, a dict with one entry per parameter, itself a dict
# of named values. Counting their bytes gives the exact cost.

# %% [markdown] lang="es"
# ## 4. Lo que recuerda un optimizador
# Entre dos pasos, un optimizador guarda búferes para cada parámetro: nada en SGD, una velocidad
# en momentum, Nesterov y Lion, una suma de cuadrados en AdaGrad, dos momentos en Adam y AdamW.
# En un modelo grande esa memoria pesa tanto como los propios pesos. PyTorch guarda esos búferes
# en `optimizer.state`, un diccionario con una entrada por parámetro que a su vez es un
# diccionario de valores con nombre. Contar sus bytes da el costo exacto.

# %% exercise="state_bytes"
def state_bytes(optimizer) -> int:
    """[en] Return the number of bytes `optimizer` keeps between steps: the sum, over the
    values of `optimizer.state` (one dict per parameter), of the size of every tensor in those
    dicts, `t.numel() * t.element_size()`. Skip values that are not tensors (Python numbers,
    None). The parameters and their gradients are not part of the optimizer's state. Return a
    Python int.

    [es] Devuelve el número de bytes que `optimizer` guarda entre pasos: la suma, sobre los
    valores de `optimizer.state` (un dict por parámetro), del tamaño de cada tensor de esos
    dicts, `t.numel() * t.element_size()`. Omite los valores que no son tensores (números de
    Python, None). Los parámetros y sus gradientes no son parte del estado del optimizador.
    Devuelve un int de Python.
    """
    return int(sum(value.numel() * value.element_size()
                   for buffers in optimizer.state.values() for value in buffers.values()
                   if isinstance(value, torch.Tensor)))


# %% check
from types import SimpleNamespace

import torch
from torch import nn

from dlab.exercises import expect


def _stepped(make_optimizer):
    torch.manual_seed(0)
    layer = nn.Linear(3, 2)
    optimizer = make_optimizer(layer.parameters())
    layer(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    return optimizer


@ctx.check("state_bytes")
def counts_bytes_of_every_tensor_and_nothing_else():
    fake = SimpleNamespace(state={
        "a": {"m": torch.zeros(3, dtype=torch.float64), "step": 7},
        "b": {"m": torch.zeros(2, 2, dtype=torch.float16), "v": torch.zeros(5), "old": None},
    })
    value = state_bytes(fake)
    expect.type(value, int, "state_bytes(optimizer)")
    expect.equal(value, 3 * 8 + 4 * 2 + 5 * 4,
                 "state_bytes of a state {a: {m: 3 float64, step: 7}, b: {m: 2×2 float16, "
                 "v: 5 float32, old: None}} (bytes, not elements; every parameter, every "
                 "tensor)")


@ctx.check("state_bytes")
def plain_sgd_keeps_nothing_and_adam_two_moments():
    sgd = _stepped(lambda p: torch.optim.SGD(p, lr=0.1))
    expect.equal(state_bytes(sgd), 0, "state_bytes of plain SGD after a step on nn.Linear(3, "
                 "2) (SGD without momentum stores nothing; the weights are not its state)")
    adam = _stepped(lambda p: torch.optim.Adam(p, lr=0.1))
    moments = sum(2 * 4 * p.numel() for group in adam.param_groups for p in group["params"])
    expect.between(state_bytes(adam), moments, moments + 64,
                   "state_bytes of Adam after a step on nn.Linear(3, 2) (two float32 moments "
                   f"of 8 numbers = {moments} bytes, plus a step counter per parameter)")


# %% [markdown] lang="en"
# ## 5. Sophia and Schedule-Free AdamW
# **Sophia** (Liu et al., 2023) divides the momentum by an estimate h of the curvature, the
# diagonal of the Hessian, like a Newton step: large steps where the loss is flat, small ones
# where it is steep. Here it is the Sophia-G form: every k = 10 steps, labels are *sampled* from
# the model's own softmax, and the squared gradient of the loss on those labels, times the
# batch size, estimates h (the Gauss-Newton-Bartlett estimator). That costs one extra
# forward and backward pass every ten steps. The step m / max(γ·h, ε) is then clipped to
# [−1, 1] per coordinate, times η: where h is tiny or stale the step cannot exceed η.
#
# **Schedule-Free AdamW** (Defazio et al., 2024) removes the learning-rate schedule. It keeps
# an iterate z moved by Adam-style steps and an average x of all the z's; gradients are taken
# at an interpolation y = (1 − β1)·z + β1·x, and x is what gets evaluated. Averaging
# does the job that decaying the learning rate usually does. The model holds y while training
# and x while evaluating; the `Trainer` switches them together with the model's mode.
# Both live in `dlab.optim`, each tested against its paper's algorithm.

# %% [markdown] lang="es"
# ## 5. Sophia y Schedule-Free AdamW
# **Sophia** (Liu et al., 2023) divide el momentum por una estimación h de la curvatura, la
# diagonal del hessiano, como un paso de Newton: pasos grandes donde la pérdida es plana,
# pequeños donde es empinada. Aquí está en su forma Sophia-G: cada k = 10 pasos se *muestrean*
# etiquetas de la propia softmax del modelo, y el cuadrado del gradiente de la pérdida con esas
# etiquetas, por el tamaño del lote, estima h (el estimador Gauss-Newton-Bartlett). Cuesta una
# pasada adelante y atrás extra cada diez pasos. El paso m / max(γ·h, ε) se recorta luego a
# [−1, 1] por coordenada, por η: donde h es diminuto o viejo, el paso no puede superar η.
#
# **Schedule-Free AdamW** (Defazio et al., 2024) elimina el calendario de la tasa de
# aprendizaje. Guarda un iterado z que avanza con pasos al estilo de Adam y un promedio x de
# todos los z; los gradientes se toman en una interpolación y = (1 − β1)·z + β1·x, y lo que se
# evalúa es x. Promediar hace el trabajo que suele hacer bajar la tasa de aprendizaje. El
# modelo contiene y mientras entrena y x mientras se evalúa; el `Trainer` los intercambia junto
# con el modo del modelo. Ambos están en `dlab.optim`, cada uno probado contra el algoritmo de
# su artículo.

# %% [markdown] lang="en"
# ## 6. The race on the MLP
# An MLP [300, 100] with ReLU, eleven optimizers, the same epochs for all (comparing wall time
# after different numbers of epochs would be meaningless). The learning rates are the usual
# defaults the course suggests: 0.01 for the SGD family and AdaGrad, 1e-3 for RMSProp and the
# Adam family, 1e-4 for Lion (with weight decay 0.1), and 3e-4 for Sophia, which, like Lion,
# caps every coordinate's step at η.

# %% [markdown] lang="es"
# ## 6. La carrera en el MLP
# Un MLP [300, 100] con ReLU, once optimizadores y las mismas épocas para todos (comparar
# tiempos tras distinto número de épocas no tendría sentido). Las tasas de aprendizaje son los
# valores habituales que sugiere el curso: 0.01 para la familia SGD y AdaGrad, 1e-3 para RMSProp
# y la familia Adam, 1e-4 para Lion (con decaimiento de pesos 0.1) y 3e-4 para Sophia, que, como
# Lion, limita el paso de cada coordenada a η.

# %%
OPTIMIZERS = {
    "sgd": ("SGD", lambda p: torch.optim.SGD(p, lr=cfg.sgd_lr)),
    "momentum": ("Momentum", lambda p: torch.optim.SGD(p, lr=cfg.sgd_lr, momentum=0.9)),
    "nesterov": ("Nesterov", lambda p: torch.optim.SGD(p, lr=cfg.sgd_lr, momentum=0.9,
                                                       nesterov=True)),
    "adagrad": ("AdaGrad", lambda p: torch.optim.Adagrad(p, lr=cfg.adagrad_lr)),
    "rmsprop": ("RMSProp", lambda p: torch.optim.RMSprop(p, lr=cfg.adam_lr)),
    "adam": ("Adam", lambda p: torch.optim.Adam(p, lr=cfg.adam_lr)),
    "adam_l2": ("Adam + L2", lambda p: torch.optim.Adam(p, lr=cfg.adam_lr,
                                                         weight_decay=cfg.weight_decay)),
    "adamw": ("AdamW", lambda p: torch.optim.AdamW(p, lr=cfg.adam_lr,
                                                   weight_decay=cfg.weight_decay)),
    "lion": ("Lion", lambda p: lion_optimizer(p, cfg.lion_lr, cfg.lion_wd)),
    "sophia": ("Sophia-G", lambda p: Sophia(p, lr=cfg.sophia_lr, rho=cfg.sophia_rho,
                                            weight_decay=cfg.sophia_wd)),
    "schedule_free": ("SF-AdamW", lambda p: ScheduleFreeAdamW(
        p, lr=cfg.adam_lr, weight_decay=cfg.weight_decay, warmup_steps=cfg.sf_warmup_steps)),
}
MODERN = ("lion", "sophia", "schedule_free")
n_params = sum(p.numel() for p in mlp().parameters())
race = {}
with torch_threads(1):
    for name, (label, make_optimizer) in OPTIMIZERS.items():
        race[name] = train_run(mlp, make_optimizer, cfg.epochs)
        ctx.console.print(f"{label:>10}: " + ctx.t("best val accuracy", "mejor exactitud de "
                                                   "validación") + f" {race[name]['accuracy']:.4f}")
ctx.table([ctx.t("optimizer", "optimizador"), ctx.t("best val accuracy", "mejor exactitud val"),
           ctx.t("lowest val loss", "menor pérdida val"),
           ctx.t("wall s / epoch", "s reloj / época"), ctx.t("CPU s / epoch", "s CPU / época"),
           ctx.t("state (KiB)", "estado (KiB)"), ctx.t("state / weights", "estado / pesos")],
          [[OPTIMIZERS[n][0], race[n]["accuracy"], min(race[n]["history"]["val_loss"]),
            race[n]["seconds"], race[n]["cpu_seconds"], race[n]["state_bytes"] / 1024,
            race[n]["state_bytes"] / (4 * n_params)] for n in OPTIMIZERS],
          ctx.t(f"MLP {cfg.hidden}, {cfg.epochs} epochs, {n_params:,} weights",
                f"MLP {cfg.hidden}, {cfg.epochs} épocas, {n_params:,} pesos"))

# %% [markdown] lang="en"
# Left, the validation loss of every optimizer, epoch by epoch (dashed: the three modern ones);
# right, the best validation accuracy of each. Below, the cost side: the bytes of state each
# optimizer keeps and the seconds an epoch takes (training plus validation, fastest epoch), on
# the wall clock and in CPU time.

# %% [markdown] lang="es"
# A la izquierda, la pérdida de validación de cada optimizador, época a época (en discontinua,
# los tres modernos); a la derecha, la mejor exactitud de validación de cada uno. Debajo, el
# lado del costo: los bytes de estado que guarda cada optimizador y los segundos que tarda una
# época (entrenamiento más validación, la época más rápida), en tiempo de reloj y de CPU.

# %%
# Ten colours for the classic optimizers (solid), dark ones for the modern three (dashed).
colors = [*plt.cm.tab10.colors[:len(OPTIMIZERS) - len(MODERN)], "black", "darkred", "navy"]
labels = [OPTIMIZERS[n][0] for n in OPTIMIZERS]
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(14, 4.6),
                                      gridspec_kw={"width_ratios": [3, 2]})
for color, name in zip(colors, OPTIMIZERS):
    losses = race[name]["history"]["val_loss"]
    ax_loss.plot(range(1, len(losses) + 1), losses, color=color, label=OPTIMIZERS[name][0],
                 linestyle="--" if name in MODERN else "-", linewidth=1.6)
ax_loss.set(title=ctx.t("Validation loss", "Pérdida de validación"),
            xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy", yscale="log")
ax_loss.grid(alpha=0.3, which="both")
ax_loss.legend(fontsize=8, ncol=2)
accuracies = [race[n]["accuracy"] for n in OPTIMIZERS]
grouped_bars(ax_acc, labels, {"": accuracies}, fmt="{:.3f}",
             ylim=(min(accuracies) - 0.03, max(accuracies) + 0.015),
             title=ctx.t("Best validation accuracy", "Mejor exactitud de validación"))
ax_acc.tick_params(axis="x", labelrotation=60, labelsize=8)
fig.tight_layout()
ctx.figure("mlp_race", fig)

fig, (ax_mem, ax_time) = plt.subplots(1, 2, figsize=(14, 4.2))
grouped_bars(ax_mem, labels, {"": [race[n]["state_bytes"] / 1024 for n in OPTIMIZERS]},
             fmt="{:.0f}", title=ctx.t("Optimizer state (KiB)", "Estado del optimizador (KiB)"))
grouped_bars(ax_time, labels, {ctx.t("wall clock", "reloj"): [race[n]["seconds"] for n in race],
                                "CPU": [race[n]["cpu_seconds"] for n in race]}, fmt="{:.2f}",
             title=ctx.t("Seconds per epoch", "Segundos por época"))
for ax in (ax_mem, ax_time):
    ax.tick_params(axis="x", labelrotation=60, labelsize=8)
fig.tight_layout()
ctx.figure("mlp_memory_time", fig)

# %% [markdown] lang="en"
# Plain SGD at 0.01 is still far from the others after these epochs, and momentum closes most of
# that gap at no extra cost but one buffer. Adam + L2 and AdamW differ only in where the decay
# enters: compare their bars. The memory panel is exact arithmetic: 0, 1 or 2 copies of the
# weights, plus a few bytes of step counters for the PyTorch optimizers.

# %% [markdown] lang="es"
# SGD puro con 0.01 sigue lejos de los demás tras estas épocas, y momentum cierra la mayor parte
# de esa brecha sin más costo que un búfer. Adam + L2 y AdamW solo difieren en dónde entra el
# decaimiento: compara sus barras. El panel de memoria es aritmética exacta: 0, 1 o 2 copias de
# los pesos, más unos pocos bytes de contadores de pasos en los optimizadores de PyTorch.

# %% [markdown] lang="en"
# ## 7. Tuning the learning rate: SGD, AdamW and Lion
# A default learning rate is a guess; a fair comparison gives each optimizer its own best. Five
# log-spaced values are tried for each: the same grid from 1e-5 to 1e-2 for AdamW and Lion, so
# their best values can be compared directly, and a grid from 1e-3 to 1 for plain SGD. Each
# sweep run is short; the best value of each optimizer, on validation, is then trained for
# longer. A run whose loss becomes NaN is stopped by the training doctor and counted as failed.

# %% [markdown] lang="es"
# ## 7. Ajustar la tasa de aprendizaje: SGD, AdamW y Lion
# Una tasa por defecto es una suposición; una comparación justa le da a cada optimizador la
# suya. Se prueban cinco valores espaciados en escala logarítmica para cada uno: la misma grilla
# de 1e-5 a 1e-2 para AdamW y Lion, para comparar directamente sus mejores valores, y una de
# 1e-3 a 1 para SGD puro. Cada ejecución del barrido es corta; el mejor valor de cada
# optimizador, en validación, se entrena luego más tiempo. Una ejecución cuya pérdida se vuelve
# NaN la detiene el doctor del entrenamiento y cuenta como fallida.

# %%
SWEPT = {
    "sgd": ("SGD", cfg.sgd_lr_range, lambda p, lr: torch.optim.SGD(p, lr=lr)),
    "adamw": ("AdamW", cfg.lr_range,
              lambda p, lr: torch.optim.AdamW(p, lr=lr, weight_decay=cfg.weight_decay)),
    "lion": ("Lion", cfg.lr_range, lambda p, lr: lion_optimizer(p, lr, cfg.lion_wd)),
}
sweep, best_lr = {}, {}
with torch_threads(1):
    for name, (label, (low, high), make_optimizer) in SWEPT.items():
        grid = np.logspace(np.log10(low), np.log10(high), cfg.sweep_points).tolist()
        sweep[name] = {lr: train_run(mlp, lambda p, lr=lr: make_optimizer(p, lr),
                                     cfg.sweep_epochs)["accuracy"] for lr in grid}
        finished = {lr: acc for lr, acc in sweep[name].items() if not math.isnan(acc)}
        best_lr[name] = max(finished, key=finished.get)


def sweep_cell(name, lr):
    if lr not in sweep[name]:  # not on this optimizer's grid
        return "—"
    accuracy = sweep[name][lr]
    return ctx.t("diverged", "divergió") if math.isnan(accuracy) else f"{accuracy:.4f}"


ctx.table(["lr"] + [SWEPT[n][0] for n in SWEPT],
          [[f"{lr:.3g}"] + [sweep_cell(n, lr) for n in SWEPT]
           for lr in sorted({lr for n in SWEPT for lr in sweep[n]})],
          ctx.t(f"Best validation accuracy after {cfg.sweep_epochs} epochs",
                f"Mejor exactitud de validación tras {cfg.sweep_epochs} épocas"))

finals = {}
with torch_threads(1):
    for name, (label, _, make_optimizer) in SWEPT.items():
        finals[name] = train_run(mlp, lambda p: make_optimizer(p, best_lr[name]),
                                 cfg.final_epochs, keep_best=True)
ctx.table([ctx.t("optimizer", "optimizador"), ctx.t("best lr", "mejor lr"),
           ctx.t("best val accuracy", "mejor exactitud val"),
           ctx.t("CPU s / epoch", "s CPU / época"), ctx.t("state (KiB)", "estado (KiB)")],
          [[SWEPT[n][0], f"{best_lr[n]:.3g}", finals[n]["accuracy"], finals[n]["cpu_seconds"],
            finals[n]["state_bytes"] / 1024] for n in SWEPT],
          ctx.t(f"At the best learning rate, {cfg.final_epochs} epochs",
                f"Con la mejor tasa, {cfg.final_epochs} épocas"))

# %% [markdown] lang="en"
# Left, validation accuracy against the learning rate (the ringed point is each optimizer's
# best); right, the longer runs at those best values.

# %% [markdown] lang="es"
# A la izquierda, la exactitud de validación según la tasa de aprendizaje (el punto con anillo
# es el mejor de cada optimizador); a la derecha, las ejecuciones largas con esos mejores
# valores.

# %%
fig, (ax_sweep, ax_final) = plt.subplots(1, 2, figsize=(13, 4.4))
for name, (label, _, _) in SWEPT.items():
    lrs = sorted(sweep[name])
    line, = ax_sweep.plot(lrs, [sweep[name][lr] for lr in lrs], marker="o", label=label)
    ax_sweep.plot([best_lr[name]], [sweep[name][best_lr[name]]], marker="o", markersize=14,
                  markerfacecolor="none", color=line.get_color())
    accuracy = finals[name]["history"]["val_accuracy"]
    ax_final.plot(range(1, len(accuracy) + 1), accuracy, color=line.get_color(),
                  label=f"{label}, lr = {best_lr[name]:.3g}")
ax_sweep.set(xscale="log", xlabel=ctx.t("learning rate", "tasa de aprendizaje"),
             ylabel=ctx.t("best val accuracy", "mejor exactitud val"),
             title=ctx.t(f"Learning-rate sweep ({cfg.sweep_epochs} epochs each)",
                         f"Barrido de la tasa ({cfg.sweep_epochs} épocas cada una)"))
ax_final.set(xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("val accuracy", "exactitud val"),
             title=ctx.t("At the best learning rate", "Con la mejor tasa"))
for ax in (ax_sweep, ax_final):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
ctx.figure("lr_sweep", fig)

# %% [markdown] lang="en"
# The grid is coarse on purpose (five points over three decades, as the course asks), so a best
# value is only known to within a factor of about 5.6. The course expects Lion's curve to peak
# 3–10× further left than AdamW's, since its sign update moves every weight by the whole
# learning rate. Look at where the two peaks fall on this small MLP with short runs, and at how
# fast each curve drops to the right of its peak: that drop is where the size of Lion's steps
# shows.

# %% [markdown] lang="es"
# La grilla es gruesa a propósito (cinco puntos en tres décadas, como pide el curso), así que
# un mejor valor solo se conoce dentro de un factor de unos 5,6. El curso espera que la curva de
# Lion alcance su máximo de 3 a 10 veces más a la izquierda que la de AdamW, porque su
# actualización por signo mueve cada peso la tasa de aprendizaje completa. Mira dónde caen los
# dos máximos en este MLP pequeño con ejecuciones cortas, y qué tan rápido cae cada curva a la
# derecha de su máximo: esa caída es donde se nota el tamaño de los pasos de Lion.

# %% [markdown] lang="en"
# ## 8. A small Vision Transformer
# The class-114 comparison is about Transformers, where Lion and Sophia were designed to shine.
# The ViT cuts each 28×28 image into sixteen 7×7 patches, projects each patch to a 64-number
# token, adds a learned position embedding and a CLS token, and runs two pre-norm Transformer
# encoder layers with four attention heads; a linear head reads the CLS token. AdamW
# (lr 1e-3, weight decay 0.05), Lion (lr 1e-4, weight decay 0.5: the same η·λ), Sophia and
# Schedule-Free AdamW (lr 1e-3, no schedule) train it from the same initial weights.

# %% [markdown] lang="es"
# ## 8. Un Vision Transformer pequeño
# La comparación de la clase 114 trata de Transformers, donde Lion y Sophia se diseñaron para
# lucirse. El ViT corta cada imagen de 28×28 en dieciséis parches de 7×7, proyecta cada parche a
# un token de 64 números, suma un embedding de posición aprendido y un token CLS, y aplica dos
# capas encoder de Transformer pre-norm con cuatro cabezas de atención; una cabeza lineal lee
# el token CLS. AdamW (lr 1e-3, decaimiento 0.05), Lion (lr 1e-4, decaimiento 0.5: el mismo
# η·λ), Sophia y Schedule-Free AdamW (lr 1e-3, sin calendario) lo entrenan desde los mismos
# pesos iniciales.

# %%
def vit():
    return ViT(patch_size=cfg.vit_patch, dim=cfg.vit_dim, depth=cfg.vit_depth,
               heads=cfg.vit_heads)


VIT_OPTIMIZERS = {
    "adamw": ("AdamW", lambda p: torch.optim.AdamW(p, lr=cfg.adam_lr,
                                                   weight_decay=cfg.vit_adamw_wd)),
    "lion": ("Lion", lambda p: lion_optimizer(p, cfg.lion_lr, cfg.vit_lion_wd)),
    "sophia": ("Sophia-G", lambda p: Sophia(p, lr=cfg.sophia_lr, rho=cfg.sophia_rho,
                                            weight_decay=cfg.sophia_wd)),
    "schedule_free": ("SF-AdamW", lambda p: ScheduleFreeAdamW(
        p, lr=cfg.adam_lr, weight_decay=cfg.vit_adamw_wd, warmup_steps=cfg.sf_warmup_steps)),
}
vit_params = sum(p.numel() for p in vit().parameters())
vit_race = {}
with torch_threads(1):
    for name, (label, make_optimizer) in VIT_OPTIMIZERS.items():
        vit_race[name] = train_run(vit, make_optimizer, cfg.vit_epochs)
        ctx.console.print(f"ViT {label:>8}: " + ctx.t("best val accuracy", "mejor exactitud de "
                                                      "validación")
                          + f" {vit_race[name]['accuracy']:.4f}")
ctx.table([ctx.t("optimizer", "optimizador"), ctx.t("best val accuracy", "mejor exactitud val"),
           ctx.t("wall s / epoch", "s reloj / época"), ctx.t("CPU s / epoch", "s CPU / época"),
           ctx.t("state (KiB)", "estado (KiB)"), ctx.t("state / weights", "estado / pesos")],
          [[VIT_OPTIMIZERS[n][0], vit_race[n]["accuracy"], vit_race[n]["seconds"],
            vit_race[n]["cpu_seconds"], vit_race[n]["state_bytes"] / 1024,
            vit_race[n]["state_bytes"] / (4 * vit_params)] for n in VIT_OPTIMIZERS],
          ctx.t(f"ViT, {cfg.vit_depth} layers, {vit_params:,} weights, {cfg.vit_epochs} epochs",
                f"ViT, {cfg.vit_depth} capas, {vit_params:,} pesos, {cfg.vit_epochs} épocas"))

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(13, 4.4))
for name, (label, _) in VIT_OPTIMIZERS.items():
    history = vit_race[name]["history"]
    ax_loss.plot(range(1, len(history) + 1), history["val_loss"], label=label,
                 linestyle="--" if name in MODERN else "-")
    ax_acc.plot(range(1, len(history) + 1), history["val_accuracy"], label=label,
                linestyle="--" if name in MODERN else "-")
ax_loss.set(title=ctx.t("ViT: validation loss", "ViT: pérdida de validación"),
            xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy")
ax_acc.set(title=ctx.t("ViT: validation accuracy", "ViT: exactitud de validación"),
           xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("accuracy", "exactitud"))
for ax in (ax_loss, ax_acc):
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.tight_layout()
ctx.figure("vit_race", fig)

# %% [markdown] lang="en"
# Lion starts slowest: with lr 1e-4 every weight moves by at most 1e-4 per step, where AdamW's
# first steps are as large as its learning rate, ten times more. What Schedule-Free evaluates is
# an average of many iterates, which damps the epoch-to-epoch noise a constant learning rate
# leaves; compare its curves with AdamW's here and, over the last epochs of the MLP race, with
# Adam's and AdamW's. Sophia's extra forward and backward pass every ten steps is visible in its
# CPU seconds per epoch.

# %% [markdown] lang="es"
# Lion arranca más despacio: con lr 1e-4 cada peso se mueve como mucho 1e-4 por paso, mientras
# que los primeros pasos de AdamW son tan grandes como su tasa, diez veces más. Lo que evalúa
# Schedule-Free es un promedio de muchos iterados, que amortigua el ruido de época a época que
# deja una tasa constante; compara sus curvas con las de AdamW aquí y, en las últimas épocas de
# la carrera del MLP, con las de Adam y AdamW. La pasada extra adelante y atrás de Sophia cada
# diez pasos se ve en sus segundos de CPU por época.

# %% [markdown] lang="en"
# ## 9. One look at the test set
# Of the three tuned runs of section 7, the one with the best validation accuracy is scored
# once on the test images, with the weights of its best validation epoch.

# %% [markdown] lang="es"
# ## 9. Una sola mirada al conjunto de test
# De las tres ejecuciones ajustadas de la sección 7, la de mejor exactitud de validación se
# evalúa una sola vez con las imágenes de test, con los pesos de su mejor época de validación.

# %%
winner = max(finals, key=lambda n: finals[n]["accuracy"])
test_accuracy = metrics.accuracy(finals[winner]["trainer"].predict(data.test[0]), data.test[1])
ctx.table([ctx.t("model", "modelo"), "lr", ctx.t("test accuracy", "exactitud en test")],
          [[f"MLP {cfg.hidden} + {SWEPT[winner][0]}", f"{best_lr[winner]:.3g}", test_accuracy]])

# %%
results = {}
for name in OPTIMIZERS:
    results[f"{name}_val_accuracy"] = race[name]["accuracy"]
    results[f"{name}_state_bytes"] = race[name]["state_bytes"]
    results[f"{name}_s_per_epoch"] = race[name]["seconds"]
    results[f"{name}_cpu_s_per_epoch"] = race[name]["cpu_seconds"]
for name in SWEPT:
    results[f"{name}_best_lr"] = best_lr[name]
    results[f"final_{name}_val_accuracy"] = finals[name]["accuracy"]
for name in VIT_OPTIMIZERS:
    results[f"vit_{name}_val_accuracy"] = vit_race[name]["accuracy"]
    results[f"vit_{name}_state_bytes"] = vit_race[name]["state_bytes"]
    results[f"vit_{name}_s_per_epoch"] = vit_race[name]["seconds"]
    results[f"vit_{name}_cpu_s_per_epoch"] = vit_race[name]["cpu_seconds"]
weights_grads = 2 * 4 * vit_params  # fp32 weights and their gradients
ctx.finish({
    **results,
    "adamw_minus_adam_pp": pp(race["adamw"]["accuracy"], race["adam"]["accuracy"]),
    "adamw_minus_adam_l2_pp": pp(race["adamw"]["accuracy"], race["adam_l2"]["accuracy"]),
    "best_modern_minus_adamw_mlp_pp": max(pp(race[n]["accuracy"], race["adamw"]["accuracy"])
                                          for n in MODERN),
    "lion_minus_adamw_pp": pp(finals["lion"]["accuracy"], finals["adamw"]["accuracy"]),
    "adamw_to_lion_lr_ratio": best_lr["adamw"] / best_lr["lion"],
    "lion_minus_adamw_at_max_lr_pp": pp(or_chance(sweep["lion"][max(sweep["lion"])]),
                                        or_chance(sweep["adamw"][max(sweep["adamw"])])),
    "lion_state_saving_mlp": 1 - race["lion"]["state_bytes"] / race["adamw"]["state_bytes"],
    "lion_state_saving_vit": 1 - vit_race["lion"]["state_bytes"]
    / vit_race["adamw"]["state_bytes"],
    "lion_weights_grads_state_saving_vit": 1 - (weights_grads + vit_race["lion"]["state_bytes"])
    / (weights_grads + vit_race["adamw"]["state_bytes"]),
    "best_modern_minus_adamw_vit_pp": max(pp(vit_race[n]["accuracy"],
                                             vit_race["adamw"]["accuracy"]) for n in MODERN),
    "sophia_time_overhead_vit": vit_race["sophia"]["cpu_seconds"]
    / vit_race["adamw"]["cpu_seconds"] - 1,
    "test_model": f"{winner} lr={best_lr[winner]:.3g}",
    "test_accuracy": test_accuracy,
})
