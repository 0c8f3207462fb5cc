"""decision-boundaries — watch a classifier draw its boundary, epoch by epoch.

Course: Stage 2, session 5. Two 2-D problems, one per kind of classifier:

* binary (concentric circles): one output logit, a sigmoid turns it into P(inner), loss
  BCEWithLogitsLoss;
* multiclass (three interleaved spirals): one logit per class, a softmax turns them into
  probabilities, loss cross-entropy.

A callback photographs the predicted probabilities on a grid of the plane at chosen epochs;
the photographs become a grid of frames (PNG) and an animated GIF.
"""
from __future__ import annotations

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
    dataset="circles (sklearn make_circles, noise=0.1, factor=0.5); spirals (3 classes, "
            "1.5 turns, noise=0.2)",
    summary_en="A binary classifier (one logit, sigmoid, binary cross-entropy) learns two "
               "concentric circles; a 3-class classifier (three logits, softmax, cross-entropy) "
               "learns three spirals. Snapshots of the predicted probabilities at chosen epochs "
               "show each boundary appear, bend and settle, as a grid of frames and a GIF.",
    summary_es="Un clasificador binario (un logit, sigmoide, entropía cruzada binaria) aprende "
               "dos círculos concéntricos; uno de 3 clases (tres logits, softmax, entropía "
               "cruzada) aprende tres espirales. Instantáneas de las probabilidades predichas en "
               "épocas elegidas muestran cómo cada frontera aparece, se curva y se asienta, en "
               "una cuadrícula de fotogramas y un GIF.",
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


def run(ctx, cfg: Config) -> dict:
    import matplotlib.pyplot as plt
    import torch
    from torch import nn

    from dlab.data import load
    from dlab.engine import LRScheduler, Trainer
    from dlab.models import MLP
    from dlab.viz.animation import BoundarySnapshots, draw_snapshot, save_gif, snapshot_grid
    from dlab.viz.compare import curves

    def frame_title(snapshot):
        if snapshot["epoch"] == 0:
            return ctx.t("before training", "antes de entrenar")
        if "val_accuracy" not in snapshot["logs"]:  # inside an epoch: no validation yet
            return ctx.t(f"update {snapshot['step']}", f"actualización {snapshot['step']}")
        acc = snapshot["logs"]["val_accuracy"]
        return ctx.t(f"epoch {snapshot['epoch']} · val acc {acc:.2f}",
                     f"época {snapshot['epoch']} · exactitud val {acc:.2f}")

    def train(data, model, loss, name, shown, snapshot_at):
        """Fit ``model`` while photographing its boundary; draw the frames and the GIF."""
        X_train, y_train = data.train
        snaps = BoundarySnapshots(X_train.numpy(), snapshot_at)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
        # The learning rate decays to 0 along a cosine: at a fixed 0.01, Adam can still jump
        # in the last epoch, and the final boundary would be a jittery one.
        schedule = LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, cfg.epochs))
        trainer = Trainer(model, optimizer, loss=loss, metrics=["accuracy"],
                          callbacks=[snaps, schedule], **ctx.trainer_options())
        history = trainer.fit(data.train, data.val, epochs=cfg.epochs,
                              batch_size=cfg.batch_size, seed=ctx.seed)
        fig = snapshot_grid(snaps, X_train.numpy(), y_train.numpy(), frame_title)
        ctx.figure(f"{name}_snapshots", fig,
                   f"{shown}: the predicted class over the plane at {len(snaps.snapshots)} "
                   "moments of training (pale = the model hesitates; black line = boundary).",
                   f"{shown}: la clase predicha sobre el plano en {len(snaps.snapshots)} "
                   "momentos del entrenamiento (pálido = el modelo duda; línea negra = frontera).")
        gif = save_gif(ctx.out / "figures" / f"{name}_training.gif", snaps, X_train.numpy(),
                       y_train.numpy(), frame_title)
        return trainer, history, snaps, gif

    # --- 1. Binary: one logit, sigmoid, binary cross-entropy -----------------------------------
    circles = load("circles", n_samples=cfg.n_circles, seed=ctx.seed)
    ctx.say("**Binary case.** Two concentric rings. The network ends in a *single* output, a "
            "logit z; the sigmoid σ(z) = 1 / (1 + e^(−z)) reads it as P(inner ring), and the "
            "boundary is where σ(z) = 0.5, i.e. z = 0. The loss is binary cross-entropy; "
            "`BCEWithLogitsLoss` applies the sigmoid itself, in a numerically safe form, so the "
            "model outputs raw logits.",
            "**Caso binario.** Dos anillos concéntricos. La red termina en una *única* salida, "
            "un logit z; la sigmoide σ(z) = 1 / (1 + e^(−z)) lo interpreta como P(anillo "
            "interior), y la frontera está donde σ(z) = 0.5, es decir z = 0. La pérdida es la "
            "entropía cruzada binaria; `BCEWithLogitsLoss` aplica la sigmoide por dentro, de "
            "forma numéricamente segura, así que el modelo devuelve logits sin transformar.")
    bce = nn.BCEWithLogitsLoss()

    def binary_loss(logits, y):
        # One logit per point, shape (N, 1); BCE wants float targets of the same shape as logits.
        return bce(logits.squeeze(1), y.float())

    binary_model = MLP(2, cfg.hidden, 1)
    binary, binary_history, binary_snaps, binary_gif = train(circles, binary_model,
                                                              binary_loss, "circles",
                                                              ctx.t("Circles", "Círculos"),
                                                              cfg.circles_snapshots)

    # --- 2. Multiclass: one logit per class, softmax, cross-entropy ---------------------------
    spirals = load("spirals", n_samples=cfg.n_spirals, turns=cfg.spiral_turns, seed=ctx.seed)
    ctx.say("**Multiclass case.** Three spiral arms. Now the network has *one logit per class*; "
            "softmax(z)_k = e^(z_k) / Σ_j e^(z_j) turns them into three probabilities that sum to "
            "1, and the predicted class is the largest. Cross-entropy is −log of the probability "
            "given to the true class; `CrossEntropyLoss` takes the logits and does the softmax "
            "itself. With two classes this is the sigmoid case again: softmax of (z, 0) is "
            "σ(z).",
            "**Caso multiclase.** Tres brazos de espiral. Ahora la red tiene *un logit por "
            "clase*; softmax(z)_k = e^(z_k) / Σ_j e^(z_j) los convierte en tres probabilidades "
            "que suman 1, y la clase predicha es la mayor. La entropía cruzada es −log de la "
            "probabilidad asignada a la clase verdadera; `CrossEntropyLoss` recibe los logits y "
            "hace la softmax por dentro. Con dos clases se recupera el caso sigmoide: la softmax "
            "de (z, 0) es σ(z).")
    spiral_model = MLP(2, cfg.hidden, spirals.num_classes)
    multi, multi_history, multi_snaps, multi_gif = train(spirals, spiral_model,
                                                         "cross_entropy", "spirals",
                                                         ctx.t("Spirals", "Espirales"),
                                                         cfg.spirals_snapshots)
    ctx.say(f"Animations: `figures/{binary_gif.name}` and `figures/{multi_gif.name}` in the run "
            "folder (open them in a browser or an image viewer).",
            f"Animaciones: `figures/{binary_gif.name}` y `figures/{multi_gif.name}` en la carpeta "
            "de la ejecución (ábrelas con un navegador o un visor de imágenes).")

    # --- 3. Scores: the test split, once -------------------------------------------------------
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
    ctx.figure("final_boundaries", fig,
               "The final models on the test points, and how fast each one learned.",
               "Los modelos finales sobre los puntos de test y la rapidez con que aprendió cada "
               "uno.")
    ctx.say("What the frames show: at epoch 0 the random network already has a boundary, just a "
            "meaningless one, and the pale colours say it is unsure everywhere. The first epochs "
            "move the boundary coarsely toward the data (the circles' boundary closes into a "
            "ring, the spiral regions start to twist); later epochs only sharpen it, and the "
            "pale band around the boundary narrows as the logits grow. The colour is a "
            "probability, not just a class: far from the data the model can still be "
            "confidently wrong, because nothing there constrains it.",
            "Qué muestran los fotogramas: en la época 0 la red aleatoria ya tiene una frontera, "
            "solo que sin sentido, y los colores pálidos dicen que duda en todas partes. Las "
            "primeras épocas mueven la frontera a grandes rasgos hacia los datos (la de los "
            "círculos se cierra en un anillo, las regiones de las espirales empiezan a "
            "retorcerse); las siguientes solo la afinan, y la franja pálida alrededor de la "
            "frontera se estrecha a medida que crecen los logits. El color es una probabilidad, "
            "no solo una clase: lejos de los datos el modelo puede equivocarse con mucha "
            "seguridad, porque allí nada lo corrige.")
    return {
        "binary_test_accuracy": binary_acc,
        "spirals_test_accuracy": multi_acc,
        "spirals_first_epoch_val_accuracy": multi_history["val_accuracy"][0],
        "binary_first_epoch_val_accuracy": binary_history["val_accuracy"][0],
        "snapshots": len(multi_snaps.snapshots),
        "gifs_written": binary_gif.exists() and multi_gif.exists(),
    }
