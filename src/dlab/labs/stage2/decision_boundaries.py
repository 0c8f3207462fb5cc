# %% [markdown] lang="en"
# A binary classifier (one logit, sigmoid, binary cross-entropy) learns two concentric circles;
# a 3-class classifier (three logits, softmax, cross-entropy) learns three spirals. Snapshots of
# the predicted probabilities at chosen epochs show each boundary appear, bend and settle, as a
# grid of frames and a GIF.

# %% [markdown] lang="es"
# Un clasificador binario (un logit, sigmoide, entropía cruzada binaria) aprende dos círculos
# concéntricos; uno de 3 clases (tres logits, softmax, entropía cruzada) aprende tres espirales.
# Instantáneas de las probabilidades predichas en épocas elegidas muestran cómo cada frontera
# aparece, se curva y se asienta, en una cuadrícula de fotogramas y un GIF.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n_circles: int = 1000
    n_spirals: int = 1500
    spiral_turns: float = 1.5  # 1.5 turns: hopeless for a line, a few seconds for a small MLP
    hidden: list = field(default_factory=lambda: [64, 64])
    epochs: int = 30
    batch_size: int = 32
    lr: float = 0.01
    # When to photograph each boundary, in epochs. The ring is found within the first epoch
    # (~19 updates), so its snapshots are fractions of an epoch; the spirals take ~10 epochs.
    circles_snapshots: list = field(
        default_factory=lambda: [0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1, 30])
    spirals_snapshots: list = field(default_factory=lambda: [0, 1, 2, 3, 4, 6, 9, 13, 20, 30])

    def check(self):
        positive(n_circles=self.n_circles, n_spirals=self.n_spirals,
                 spiral_turns=self.spiral_turns, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr)


LAB = Lab(
    id="decision-boundaries",
    title_en="Decision boundaries during training: sigmoid and softmax",
    title_es="Fronteras de decisión durante el entrenamiento: sigmoide y softmax",
    source="Stage 2 · session 5",
    block="stage2",
    dataset="circles (sklearn make_circles, noise=0.1, factor=0.5); spirals (3 classes, "
            "1.5 turns, noise=0.2)",
    criteria=(
        Criterion("binary_test_accuracy", ">=", 0.95,
                  "Circles, one logit + sigmoid: test accuracy ≥ 0.95",
                  "Círculos, un logit + sigmoide: exactitud en test ≥ 0.95"),
        Criterion("spirals_test_accuracy", ">=", 0.95,
                  "Spirals, 3 logits + softmax: test accuracy ≥ 0.95",
                  "Espirales, 3 logits + softmax: exactitud en test ≥ 0.95"),
        Criterion("spirals_first_epoch_val_accuracy", "<=", 0.8,
                  "The spiral boundary is learned during training, not found at once "
                  "(val accuracy after epoch 1 ≤ 0.8)",
                  "La frontera de las espirales se aprende durante el entrenamiento, no de "
                  "golpe (exactitud de validación tras la época 1 ≤ 0.8)"),
        Criterion("gifs_written", "is", True,
                  "Both animations were written (figures/*.gif)",
                  "Se escribieron ambas animaciones (figures/*.gif)"),
    ),
    config=Config,
    quick={"n_circles": 300, "n_spirals": 300, "epochs": 3, "hidden": [16, 16]},
)

# %% [markdown] lang="en"
# ## 1. Binary case: one logit, sigmoid, binary cross-entropy
# Two concentric rings. The network ends in a *single* output, a logit z; the sigmoid
# σ(z) = 1 / (1 + e^(−z)) reads it as P(inner ring), and the boundary is where σ(z) = 0.5,
# i.e. z = 0. The loss is the binary cross-entropy, −[y log σ(z) + (1 − y) log(1 − σ(z))].
# `BCEWithLogitsLoss` applies the sigmoid itself, in a numerically safe form, so the model
# outputs raw logits.

# %% [markdown] lang="es"
# ## 1. Caso binario: un logit, sigmoide, entropía cruzada binaria
# Dos anillos concéntricos. La red termina en una *única* salida, un logit z; la sigmoide
# σ(z) = 1 / (1 + e^(−z)) lo interpreta como P(anillo interior), y la frontera está donde
# σ(z) = 0.5, es decir z = 0. La pérdida es la entropía cruzada binaria,
# −[y log σ(z) + (1 − y) log(1 − σ(z))]. `BCEWithLogitsLoss` aplica la sigmoide por dentro,
# de forma numéricamente segura, así que el modelo devuelve logits sin transformar.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from dlab.data import load
from dlab.engine import LRScheduler, Trainer
from dlab.models import MLP
from dlab.viz.animation import BoundarySnapshots, draw_snapshot, save_gif, snapshot_grid
from dlab.viz.compare import curves

circles = load("circles", n_samples=cfg.n_circles, seed=ctx.seed)
ctx.table([ctx.t("split", "partición"), ctx.t("points", "puntos"),
           ctx.t("inner ring (label 1)", "anillo interior (etiqueta 1)")],
          [[name, len(y), int(y.sum())] for name, (_, y) in
           (("train", circles.train), ("val", circles.val), ("test", circles.test))])

# %% exercise="binary_loss"
def binary_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[en] The loss of a one-logit classifier. `logits` has shape (N, 1) (the model's single
    output per point) and `y` holds the N integer labels 0 or 1, shape (N,). Return the mean
    binary cross-entropy of σ(logits) against `y` as a scalar tensor that can be
    backpropagated. Bring both to shape (N,) and `y` to float first. Compute it from the
    logits with `F.binary_cross_entropy_with_logits` (or `nn.BCEWithLogitsLoss`): do not apply
    the sigmoid yourself, since log(σ(z)) overflows for large |z|.

    [es] La pérdida de un clasificador de un solo logit. `logits` tiene forma (N, 1) (la única
    salida del modelo por punto) e `y` contiene las N etiquetas enteras 0 o 1, forma (N,).
    Devuelve la entropía cruzada binaria media de σ(logits) frente a `y` como un tensor
    escalar que se pueda derivar. Lleva antes ambos a forma (N,) e `y` a float. Calcúlala a
    partir de los logits con `F.binary_cross_entropy_with_logits` (o `nn.BCEWithLogitsLoss`):
    no apliques tú la sigmoide, porque log(σ(z)) desborda para |z| grande.
    """
    return F.binary_cross_entropy_with_logits(logits.squeeze(1), y.float())


# %% check
import math

import torch

from dlab.exercises import expect


def _bce_by_hand(z, y):
    sigma = [1 / (1 + math.exp(-v)) for v in z]
    return -sum(t * math.log(s) + (1 - t) * math.log(1 - s) for s, t in zip(sigma, y)) / len(z)


@ctx.check("binary_loss")
def is_the_mean_binary_cross_entropy():
    z, y = [2.0, -1.0, 0.5, -3.0, 0.0], [1, 0, 0, 1, 1]
    logits = torch.tensor(z).reshape(5, 1).requires_grad_()
    loss = binary_loss(logits, torch.tensor(y))
    expect.true(torch.is_tensor(loss) and loss.requires_grad,
                "binary_loss must return a tensor connected to the logits (no .item(), no "
                "numpy), or backward() cannot reach the model.",
                "binary_loss debe devolver un tensor conectado a los logits (sin .item() ni "
                "numpy), o backward() no llega al modelo.")
    expect.shape(loss, (), "binary_loss(logits of shape (5, 1), y of shape (5,))")
    expect.close(loss, _bce_by_hand(z, y), "binary_loss(logits, y), compared with "
                 "−mean(y log σ(z) + (1 − y) log(1 − σ(z)))", atol=1e-5)


@ctx.check("binary_loss")
def pairs_each_logit_with_its_own_label():
    # With logits (N, 1) and labels (N,) a careless broadcast compares every logit with every
    # label: an (N, N) loss whose mean is wrong.
    z, y = [4.0, -4.0, 3.0], [1, 0, 1]
    loss = binary_loss(torch.tensor(z).reshape(3, 1), torch.tensor(y))
    expect.close(loss, _bce_by_hand(z, y), "binary_loss for three confident, correct logits",
                 atol=1e-5)


@ctx.check("binary_loss")
def stays_exact_for_very_large_logits():
    loss = binary_loss(torch.tensor([[-200.0], [200.0]]), torch.tensor([1, 0]))
    expect.true(torch.isfinite(loss).all(),
                "binary_loss is inf or NaN for logits ±200: compute it from the logits "
                "(F.binary_cross_entropy_with_logits), not as log(sigmoid(z)).",
                "binary_loss da inf o NaN con logits ±200: calcúlala a partir de los logits "
                "(F.binary_cross_entropy_with_logits), no como log(sigmoid(z)).")
    expect.true(abs(float(loss) - 100.0) > 1.0,
                "binary_loss gives 100 instead of 200 for logits ±200: a sigmoid followed by "
                "F.binary_cross_entropy clamps log(0) to −100. Compute the loss from the logits "
                "(F.binary_cross_entropy_with_logits).",
                "binary_loss da 100 en vez de 200 con logits ±200: una sigmoide seguida de "
                "F.binary_cross_entropy recorta log(0) a −100. Calcula la pérdida a partir de "
                "los logits (F.binary_cross_entropy_with_logits).")
    expect.close(loss, 200.0, "binary_loss([[-200], [200]], [1, 0]) (each point is wrong by "
                 "a logit of 200)", atol=1e-3)


# %% [markdown] lang="en"
# ## 2. From logits to the colours of the plane
# To watch a boundary form, a callback photographs the model at chosen moments of training:
# it evaluates the logits on a fine grid of the plane and turns them into class probabilities.
# Each grid cell is then painted with the probability-weighted mix of the class colours, so
# the colour is pale where the model hesitates. Both kinds of classifier are drawn the same way
# if a single logit becomes two columns, P(class 0) = 1 − σ(z) and P(class 1) = σ(z). With
# several logits, softmax(z)_k = e^(z_k) / Σ_j e^(z_j). With two classes the two are the same
# thing: the softmax of (0, z) is (1 − σ(z), σ(z)).

# %% [markdown] lang="es"
# ## 2. De los logits a los colores del plano
# Para ver cómo se forma una frontera, un callback fotografía el modelo en momentos elegidos
# del entrenamiento: evalúa los logits en una grilla fina del plano y los convierte en
# probabilidades de clase. Cada celda de la grilla se pinta con la mezcla de los colores de las
# clases ponderada por esas probabilidades, así que el color es pálido donde el modelo duda.
# Los dos tipos de clasificador se dibujan igual si un único logit se convierte en dos
# columnas, P(clase 0) = 1 − σ(z) y P(clase 1) = σ(z). Con varios logits,
# softmax(z)_k = e^(z_k) / Σ_j e^(z_j). Con dos clases ambas cosas coinciden: la softmax de
# (0, z) es (1 − σ(z), σ(z)).

# %% exercise="class_probabilities"
def class_probabilities(logits: torch.Tensor) -> torch.Tensor:
    """[en] Turn a model's logits, shape (N, C), into class probabilities: a tensor of shape
    (N, 2) when C == 1 (columns 1 − σ(z) and σ(z), in that order) and of shape (N, C)
    otherwise (the softmax of each row). Every row must sum to 1 and stay finite even for
    logits like 1000: use `torch.sigmoid` and `torch.softmax(..., dim=1)`, or subtract each
    row's maximum before `torch.exp`.

    [es] Convierte los logits de un modelo, de forma (N, C), en probabilidades de clase: un
    tensor de forma (N, 2) cuando C == 1 (columnas 1 − σ(z) y σ(z), en ese orden) y de forma
    (N, C) en otro caso (la softmax de cada fila). Cada fila debe sumar 1 y seguir siendo
    finita incluso con logits como 1000: usa `torch.sigmoid` y `torch.softmax(..., dim=1)`, o
    resta el máximo de cada fila antes de `torch.exp`.
    """
    if logits.shape[1] == 1:
        p = torch.sigmoid(logits)
        return torch.cat([1 - p, p], dim=1)
    return torch.softmax(logits, dim=1)


# %% check
import math

import torch

from dlab.exercises import expect


@ctx.check("class_probabilities")
def one_logit_gives_two_sigmoid_columns():
    z = [0.0, 2.0, -1.0]
    probs = class_probabilities(torch.tensor(z).reshape(3, 1))
    expect.shape(probs, (3, 2), "class_probabilities(logits of shape (3, 1))")
    sigma = [1 / (1 + math.exp(-v)) for v in z]
    expect.close(probs, [[1 - s, s] for s in sigma],
                 "class_probabilities([[0], [2], [-1]]), compared with [1 − σ(z), σ(z)]",
                 atol=1e-6)


@ctx.check("class_probabilities")
def several_logits_give_softmax_rows():
    z = [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [-1.0, 4.0, 0.5]]
    probs = class_probabilities(torch.tensor(z))
    expect.shape(probs, (3, 3), "class_probabilities(logits of shape (3, 3))")
    want = [[math.exp(v) / sum(math.exp(u) for u in row) for v in row] for row in z]
    expect.close(probs, want, "class_probabilities(z), compared with e^(z_k) / Σ_j e^(z_j) "
                 "per row", atol=1e-6)
    binary = class_probabilities(torch.tensor([[0.7], [-2.0]]))
    as_softmax = class_probabilities(torch.tensor([[0.0, 0.7], [0.0, -2.0]]))
    expect.close(binary, as_softmax, "class_probabilities([[z]]) vs class_probabilities("
                 "[[0, z]]) (softmax of (0, z) is (1 − σ(z), σ(z)))", atol=1e-6)


@ctx.check("class_probabilities")
def stays_finite_for_huge_logits():
    probs = class_probabilities(torch.tensor([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]]))
    expect.true(torch.isfinite(probs).all(),
                "class_probabilities gives inf or NaN for logits of ±1000: e^1000 overflows. "
                "Use torch.softmax, or subtract each row's maximum before torch.exp.",
                "class_probabilities da inf o NaN con logits de ±1000: e^1000 desborda. Usa "
                "torch.softmax, o resta el máximo de cada fila antes de torch.exp.")
    e = 1 / (1 + math.exp(-1))
    expect.close(probs, [[1, 0, 0], [0, e, 1 - e]],
                 "class_probabilities([[1000, 0, -1000], [0, 1000, 999]])", atol=1e-6)


# %% [markdown] lang="en"
# ## 3. Training the circles, with photographs
# The same recipe serves both problems: Adam with a learning rate that decays to 0 along a
# cosine (at a fixed 0.01, Adam can still jump in the last epoch, and the final boundary would
# be a jittery one), and a `BoundarySnapshots` callback that paints the plane with your
# `class_probabilities` at the moments listed in `cfg`. The ring is found within the first
# epoch, so its first photographs are taken after a few updates.

# %% [markdown] lang="es"
# ## 3. Entrenar los círculos, con fotografías
# La misma receta sirve para ambos problemas: Adam con una tasa de aprendizaje que decae hasta
# 0 siguiendo un coseno (con 0.01 fija, Adam aún puede saltar en la última época y la frontera
# final quedaría temblorosa), y un callback `BoundarySnapshots` que pinta el plano con tu
# `class_probabilities` en los momentos listados en `cfg`. El anillo se encuentra dentro de la
# primera época, así que sus primeras fotografías se toman tras unas pocas actualizaciones.

# %%
def frame_title(snapshot):
    if snapshot["epoch"] == 0:
        return ctx.t("before training", "antes de entrenar")
    if "val_accuracy" not in snapshot["logs"]:  # inside an epoch: no validation yet
        return ctx.t(f"update {snapshot['step']}", f"actualización {snapshot['step']}")
    acc = snapshot["logs"]["val_accuracy"]
    return ctx.t(f"epoch {snapshot['epoch']} · val acc {acc:.2f}",
                 f"época {snapshot['epoch']} · exactitud val {acc:.2f}")


def train(data, model, loss, name, snapshot_at):
    """Fit ``model`` while photographing its boundary; draw the frames and the GIF."""
    X_train, y_train = data.train
    snaps = BoundarySnapshots(X_train.numpy(), snapshot_at, probabilities=class_probabilities)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    schedule = LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, cfg.epochs))
    trainer = Trainer(model, optimizer, loss=loss, metrics=["accuracy"],
                      callbacks=[snaps, schedule], **ctx.trainer_options())
    history = trainer.fit(data.train, data.val, epochs=cfg.epochs, batch_size=cfg.batch_size,
                          seed=ctx.seed)
    ctx.figure(f"{name}_snapshots", snapshot_grid(snaps, X_train.numpy(), y_train.numpy(),
                                                  frame_title))
    gif = save_gif(ctx.out / "figures" / f"{name}_training.gif", snaps, X_train.numpy(),
                   y_train.numpy(), frame_title)
    if ctx.notebook:
        from IPython.display import Image, display

        display(Image(filename=str(gif)))
    return trainer, history, snaps, gif


binary_model = MLP(2, cfg.hidden, 1)
binary, binary_history, binary_snaps, binary_gif = train(circles, binary_model, binary_loss,
                                                         "circles", cfg.circles_snapshots)

# %% [markdown] lang="en"
# Circles: the predicted class over the plane at each photographed moment (pale = the model
# hesitates; black line = the boundary, where the predicted class changes).

# %% [markdown] lang="es"
# Círculos: la clase predicha sobre el plano en cada momento fotografiado (pálido = el modelo
# duda; línea negra = la frontera, donde cambia la clase predicha).

# %% [markdown] lang="en"
# ## 4. Multiclass case: one logit per class, softmax, cross-entropy
# Three spiral arms. Now the network has *one logit per class*; the softmax turns them into
# three probabilities that sum to 1, and the predicted class is the largest. Cross-entropy is
# −log of the probability given to the true class; `CrossEntropyLoss` takes the logits and
# does the softmax itself.

# %% [markdown] lang="es"
# ## 4. Caso multiclase: un logit por clase, softmax, entropía cruzada
# Tres brazos de espiral. Ahora la red tiene *un logit por clase*; la softmax los convierte en
# tres probabilidades que suman 1, y la clase predicha es la mayor. La entropía cruzada es
# −log de la probabilidad asignada a la clase verdadera; `CrossEntropyLoss` recibe los logits y
# hace la softmax por dentro.

# %%
spirals = load("spirals", n_samples=cfg.n_spirals, turns=cfg.spiral_turns, seed=ctx.seed)
spiral_model = MLP(2, cfg.hidden, spirals.num_classes)
multi, multi_history, multi_snaps, multi_gif = train(spirals, spiral_model, "cross_entropy",
                                                     "spirals", cfg.spirals_snapshots)

# %% [markdown] lang="en"
# Spirals, photographed at whole epochs. The animations of both trainings are
# `figures/circles_training.gif` and `figures/spirals_training.gif` in the run folder (open
# them in a browser or an image viewer).

# %% [markdown] lang="es"
# Espirales, fotografiadas al final de épocas completas. Las animaciones de ambos
# entrenamientos son `figures/circles_training.gif` y `figures/spirals_training.gif` en la
# carpeta de la ejecución (ábrelas con un navegador o un visor de imágenes).

# %% [markdown] lang="en"
# ## 5. Scores: the test split, once
# The final models on the test points, and how fast each one learned.

# %% [markdown] lang="es"
# ## 5. Resultados: la partición de test, una sola vez
# Los modelos finales sobre los puntos de test y la rapidez con que aprendió cada uno.

# %%
binary_acc = binary.evaluate(circles.test)["accuracy"]
multi_acc = multi.evaluate(spirals.test)["accuracy"]

fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
for ax, trainer, data, snaps, acc, name in (
        (axes[0], binary, circles, binary_snaps, binary_acc, ctx.t("circles", "círculos")),
        (axes[1], multi, spirals, multi_snaps, multi_acc, ctx.t("spirals", "espirales"))):
    X_test, y_test = data.test
    final = snaps.photograph(trainer, cfg.epochs)
    draw_snapshot(ax, snaps, final, X_test.numpy(), y_test.numpy(),
                  ctx.t(f"{name}: test acc {acc:.3f}", f"{name}: exactitud test {acc:.3f}"),
                  point_size=10)
curves(axes[2], {ctx.t("circles (sigmoid)", "círculos (sigmoide)"):
                 binary_history["val_accuracy"],
                 ctx.t("spirals (softmax)", "espirales (softmax)"):
                 multi_history["val_accuracy"]},
       title=ctx.t("validation accuracy", "exactitud en validación"),
       xlabel=ctx.t("epoch", "época"))
fig.tight_layout()
ctx.figure("final_boundaries", fig)
ctx.table([ctx.t("problem", "problema"), ctx.t("output head", "salida"),
           ctx.t("val accuracy after epoch 1", "exactitud val. tras la época 1"),
           ctx.t("test accuracy", "exactitud en test")],
          [[ctx.t("circles", "círculos"), ctx.t("1 logit + sigmoid", "1 logit + sigmoide"),
            binary_history["val_accuracy"][0], binary_acc],
           [ctx.t("spirals", "espirales"), ctx.t("3 logits + softmax", "3 logits + softmax"),
            multi_history["val_accuracy"][0], multi_acc]])

# %% [markdown] lang="en"
# What the frames show: at epoch 0 the random network already has a boundary, just a
# meaningless one, and the pale colours say it is unsure everywhere. The first epochs move the
# boundary coarsely toward the data (the circles' boundary closes into a ring, the spiral
# regions start to twist); later epochs only sharpen it, and the pale band around the boundary
# narrows as the logits grow. The colour is a probability, not just a class: far from the data
# the model can still be confidently wrong, because nothing there constrains it.

# %% [markdown] lang="es"
# Qué muestran los fotogramas: en la época 0 la red aleatoria ya tiene una frontera, solo que
# sin sentido, y los colores pálidos dicen que duda en todas partes. Las primeras épocas mueven
# la frontera a grandes rasgos hacia los datos (la de los círculos se cierra en un anillo, las
# regiones de las espirales empiezan a retorcerse); las siguientes solo la afinan, y la franja
# pálida alrededor de la frontera se estrecha a medida que crecen los logits. El color es una
# probabilidad, no solo una clase: lejos de los datos el modelo puede equivocarse con mucha
# seguridad, porque allí nada lo corrige.

# %%
ctx.finish({
    "binary_test_accuracy": binary_acc,
    "spirals_test_accuracy": multi_acc,
    "spirals_first_epoch_val_accuracy": multi_history["val_accuracy"][0],
    "binary_first_epoch_val_accuracy": binary_history["val_accuracy"][0],
    "snapshots": len(multi_snaps.snapshots),
    "gifs_written": binary_gif.exists() and multi_gif.exists(),
})
