# %% [markdown] lang="en"
# The same deep MLP [512, 256, 128, 64] is trained three times on Fashion-MNIST from the same
# starting weights: without normalization, with batch normalization and with layer
# normalization, both written by hand. The question is how many epochs each needs to bring
# the validation loss under 0.4. Then the batch-normalized network is asked to classify one
# image at a time, where a batch has no statistics of its own to offer.

# %% [markdown] lang="es"
# El mismo MLP profundo [512, 256, 128, 64] se entrena tres veces en Fashion-MNIST desde los
# mismos pesos iniciales: sin normalización, con normalización por lotes (batch norm) y con
# normalización por capa (layer norm), ambas escritas a mano. La pregunta es cuántas épocas
# necesita cada uno para bajar la pérdida de validación de 0.4. Después se le pide a la red con
# batch norm que clasifique las imágenes de a una, cuando un lote no tiene estadísticas propias
# que ofrecer.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    hidden: list = field(default_factory=lambda: [512, 256, 128, 64])
    epochs: int = 6
    batch_size: int = 128
    lr: float = 1e-3
    target_val_loss: float = 0.4
    train_subset: int = 0        # 0 = all 50k training images (quick mode uses fewer)
    val_subset: int = 0          # 0 = all 10k validation images
    one_by_one: int = 0          # validation images classified one at a time (0 = all 10k)
    small_batch: int = 8         # batch size of the "batch statistics at inference" probe

    def check(self):
        positive(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
                 target_val_loss=self.target_val_loss, small_batch=self.small_batch)


LAB = Lab(
    id="normalization",
    title_en="Batch normalization and layer normalization in a deep MLP",
    title_es="Normalización por lotes y por capa en un MLP profundo",
    source="Part 2 · class 110 (homework)",
    block="part2-training",
    dataset="fashion_mnist (50k train / 10k val; the test split is not used)",
    criteria=(
        Criterion("bn_epoch_saving", ">=", 0.30,
                  "BatchNorm needs ≥ 30 % fewer epochs than no normalization to bring the "
                  "validation loss under 0.4",
                  "BatchNorm necesita ≥ 30 % menos épocas que sin normalización para bajar la "
                  "pérdida de validación de 0.4"),
        Criterion("ln_reaches_target", "is", True,
                  "LayerNorm trains stably too: its validation loss also goes under 0.4",
                  "LayerNorm también entrena de forma estable: su pérdida de validación también "
                  "baja de 0.4"),
        Criterion("single_vs_batch_difference", "<=", 0.001,
                  "The BatchNorm network classifying one image at a time gets the accuracy of "
                  "batches of 128 (difference ≤ 0.001)",
                  "La red con BatchNorm clasificando las imágenes de a una logra la exactitud "
                  "de lotes de 128 (diferencia ≤ 0.001)"),
    ),
    config=Config,
    quick={"epochs": 2, "train_subset": 1000, "val_subset": 1000, "one_by_one": 200},
    timed=("none_seconds_per_epoch", "batchnorm_seconds_per_epoch",
           "layernorm_seconds_per_epoch"),
)

# %% [markdown] lang="en"
# ## 1. The data
# Fashion-MNIST as vectors of 784 pixels in [0, 1]: 50,000 training images and 10,000
# validation images. Nothing is chosen here, so the test split stays untouched.

# %% [markdown] lang="es"
# ## 1. Los datos
# Fashion-MNIST como vectores de 784 píxeles en [0, 1]: 50,000 imágenes de entrenamiento y
# 10,000 de validación. Aquí no se elige nada, así que la partición de test queda sin tocar.

# %%
import copy

import matplotlib.pyplot as plt
import torch

from dlab.data import load
from dlab.data.subset import subset
from dlab.engine.variants import fit_run
from dlab.models import MLP
from dlab.models.norm import replace_norms
from dlab.viz.compare import curves

data = load("fashion_mnist", seed=ctx.seed)
train = subset(data.train, cfg.train_subset, ctx.seed)
val = subset(data.val, cfg.val_subset, ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("images", "imágenes")],
          [["train", len(train[1])], ["val", len(val[1])]])

# %% [markdown] lang="en"
# ## 2. Batch normalization by hand
# During training, BatchNorm standardizes every feature with the mean and variance of the
# current mini-batch, then lets the network rescale and shift it with two learned vectors,
# γ (`weight`) and β (`bias`): `y = γ · (x − μ_batch) / √(σ²_batch + ε) + β`. Each layer
# therefore receives inputs of a steady scale however the earlier layers change. A single
# image has no batch to be compared with, so the layer also keeps exponential moving averages
# of μ and σ² while training, and uses them, fixed, at inference.

# %% [markdown] lang="es"
# Durante el entrenamiento, BatchNorm estandariza cada variable con la media y la varianza del
# mini-lote actual y luego deja que la red la reescale y desplace con dos vectores aprendidos,
# γ (`weight`) y β (`bias`): `y = γ · (x − μ_lote) / √(σ²_lote + ε) + β`. Así cada capa recibe
# entradas de escala estable aunque cambien las capas anteriores. Una sola imagen no tiene un
# lote con el que compararse, así que la capa además lleva medias móviles exponenciales de μ y
# σ² durante el entrenamiento, y las usa, fijas, en inferencia.

# %% exercise="batch_norm"
def batch_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
               running_mean: torch.Tensor, running_var: torch.Tensor, training: bool,
               momentum: float = 0.1, eps: float = 1e-5) -> tuple:
    """[en] Batch normalization of `x`, shape (N, C), as `nn.BatchNorm1d(C)` computes it.
    Return `(y, new_running_mean, new_running_var)`.
    In training (`training=True`): take each feature's mean and variance over the batch
    (dim 0; the variance divided by N, `unbiased=False`), normalize
    `x_hat = (x - mean) / sqrt(var + eps)` and return `y = weight * x_hat + bias`, with the
    running statistics updated as `(1 - momentum) * running_mean + momentum * mean` and
    `(1 - momentum) * running_var + momentum * var_n1`, where `var_n1` is the variance divided
    by N - 1 (what torch keeps).
    In evaluation (`training=False`): normalize with `running_mean` and `running_var` instead,
    and return them unchanged. Keep `y` differentiable (the batch mean and variance are part
    of the graph); do not use `nn.BatchNorm1d` or `F.batch_norm`.

    [es] Normalización por lotes de `x`, de forma (N, C), como la calcula `nn.BatchNorm1d(C)`.
    Devuelve `(y, new_running_mean, new_running_var)`.
    En entrenamiento (`training=True`): toma la media y la varianza de cada variable sobre el
    lote (dim 0; la varianza dividida por N, `unbiased=False`), normaliza
    `x_hat = (x - mean) / sqrt(var + eps)` y devuelve `y = weight * x_hat + bias`, con las
    estadísticas móviles actualizadas como `(1 - momentum) * running_mean + momentum * mean` y
    `(1 - momentum) * running_var + momentum * var_n1`, donde `var_n1` es la varianza dividida
    por N - 1 (la que guarda torch).
    En evaluación (`training=False`): normaliza con `running_mean` y `running_var` y
    devuélvelas sin cambios. Mantén `y` derivable (la media y la varianza del lote son parte
    del grafo); no uses `nn.BatchNorm1d` ni `F.batch_norm`.
    """
    if not training:
        x_hat = (x - running_mean) / torch.sqrt(running_var + eps)
        return weight * x_hat + bias, running_mean, running_var
    mean = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    x_hat = (x - mean) / torch.sqrt(var + eps)
    n = x.shape[0]
    with torch.no_grad():
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return weight * x_hat + bias, new_mean, new_var


# %% check
import torch
import torch.nn.functional as F

from dlab.exercises import expect


def _inputs():
    g = torch.Generator().manual_seed(0)
    # The last feature barely varies: there, where eps goes (inside the root) matters.
    x = torch.randn(16, 5, generator=g) * torch.tensor([3.0, 3.0, 1.0, 0.5, 3e-3]) + 2
    weight, bias = torch.rand(5, generator=g) + 0.5, torch.randn(5, generator=g)
    mean, var = torch.randn(5, generator=g), torch.rand(5, generator=g) + 0.5
    return x, weight, bias, mean, var


@ctx.check("batch_norm")
def training_matches_torch_batch_norm():
    x, weight, bias, mean, var = _inputs()
    result = batch_norm(x, weight, bias, mean.clone(), var.clone(), True, 0.1, 1e-5)
    expect.type(result, tuple, "batch_norm(x, ..., training=True)")
    y, new_mean, new_var = result
    torch_mean, torch_var = mean.clone(), var.clone()
    expected = F.batch_norm(x, torch_mean, torch_var, weight, bias, True, 0.1, 1e-5)
    expect.close(y, expected, "y of batch_norm(x (16 × 5), ..., training=True)", atol=1e-5)
    expect.close(new_mean, torch_mean, "new_running_mean after one training batch", atol=1e-6)
    expect.close(new_var, torch_var, "new_running_var after one training batch (momentum "
                 "weighs the new batch; torch keeps the variance divided by N - 1)", atol=1e-6)


@ctx.check("batch_norm")
def evaluation_uses_the_running_statistics():
    x, weight, bias, mean, var = _inputs()
    y, kept_mean, kept_var = batch_norm(x, weight, bias, mean, var, False, 0.1, 1e-5)
    expected = F.batch_norm(x, mean.clone(), var.clone(), weight, bias, False, 0.1, 1e-5)
    expect.close(y, expected, "y of batch_norm(x, ..., training=False)", atol=1e-5)
    expect.close(kept_mean, mean, "running_mean returned in evaluation (unchanged)")
    expect.close(kept_var, var, "running_var returned in evaluation (unchanged)")
    one, _, _ = batch_norm(x[:1], weight, bias, mean, var, False, 0.1, 1e-5)
    expect.close(one, expected[:1], "batch_norm(x[:1], ..., training=False) (one image alone "
                 "must get the same output as inside the batch)", atol=1e-5)


@ctx.check("batch_norm")
def gradients_flow_through_the_batch_statistics():
    x, weight, bias, mean, var = _inputs()
    mine = [t.clone().requires_grad_() for t in (x, weight, bias)]
    theirs = [t.clone().requires_grad_() for t in (x, weight, bias)]
    signal = torch.linspace(-1, 1, 80).reshape(16, 5)
    y, _, _ = batch_norm(mine[0], mine[1], mine[2], mean.clone(), var.clone(), True)
    expect.true(isinstance(y, torch.Tensor) and y.requires_grad,
                "The y returned in training is not connected to x, weight and bias: keep it "
                "differentiable (no .detach(), no torch.no_grad() around it).",
                "La y devuelta en entrenamiento no está conectada a x, weight y bias: mantenla "
                "derivable (sin .detach() ni torch.no_grad() alrededor).")
    (y * signal).sum().backward()
    (F.batch_norm(theirs[0], mean.clone(), var.clone(), theirs[1], theirs[2], True)
     * signal).sum().backward()
    for name, a, b in zip(("x", "weight", "bias"), mine, theirs):
        expect.close(a.grad, b.grad, f"gradient of (batch_norm(...)[0] * s).sum() with "
                     f"respect to {name} (the batch mean and variance depend on x too)",
                     atol=1e-4)


# %% [markdown] lang="en"
# ## 3. Layer normalization by hand
# LayerNorm standardizes each sample over its own features instead of each feature over the
# batch. It needs no batch and no running averages, and does the same thing in training and
# at inference, which is why Transformers and recurrent networks use it.

# %% [markdown] lang="es"
# ## 3. Normalización por capa a mano
# LayerNorm estandariza cada muestra sobre sus propias variables, en lugar de cada variable
# sobre el lote. No necesita lote ni medias móviles, y hace lo mismo en entrenamiento y en
# inferencia; por eso la usan los Transformers y las redes recurrentes.

# %% exercise="layer_norm"
def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
               eps: float = 1e-5) -> torch.Tensor:
    """[en] Layer normalization of `x`, shape (N, C), as `nn.LayerNorm(C)` computes it: for
    each row (sample) take the mean and the variance of its C values (last dim; the variance
    divided by C, `unbiased=False`), normalize `x_hat = (x - mean) / sqrt(var + eps)` and
    return `weight * x_hat + bias`. Keep the result differentiable; do not use `nn.LayerNorm`
    or `F.layer_norm`.

    [es] Normalización por capa de `x`, de forma (N, C), como la calcula `nn.LayerNorm(C)`:
    para cada fila (muestra) toma la media y la varianza de sus C valores (última dimensión;
    la varianza dividida por C, `unbiased=False`), normaliza
    `x_hat = (x - mean) / sqrt(var + eps)` y devuelve `weight * x_hat + bias`. Mantén el
    resultado derivable; no uses `nn.LayerNorm` ni `F.layer_norm`.
    """
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    return weight * (x - mean) / torch.sqrt(var + eps) + bias


# %% check
import torch
import torch.nn.functional as F

from dlab.exercises import expect


def _sample_rows():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(6, 7, generator=g) * torch.arange(1.0, 8.0) + 3
    return x, torch.rand(7, generator=g) + 0.5, torch.randn(7, generator=g)


@ctx.check("layer_norm")
def matches_torch_layer_norm():
    x, weight, bias = _sample_rows()
    out = layer_norm(x, weight, bias, 1e-5)
    expect.type(out, torch.Tensor, "layer_norm(x, weight, bias)")
    expect.close(out, F.layer_norm(x, (7,), weight, bias, 1e-5),
                 "layer_norm(x (6 × 7), weight, bias)", atol=1e-5)


@ctx.check("layer_norm")
def each_sample_is_normalized_on_its_own():
    x, weight, bias = _sample_rows()
    expect.close(layer_norm(x[2:3], weight, bias), layer_norm(x, weight, bias)[2:3],
                 "layer_norm(x[2:3], ...) vs row 2 of layer_norm(x, ...) (a sample's output "
                 "must not depend on the other samples)", atol=1e-5)


@ctx.check("layer_norm")
def gradients_match_torch():
    x, weight, bias = _sample_rows()
    mine = [t.clone().requires_grad_() for t in (x, weight, bias)]
    theirs = [t.clone().requires_grad_() for t in (x, weight, bias)]
    signal = torch.linspace(-1, 1, 42).reshape(6, 7)
    out = layer_norm(*mine)
    expect.true(isinstance(out, torch.Tensor) and out.requires_grad,
                "layer_norm's result is not connected to its inputs: keep it differentiable.",
                "El resultado de layer_norm no está conectado a sus entradas: mantenlo "
                "derivable.")
    (out * signal).sum().backward()
    (F.layer_norm(theirs[0], (7,), theirs[1], theirs[2]) * signal).sum().backward()
    for name, a, b in zip(("x", "weight", "bias"), mine, theirs):
        expect.close(a.grad, b.grad, f"gradient of (layer_norm(...) * s).sum() with respect "
                     f"to {name}", atol=1e-4)


# %% [markdown] lang="en"
# ## 4. Three networks, one recipe
# The three variants share everything but the normalization: the same initial weights (same
# seed before each build; the normalization layers start at γ = 1, β = 0), Adam with learning
# rate 1e-3, batches of 128 in the same order, the same number of epochs. The normalization
# goes between each linear layer and its ReLU, and runs your `batch_norm` and `layer_norm`.

# %% [markdown] lang="es"
# ## 4. Tres redes, una receta
# Las tres variantes comparten todo salvo la normalización: los mismos pesos iniciales (la
# misma semilla antes de construir cada una; las capas de normalización empiezan con γ = 1,
# β = 0), Adam con tasa de aprendizaje 1e-3, lotes de 128 en el mismo orden y el mismo número
# de épocas. La normalización va entre cada capa lineal y su ReLU, y ejecuta tus `batch_norm` y
# `layer_norm`.

# %%
variants = {"none": ctx.t("no normalization", "sin normalización"),
            "batchnorm": "BatchNorm", "layernorm": "LayerNorm"}
runs = {}
for name, shown in variants.items():
    torch.manual_seed(ctx.seed)
    model = replace_norms(MLP(784, cfg.hidden, 10, batchnorm=name == "batchnorm",
                              layernorm=name == "layernorm"),
                          batch_norm=batch_norm, layer_norm=layer_norm)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, fused=True)
    # fp32: the hand-written statistics are compared with exact ones below.
    runs[name] = fit_run(model, optimizer, train, val, epochs=cfg.epochs,
                         batch_size=cfg.batch_size, seed=ctx.seed,
                         **ctx.trainer_options(precision="fp32"))
    history = runs[name].history
    ctx.console.print(f"{shown:>20}: " + ctx.t(
        f"val loss {history['val_loss'][-1]:.3f}  val acc {history['val_accuracy'][-1]:.3f}  "
        f"({runs[name].seconds / cfg.epochs:.1f} s/epoch)",
        f"pérdida val. {history['val_loss'][-1]:.3f}  exactitud val. "
        f"{history['val_accuracy'][-1]:.3f}  ({runs[name].seconds / cfg.epochs:.1f} s/época)"))

# %% [markdown] lang="en"
# ## 5. Epochs to a validation loss under 0.4
# The course measures speed of convergence in epochs: the first epoch whose validation loss is
# under the target. Fewer epochs is not automatically less time, since a normalization layer
# adds work to every step, so the seconds per epoch go in the table too.

# %% [markdown] lang="es"
# ## 5. Épocas hasta una pérdida de validación menor que 0.4
# El curso mide la velocidad de convergencia en épocas: la primera época cuya pérdida de
# validación queda por debajo del objetivo. Menos épocas no es automáticamente menos tiempo,
# porque una capa de normalización agrega trabajo a cada paso, así que los segundos por época
# también van en la tabla.

# %% exercise="epochs_to_reach"
def epochs_to_reach(val_losses: list, target: float):
    """[en] `val_losses[i]` is the validation loss after epoch i + 1. Return the number
    (1-based) of the first epoch whose loss is strictly below `target`, as an int, or `None`
    if no epoch gets there.

    [es] `val_losses[i]` es la pérdida de validación tras la época i + 1. Devuelve el número
    (empezando en 1) de la primera época cuya pérdida queda estrictamente por debajo de
    `target`, como int, o `None` si ninguna época llega.
    """
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < target:
            return epoch
    return None


# %% check
from dlab.exercises import expect


@ctx.check("epochs_to_reach")
def first_epoch_strictly_below_the_target():
    expect.equal(epochs_to_reach([0.9, 0.5, 0.39, 0.3], 0.4), 3,
                 "epochs_to_reach([0.9, 0.5, 0.39, 0.3], 0.4)")
    expect.equal(epochs_to_reach([0.35, 0.5], 0.4), 1, "epochs_to_reach([0.35, 0.5], 0.4)")
    expect.equal(epochs_to_reach([0.5, 0.4, 0.41, 0.2], 0.4), 4,
                 "epochs_to_reach([0.5, 0.4, 0.41, 0.2], 0.4) (0.4 itself is not below 0.4)")


@ctx.check("epochs_to_reach")
def none_when_the_target_is_never_reached():
    expect.equal(epochs_to_reach([0.9, 0.7, 0.6], 0.4), None,
                 "epochs_to_reach([0.9, 0.7, 0.6], 0.4)")
    expect.equal(epochs_to_reach([], 0.4), None, "epochs_to_reach([], 0.4)")


# %%
results = {}
for name, run in runs.items():
    history = run.history
    reached = epochs_to_reach(history["val_loss"], cfg.target_val_loss)
    per_epoch = run.seconds / len(history)
    results[name] = {"epochs_to_target": reached, "seconds_per_epoch": per_epoch,
                     "seconds_to_target": per_epoch * reached if reached else None,
                     "best_val_loss": min(history["val_loss"]),
                     "val_accuracy": history["val_accuracy"][-1]}
none_epochs = results["none"]["epochs_to_target"]
bn_epochs = results["batchnorm"]["epochs_to_target"]
bn_epoch_saving = 1 - bn_epochs / none_epochs if none_epochs and bn_epochs else None
never = ctx.t(f"not within {cfg.epochs}", f"no en {cfg.epochs}")
ctx.table(ctx.t(f"variant|epochs to val loss < {cfg.target_val_loss}|s/epoch|seconds to target|"
                "best val loss|final val acc",
                f"variante|épocas hasta pérdida val. < {cfg.target_val_loss}|s/época|"
                "segundos hasta el objetivo|mejor pérdida val.|exactitud val. final").split("|"),
          [[variants[n], r["epochs_to_target"] or never, r["seconds_per_epoch"],
            r["seconds_to_target"] or "—", r["best_val_loss"], r["val_accuracy"]]
           for n, r in results.items()],
          ctx.t("BatchNorm saves " + (f"{bn_epoch_saving:.0%}" if bn_epoch_saving is not None
                                      else "—") + " of the epochs",
                "BatchNorm ahorra " + (f"{bn_epoch_saving:.0%}" if bn_epoch_saving is not None
                                       else "—") + " de las épocas"))

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.2))
curves(ax_loss, {variants[n]: runs[n].history["val_loss"] for n in runs},
       title=ctx.t("Validation loss", "Pérdida de validación"), xlabel=ctx.t("epoch", "época"),
       ylabel="cross-entropy",
       hlines={ctx.t(f"target {cfg.target_val_loss}", f"objetivo {cfg.target_val_loss}"):
               cfg.target_val_loss})
curves(ax_acc, {variants[n]: runs[n].history["val_accuracy"] for n in runs},
       title=ctx.t("Validation accuracy", "Exactitud de validación"),
       xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("accuracy", "exactitud"))
fig.tight_layout()
ctx.figure("validation_curves", fig)

# %% [markdown] lang="en"
# ## 6. BatchNorm at inference: one image at a time
# In evaluation mode the BatchNorm layers use the moving averages gathered during training, so
# each image is normalized the same way whatever else is in its batch: classifying the
# validation images one by one must give the accuracy of batches of 128. For contrast, the
# same network is also run the wrong way, normalizing with the statistics of each evaluation
# batch (training mode, on a copy): with batches of 128 that is close, with small batches it
# is not.

# %% [markdown] lang="es"
# ## 6. BatchNorm en inferencia: de a una imagen
# En modo evaluación las capas BatchNorm usan las medias móviles acumuladas durante el
# entrenamiento, así que cada imagen se normaliza igual sin importar qué más haya en su lote:
# clasificar las imágenes de validación una por una debe dar la exactitud de lotes de 128.
# Como contraste, la misma red también se usa de la forma equivocada, normalizando con las
# estadísticas de cada lote de evaluación (modo entrenamiento, sobre una copia): con lotes de
# 128 se acerca, con lotes pequeños no.

# %%
bn_run = runs["batchnorm"]
X_val, y_val = subset(val, cfg.one_by_one, ctx.seed)
batch_accuracy = bn_run.trainer.evaluate((X_val, y_val), batch_size=128)["accuracy"]
bn_model = bn_run.trainer.model.eval()
with torch.no_grad():
    one_by_one = torch.cat([bn_model(X_val[i:i + 1]).argmax(dim=1) for i in range(len(y_val))])
single_accuracy = int((one_by_one == y_val).sum()) / len(y_val)


def batch_statistics_accuracy(batch_size):
    """Accuracy when each evaluation batch is normalized with its own mean and variance."""
    wrong_way = copy.deepcopy(bn_model).train()
    with torch.no_grad():
        predictions = torch.cat([wrong_way(X_val[i:i + batch_size]).argmax(dim=1)
                                 for i in range(0, len(y_val), batch_size)])
    return int((predictions == y_val).sum()) / len(y_val)


batch_stats = {size: batch_statistics_accuracy(size) for size in (128, cfg.small_batch)}
single_vs_batch_difference = abs(single_accuracy - batch_accuracy)
ctx.table([ctx.t("how BatchNorm normalizes", "cómo normaliza BatchNorm"),
           ctx.t("images per call", "imágenes por llamada"),
           ctx.t("val accuracy", "exactitud val.")],
          [[ctx.t("moving averages (eval mode)", "medias móviles (modo eval)"), 128,
            batch_accuracy],
           [ctx.t("moving averages (eval mode)", "medias móviles (modo eval)"), 1,
            single_accuracy]]
          + [[ctx.t("statistics of each batch (wrong)", "estadísticas de cada lote (incorrecto)"),
              size, acc] for size, acc in batch_stats.items()],
          ctx.t(f"{len(y_val)} validation images", f"{len(y_val)} imágenes de validación"))

# %% [markdown] lang="en"
# Thanks to the moving averages, batch size at inference is irrelevant. Normalizing with the
# statistics of the evaluation batch instead makes every prediction depend on which other
# images share its batch, and the smaller the batch, the noisier those statistics.

# %% [markdown] lang="es"
# Gracias a las medias móviles, el tamaño del lote en inferencia no importa. Normalizar en
# cambio con las estadísticas del lote de evaluación hace que cada predicción dependa de qué
# otras imágenes comparten su lote, y cuanto más chico el lote, más ruidosas son esas
# estadísticas.

# %%
metrics = {"bn_epoch_saving": bn_epoch_saving,
           "ln_reaches_target": results["layernorm"]["epochs_to_target"] is not None,
           "bn_batch_accuracy": batch_accuracy, "bn_single_accuracy": single_accuracy,
           "single_vs_batch_difference": single_vs_batch_difference,
           "bn_batch_statistics_accuracy_128": batch_stats[128],
           "bn_small_batch_statistics_accuracy": batch_stats[cfg.small_batch]}
for name, r in results.items():
    metrics[f"{name}_epochs_to_target"] = r["epochs_to_target"]
    metrics[f"{name}_best_val_loss"] = r["best_val_loss"]
    metrics[f"{name}_val_accuracy"] = r["val_accuracy"]
    metrics[f"{name}_seconds_per_epoch"] = r["seconds_per_epoch"]
ctx.finish(metrics)
