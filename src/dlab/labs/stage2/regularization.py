# %% [markdown] lang="en"
# A wide MLP trained for a long time on 1,000 images learns them by heart: near-perfect
# training accuracy, a large gap to validation. L2, dropout and early stopping are applied
# alone and together to the same network from the same start; the best one on validation
# shrinks the gap without losing validation accuracy, and is then scored once on the test set.

# %% [markdown] lang="es"
# Un MLP ancho entrenado mucho tiempo con 1000 imágenes se las aprende de memoria: exactitud
# de entrenamiento casi perfecta y una gran brecha con validación. L2, dropout y parada
# temprana se aplican por separado y juntos a la misma red desde el mismo punto de partida; la
# mejor en validación reduce la brecha sin perder exactitud de validación y después se evalúa
# una vez en test.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_subset: int = 1000   # few images + many parameters = guaranteed overfitting
    val_subset: int = 5000     # half of the validation split: enough to rank, twice as fast
    hidden: list = field(default_factory=lambda: [256, 256])
    epochs: int = 80
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-3
    dropout: float = 0.5
    patience: int = 10

    def check(self):
        positive(train_subset=self.train_subset, val_subset=self.val_subset, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, weight_decay=self.weight_decay,
                 dropout=self.dropout, patience=self.patience)


LAB = Lab(
    id="regularization",
    title_en="Overfitting on purpose, then L2, dropout and early stopping",
    title_es="Sobreajuste a propósito y después L2, dropout y parada temprana",
    source="Stage 2 · session 8",
    block="stage2",
    dataset="fashion_mnist (seeded 1,000-image training subset, 5,000 validation images, "
            "official 10k test)",
    criteria=(
        Criterion("baseline_gap", ">=", 0.10,
                  "The baseline overfits: train − validation accuracy ≥ 0.10",
                  "El modelo base sobreajusta: exactitud de entrenamiento − validación ≥ 0.10"),
        Criterion("gap_reduction", ">", 0.0,
                  "The best regularized model (by validation accuracy) has a smaller "
                  "train − validation gap than the baseline",
                  "El mejor modelo regularizado (por exactitud de validación) tiene menor "
                  "brecha entrenamiento − validación que el modelo base"),
        Criterion("val_accuracy_gain", ">=", 0.0,
                  "The best regularized model has equal or better validation accuracy than "
                  "the baseline",
                  "El mejor modelo regularizado tiene exactitud de validación igual o mejor que "
                  "el modelo base"),
    ),
    config=Config,
    quick={"train_subset": 300, "val_subset": 500, "hidden": [64, 64], "epochs": 3,
           "patience": 2},
)

# %% [markdown] lang="en"
# ## 1. Overfitting on purpose
# Few training images for a network with hundreds of parameters per image, trained with Adam
# for many epochs: the recipe for memorizing. A seeded part of the validation split chooses
# the winner; the official test images are used once, at the very end.

# %% [markdown] lang="es"
# ## 1. Sobreajuste a propósito
# Pocas imágenes de entrenamiento para una red con cientos de parámetros por imagen, entrenada
# con Adam durante muchas épocas: la receta para memorizar. Una parte de la partición de
# validación, elegida con la semilla, decide la ganadora; las imágenes oficiales de test se
# usan una sola vez, al final.

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn

from dlab.data import load
from dlab.engine import Trainer
from dlab.engine.rules import RuleEarlyStopping, replace_dropout
from dlab.models import MLP
from dlab.viz.compare import curves, grouped_bars

data = load("fashion_mnist", seed=ctx.seed)
g = torch.Generator().manual_seed(ctx.seed)
pick = torch.randperm(len(data.train[1]), generator=g)[:cfg.train_subset]
train = (data.train[0][pick], data.train[1][pick])
pick = torch.randperm(len(data.val[1]), generator=g)[:cfg.val_subset]
val = (data.val[0][pick], data.val[1][pick])
n_params = sum(p.numel() for p in MLP(784, cfg.hidden, 10).parameters())
ctx.table([ctx.t("training images", "imágenes de entrenamiento"),
           ctx.t("validation images", "imágenes de validación"),
           ctx.t("test images", "imágenes de test"), ctx.t("MLP", "MLP"),
           ctx.t("parameters", "parámetros"), ctx.t("per training image", "por imagen")],
          [[len(train[1]), len(val[1]), len(data.test[1]), str(cfg.hidden), n_params,
            n_params // len(train[1])]])

# %% [markdown] lang="en"
# ## 2. L2: a price on large weights
# L2 adds a penalty on the size of the weights to the loss, so every step also pulls each
# weight towards zero: large weights, which let the network fit single examples sharply, have
# to earn their size. With the penalty (λ/2)·Σw², the pull on each weight is exactly λ·w,
# which is what PyTorch optimizers add to the gradient when given `weight_decay=λ`. With Adam
# that pull is then divided by the adaptive step size, which weakens it; AdamW applies it
# separately for that reason.

# %% [markdown] lang="es"
# ## 2. L2: un precio para los pesos grandes
# L2 suma a la pérdida una penalización por el tamaño de los pesos, así que cada paso también
# empuja cada peso hacia cero: los pesos grandes, que permiten ajustar ejemplos sueltos con
# precisión, tienen que ganarse su tamaño. Con la penalización (λ/2)·Σw², el empuje sobre
# cada peso es exactamente λ·w, que es lo que los optimizadores de PyTorch suman al gradiente
# con `weight_decay=λ`. Con Adam ese empuje queda luego dividido por el paso adaptativo, lo que
# lo debilita; AdamW lo aplica por separado por ese motivo.

# %% exercise="l2_penalty"
def l2_penalty(model: nn.Module, weight_decay: float) -> torch.Tensor:
    """[en] Return the L2 penalty (weight_decay / 2) * (sum of the squares of every parameter
    of `model`), weights and biases alike (like torch's `weight_decay`), as a 0-dim tensor
    that autograd can differentiate: its gradient with respect to each parameter w is then
    exactly weight_decay * w. Use `model.parameters()`; do not call `.item()`, `.detach()` or
    `torch.no_grad()`, or the penalty stops pulling the weights.

    [es] Devuelve la penalización L2 (weight_decay / 2) * (suma de los cuadrados de todos los
    parámetros de `model`), pesos y sesgos por igual (como `weight_decay` de torch), como un
    tensor de dimensión 0 que autograd pueda derivar: así su gradiente respecto de cada
    parámetro w es exactamente weight_decay * w. Usa `model.parameters()`; no llames a
    `.item()`, `.detach()` ni `torch.no_grad()`, o la penalización deja de empujar los pesos.
    """
    return weight_decay / 2 * sum((p ** 2).sum() for p in model.parameters())


# %% check
import torch
from torch import nn

from dlab.exercises import expect


def _small_layer():
    layer = nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]))
        layer.bias.copy_(torch.tensor([2.0, -0.5]))
    return layer


@ctx.check("l2_penalty")
def penalty_is_half_weight_decay_times_sum_of_squares():
    value = l2_penalty(_small_layer(), 0.1)
    expect.type(value, torch.Tensor, "l2_penalty(nn.Linear(3, 2), 0.1)")
    expect.shape(value, (), "l2_penalty(nn.Linear(3, 2), 0.1)")
    # weights: 1 + 4 + 0.25 + 0 + 9 + 1 = 15.25; biases: 4 + 0.25 = 4.25
    expect.close(value, 0.1 / 2 * (15.25 + 4.25),
                 "l2_penalty(layer, 0.1) for weights [[1, -2, 0.5], [0, 3, -1]] and biases "
                 "[2, -0.5]", atol=1e-6)


@ctx.check("l2_penalty")
def gradient_is_weight_decay_times_each_parameter():
    layer = _small_layer()
    value = l2_penalty(layer, 0.1)
    expect.true(isinstance(value, torch.Tensor) and value.requires_grad,
                "l2_penalty must return a tensor connected to the parameters (no .item(), "
                ".detach() or torch.no_grad()): otherwise autograd cannot push the weights "
                "towards zero.",
                "l2_penalty debe devolver un tensor conectado a los parámetros (sin .item(), "
                ".detach() ni torch.no_grad()): si no, autograd no puede empujar los pesos "
                "hacia cero.")
    value.backward()
    expect.true(layer.weight.grad is not None and layer.bias.grad is not None,
                "l2_penalty left a parameter of nn.Linear without a gradient: sum the squares "
                "of every parameter, biases included, as torch's weight_decay does.",
                "l2_penalty dejó un parámetro de nn.Linear sin gradiente: suma los cuadrados de "
                "todos los parámetros, sesgos incluidos, como hace weight_decay de torch.")
    expect.close(layer.weight.grad, 0.1 * layer.weight.detach(),
                 "gradient of l2_penalty(layer, 0.1) w.r.t. layer.weight (expected 0.1 * weight, "
                 "what torch's weight_decay=0.1 adds)", atol=1e-6)
    expect.close(layer.bias.grad, 0.1 * layer.bias.detach(),
                 "gradient of l2_penalty(layer, 0.1) w.r.t. layer.bias", atol=1e-6)


# %% [markdown] lang="en"
# ## 3. Dropout: no unit can rely on another
# At every training step dropout zeroes a random share p of the hidden units, so no unit can
# depend on one specific partner. At evaluation every unit is on; to keep the sums the next
# layer receives on the same scale, the surviving units are multiplied by 1/(1 − p) during
# training ("inverted" dropout, what `nn.Dropout` does), and evaluation needs no change at all.

# %% [markdown] lang="es"
# ## 3. Dropout: ninguna neurona puede depender de otra
# En cada paso de entrenamiento el dropout pone a cero una proporción aleatoria p de las
# neuronas ocultas, así ninguna puede depender de una compañera concreta. Al evaluar están
# todas activas; para que las sumas que recibe la capa siguiente mantengan la misma escala, las
# neuronas que sobreviven se multiplican por 1/(1 − p) durante el entrenamiento (dropout
# "invertido", lo que hace `nn.Dropout`), y la evaluación no necesita ningún cambio.

# %% exercise="dropout"
def dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """[en] Inverted dropout. When `training` is True, set each element of `x` to 0
    independently with probability `p` and multiply the others by 1 / (1 - p), so the
    expected value of every element is unchanged; draw a new random mask at every call, with
    the shape of `x` (e.g. `torch.rand_like(x)` or `torch.bernoulli`). When `training` is
    False, or `p` is 0, return `x` unchanged. Keep the result differentiable (no `.detach()`)
    and do not use `nn.Dropout` or `F.dropout`.

    [es] Dropout invertido. Cuando `training` es True, pon a 0 cada elemento de `x` de forma
    independiente con probabilidad `p` y multiplica los demás por 1 / (1 - p), para que el
    valor esperado de cada elemento no cambie; genera una máscara aleatoria nueva en cada
    llamada, con la forma de `x` (p. ej. `torch.rand_like(x)` o `torch.bernoulli`). Cuando
    `training` es False, o `p` es 0, devuelve `x` sin cambios. Mantén el resultado derivable
    (sin `.detach()`) y no uses `nn.Dropout` ni `F.dropout`.
    """
    if not training or p == 0:
        return x
    # bernoulli_ on an empty tensor: the very draws nn.Dropout makes on the CPU.
    keep = torch.empty_like(x).bernoulli_(1 - p)
    return x * (keep / (1 - p))


# %% check
import torch

from dlab.exercises import expect


@ctx.check("dropout")
def evaluation_returns_the_input_unchanged():
    x = torch.arange(12.0).reshape(3, 4)
    expect.close(dropout(x, 0.5, False), x, "dropout(x, 0.5, training=False)")
    expect.close(dropout(x, 0.0, True), x, "dropout(x, 0.0, training=True)")


@ctx.check("dropout")
def training_zeroes_a_share_p_and_scales_the_rest():
    x = torch.ones(200, 500)
    out = dropout(x, 0.3, True)
    expect.shape(out, (200, 500), "dropout(torch.ones(200, 500), 0.3, True)")
    zeros = float((out == 0).float().mean())
    expect.between(zeros, 0.28, 0.32, "share of zeros in dropout(torch.ones(200, 500), 0.3, True)")
    survivors = out[out != 0]
    expect.close(survivors.min(), 1 / 0.7, "smallest kept value of dropout(ones, 0.3, True) "
                 "(kept values are scaled by 1 / (1 - p))", atol=1e-5)
    expect.close(survivors.max(), 1 / 0.7, "largest kept value of dropout(ones, 0.3, True)",
                 atol=1e-5)


@ctx.check("dropout")
def new_mask_each_call_and_gradients_flow():
    x = torch.ones(50, 40, requires_grad=True)
    first, second = dropout(x, 0.5, True), dropout(x, 0.5, True)
    expect.true(not torch.equal(first, second),
                "Two calls of dropout(x, 0.5, True) gave the same mask: draw a new random mask "
                "at every call.",
                "Dos llamadas a dropout(x, 0.5, True) dieron la misma máscara: genera una "
                "máscara aleatoria nueva en cada llamada.")
    expect.true(first.requires_grad,
                "No gradient reached x through dropout: keep the result connected to x (no "
                ".detach(), no torch.no_grad()).",
                "No llegó ningún gradiente a x a través de dropout: mantén el resultado "
                "conectado a x (sin .detach() ni torch.no_grad()).")
    first.sum().backward()
    expect.close(x.grad, first.detach(), "x.grad after dropout(x, 0.5, True).sum().backward() "
                 "(for x of ones it equals the output: mask / (1 - p))", atol=1e-6)


# %% [markdown] lang="en"
# ## 4. Early stopping: keep the best epoch
# Early stopping watches validation loss after every epoch. It remembers the epoch with the
# lowest value so far, stops after `patience` epochs in a row without a new lowest value, and
# puts back the weights of that best epoch. Validation loss usually bottoms out before
# validation accuracy does: the model keeps getting more examples right while becoming
# over-confident on the ones it gets wrong.

# %% [markdown] lang="es"
# ## 4. Parada temprana: quedarse con la mejor época
# La parada temprana vigila la pérdida de validación después de cada época. Recuerda la época
# con el valor más bajo hasta el momento, se detiene tras `patience` épocas seguidas sin un
# nuevo mínimo y recupera los pesos de esa mejor época. La pérdida de validación suele tocar
# fondo antes que la exactitud: el modelo sigue acertando más ejemplos mientras se vuelve
# demasiado seguro en los que falla.

# %% exercise="early_stopping"
def early_stopping(val_losses: list, patience: int) -> tuple:
    """[en] Decide, after an epoch, whether to stop. `val_losses` holds the validation loss of
    every epoch so far, in order (epoch 1 first). Return `(best_epoch, stop)`: `best_epoch` is
    the 1-based epoch with the lowest loss (the first one if several are equal: only a
    strictly lower value counts as an improvement), and `stop` is True when the last
    `patience` epochs brought no improvement, i.e. when len(val_losses) - best_epoch >= patience.

    [es] Decide, tras una época, si hay que parar. `val_losses` tiene la pérdida de validación
    de cada época hasta ahora, en orden (la época 1 primero). Devuelve `(best_epoch, stop)`:
    `best_epoch` es la época (contando desde 1) con la menor pérdida (la primera si hay varias
    iguales: solo un valor estrictamente menor cuenta como mejora), y `stop` es True cuando las
    últimas `patience` épocas no trajeron ninguna mejora, es decir, cuando
    len(val_losses) - best_epoch >= patience.
    """
    best_epoch = min(range(len(val_losses)), key=lambda i: val_losses[i]) + 1
    return best_epoch, len(val_losses) - best_epoch >= patience


# %% check
import types

from dlab.engine import EarlyStopping
from dlab.exercises import expect


@ctx.check("early_stopping")
def finds_the_first_epoch_with_the_lowest_loss():
    expect.equal(early_stopping([0.5], 3), (1, False), "early_stopping([0.5], 3)")
    expect.equal(early_stopping([1.0, 0.8, 0.9, 0.85], 5)[0], 2,
                 "best_epoch of early_stopping([1.0, 0.8, 0.9, 0.85], 5)")
    expect.equal(early_stopping([1.0, 0.7, 0.7, 0.9], 5)[0], 2,
                 "best_epoch of early_stopping([1.0, 0.7, 0.7, 0.9], 5) (a tie is not an "
                 "improvement)")


@ctx.check("early_stopping")
def stops_after_patience_epochs_without_improvement():
    losses = [1.0, 0.8, 0.9, 0.85]
    expect.equal(early_stopping(losses, 2), (2, True), "early_stopping([1.0, 0.8, 0.9, 0.85], 2)")
    expect.equal(early_stopping(losses, 3), (2, False),
                 "early_stopping([1.0, 0.8, 0.9, 0.85], 3)")
    expect.equal(early_stopping([3.0, 2.0, 1.0], 1), (3, False),
                 "early_stopping([3.0, 2.0, 1.0], 1)")


@ctx.check("early_stopping")
def agrees_with_dlab_early_stopping_epoch_by_epoch():
    losses = [0.9, 0.7, 0.72, 0.65, 0.65, 0.66, 0.64, 0.7, 0.71, 0.69, 0.8, 0.9]
    reference = EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=False)
    trainer = types.SimpleNamespace(stop_training=False)
    for epoch, value in enumerate(losses, start=1):
        reference.on_epoch_end(trainer, epoch, {"val_loss": value})
        got = early_stopping(losses[:epoch], 3)
        expect.equal(got, (reference.best_epoch, trainer.stop_training),
                     f"early_stopping({losses[:epoch]}, 3)")
        if trainer.stop_training:
            break


# %% [markdown] lang="en"
# ## 5. Five trainings from the same start
# The same network is trained five times, from identical initial weights and with the same
# batches: without regularization (the baseline), with each technique alone, and with all three
# together. L2 adds your `l2_penalty` to the training loss (validation loss stays plain
# cross-entropy), dropout layers run your `dropout`, and early stopping asks your
# `early_stopping` after every epoch. Train accuracy is measured in evaluation mode (dropout
# off), on the same footing as validation.

# %% [markdown] lang="es"
# ## 5. Cinco entrenamientos desde el mismo punto de partida
# La misma red se entrena cinco veces, desde pesos iniciales idénticos y con los mismos lotes:
# sin regularización (el modelo base), con cada técnica por separado y con las tres juntas. L2
# suma tu `l2_penalty` a la pérdida de entrenamiento (la pérdida de validación sigue siendo la
# entropía cruzada sin más), las capas de dropout ejecutan tu `dropout` y la parada temprana
# consulta tu `early_stopping` después de cada época. La exactitud de entrenamiento se mide en
# modo evaluación (sin dropout), en igualdad de condiciones con validación.

# %%
def training_loss(model, weight_decay):
    """Cross-entropy, plus the L2 penalty while the model trains (not when it is evaluated)."""
    cross_entropy = nn.CrossEntropyLoss()
    if not weight_decay:
        return cross_entropy

    def loss(out, y):
        value = cross_entropy(out, y)
        return value + l2_penalty(model, weight_decay) if model.training else value
    return loss


# (L2 weight_decay, dropout probability, early stopping) per variant.
variants = {
    "baseline": (0.0, 0.0, False),
    "L2": (cfg.weight_decay, 0.0, False),
    "dropout": (0.0, cfg.dropout, False),
    "early stopping": (0.0, 0.0, True),
    "L2 + dropout + early stop": (cfg.weight_decay, cfg.dropout, True),
}
shown = {"baseline": ctx.t("baseline", "modelo base"), "L2": "L2", "dropout": "dropout",
         "early stopping": ctx.t("early stopping", "parada temprana"),
         "L2 + dropout + early stop": ctx.t("L2 + dropout + early stop",
                                            "L2 + dropout + parada temprana")}
results, models = {}, {}
for name, (weight_decay, p_drop, early_stop) in variants.items():
    # Same seed before every build: dropout has no weights, so all variants start from
    # identical Linear layers and differences come from the regularizer alone.
    torch.manual_seed(ctx.seed)
    model = replace_dropout(MLP(784, cfg.hidden, 10, dropout=p_drop), dropout)
    # fused=True: same maths, one kernel for all parameters (Adam's bookkeeping was ~1/4 of
    # this lab's time on CPU).
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)
    callbacks = [RuleEarlyStopping(early_stopping, cfg.patience)] if early_stop else []
    trainer = Trainer(model, optimizer, loss=training_loss(model, weight_decay),
                      metrics=["accuracy"], callbacks=callbacks, progress=False,
                      **ctx.trainer_options())
    history = trainer.fit(train, val, epochs=cfg.epochs, batch_size=cfg.batch_size,
                          seed=ctx.seed)
    train_acc = trainer.evaluate(train)["accuracy"]
    val_eval = trainer.evaluate(val)
    kept_epoch = history.best("val_loss")[0] if early_stop else len(history)
    results[name] = {
        "train_accuracy": train_acc, "val_accuracy": val_eval["accuracy"],
        "gap": train_acc - val_eval["accuracy"], "val_loss": val_eval["loss"],
        "epochs_run": len(history), "kept_epoch": kept_epoch,
        "weight_norm": float(torch.cat([m.weight.detach().flatten() for m in model
                                        if isinstance(m, nn.Linear)]).norm()),
        "val_loss_curve": history["val_loss"], "val_acc_curve": history["val_accuracy"],
    }
    models[name] = trainer
    r = results[name]
    ctx.console.print(f"{shown[name]:>30}: " + ctx.t(
        f"train {r['train_accuracy']:.3f}  val {r['val_accuracy']:.3f}  gap {r['gap']:.3f}  "
        f"({r['epochs_run']} epochs)",
        f"entren. {r['train_accuracy']:.3f}  val. {r['val_accuracy']:.3f}  brecha "
        f"{r['gap']:.3f}  ({r['epochs_run']} épocas)"))

# Model selection on validation only; the baseline is the reference, not a candidate.
base = results["baseline"]
chosen = max((n for n in variants if n != "baseline"), key=lambda n: results[n]["val_accuracy"])
best = results[chosen]
ctx.table(ctx.t("variant|epochs (kept)|train acc|val acc|gap|val loss|‖W‖",
                "variante|épocas (guardada)|exact. entren.|exact. val.|brecha|pérdida val.|‖W‖"
                ).split("|"),
          [[("★ " if n == chosen else "") + shown[n], f"{r['epochs_run']} ({r['kept_epoch']})",
            r["train_accuracy"], r["val_accuracy"], r["gap"], r["val_loss"], r["weight_norm"]]
           for n, r in results.items()],
          ctx.t("★ = best validation accuracy among the regularized",
                "★ = mejor exactitud de validación entre los regularizados"))

# %% [markdown] lang="en"
# The distance between the two bars of a variant is its generalization gap; ‖W‖ in the table
# shows how much smaller L2 keeps the weights.

# %% [markdown] lang="es"
# La distancia entre las dos barras de una variante es su brecha de generalización; ‖W‖ en la
# tabla muestra cuánto más pequeños mantiene L2 los pesos.

# %%
names = list(variants)
fig, ax = plt.subplots(figsize=(11, 4.2))
grouped_bars(ax, [shown[n].replace(" + ", "\n+ ").replace(" stopping", "\nstopping")
                  .replace(" temprana", "\ntemprana") for n in names],
             {ctx.t("train", "entrenamiento"): [results[n]["train_accuracy"] for n in names],
              ctx.t("validation", "validación"): [results[n]["val_accuracy"] for n in names]},
             title=ctx.t(f"Accuracy per variant (chosen: {shown[chosen]})",
                         f"Exactitud por variante (elegida: {shown[chosen]})"),
             ylabel=ctx.t("accuracy", "exactitud"),
             ylim=(min(r["val_accuracy"] for r in results.values()) - 0.08, 1.03))
fig.tight_layout()
ctx.figure("accuracy", fig)

# %% [markdown] lang="en"
# The baseline's validation loss turns up after a few epochs while its accuracy flattens: it
# has started to memorize. Early-stopped runs end where they stopped.

# %% [markdown] lang="es"
# La pérdida de validación del modelo base vuelve a subir tras unas pocas épocas mientras su
# exactitud se estanca: ha empezado a memorizar. Las ejecuciones con parada temprana terminan
# donde se detuvieron.

# %%
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.2))
curves(ax_loss, {shown[n]: results[n]["val_loss_curve"] for n in names},
       title=ctx.t("Validation loss", "Pérdida de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy")
curves(ax_acc, {shown[n]: results[n]["val_acc_curve"] for n in names},
       title=ctx.t("Validation accuracy", "Exactitud de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("accuracy", "exactitud"))
fig.tight_layout()
ctx.figure("validation_curves", fig)

# %% [markdown] lang="en"
# ## 6. One look at the test set
# The variant chosen on validation is compared with the baseline, and only then scored on the
# test split, once.

# %% [markdown] lang="es"
# ## 6. Una sola mirada al conjunto de test
# La variante elegida en validación se compara con el modelo base y solo entonces se evalúa en
# la partición de test, una vez.

# %%
test_acc = models[chosen].evaluate(data.test)["accuracy"]
ctx.table([ctx.t("model", "modelo"), ctx.t("val acc", "exact. val."), ctx.t("gap", "brecha"),
           ctx.t("test acc", "exact. test")],
          [[shown["baseline"], base["val_accuracy"], base["gap"], "—"],
           ["★ " + shown[chosen], best["val_accuracy"], best["gap"], test_acc]])

# %%
metrics = {"chosen": chosen, "chosen_test_accuracy": test_acc,
           "baseline_gap": base["gap"], "chosen_gap": best["gap"],
           "gap_reduction": base["gap"] - best["gap"],
           "baseline_val_accuracy": base["val_accuracy"],
           "chosen_val_accuracy": best["val_accuracy"],
           "val_accuracy_gain": best["val_accuracy"] - base["val_accuracy"]}
for name, r in results.items():
    key = name.replace(" + ", "_").replace(" ", "_").lower()
    for field_name in ("train_accuracy", "val_accuracy", "gap", "epochs_run"):
        metrics[f"{key}_{field_name}"] = r[field_name]
ctx.finish(metrics)
