# %% [markdown] lang="en"
# No single learning rate suits a whole training run: a large one makes fast progress early
# but keeps bouncing around the minimum later, a small one settles well but crawls at the
# start. A schedule changes the learning rate as training goes. This lab trains the same MLP
# four times, from the same weights and with the same batches, under four schedules with the
# same peak: constant, exponential decay, linear warmup + cosine decay (which you write), and
# one-cycle. It compares their validation accuracy and how steady their validation loss is
# over the last epochs.

# %% [markdown] lang="es"
# Ninguna tasa de aprendizaje sirve para todo un entrenamiento: una grande avanza rápido al
# principio pero después sigue rebotando alrededor del mínimo, una pequeña se asienta bien
# pero se arrastra al comienzo. Un plan (schedule) cambia la tasa de aprendizaje a medida que
# avanza el entrenamiento. Este laboratorio entrena el mismo MLP cuatro veces, desde los mismos
# pesos y con los mismos lotes, con cuatro planes del mismo pico: constante, decaimiento
# exponencial, calentamiento lineal + decaimiento coseno (que escribes tú) y one-cycle. Compara
# su exactitud de validación y lo estable que es su pérdida de validación en las últimas
# épocas.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_subset: int = 20_000  # seeded subset of the 50k training images
    val_subset: int = 0         # 0 = all 10k validation images (quick mode uses fewer)
    hidden: list = field(default_factory=lambda: [300, 100])
    epochs: int = 15
    batch_size: int = 128
    lr: float = 1e-3             # the peak learning rate of every schedule (Adam)
    warmup_steps: int = 100      # the course's CosineDecay(warmup_steps=100)
    exp_final_factor: float = 0.01  # exponential decay ends at lr × this
    smooth_epochs: int = 5       # "the last epochs" of the smoothness comparison

    def check(self):
        positive(train_subset=self.train_subset, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, warmup_steps=self.warmup_steps,
                 exp_final_factor=self.exp_final_factor, smooth_epochs=self.smooth_epochs)


LAB = Lab(
    id="lr-schedules",
    title_en="Learning-rate schedules: constant, exponential, warmup + cosine, one-cycle",
    title_es="Planes de tasa de aprendizaje: constante, exponencial, calentamiento + coseno, "
             "one-cycle",
    source="Part 2 · class 115 (homework)",
    block="part2-training",
    dataset="fashion_mnist (seeded 20k-image training subset, 10k val, official 10k test)",
    criteria=(
        Criterion("cosine_minus_constant_val_accuracy", ">=", 0.0,
                  "Warmup + cosine wins or ties against the constant learning rate: final "
                  "validation accuracy difference ≥ 0",
                  "Calentamiento + coseno gana o empata contra la tasa constante: diferencia de "
                  "exactitud de validación final ≥ 0"),
        Criterion("cosine_to_constant_roughness", "<", 1.0,
                  "Warmup + cosine has a smoother validation loss over the last 5 epochs: its "
                  "mean absolute epoch-to-epoch change, divided by the constant rate's, < 1",
                  "Calentamiento + coseno tiene una pérdida de validación más suave en las "
                  "últimas 5 épocas: su cambio absoluto medio entre épocas, dividido por el de "
                  "la tasa constante, < 1"),
    ),
    config=Config,
    quick={"train_subset": 1000, "val_subset": 1000, "hidden": [64, 32], "epochs": 3,
           "warmup_steps": 10, "smooth_epochs": 2},
    timed=("seconds_per_epoch",),
)

# %% [markdown] lang="en"
# ## 1. The data and the budget
# A seeded subset of the training images keeps four trainings within a few minutes. Every
# schedule peaks at the same learning rate, Adam's usual 1e-3, and is stepped after every
# batch: a schedule in steps changes the rate smoothly, one in epochs in jumps.

# %% [markdown] lang="es"
# ## 1. Los datos y el presupuesto
# Un subconjunto de las imágenes de entrenamiento elegido con la semilla mantiene los cuatro
# entrenamientos en unos pocos minutos. Todos los planes tienen el mismo pico, el 1e-3 habitual
# de Adam, y avanzan después de cada lote: un plan por pasos cambia la tasa suavemente, uno por
# épocas, a saltos.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine import LRScheduler
from dlab.engine.schedules import lr_trace
from dlab.engine.variants import fit_run
from dlab.models import MLP
from dlab.viz.compare import curves, grouped_bars

data = load("fashion_mnist", seed=ctx.seed)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
steps_per_epoch = math.ceil(len(train[1]) / cfg.batch_size)
total_steps = steps_per_epoch * cfg.epochs
ctx.table([ctx.t("training images", "imágenes de entrenamiento"),
           ctx.t("steps per epoch", "pasos por época"), ctx.t("epochs", "épocas"),
           ctx.t("total steps", "pasos totales"), ctx.t("warmup steps", "pasos de calentamiento")],
          [[len(train[1]), steps_per_epoch, cfg.epochs, total_steps, cfg.warmup_steps]])

# %% [markdown] lang="en"
# ## 2. Warmup, then a cosine
# At the very start the weights are random and the gradients point in unreliable directions;
# Adam's running averages are built from only a handful of steps. Warmup raises the learning
# rate linearly from 0 to its peak over the first `warmup_steps` updates. Then the cosine
# brings it back down to a minimum along half a cosine wave: slowly at first, fastest in the
# middle, and gently again at the end, so the last updates are tiny and the weights settle.

# %% [markdown] lang="es"
# ## 2. Calentamiento y después un coseno
# Al principio los pesos son aleatorios y los gradientes apuntan en direcciones poco fiables;
# las medias móviles de Adam se construyen con unos pocos pasos. El calentamiento sube la tasa
# de aprendizaje linealmente de 0 a su pico durante las primeras `warmup_steps`
# actualizaciones. Después el coseno la devuelve a un mínimo siguiendo media onda de coseno:
# despacio al principio, más rápido en el medio y otra vez suave al final, así que las últimas
# actualizaciones son diminutas y los pesos se asientan.

# %% exercise="warmup_cosine"
def warmup_cosine(step: int, total_steps: int, warmup_steps: int, lr_max: float,
                  lr_min: float = 0.0) -> float:
    """[en] The learning rate for update number `step` (0 for the first update, up to
    `total_steps`). During warmup (`step < warmup_steps`) it grows linearly from 0:
    `lr_max * step / warmup_steps`. After that it follows half a cosine from `lr_max` down to
    `lr_min`: with `progress = (step - warmup_steps) / (total_steps - warmup_steps)`, return
    `lr_min + 0.5 * (lr_max - lr_min) * (1 + cos(pi * progress))`; past `total_steps` it stays
    at `lr_min`. Return a Python float.

    [es] La tasa de aprendizaje de la actualización número `step` (0 para la primera, hasta
    `total_steps`). Durante el calentamiento (`step < warmup_steps`) crece linealmente desde 0:
    `lr_max * step / warmup_steps`. Después sigue media onda de coseno desde `lr_max` hasta
    `lr_min`: con `progress = (step - warmup_steps) / (total_steps - warmup_steps)`, devuelve
    `lr_min + 0.5 * (lr_max - lr_min) * (1 + cos(pi * progress))`; pasado `total_steps` se
    queda en `lr_min`. Devuelve un float de Python.
    """
    if step < warmup_steps:
        return lr_max * step / warmup_steps
    progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return lr_min + 0.5 * (lr_max - lr_min) * (1 + math.cos(math.pi * progress))


# %% check
import math

from dlab.exercises import expect


@ctx.check("warmup_cosine")
def warmup_is_a_straight_line_from_zero():
    expect.type(warmup_cosine(0, 1000, 100, 0.01), float, "warmup_cosine(0, 1000, 100, 0.01)")
    expect.close(warmup_cosine(0, 1000, 100, 0.01), 0.0, "warmup_cosine(0, 1000, 100, 0.01)")
    expect.close(warmup_cosine(25, 1000, 100, 0.01), 0.0025,
                 "warmup_cosine(25, 1000, 100, 0.01) (a quarter of the warmup)")
    expect.close(warmup_cosine(99, 1000, 100, 0.01), 0.0099,
                 "warmup_cosine(99, 1000, 100, 0.01) (last warmup step)")


@ctx.check("warmup_cosine")
def cosine_from_the_peak_to_the_minimum():
    expect.close(warmup_cosine(100, 1000, 100, 0.01), 0.01,
                 "warmup_cosine(100, 1000, 100, 0.01) (end of warmup: the peak)")
    expect.close(warmup_cosine(550, 1000, 100, 0.01, 0.001), 0.0055,
                 "warmup_cosine(550, 1000, 100, 0.01, lr_min=0.001) (halfway through the "
                 "cosine: the mean of peak and minimum)")
    expected = 0.001 + 0.5 * 0.009 * (1 + math.cos(math.pi * 0.25))
    expect.close(warmup_cosine(325, 1000, 100, 0.01, 0.001), expected,
                 "warmup_cosine(325, 1000, 100, 0.01, lr_min=0.001) (a quarter of the cosine)")
    expect.close(warmup_cosine(1000, 1000, 100, 0.01, 0.001), 0.001,
                 "warmup_cosine(1000, 1000, 100, 0.01, lr_min=0.001) (the last step)")
    expect.close(warmup_cosine(1200, 1000, 100, 0.01, 0.001), 0.001,
                 "warmup_cosine(1200, 1000, 100, 0.01, lr_min=0.001) (past the end)")


@ctx.check("warmup_cosine")
def no_warmup_starts_at_the_peak():
    expect.close(warmup_cosine(0, 50, 0, 0.1), 0.1, "warmup_cosine(0, 50, 0, 0.1)")
    values = [warmup_cosine(s, 50, 0, 0.1) for s in range(51)]
    expect.true(all(a >= b for a, b in zip(values, values[1:])),
                "Without warmup, warmup_cosine(step, 50, 0, 0.1) should never increase from "
                "one step to the next.",
                "Sin calentamiento, warmup_cosine(step, 50, 0, 0.1) nunca debería aumentar de "
                "un paso al siguiente.")


# %% [markdown] lang="en"
# The four schedules, each evaluated at every update before any training (a throwaway
# optimizer is stepped through them). Exponential decay multiplies the rate by the same factor
# at every step, chosen so that it ends 100 times lower. One-cycle (PyTorch's `OneCycleLR`)
# climbs during the first 30 % of the steps, from 1/25 of the peak, then anneals far below the
# starting point.

# %% [markdown] lang="es"
# Los cuatro planes, evaluados en cada actualización antes de entrenar (se hace avanzar un
# optimizador desechable a través de ellos). El decaimiento exponencial multiplica la tasa por
# el mismo factor en cada paso, elegido para que termine 100 veces más baja. One-cycle
# (`OneCycleLR` de PyTorch) sube durante el primer 30 % de los pasos, desde 1/25 del pico, y
# luego baja muy por debajo del punto de partida.

# %%
SCHEDULES = ("constant", "exponential", "warmup_cosine", "one_cycle")
shown = {"constant": ctx.t("constant", "constante"),
         "exponential": ctx.t("exponential decay", "decaimiento exponencial"),
         "warmup_cosine": ctx.t("warmup + cosine", "calentamiento + coseno"),
         "one_cycle": "one-cycle"}
gamma = cfg.exp_final_factor ** (1 / total_steps)
make_scheduler = {
    "constant": lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0),
    "exponential": lambda opt: torch.optim.lr_scheduler.ExponentialLR(opt, gamma),
    "warmup_cosine": lambda opt: torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: warmup_cosine(step, total_steps, cfg.warmup_steps, cfg.lr) / cfg.lr),
    "one_cycle": lambda opt: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr, total_steps=total_steps),
}
lr_curves = {name: lr_trace(make_scheduler[name], total_steps, cfg.lr) for name in SCHEDULES}
fig, (ax_lin, ax_log) = plt.subplots(1, 2, figsize=(12, 3.8))
for ax, logy in ((ax_lin, False), (ax_log, True)):
    curves(ax, {shown[n]: (np.arange(total_steps), lr_curves[n]) for n in SCHEDULES},
           title=ctx.t("Learning rate per update", "Tasa de aprendizaje por actualización")
           + (ctx.t(" (log scale)", " (escala log)") if logy else ""),
           xlabel=ctx.t("update", "actualización"), ylabel="lr", logy=logy)
fig.tight_layout()
ctx.figure("learning_rates", fig)

# %% [markdown] lang="en"
# ## 3. Four trainings
# The same initial weights are copied into every run and the batches come in the same order;
# only the schedule differs.

# %% [markdown] lang="es"
# ## 3. Cuatro entrenamientos
# Los mismos pesos iniciales se copian en cada ejecución y los lotes llegan en el mismo orden;
# solo cambia el plan.

# %%
torch.manual_seed(ctx.seed)
start = MLP(784, cfg.hidden, 10).state_dict()
runs = {}
for name in SCHEDULES:
    model = MLP(784, cfg.hidden, 10)
    model.load_state_dict(start)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    runs[name] = fit_run(model, optimizer, train, val, epochs=cfg.epochs,
                         batch_size=cfg.batch_size, seed=ctx.seed,
                         callbacks=[LRScheduler(make_scheduler[name](optimizer), interval="step")],
                         **ctx.trainer_options())
    ctx.console.print(f"{shown[name]:>24}: " + ctx.t("final val accuracy",
                                                     "exactitud val. final")
                      + f" {runs[name].history['val_accuracy'][-1]:.4f}")

# %% [markdown] lang="en"
# ## 4. How steady is the end?
# "Smoother towards the end" needs a number. Take the validation loss of the last few epochs
# and average how much it moves from one epoch to the next, ignoring the sign: a curve that
# keeps jumping scores high, a curve that has settled scores near zero.

# %% [markdown] lang="es"
# ## 4. ¿Qué tan estable es el final?
# "Más suave hacia el final" necesita un número. Se toma la pérdida de validación de las
# últimas épocas y se promedia cuánto se mueve de una época a la siguiente, sin importar el
# signo: una curva que sigue saltando puntúa alto, una que ya se asentó puntúa cerca de cero.

# %% exercise="roughness"
def roughness(values: list, last: int) -> float:
    """[en] The mean absolute change between consecutive values over the last `last` changes
    of `values`: the mean of |values[i] - values[i - 1]| for the last `last` values of i. For
    example `roughness([5, 1, 2, 4], 2)` is (|2 - 1| + |4 - 2|) / 2 = 1.5. If `values` has
    fewer than `last + 1` elements, use every change there is. Return a Python float.

    [es] El cambio absoluto medio entre valores consecutivos en los últimos `last` cambios de
    `values`: la media de |values[i] - values[i - 1]| para los últimos `last` valores de i. Por
    ejemplo `roughness([5, 1, 2, 4], 2)` vale (|2 - 1| + |4 - 2|) / 2 = 1.5. Si `values` tiene
    menos de `last + 1` elementos, usa todos los cambios que haya. Devuelve un float de Python.
    """
    changes = [abs(b - a) for a, b in zip(values, values[1:])][-last:]
    return float(sum(changes) / len(changes))


# %% check
from dlab.exercises import expect


@ctx.check("roughness")
def mean_absolute_change_of_the_tail():
    expect.type(roughness([5, 1, 2, 4], 2), float, "roughness([5, 1, 2, 4], 2)")
    expect.close(roughness([5, 1, 2, 4], 2), 1.5, "roughness([5, 1, 2, 4], 2)")
    expect.close(roughness([0.5, 0.4, 0.45, 0.4, 0.45], 4), 0.0625,
                 "roughness([0.5, 0.4, 0.45, 0.4, 0.45], 4) (ups and downs both count)")
    expect.close(roughness([3.0, 3.0, 3.0], 2), 0.0, "roughness([3.0, 3.0, 3.0], 2)")


@ctx.check("roughness")
def only_the_last_changes_count():
    expect.close(roughness([10.0, 0.0, 1.0, 2.0], 2), 1.0,
                 "roughness([10.0, 0.0, 1.0, 2.0], 2) (the first drop of 10 is not among the "
                 "last 2 changes)")
    expect.close(roughness([1.0, 2.0, 4.0], 5), 1.5,
                 "roughness([1.0, 2.0, 4.0], 5) (only 2 changes exist)")


# %%
results = {}
for name, run in runs.items():
    h = run.history
    results[name] = {"val_accuracy": h["val_accuracy"][-1], "val_loss": h["val_loss"][-1],
                     "best_val_accuracy": max(h["val_accuracy"]),
                     "roughness": roughness(h["val_loss"], cfg.smooth_epochs)}
chosen = max(SCHEDULES, key=lambda n: results[n]["val_accuracy"])
ctx.table(ctx.t("schedule|final val acc|best val acc|final val loss|roughness (last epochs)",
                "plan|exact. val. final|mejor exact. val.|pérdida val. final|"
                "rugosidad (últimas épocas)").split("|"),
          [[("★ " if n == chosen else "") + shown[n], r["val_accuracy"], r["best_val_accuracy"],
            r["val_loss"], r["roughness"]] for n, r in results.items()],
          ctx.t(f"roughness = mean |Δ val loss| over the last {cfg.smooth_epochs} epochs; "
                "★ = best final validation accuracy",
                f"rugosidad = media de |Δ pérdida val.| en las últimas {cfg.smooth_epochs} "
                "épocas; ★ = mejor exactitud de validación final"))

# %% [markdown] lang="en"
# Validation loss and accuracy per epoch, and each schedule's final accuracy and roughness.
# With a constant rate the model keeps taking full-size steps until the end, so the curves
# keep shaking; the schedules that end with tiny steps flatten out.

# %% [markdown] lang="es"
# Pérdida y exactitud de validación por época, y la exactitud final y la rugosidad de cada
# plan. Con una tasa constante el modelo sigue dando pasos completos hasta el final, así que
# las curvas siguen temblando; los planes que terminan con pasos diminutos se aplanan.

# %%
fig, axes = plt.subplots(2, 2, figsize=(12, 7.5))
curves(axes[0, 0], {shown[n]: runs[n].history["val_loss"] for n in SCHEDULES},
       title=ctx.t("Validation loss", "Pérdida de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy")
axes[0, 0].axvspan(cfg.epochs - cfg.smooth_epochs, cfg.epochs, color="k", alpha=0.06)
curves(axes[0, 1], {shown[n]: runs[n].history["val_accuracy"] for n in SCHEDULES},
       title=ctx.t("Validation accuracy", "Exactitud de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("accuracy", "exactitud"))
names = [shown[n].replace(" + ", "\n+ ").replace(" decay", "\ndecay").replace(" exponencial",
                                                                              "\nexponencial")
         for n in SCHEDULES]
accs = [results[n]["val_accuracy"] for n in SCHEDULES]
grouped_bars(axes[1, 0], names, {"": accs},
             title=ctx.t("Final validation accuracy", "Exactitud de validación final"),
             ylim=(min(accs) - 0.02, max(accs) + 0.01), fmt="{:.4f}")
grouped_bars(axes[1, 1], names, {"": [results[n]["roughness"] for n in SCHEDULES]},
             title=ctx.t(f"Roughness of the val loss, last {cfg.smooth_epochs} epochs",
                         f"Rugosidad de la pérdida val., últimas {cfg.smooth_epochs} épocas"),
             fmt="{:.4f}")
fig.tight_layout()
ctx.figure("schedules_compared", fig)

# %% [markdown] lang="en"
# ## 5. One look at the test set
# The schedule with the best final validation accuracy is scored once on the test images.

# %% [markdown] lang="es"
# ## 5. Una sola mirada al conjunto de test
# El plan con la mejor exactitud de validación final se evalúa una vez con las imágenes de
# test.

# %%
test_accuracy = runs[chosen].trainer.evaluate(data.test)["accuracy"]
ctx.table([ctx.t("schedule", "plan"), ctx.t("test accuracy", "exactitud en test")],
          [[shown[chosen], test_accuracy]])

# %%
metrics = {"chosen": chosen, "chosen_test_accuracy": test_accuracy,
           "cosine_minus_constant_val_accuracy": results["warmup_cosine"]["val_accuracy"]
           - results["constant"]["val_accuracy"],
           "cosine_to_constant_roughness": results["warmup_cosine"]["roughness"]
           / max(results["constant"]["roughness"], 1e-12),
           "seconds_per_epoch": sum(r.seconds for r in runs.values())
           / sum(len(r.history) for r in runs.values())}
for name, r in results.items():
    for key in ("val_accuracy", "best_val_accuracy", "val_loss", "roughness"):
        metrics[f"{name}_{key}"] = r[key]
ctx.finish(metrics)
