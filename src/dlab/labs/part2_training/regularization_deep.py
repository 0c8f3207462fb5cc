# %% [markdown] lang="en"
# A deep MLP [512, 256, 128, 64] learns its training images better than it generalizes. This
# lab trains it six times from the same start: without regularization, with an L1 or an L2
# penalty, with dropout, with L2 and dropout together, and with a max-norm constraint, and
# compares the gap between training and validation accuracy. Then it keeps dropout switched on
# at prediction time (Monte Carlo dropout) to see how unsure the network is about ambiguous
# and clear test images. Last, it drops whole residual blocks at random during training
# (stochastic depth) and measures what that does to the gap and to the training time.

# %% [markdown] lang="es"
# Un MLP profundo [512, 256, 128, 64] aprende sus imágenes de entrenamiento mejor de lo que
# generaliza. Este laboratorio lo entrena seis veces desde el mismo punto de partida: sin
# regularización, con una penalización L1 o L2, con dropout, con L2 y dropout juntos y con una
# restricción max-norm, y compara la brecha entre la exactitud de entrenamiento y la de
# validación. Después deja el dropout encendido al predecir (dropout de Monte Carlo) para ver
# cuán insegura está la red ante imágenes de test ambiguas y claras. Por último, descarta al
# azar bloques residuales enteros durante el entrenamiento (profundidad estocástica) y mide qué
# le hace eso a la brecha y al tiempo de entrenamiento.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_subset: int = 20_000  # seeded subset of the 50k training images
    val_subset: int = 0         # 0 = all 10k validation images (quick mode uses fewer)
    hidden: list = field(default_factory=lambda: [512, 256, 128, 64])
    epochs: int = 15
    batch_size: int = 128
    lr: float = 1e-3            # Adam, cosine-annealed to 0 over the run
    l1: float = 1e-5
    l2: float = 1e-3            # the course's L2(1e-3)
    dropout: float = 0.3        # the course's Dropout(0.3)
    max_norm: float = 1.0       # Géron's max_norm(1.)
    mc_samples: int = 50
    mc_images: int = 5          # most ambiguous and clearest test images
    res_width: int = 128
    res_blocks: int = 8
    drop_path_max: float = 0.2  # linear rates from 0 (first block) to this (last)
    timing_steps: int = 150     # training steps timed per model (0 = skip the timing)

    def check(self):
        positive(train_subset=self.train_subset, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, l1=self.l1, l2=self.l2, dropout=self.dropout,
                 max_norm=self.max_norm, mc_samples=self.mc_samples, mc_images=self.mc_images,
                 res_width=self.res_width, res_blocks=self.res_blocks,
                 drop_path_max=self.drop_path_max)


LAB = Lab(
    id="regularization-deep",
    title_en="Regularizing a deep MLP: L1, L2, dropout, max-norm, MC dropout, stochastic depth",
    title_es="Regularizar un MLP profundo: L1, L2, dropout, max-norm, dropout MC, profundidad "
             "estocástica",
    source="Part 2 · classes 116 and 117 (homework)",
    block="part2-training",
    dataset="fashion_mnist (seeded 20k-image training subset, 10k val, official 10k test)",
    criteria=(
        Criterion("best_gap", "<", 0.03,
                  "The best regularized model (by validation accuracy) has a train − "
                  "validation gap < 3 pp",
                  "El mejor modelo regularizado (por exactitud de validación) tiene una brecha "
                  "entrenamiento − validación < 3 pp",
                  evidence="Full run, seed 0: the baseline's gap is 3.86 pp (course: ~6 pp). "
                           "Best by validation accuracy is max-norm(1): gap 3.93 pp, val "
                           "+0.05 pp. Dropout(0.3) has a 2.55 pp gap but −0.19 pp val, "
                           "L2(1e-3) 3.18 pp and −1.37 pp: no variant has both."),
        Criterion("best_val_gain", ">=", 0.0,
                  "The best regularized model has validation accuracy ≥ the baseline's",
                  "El mejor modelo regularizado tiene exactitud de validación ≥ la del modelo "
                  "base"),
        Criterion("dropout_gap_reduction", ">=", 0.01,
                  "Dropout(0.3), the course's setting, shrinks the gap by ≥ 1 pp ...",
                  "Dropout(0.3), el valor del curso, reduce la brecha en ≥ 1 pp ..."),
        Criterion("dropout_val_change", ">=", -0.005,
                  "... losing at most 0.5 pp of validation accuracy",
                  "... perdiendo como mucho 0.5 pp de exactitud de validación"),
        Criterion("mc_std_ratio", ">", 1.0,
                  "MC dropout (50 samples): mean predictive std of the 5 most ambiguous test "
                  "images / that of the 5 clearest > 1",
                  "Dropout MC (50 muestras): std predictiva media de las 5 imágenes de test más "
                  "ambiguas / la de las 5 más claras > 1"),
        Criterion("stochastic_depth_gap_reduction", ">=", 0.01,
                  "Stochastic depth (linear rates up to 0.2) reduces the residual net's train − "
                  "validation gap by ≥ 1 pp",
                  "La profundidad estocástica (tasas lineales hasta 0.2) reduce la brecha "
                  "entrenamiento − validación de la red residual en ≥ 1 pp",
                  evidence="Full runs, seed 0: the residual MLP's gap goes from 5.55 pp to "
                           "5.21 pp (−0.35 pp; validation accuracy 0.8893 both) with one torch "
                           "thread, from 5.64 pp to 5.48 pp (−0.16 pp) with two."),
        Criterion("stochastic_depth_gap_direction", ">", 0.0,
                  "Stochastic depth reduces the residual net's gap (the direction the course "
                  "claims)",
                  "La profundidad estocástica reduce la brecha de la red residual (el sentido "
                  "que afirma el curso)"),
        Criterion("stochastic_depth_speedup", ">=", 0.10,
                  "Stochastic depth makes a training step ≥ 10 % faster (course: ~10-20 %)",
                  "La profundidad estocástica hace un paso de entrenamiento ≥ 10 % más rápido "
                  "(curso: ~10-20 %)",
                  evidence="Full run, seed 0, one thread: median step 16.41 ms without "
                           "dropping, 16.19 ms with stochastic depth (+1.4 %). Linear rates up "
                           "to 0.2 skip 10 % of the block computations on average, and the "
                           "stem, head and optimizer step are never skipped: 10 % is the "
                           "ceiling, not a reachable floor, at these rates."),
    ),
    config=Config,
    quick={"train_subset": 1000, "val_subset": 1000, "hidden": [64, 32, 32, 16], "epochs": 1,
           "mc_samples": 10, "res_width": 32, "res_blocks": 3, "timing_steps": 0},
    timed=("stochastic_depth_speedup", "drop_path_speedup", "seconds_none",
           "seconds_stochastic_depth"),
)

# %% [markdown] lang="en"
# ## 1. The data and the recipe
# A seeded subset of 20,000 training images and the 10,000 validation images. Every model
# trains with Adam for the same number of epochs, its learning rate annealed along a cosine
# down to 0: the last epochs take tiny steps, so the accuracies compared at the end are where
# each model settled, not a snapshot of a bouncing curve. Train accuracy is measured in
# evaluation mode (dropout off), on the same footing as validation accuracy.

# %% [markdown] lang="es"
# ## 1. Los datos y la receta
# Un subconjunto de 20,000 imágenes de entrenamiento elegido con la semilla y las 10,000
# imágenes de validación. Todos los modelos entrenan con Adam durante las mismas épocas, con la
# tasa de aprendizaje bajando a lo largo de un coseno hasta 0: las últimas épocas dan pasos
# diminutos, así que las exactitudes que se comparan al final son donde se asentó cada modelo,
# no una foto de una curva que rebota. La exactitud de entrenamiento se mide en modo evaluación
# (sin dropout), en igualdad de condiciones con la de validación.

# %%
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine import LRScheduler
from dlab.engine.regularizers import AfterEachStep, penalized
from dlab.engine.variants import fit_run
from dlab.models import MLP
from dlab.models.residual import ResidualMLP, drop_path, linear_drop_rates
from dlab.viz.compare import curves, grouped_bars

data = load("fashion_mnist", seed=ctx.seed)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
total_steps = math.ceil(len(train[1]) / cfg.batch_size) * cfg.epochs
ctx.table([ctx.t("training images", "imágenes de entrenamiento"),
           ctx.t("validation images", "imágenes de validación"), ctx.t("epochs", "épocas"),
           ctx.t("updates", "actualizaciones")],
          [[len(train[1]), len(val[1]), cfg.epochs, total_steps]])


def train_variant(model, loss=None, callbacks=()):
    """Adam with a cosine-annealed learning rate; returns the run and its train/val accuracy."""
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, total_steps)
    run = fit_run(model, optimizer, train, val, epochs=cfg.epochs,
                  batch_size=cfg.batch_size, seed=ctx.seed,
                  loss=loss or nn.CrossEntropyLoss(),
                  callbacks=[LRScheduler(cosine, interval="step"), *callbacks],
                  **ctx.trainer_options())
    train_acc = run.trainer.evaluate(train)["accuracy"]
    val_acc = run.history["val_accuracy"][-1]
    return {"run": run, "train_accuracy": train_acc, "val_accuracy": val_acc,
            "gap": train_acc - val_acc}


# %% [markdown] lang="en"
# ## 2. Penalties and a constraint
# L1 and L2 add a price on the weights to the loss: λ·Σ|w| pushes every weight towards zero by
# the same amount and zeroes the useless ones, λ·Σw² pulls each in proportion to its size, so
# large weights shrink most. They are applied to the weight matrices only (as Keras'
# `kernel_regularizer` does), and only to the training loss. Max-norm acts differently: it
# lets the optimizer move freely and, after every update, shrinks back the incoming weight
# vector of any unit whose length went past a limit c. No unit can then grow very large
# weights, whatever the gradient says.

# %% [markdown] lang="es"
# ## 2. Penalizaciones y una restricción
# L1 y L2 suman a la pérdida un precio por los pesos: λ·Σ|w| empuja cada peso hacia cero la
# misma cantidad y anula los que no sirven; λ·Σw² tira de cada uno en proporción a su tamaño,
# así que los pesos grandes son los que más se encogen. Se aplican solo a las matrices de pesos
# (como `kernel_regularizer` de Keras) y solo a la pérdida de entrenamiento. Max-norm actúa de
# otra forma: deja que el optimizador se mueva libremente y, tras cada actualización, encoge
# el vector de pesos de entrada de cualquier unidad cuya longitud haya pasado un límite c. Así
# ninguna unidad puede hacer crecer mucho sus pesos, diga lo que diga el gradiente.

# %% exercise="max_norm_"
def max_norm_(model: nn.Module, max_norm: float) -> None:
    """[en] Apply a max-norm constraint to `model`, in place. For every `nn.Linear` of the
    model, each row of `weight` holds the incoming weights of one output unit (a weight has
    shape (out_features, in_features)). If the L2 norm of a row is above `max_norm`, scale that
    row so its norm becomes exactly `max_norm`; leave the other rows and the biases as they
    are. Modify the weights in place under `torch.no_grad()` (e.g. with `mul_`) and return
    nothing.

    [es] Aplica una restricción max-norm a `model`, en el sitio. Para cada `nn.Linear` del
    modelo, cada fila de `weight` contiene los pesos de entrada de una unidad de salida (un
    peso tiene forma (out_features, in_features)). Si la norma L2 de una fila supera
    `max_norm`, escala esa fila para que su norma sea exactamente `max_norm`; deja las demás
    filas y los sesgos como están. Modifica los pesos en el sitio bajo `torch.no_grad()` (p.
    ej. con `mul_`) y no devuelvas nada.
    """
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, nn.Linear):
                norms = layer.weight.norm(dim=1, keepdim=True)
                layer.weight.mul_(torch.clamp(max_norm / norms.clamp_min(1e-12), max=1.0))


# %% check
import torch
from torch import nn

from dlab.exercises import expect


def _layer():
    layer = nn.Linear(2, 3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[3.0, 4.0], [0.6, 0.8], [0.0, -10.0]]))
        layer.bias.copy_(torch.tensor([5.0, -5.0, 7.0]))
    return layer


@ctx.check("max_norm_")
def rows_above_the_limit_are_scaled_to_it():
    layer = _layer()
    max_norm_(nn.Sequential(layer, nn.ReLU()), 2.0)
    expect.close(layer.weight, torch.tensor([[1.2, 1.6], [0.6, 0.8], [0.0, -2.0]]),
                 "weights after max_norm_(model, 2.0) for rows [3, 4] (norm 5), [0.6, 0.8] "
                 "(norm 1) and [0, -10] (norm 10)", atol=1e-5)
    expect.close(layer.bias, torch.tensor([5.0, -5.0, 7.0]),
                 "biases after max_norm_ (they are not constrained)")


@ctx.check("max_norm_")
def every_linear_layer_row_by_row():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(30, 20), nn.ReLU(), nn.Linear(20, 10))
    with torch.no_grad():
        for layer in (model[0], model[2]):
            layer.weight.mul_(torch.linspace(0.1, 8.0, layer.weight.shape[0])[:, None])
    before = [model[0].weight.detach().clone(), model[2].weight.detach().clone()]
    max_norm_(model, 1.5)
    for name, layer, old in (("model[0]", model[0], before[0]), ("model[2]", model[2], before[1])):
        old_norms, new_norms = old.norm(dim=1), layer.weight.detach().norm(dim=1)
        expect.close(new_norms, old_norms.clamp(max=1.5), f"row norms of {name}.weight after "
                     "max_norm_(model, 1.5) (each row separately: only those above 1.5 shrink)",
                     atol=1e-5)
        cosine = torch.cosine_similarity(layer.weight.detach(), old, dim=1)
        expect.close(cosine, torch.ones_like(cosine), f"direction of each row of {name}.weight "
                     "(max-norm only rescales)", atol=1e-5)


# %% [markdown] lang="en"
# ## 3. Six trainings from the same start
# Every variant is built after the same seed, so all start from identical weights (dropout
# layers hold none), and the batches come in the same order: the differences come from the
# regularizer alone.

# %% [markdown] lang="es"
# ## 3. Seis entrenamientos desde el mismo punto de partida
# Cada variante se construye tras la misma semilla, así que todas parten de pesos idénticos
# (las capas de dropout no tienen), y los lotes llegan en el mismo orden: las diferencias
# vienen solo del regularizador.

# %%
VARIANTS = {  # name: (l1, l2, dropout, max-norm)
    "none": (0.0, 0.0, 0.0, None),
    "L1": (cfg.l1, 0.0, 0.0, None),
    "L2": (0.0, cfg.l2, 0.0, None),
    "dropout": (0.0, 0.0, cfg.dropout, None),
    "L2 + dropout": (0.0, cfg.l2, cfg.dropout, None),
    "max-norm": (0.0, 0.0, 0.0, cfg.max_norm),
}
shown = {"none": ctx.t("none", "ninguna"), "L1": f"L1 ({cfg.l1:g})", "L2": f"L2 ({cfg.l2:g})",
         "dropout": f"dropout ({cfg.dropout:g})",
         "L2 + dropout": "L2 + dropout", "max-norm": f"max-norm ({cfg.max_norm:g})"}
results = {}
for name, (l1, l2, p_drop, limit) in VARIANTS.items():
    torch.manual_seed(ctx.seed)  # dropout layers hold no weights: the same start for all
    model = MLP(784, cfg.hidden, 10, dropout=p_drop)
    constraint = [AfterEachStep(lambda m, c=limit: max_norm_(m, c))] if limit else []
    results[name] = train_variant(model, penalized(nn.CrossEntropyLoss(), model, l1, l2),
                                  constraint)
    r = results[name]
    ctx.console.print(f"{shown[name]:>20}: " + ctx.t(
        f"train {r['train_accuracy']:.4f}  val {r['val_accuracy']:.4f}  gap {r['gap']:.4f}",
        f"entren. {r['train_accuracy']:.4f}  val. {r['val_accuracy']:.4f}  "
        f"brecha {r['gap']:.4f}"))

base = results["none"]
best = max((n for n in VARIANTS if n != "none"), key=lambda n: results[n]["val_accuracy"])
ctx.table(ctx.t("regularization|train acc|val acc|gap (pp)|val acc − baseline (pp)",
                "regularización|exact. entren.|exact. val.|brecha (pp)|exact. val. − base (pp)"
                ).split("|"),
          [[("★ " if n == best else "") + shown[n], r["train_accuracy"], r["val_accuracy"],
            f"{100 * r['gap']:.2f}", f"{100 * (r['val_accuracy'] - base['val_accuracy']):+.2f}"]
           for n, r in results.items()],
          ctx.t("★ = best validation accuracy among the regularized models",
                "★ = mejor exactitud de validación entre los modelos regularizados"))

# %% [markdown] lang="en"
# The two bars of each variant are its training and validation accuracy; their distance is
# the gap. The curves show the validation loss of every epoch; with the learning rate annealed
# to 0 they flatten at the end, and the penalized runs settle higher, the price of pulling the
# weights away from what fits the data best.

# %% [markdown] lang="es"
# Las dos barras de cada variante son su exactitud de entrenamiento y de validación; su
# distancia es la brecha. Las curvas muestran la pérdida de validación de cada época; con la
# tasa de aprendizaje llevada a 0 se aplanan al final, y las ejecuciones penalizadas se
# asientan más arriba, el precio de alejar los pesos de lo que mejor se ajusta a los datos.

# %%
names = list(VARIANTS)
fig, (ax_bar, ax_loss) = plt.subplots(1, 2, figsize=(14, 4.4),
                                      gridspec_kw={"width_ratios": [3, 2]})
grouped_bars(ax_bar, [shown[n].replace(" (", "\n(").replace(" + ", "\n+ ") for n in names],
             {ctx.t("train", "entrenamiento"): [results[n]["train_accuracy"] for n in names],
              ctx.t("validation", "validación"): [results[n]["val_accuracy"] for n in names]},
             title=ctx.t(f"Accuracy per regularization (best: {shown[best]})",
                         f"Exactitud por regularización (mejor: {shown[best]})"),
             ylabel=ctx.t("accuracy", "exactitud"),
             ylim=(min(r["val_accuracy"] for r in results.values()) - 0.03, 1.0))
curves(ax_loss, {shown[n]: results[n]["run"].history["val_loss"] for n in names},
       title=ctx.t("Validation loss", "Pérdida de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy")
fig.tight_layout()
ctx.figure("regularizers", fig)

# %% [markdown] lang="en"
# ## 4. Monte Carlo dropout
# A network trained with dropout is, in a sense, many networks sharing weights. Leaving
# dropout on at prediction time and predicting the same image many times samples from that
# family: where the members agree the prediction is solid, where they disagree the network is
# unsure. The mean of the sampled probabilities is the prediction; their standard deviation
# measures the uncertainty. Only the dropout layers may be switched to training mode: a
# BatchNorm layer in training mode would normalize with the statistics of the batch at hand
# and update its running averages, which has nothing to do with uncertainty.

# %% [markdown] lang="es"
# ## 4. Dropout de Monte Carlo
# Una red entrenada con dropout es, en cierto sentido, muchas redes que comparten pesos. Dejar
# el dropout encendido al predecir y predecir muchas veces la misma imagen toma muestras de esa
# familia: donde sus miembros coinciden la predicción es sólida, donde discrepan la red duda.
# La media de las probabilidades muestreadas es la predicción; su desviación estándar mide la
# incertidumbre. Solo las capas de dropout pueden pasar a modo entrenamiento: una capa
# BatchNorm en modo entrenamiento normalizaría con las estadísticas del lote que tiene delante
# y actualizaría sus medias móviles, lo que nada tiene que ver con la incertidumbre.

# %% exercise="mc_dropout_predict"
def mc_dropout_predict(model: nn.Module, x: torch.Tensor, samples: int) -> tuple:
    """[en] Monte Carlo dropout. Put `model` in evaluation mode, then switch only its
    `nn.Dropout` layers to training mode. Without gradients, compute `samples` forward passes
    of `x`, turn each output into probabilities with a softmax over the classes (dim=1) and
    stack them into a tensor of shape (samples, N, C). Return `(mean, std)`, both (N, C): the
    mean over the samples and the standard deviation over the samples (`torch.std(dim=0)`).
    Leave the model in evaluation mode, dropout included.

    [es] Dropout de Monte Carlo. Pon `model` en modo evaluación y luego pasa solo sus capas
    `nn.Dropout` a modo entrenamiento. Sin gradientes, calcula `samples` pasadas hacia delante
    de `x`, convierte cada salida en probabilidades con una softmax sobre las clases (dim=1) y
    apílalas en un tensor de forma (samples, N, C). Devuelve `(mean, std)`, ambos (N, C): la
    media sobre las muestras y la desviación estándar sobre las muestras
    (`torch.std(dim=0)`). Deja el modelo en modo evaluación, dropout incluido.
    """
    model.eval()
    for layer in model.modules():
        if isinstance(layer, nn.Dropout):
            layer.train()
    with torch.no_grad():
        probs = torch.stack([torch.softmax(model(x), dim=1) for _ in range(samples)])
    model.eval()
    return probs.mean(dim=0), probs.std(dim=0)


# %% check
import torch
from torch import nn

from dlab.exercises import expect


def _dropout_net(batchnorm=False):
    torch.manual_seed(0)
    layers = [nn.Linear(6, 32)] + ([nn.BatchNorm1d(32)] if batchnorm else []) + [
        nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 3)]
    return nn.Sequential(*layers).eval()


@ctx.check("mc_dropout_predict")
def samples_with_dropout_on_and_averages():
    model, x = _dropout_net(), torch.randn(4, 6, generator=torch.Generator().manual_seed(1))
    result = mc_dropout_predict(model, x, 200)
    expect.type(result, tuple, "mc_dropout_predict(model, x, 200)")
    mean, std = result
    expect.shape(mean, (4, 3), "mean of mc_dropout_predict(model, x, 200) for x of shape (4, 6)")
    expect.shape(std, (4, 3), "std of mc_dropout_predict(model, x, 200)")
    expect.close(mean.sum(dim=1), torch.ones(4), "mean.sum(dim=1) (each row of the mean is a "
                 "probability distribution: softmax over dim=1)", atol=1e-5)
    expect.true(float(std.detach().min()) > 0,
                "Some standard deviations are 0: the dropout layers were not in training "
                "mode, so every sample was the same prediction.",
                "Algunas desviaciones estándar valen 0: las capas de dropout no estaban en modo "
                "entrenamiento, así que todas las muestras fueron la misma predicción.")
    expect.true(not model.training and not any(m.training for m in model.modules()),
                "After mc_dropout_predict the model (dropout included) must be back in "
                "evaluation mode.",
                "Después de mc_dropout_predict el modelo (dropout incluido) debe volver al modo "
                "evaluación.")


@ctx.check("mc_dropout_predict")
def batchnorm_stays_in_evaluation_mode():
    model = _dropout_net(batchnorm=True)
    x = torch.randn(8, 6, generator=torch.Generator().manual_seed(2)) * 3 + 1
    running = model[1].running_mean.clone()
    mean, _ = mc_dropout_predict(model, x, 20)
    expect.close(model[1].running_mean, running,
                 "BatchNorm running_mean after mc_dropout_predict (only dropout may switch to "
                 "training mode; model.train() would also make BatchNorm update its running "
                 "statistics)")
    without_dropout = nn.Sequential(*[m for m in model if not isinstance(m, nn.Dropout)]).eval()
    expect.close(mean, torch.softmax(without_dropout(x), dim=1).detach(),
                 "mean of 20 MC samples vs the eval-mode prediction (loose tolerance)", atol=0.35)


@ctx.check("mc_dropout_predict")
def no_dropout_means_no_uncertainty():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3))
    x = torch.randn(5, 6)
    mean, std = mc_dropout_predict(model, x, 10)
    expect.close(std, torch.zeros(5, 3), "std of mc_dropout_predict for a model without dropout")
    expect.close(mean, torch.softmax(model(x), dim=1).detach(),
                 "mean of mc_dropout_predict for a model without dropout (the plain softmax)",
                 atol=1e-6)
    expect.true(not mean.requires_grad,
                "mc_dropout_predict kept the autograd graph: run the forward passes under "
                "torch.no_grad().",
                "mc_dropout_predict conservó el grafo de autograd: haz las pasadas dentro de "
                "torch.no_grad().")


# %% [markdown] lang="en"
# The dropout model with the best validation accuracy is scored once on the test images.
# Ambiguous and clear are decided by the usual prediction (dropout off): the test images whose
# top probability is lowest and highest. Then each of them is predicted 50 times with dropout
# on; its predictive std is the standard deviation of the probability of its predicted class.

# %% [markdown] lang="es"
# El modelo con dropout de mejor exactitud de validación se evalúa una vez con las imágenes de
# test. Lo ambiguo y lo claro se decide con la predicción habitual (sin dropout): las imágenes
# de test con la probabilidad máxima más baja y más alta. Después cada una se predice 50 veces
# con dropout encendido; su std predictiva es la desviación estándar de la probabilidad de su
# clase predicha.

# %%
mc_name = max(("dropout", "L2 + dropout"), key=lambda n: results[n]["val_accuracy"])
mc_trainer = results[mc_name]["run"].trainer
test_outputs = mc_trainer.predict(data.test[0])
test_accuracy = float((test_outputs.argmax(1) == data.test[1]).float().mean())
confidence = torch.softmax(test_outputs, dim=1).max(dim=1).values
order = torch.argsort(confidence)
groups = {"ambiguous": order[:cfg.mc_images], "clear": order.flip(0)[:cfg.mc_images]}
mc_model = mc_trainer.model.cpu()
mc = {}
for group, idx in groups.items():
    mean, std = mc_dropout_predict(mc_model, data.test[0][idx], cfg.mc_samples)
    predicted = mean.argmax(dim=1)
    mc[group] = {"idx": idx, "predicted": predicted, "true": data.test[1][idx],
                 "mean": mean.gather(1, predicted[:, None])[:, 0],
                 "std": std.gather(1, predicted[:, None])[:, 0]}
mc_std_ratio = float(mc["ambiguous"]["std"].mean() / mc["clear"]["std"].mean().clamp_min(1e-12))
ctx.table([ctx.t("group", "grupo"), ctx.t("test image", "imagen de test"),
           ctx.t("true", "real"), ctx.t("predicted (MC mean)", "predicha (media MC)"),
           ctx.t("probability", "probabilidad"), ctx.t("predictive std", "std predictiva")],
          [[ctx.t(g, {"ambiguous": "ambigua", "clear": "clara"}[g]), int(i),
            data.classes[int(t)], data.classes[int(p)], float(m), float(s)]
           for g, r in mc.items()
           for i, t, p, m, s in zip(r["idx"], r["true"], r["predicted"], r["mean"], r["std"])],
          ctx.t(f"{shown[mc_name]}: test accuracy {test_accuracy:.4f}; {cfg.mc_samples} samples "
                "per image",
                f"{shown[mc_name]}: exactitud en test {test_accuracy:.4f}; {cfg.mc_samples} "
                "muestras por imagen"))

# %%
fig, axes = plt.subplots(2, cfg.mc_images, figsize=(2.2 * cfg.mc_images, 5.2))
for row, group in enumerate(("ambiguous", "clear")):
    r = mc[group]
    for col in range(cfg.mc_images):
        ax = axes[row, col]
        ax.imshow(data.test[0][r["idx"][col]].reshape(28, 28).numpy(), cmap="gray_r")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{data.classes[int(r['predicted'][col])]}\n"
                     f"p={float(r['mean'][col]):.2f} ± {float(r['std'][col]):.2f}", fontsize=8)
    axes[row, 0].set_ylabel(ctx.t(group, {"ambiguous": "ambiguas", "clear": "claras"}[group]))
fig.suptitle(ctx.t(f"MC dropout, {cfg.mc_samples} samples: predicted class, mean ± std",
                   f"Dropout MC, {cfg.mc_samples} muestras: clase predicha, media ± std"))
fig.tight_layout()
ctx.figure("mc_dropout", fig)

# %% [markdown] lang="en"
# ## 5. Stochastic depth
# In a residual network each block adds a correction to what flows through it: y = x + f(x).
# Stochastic depth skips the correction of a whole block at random while training, y = x, so
# the network cannot rely on any single block, and a skipped block costs no computation at
# all. The rates grow linearly with depth, from 0 for the first block (every later block
# builds on it) to 0.2 for the last. As with dropout, a kept block is scaled up by 1/(1 − p)
# during training so that at evaluation, when every block runs, nothing needs rescaling.
# The per-sample variant, DropPath, drops the block for some samples of the batch only: it
# regularizes the same way but computes every block for every batch.

# %% [markdown] lang="es"
# ## 5. Profundidad estocástica
# En una red residual cada bloque suma una corrección a lo que pasa por él: y = x + f(x). La
# profundidad estocástica omite al azar la corrección de un bloque entero durante el
# entrenamiento, y = x, así que la red no puede depender de ningún bloque concreto, y un bloque
# omitido no cuesta ningún cálculo. Las tasas crecen linealmente con la profundidad, desde 0
# para el primer bloque (todos los siguientes se apoyan en él) hasta 0.2 para el último. Como
# con el dropout, un bloque que se conserva se escala por 1/(1 − p) durante el entrenamiento,
# así al evaluar, cuando corren todos los bloques, no hace falta reescalar nada. La variante
# por muestra, DropPath, descarta el bloque solo para algunas muestras del lote: regulariza de
# la misma forma, pero calcula todos los bloques en cada lote.

# %% exercise="stochastic_depth"
def stochastic_depth(x: torch.Tensor, branch, p: float, training: bool) -> torch.Tensor:
    """[en] The output of a residual block whose branch is `branch` (a function) and whose
    drop rate is `p`. In evaluation (`training` False), or when `p` is 0, return
    `x + branch(x)`. In training, draw one random number for the whole batch
    (`torch.rand(())`): if it is below `p`, skip the block, return `x` without calling
    `branch` at all; otherwise return `x + branch(x) / (1 - p)`.

    [es] La salida de un bloque residual cuya rama es `branch` (una función) y cuya tasa de
    descarte es `p`. En evaluación (`training` False), o cuando `p` es 0, devuelve
    `x + branch(x)`. En entrenamiento, saca un solo número aleatorio para todo el lote
    (`torch.rand(())`): si es menor que `p`, omite el bloque y devuelve `x` sin llamar a
    `branch`; si no, devuelve `x + branch(x) / (1 - p)`.
    """
    if not training or p == 0:
        return x + branch(x)
    if float(torch.rand(())) < p:
        return x
    return x + branch(x) / (1 - p)


# %% check
import torch

from dlab.exercises import expect


class _Spy:
    """A branch that counts its calls and returns ones."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return torch.ones_like(x)


@ctx.check("stochastic_depth")
def evaluation_runs_the_whole_block():
    x, spy = torch.zeros(4, 3), _Spy()
    expect.close(stochastic_depth(x, spy, 0.5, False), torch.ones(4, 3),
                 "stochastic_depth(x, branch, 0.5, training=False) (x + branch(x), no scaling)")
    expect.close(stochastic_depth(x, spy, 0.0, True), torch.ones(4, 3),
                 "stochastic_depth(x, branch, 0.0, training=True)")


@ctx.check("stochastic_depth")
def skips_whole_batches_without_computing_them():
    x, spy = torch.zeros(6, 3), _Spy()
    skipped, kept = 0, 0
    for _ in range(3000):
        calls = spy.calls
        out = stochastic_depth(x, spy, 0.3, True)
        expect.shape(out, (6, 3), "stochastic_depth(x, branch, 0.3, True)")
        if torch.equal(out, x):
            skipped += 1
            expect.true(spy.calls == calls,
                        "A skipped block still called `branch`: when the block is dropped, "
                        "return x without computing the branch (that is the time saved).",
                        "Un bloque omitido llamó igualmente a `branch`: cuando se descarta el "
                        "bloque, devuelve x sin calcular la rama (ese es el tiempo ahorrado).")
        else:
            kept += 1
            expect.close(out, torch.full((6, 3), 1 / 0.7),
                         "stochastic_depth(zeros, ones-branch, 0.3, True) when the block is kept "
                         "(one decision for the whole batch; kept blocks are scaled by "
                         "1 / (1 - p))", atol=1e-6)
    expect.between(skipped / 3000, 0.27, 0.33,
                   "share of the 3000 training calls with p=0.3 that skipped the block")


# %% [markdown] lang="en"
# The residual MLP (full mode) has a first layer of 128 units and eight residual blocks
# (LayerNorm → Linear → ReLU → Linear); it is trained twice from the same start, once with
# every block always on and once with your `stochastic_depth`.

# %% [markdown] lang="es"
# El MLP residual (modo completo) tiene una primera capa de 128 unidades y ocho bloques
# residuales (LayerNorm → Linear → ReLU → Linear); se entrena dos veces desde el mismo punto de
# partida, una con todos los bloques siempre activos y otra con tu `stochastic_depth`.

# %%
rates = linear_drop_rates(cfg.res_blocks, cfg.drop_path_max)
torch.manual_seed(ctx.seed)
res_start = ResidualMLP(784, cfg.res_width, cfg.res_blocks, 10).state_dict()
residual = {}
for name, rule in (("none", None), ("stochastic depth", stochastic_depth)):
    model = ResidualMLP(784, cfg.res_width, cfg.res_blocks, 10, drop_rates=rates, rule=rule)
    model.load_state_dict(res_start)
    residual[name] = train_variant(model)
    r = residual[name]
    ctx.console.print(f"{name:>20}: " + ctx.t(
        f"train {r['train_accuracy']:.4f}  val {r['val_accuracy']:.4f}  gap {r['gap']:.4f}  "
        f"{r['run'].seconds:.1f} s",
        f"entren. {r['train_accuracy']:.4f}  val. {r['val_accuracy']:.4f}  "
        f"brecha {r['gap']:.4f}  {r['run'].seconds:.1f} s"))
gap_reduction = residual["none"]["gap"] - residual["stochastic depth"]["gap"]

# %% [markdown] lang="en"
# Training time is measured on its own, because a whole training run on a shared machine
# also measures whatever else the machine was doing. The same batches go through three copies
# of the residual net in turn (no dropping, DropPath per sample, your stochastic depth),
# one training step each, rotating who goes first, many times over; each model's time per
# step is the median.

# %% [markdown] lang="es"
# El tiempo de entrenamiento se mide aparte, porque un entrenamiento entero en una máquina
# compartida también mide todo lo demás que la máquina estaba haciendo. Los mismos lotes pasan
# por turnos por tres copias de la red residual (sin descartes, DropPath por muestra y tu
# profundidad estocástica), un paso de entrenamiento cada una y rotando quién va primero,
# muchas veces; el tiempo por paso de cada modelo es la mediana.

# %%
def time_steps(rules, steps, warmup=5):
    """Median seconds per training step of a residual net under each rule. The models take
    turns on the same batch, and who goes first rotates, so none is favoured by going first
    (cold caches) or last; the first `warmup` rounds are not timed."""
    nets = {name: ResidualMLP(784, cfg.res_width, cfg.res_blocks, 10, rates, rule)
            for name, rule in rules.items()}
    optimizers = {name: torch.optim.Adam(net.parameters(), lr=cfg.lr)
                  for name, net in nets.items()}
    loss_fn, times, names = nn.CrossEntropyLoss(), {name: [] for name in rules}, list(rules)
    X, y = train
    for step in range(warmup + steps):
        lo = (step * cfg.batch_size) % (len(y) - cfg.batch_size)
        xb, yb = X[lo:lo + cfg.batch_size].contiguous(), y[lo:lo + cfg.batch_size]
        turn = step % len(names)
        for name in names[turn:] + names[:turn]:
            begin = time.perf_counter()
            optimizers[name].zero_grad(set_to_none=True)
            loss_fn(nets[name](xb), yb).backward()
            optimizers[name].step()
            if step >= warmup:
                times[name].append(time.perf_counter() - begin)
    return {name: float(np.median(t)) for name, t in times.items()}


if cfg.timing_steps:
    step_time = time_steps({"none": None, "DropPath": drop_path,
                            "stochastic depth": stochastic_depth}, cfg.timing_steps)
    speedup = {name: 1 - step_time[name] / step_time["none"] for name in step_time}
    ctx.table([ctx.t("residual net", "red residual"), ctx.t("ms per step", "ms por paso"),
               ctx.t("faster than no dropping", "más rápido que sin descartes")],
              [[name, 1000 * t, f"{speedup[name]:+.1%}"] for name, t in step_time.items()],
              ctx.t(f"median of {cfg.timing_steps} interleaved steps; expected share of block "
                    f"computations skipped: {np.mean(rates):.1%}",
                    f"mediana de {cfg.timing_steps} pasos intercalados; proporción esperada de "
                    f"cálculos de bloque omitidos: {np.mean(rates):.1%}"))
else:  # quick mode: a handful of steps would time noise
    speedup = {"DropPath": None, "stochastic depth": None}

# %%
fig, (ax_bar, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.2))
labels = {"none": ctx.t("all blocks", "todos los bloques"),
          "stochastic depth": ctx.t("stochastic depth", "prof. estocástica")}
grouped_bars(ax_bar, [labels[n] for n in residual],
             {ctx.t("train", "entrenamiento"): [r["train_accuracy"] for r in residual.values()],
              ctx.t("validation", "validación"): [r["val_accuracy"] for r in residual.values()]},
             title=ctx.t(f"Residual MLP: gap reduced by {100 * gap_reduction:.2f} pp",
                         f"MLP residual: brecha reducida en {100 * gap_reduction:.2f} pp"),
             ylabel=ctx.t("accuracy", "exactitud"),
             ylim=(min(r["val_accuracy"] for r in residual.values()) - 0.03, 1.0))
curves(ax_loss, {labels[n]: r["run"].history["val_loss"] for n, r in residual.items()},
       title=ctx.t("Validation loss", "Pérdida de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy")
fig.tight_layout()
ctx.figure("stochastic_depth", fig)

# %%
metrics = {"best": best, "best_gap": results[best]["gap"],
           "best_val_gain": results[best]["val_accuracy"] - base["val_accuracy"],
           "baseline_gap": base["gap"], "baseline_val_accuracy": base["val_accuracy"],
           "mc_model": mc_name, "mc_model_test_accuracy": test_accuracy,
           "mc_std_ambiguous": float(mc["ambiguous"]["std"].mean()),
           "mc_std_clear": float(mc["clear"]["std"].mean()), "mc_std_ratio": mc_std_ratio,
           "residual_gap": residual["none"]["gap"],
           "stochastic_depth_gap": residual["stochastic depth"]["gap"],
           "stochastic_depth_gap_reduction": gap_reduction,
           "stochastic_depth_gap_direction": gap_reduction,
           "dropout_gap_reduction": base["gap"] - results["dropout"]["gap"],
           "dropout_val_change": results["dropout"]["val_accuracy"] - base["val_accuracy"],
           "residual_val_accuracy": residual["none"]["val_accuracy"],
           "stochastic_depth_val_accuracy": residual["stochastic depth"]["val_accuracy"],
           "stochastic_depth_speedup": speedup["stochastic depth"],
           "drop_path_speedup": speedup["DropPath"],
           "seconds_none": residual["none"]["run"].seconds,
           "seconds_stochastic_depth": residual["stochastic depth"]["run"].seconds}
for name, r in results.items():
    key = name.replace(" + ", "_").replace("-", "_").replace(" ", "_").lower()
    for field_name in ("train_accuracy", "val_accuracy", "gap"):
        metrics[f"{key}_{field_name}"] = r[field_name]
ctx.finish(metrics)
