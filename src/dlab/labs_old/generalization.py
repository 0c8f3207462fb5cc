"""generalization — under-fitting, over-fitting, and what the data itself decides.

Course: Stage 2, session 1. Four experiments, each a measured effect:

a. capacity: MLPs from a straight line to 67k parameters on 200 noisy moons points. Training
   loss keeps falling with capacity; validation loss falls, then rises.
b. time: the largest of those models, epoch by epoch. Validation loss has a minimum early on
   and climbs while training loss goes to zero; the minimum is found and marked.
c. scale: the same network on wine (features from ~0.1 to ~1000) with and without
   standardization; epochs needed to reach a target validation loss.
d. balance: a 5%-minority problem, plain cross-entropy vs class-weighted cross-entropy;
   minority recall and macro-F1.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    # a, b: capacity sweep and the long run of its largest model
    moons_samples: int = 1000
    moons_noise: float = 0.3
    moons_train: int = 200  # training points kept: few enough to be memorized
    sweep: list = field(default_factory=lambda: [[], [4], [16], [64], [128, 128], [256, 256]])
    sweep_epochs: int = 300  # full-batch epochs, i.e. 300 gradient steps
    sweep_lr: float = 0.01
    # c: standardization
    scale_dataset: str = "wine"
    scale_epochs: int = 150
    scale_lr: float = 1e-3
    scale_target_loss: float = 0.2
    # d: class imbalance
    imbalance_hidden: list = field(default_factory=lambda: [32])
    imbalance_epochs: int = 30
    imbalance_lr: float = 1e-3

    def check(self):
        positive(moons_samples=self.moons_samples, moons_train=self.moons_train,
                 sweep_epochs=self.sweep_epochs, sweep_lr=self.sweep_lr,
                 scale_epochs=self.scale_epochs, scale_lr=self.scale_lr,
                 scale_target_loss=self.scale_target_loss,
                 imbalance_epochs=self.imbalance_epochs, imbalance_lr=self.imbalance_lr)


LAB = Lab(
    id="generalization",
    title_en="Generalization: under-fitting, over-fitting and the role of the data",
    title_es="Generalización: subajuste, sobreajuste y el papel de los datos",
    source="Stage 2 · session 1",
    dataset="moons (noise 0.3, 200 training points); wine (sklearn, raw and standardized); "
            "imbalanced (make_classification, 5% minority)",
    summary_en="Training loss only ever improves with more capacity and more epochs; validation "
               "loss does not. A capacity sweep and a long run show both sides of that gap, and "
               "two data experiments show that scaling the inputs and weighting a rare class "
               "change what the same network learns.",
    summary_es="La pérdida de entrenamiento siempre mejora con más capacidad y más épocas; la de "
               "validación no. Un barrido de capacidad y un entrenamiento largo muestran los dos "
               "lados de esa brecha, y dos experimentos con los datos muestran que escalar las "
               "entradas y ponderar una clase rara cambian lo que aprende la misma red.",
    criteria=(
        Criterion("sweep_best_is_interior", "is", True,
                  "Capacity sweep: the lowest validation loss is neither the smallest nor the "
                  "largest model",
                  "Barrido de capacidad: la menor pérdida de validación no es ni del modelo más "
                  "pequeño ni del más grande"),
        Criterion("underfit_val_loss_ratio", ">=", 1.2,
                  "Under-fitting: the linear model's validation loss ≥ 1.2× the best",
                  "Subajuste: pérdida de validación del modelo lineal ≥ 1.2× la mejor"),
        Criterion("overfit_train_accuracy", ">=", 0.97,
                  "Over-fitting: the largest model (nearly) memorizes its 200 training points "
                  "(train accuracy ≥ 0.97)",
                  "Sobreajuste: el modelo más grande (casi) memoriza sus 200 puntos de "
                  "entrenamiento (exactitud ≥ 0.97)"),
        Criterion("overfit_val_loss_ratio", ">=", 2.0,
                  "Over-fitting: the largest model's validation loss ≥ 2× the best",
                  "Sobreajuste: pérdida de validación del modelo más grande ≥ 2× la mejor"),
        Criterion("val_loss_end_over_min", ">=", 1.5,
                  "Long run: validation loss at the last epoch ≥ 1.5× its minimum",
                  "Entrenamiento largo: pérdida de validación en la última época ≥ 1.5× su "
                  "mínimo"),
        Criterion("val_min_before_end", "is", True,
                  "Long run: the minimum of validation loss comes before the last epoch",
                  "Entrenamiento largo: el mínimo de la pérdida de validación llega antes de la "
                  "última época"),
        Criterion("standardization_epoch_ratio", "<=", 0.5,
                  "Standardized inputs reach the target validation loss in ≤ 0.5× the epochs "
                  "of raw inputs (raw counted as the whole budget if it never gets there)",
                  "Con entradas estandarizadas se llega a la pérdida de validación objetivo en "
                  "≤ 0.5× las épocas de las entradas sin escalar (contando todo el presupuesto "
                  "si estas no llegan)"),
        Criterion("plain_minority_recall", "<=", 0.5,
                  "Imbalance: plain training finds ≤ 50% of the minority class (while its "
                  "accuracy looks high)",
                  "Desbalance: el entrenamiento normal encuentra ≤ 50% de la clase minoritaria "
                  "(aunque su exactitud parece alta)"),
        Criterion("minority_recall_gain", ">=", 0.3,
                  "Imbalance: inverse-frequency class weights raise minority recall by ≥ 0.3",
                  "Desbalance: los pesos de frecuencia inversa suben el recall de la clase "
                  "minoritaria en ≥ 0.3"),
        Criterion("macro_f1_gain", ">=", 0.03,
                  "Imbalance: the class weighting chosen on validation raises test macro-F1 by "
                  "≥ 0.03",
                  "Desbalance: la ponderación elegida en validación sube el macro-F1 en test en "
                  "≥ 0.03"),
    ),
    config=Config,
    quick={"moons_samples": 400, "sweep": [[], [16], [128, 128]], "sweep_epochs": 20,
           "scale_epochs": 5, "imbalance_epochs": 2},
)


def run(ctx, cfg: Config) -> dict:
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from dlab.data import load
    from dlab.engine import Trainer, metrics
    from dlab.models import MLP
    from dlab.viz import decision_boundary
    from dlab.viz.compare import curves
    from dlab.viz.panels import capacity_sweep, confusion_panel, mark_minimum

    def trainer_for(model, lr, **kwargs):
        # Many short runs: the lab reports each result instead of a progress bar per epoch.
        return Trainer(model, torch.optim.Adam(model.parameters(), lr=lr), progress=False,
                       **kwargs, **ctx.trainer_options())

    # === a. Capacity ===========================================================================
    moons = load("moons", n_samples=cfg.moons_samples, noise=cfg.moons_noise, seed=ctx.seed)
    # The split is already shuffled: the first moons_train rows are a random subset. Keeping
    # few training points makes memorizing possible; validation keeps all its points, so the
    # measurement of generalization stays reliable.
    train = (moons.train[0][:cfg.moons_train], moons.train[1][:cfg.moons_train])
    ctx.say(f"**a. Capacity.** {len(train[1])} noisy training points (noise {cfg.moons_noise}: "
            f"some points sit on the wrong side of any sensible boundary) and "
            f"{len(moons.val[1])} validation points. Each model gets {cfg.sweep_epochs} full-batch "
            "Adam steps, far more than the small ones need.",
            f"**a. Capacidad.** {len(train[1])} puntos de entrenamiento con ruido (ruido "
            f"{cfg.moons_noise}: algunos puntos caen del lado equivocado de cualquier frontera "
            f"sensata) y {len(moons.val[1])} de validación. Cada modelo recibe "
            f"{cfg.sweep_epochs} pasos de Adam con el lote completo, muchos más de los que "
            "necesitan los pequeños.")
    sweep = []
    for hidden in cfg.sweep:
        torch.manual_seed(ctx.seed)
        model = MLP(2, hidden, 2)
        # doctor=False: its per-epoch check would double the cost of these tiny full-batch steps.
        trainer = trainer_for(model, cfg.sweep_lr, doctor=False)
        history = trainer.fit(train, moons.val, epochs=cfg.sweep_epochs,
                              batch_size=len(train[1]), seed=ctx.seed)
        on_train, on_val = trainer.evaluate(train), trainer.evaluate(moons.val)
        acc_train = metrics.accuracy(trainer.predict(train[0]), train[1])
        acc_val = metrics.accuracy(trainer.predict(moons.val[0]), moons.val[1])
        params = sum(p.numel() for p in model.parameters())
        sweep.append({"hidden": hidden, "params": params, "trainer": trainer,
                      "history": history, "train_loss": on_train["loss"],
                      "val_loss": on_val["loss"], "train_acc": acc_train, "val_acc": acc_val,
                      "label": f"{hidden or ctx.t('linear', 'lineal')}\n{params:,} p"})
    val_losses = [s["val_loss"] for s in sweep]
    best = int(np.argmin(val_losses))
    smallest, largest = sweep[0], sweep[-1]
    ctx.table(ctx.t("hidden|parameters|train loss|val loss|train acc|val acc",
                    "ocultas|parámetros|pérdida entr.|pérdida val.|exactitud entr.|"
                    "exactitud val.").split("|"),
              [[str(s["hidden"]), s["params"], s["train_loss"], s["val_loss"], s["train_acc"],
                s["val_acc"]] for s in sweep],
              "Capacity sweep, after the same number of steps",
              "Barrido de capacidad, tras el mismo número de pasos")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    labels = [s["label"] for s in sweep]
    capacity_sweep(axes[0], labels, [s["train_loss"] for s in sweep], val_losses,
                   ylabel=ctx.t("cross-entropy", "entropía cruzada"), best=best, logy=True,
                   title=ctx.t("Loss: train keeps falling, validation turns up",
                               "Pérdida: entrenamiento sigue bajando, validación sube"),
                   train_label=ctx.t("train", "entrenamiento"),
                   val_label=ctx.t("validation", "validación"))
    capacity_sweep(axes[1], labels, [s["train_acc"] for s in sweep],
                   [s["val_acc"] for s in sweep], ylabel=ctx.t("accuracy", "exactitud"),
                   title=ctx.t("Accuracy: the gap opens", "Exactitud: la brecha se abre"),
                   train_label=ctx.t("train", "entrenamiento"),
                   val_label=ctx.t("validation", "validación"))
    fig.tight_layout()
    ctx.figure("capacity_sweep", fig,
               "Train vs validation as capacity grows (x: hidden layers and parameter count; "
               "star: lowest validation loss).",
               "Entrenamiento frente a validación al crecer la capacidad (x: capas ocultas y "
               "número de parámetros; estrella: menor pérdida de validación).")

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    for ax, s, name in ((axes[0], smallest, ctx.t("under-fit", "subajuste")),
                        (axes[1], sweep[best], ctx.t("good fit", "buen ajuste")),
                        (axes[2], largest, ctx.t("over-fit", "sobreajuste"))):
        def predict(grid, trainer=s["trainer"]):
            return metrics.predictions(trainer.predict(torch.as_tensor(grid, dtype=torch.float32)))

        decision_boundary(ax, predict, train[0].numpy(), train[1].numpy(),
                          ctx.t(f"{name}: {s['hidden'] or 'linear'} — train {s['train_acc']:.2f}"
                                f", val {s['val_acc']:.2f}",
                                f"{name}: {s['hidden'] or 'lineal'} — entr. {s['train_acc']:.2f}"
                                f", val {s['val_acc']:.2f}"))
    fig.tight_layout()
    ctx.figure("three_fits", fig,
               "The three regimes on the training points: a line that cannot bend, a smooth "
               "curve, and a boundary that detours around individual noisy points.",
               "Los tres regímenes sobre los puntos de entrenamiento: una recta que no puede "
               "curvarse, una curva suave y una frontera que se desvía para rodear puntos "
               "ruidosos concretos.")
    ctx.say("Reading the sweep: the linear model is wrong on training and validation alike "
            "(**under-fitting**: not enough capacity, more data will not help it). The largest "
            "model gets its training points right, noise included, and its validation loss is "
            "the worst of all (**over-fitting**: it has learned the noise, a detail of this "
            "sample that the next sample will not share). Accuracy moves less than loss: the "
            "over-fit model mostly keeps the right side of the boundary but becomes very "
            "confident, and a confident mistake costs a lot of cross-entropy.",
            "Cómo leer el barrido: el modelo lineal falla igual en entrenamiento que en "
            "validación (**subajuste**: le falta capacidad, y más datos no lo arreglan). El "
            "modelo más grande acierta sus puntos de entrenamiento, ruido incluido, y su "
            "pérdida de validación es la peor de todas (**sobreajuste**: ha aprendido el ruido, "
            "un detalle de esta muestra que la siguiente no compartirá). La exactitud se mueve "
            "menos que la pérdida: el modelo sobreajustado conserva casi siempre el lado "
            "correcto de la frontera pero se vuelve muy seguro, y un error seguro cuesta mucha "
            "entropía cruzada.")

    # === b. Time: the largest model, epoch by epoch ============================================
    history = largest["history"]
    epochs = history["epoch"]
    min_epoch, min_loss = history.best("val_loss")
    end_loss = history["val_loss"][-1]
    fig, ax = plt.subplots(figsize=(8, 4))
    curves(ax, {ctx.t("train loss", "pérdida de entrenamiento"): (epochs, history["loss"]),
                ctx.t("validation loss", "pérdida de validación"): (epochs, history["val_loss"])},
           title=ctx.t(f"{largest['hidden']}: validation loss turns up at epoch {min_epoch}",
                       f"{largest['hidden']}: la pérdida de validación sube desde la época "
                       f"{min_epoch}"),
           xlabel=ctx.t("epoch", "época"), logy=True)
    mark_minimum(ax, epochs, history["val_loss"],
                 ctx.t(f"min {min_loss:.3f} (epoch {min_epoch})",
                       f"mín. {min_loss:.3f} (época {min_epoch})"))
    ctx.figure("overfitting_curve", fig,
               "The largest model over time: the dashed line is where validation loss is lowest "
               "— where early stopping would keep the weights.",
               "El modelo más grande a lo largo del tiempo: la línea discontinua marca la menor "
               "pérdida de validación, donde la parada temprana guardaría los pesos.")
    ctx.say(f"**b. Time.** The same over-fitting, seen along training: validation loss is "
            f"lowest at epoch {min_epoch} ({min_loss:.3f}) and ends at {end_loss:.3f}, "
            f"{end_loss / min_loss:.1f}× higher, while training loss keeps falling to "
            f"{history['loss'][-1]:.4f}. Before the minimum, the model learns the shape shared by "
            "all moons; after it, the individual noisy points. This is why training is judged "
            "on validation, and why early stopping (`EarlyStopping`, restoring the best "
            "weights) is the cheapest regularizer.",
            f"**b. Tiempo.** El mismo sobreajuste, visto a lo largo del entrenamiento: la "
            f"pérdida de validación es mínima en la época {min_epoch} ({min_loss:.3f}) y acaba en "
            f"{end_loss:.3f}, {end_loss / min_loss:.1f}× más, mientras la de entrenamiento sigue "
            f"bajando hasta {history['loss'][-1]:.4f}. Antes del mínimo el modelo aprende la "
            "forma común a todas las lunas; después, los puntos ruidosos concretos. Por eso el "
            "entrenamiento se juzga en validación, y por eso la parada temprana "
            "(`EarlyStopping`, recuperando los mejores pesos) es el regularizador más barato.")

    # === c. Scale: the same network with raw and standardized inputs ===========================
    runs = {}
    for standardize in (False, True):
        data = load(cfg.scale_dataset, seed=ctx.seed, standardize=standardize)
        torch.manual_seed(ctx.seed)
        model = MLP(data.train[0].shape[1], [32], data.num_classes)
        h = trainer_for(model, cfg.scale_lr).fit(data.train, data.val, epochs=cfg.scale_epochs,
                                                 batch_size=32, seed=ctx.seed)
        reached = next((e for e, v in zip(h["epoch"], h["val_loss"])
                        if v <= cfg.scale_target_loss), None)
        runs[standardize] = {"data": data, "history": h, "reached": reached}
    raw, std = runs[False], runs[True]
    raw_X = raw["data"].train[0]
    names = raw["data"].info.get("feature_names", [str(i) for i in range(raw_X.shape[1])])
    # Honest ratio: a raw run that never reaches the target is charged the whole budget, so
    # the ratio is an upper bound on the true one (which would need a longer run to measure).
    raw_epochs = raw["reached"] or cfg.scale_epochs
    ratio = std["reached"] / raw_epochs if std["reached"] else float("nan")
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    axes[0].barh(range(len(names)), raw_X.std(dim=0).numpy(), color="tab:gray")
    axes[0].set_yticks(range(len(names)), names, fontsize=7)
    axes[0].set_xscale("log")
    axes[0].set_xlabel(ctx.t("std of the raw feature (log scale)",
                             "desviación de la variable sin escalar (escala log)"))
    axes[0].set_title(ctx.t("Raw wine features: over three orders of magnitude",
                            "Variables de wine sin escalar: más de tres órdenes de magnitud"))
    curves(axes[1], {ctx.t("raw inputs", "entradas sin escalar"): raw["history"]["val_loss"],
                     ctx.t("standardized", "estandarizadas"): std["history"]["val_loss"]},
           title=ctx.t("Same network, same optimizer", "Misma red, mismo optimizador"),
           xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("validation loss", "pérdida de validación"),
           logy=True, hlines={ctx.t(f"target {cfg.scale_target_loss}",
                                    f"objetivo {cfg.scale_target_loss}"): cfg.scale_target_loss})
    for run_, color in ((raw, "tab:blue"), (std, "tab:orange")):
        if run_["reached"]:
            axes[1].axvline(run_["reached"], color=color, linestyle=":", linewidth=1.2)
    fig.tight_layout()
    ctx.figure("standardization", fig,
               "Feature scales of the raw data, and validation loss with and without "
               "standardization (dotted: epoch where the target is reached).",
               "Escalas de las variables sin escalar, y pérdida de validación con y sin "
               "estandarizar (punteado: época en que se alcanza el objetivo).")
    never = ctx.t(f"never within {cfg.scale_epochs} epochs",
                  f"nunca en {cfg.scale_epochs} épocas")
    ctx.say(f"**c. Scale.** On {cfg.scale_dataset}, one feature (proline) is in the hundreds to "
            "thousands and another (hue) around 1. A step of the optimizer changes every weight "
            "by a similar amount (about the learning rate, with Adam), but a weight's effect on "
            "the first layer's sum is proportional to its input: the same step on the proline "
            "weight moves the sum a thousand times more than on the hue weight. One learning "
            "rate is then too large for the big features and too small for the small ones. "
            f"Target validation loss {cfg.scale_target_loss}: standardized inputs reach it at "
            f"epoch {std['reached'] or never}, raw inputs "
            f"{'at epoch ' + str(raw['reached']) if raw['reached'] else never}. (The training "
            "doctor's warning above flagged the raw inputs before the first step.) The "
            "statistics come from the training split only.",
            f"**c. Escala.** En {cfg.scale_dataset}, una variable (prolina) está entre cientos "
            "y miles y otra (tono) en torno a 1. Un paso del optimizador cambia cada peso en una "
            "cantidad parecida (del orden de la tasa de aprendizaje, con Adam), pero el efecto "
            "de un peso en la suma de la primera capa es proporcional a su entrada: el mismo "
            "paso en el peso de la prolina mueve la suma mil veces más que en el del tono. Una "
            "única tasa de aprendizaje resulta entonces demasiado grande para las variables "
            "grandes y demasiado pequeña para las pequeñas. "
            f"Pérdida de validación objetivo {cfg.scale_target_loss}: con entradas "
            f"estandarizadas se alcanza en la época {std['reached'] or never}, sin escalar "
            f"{'en la época ' + str(raw['reached']) if raw['reached'] else never}. (El aviso "
            "del doctor de entrenamiento, más arriba, señaló las entradas sin escalar antes del "
            "primer paso.) Las estadísticas salen solo de la partición de entrenamiento.")

    # === d. Balance: a rare class, plain vs weighted cross-entropy ============================
    imb = load("imbalanced", seed=ctx.seed)
    counts = torch.bincount(imb.train[1], minlength=2).float()
    balanced = len(imb.train[1]) / (2 * counts)  # "inverse frequency": each class weighs the same
    variants = {"plain": None, "sqrt": balanced.sqrt(), "balanced": balanced}
    trained = {}
    for name, weight in variants.items():
        torch.manual_seed(ctx.seed)
        model = MLP(imb.train[0].shape[1], cfg.imbalance_hidden, 2)
        trainer = trainer_for(model, cfg.imbalance_lr,
                              loss=torch.nn.CrossEntropyLoss(weight=weight))
        trainer.fit(imb.train, imb.val, epochs=cfg.imbalance_epochs, batch_size=64,
                    seed=ctx.seed)
        trained[name] = trainer
    # Choose the weighting on validation; the test split is read once per model, below.
    val_f1 = {name: metrics.macro_f1(t.predict(imb.val[0]), imb.val[1])
              for name, t in trained.items()}
    chosen = max(("sqrt", "balanced"), key=val_f1.get)
    scores = {}
    for name, trainer in trained.items():
        out = trainer.predict(imb.test[0])
        cm = metrics.confusion_matrix(out, imb.test[1], num_classes=2)
        scores[name] = {"accuracy": metrics.accuracy(out, imb.test[1]),
                        "macro_f1": metrics.macro_f1(out, imb.test[1]),
                        "recall": cm[1, 1] / cm[1].sum(), "cm": cm}
    ratio_full = float(balanced[1] / balanced[0])  # how much more a minority row weighs
    titles = {"plain": ctx.t("plain cross-entropy", "entropía cruzada normal"),
              "sqrt": ctx.t(f"weights √(inverse frequency): {ratio_full ** 0.5:.1f}:1",
                            f"pesos √(frecuencia inversa): {ratio_full ** 0.5:.1f}:1"),
              "balanced": ctx.t(f"weights inverse frequency: {ratio_full:.0f}:1",
                                f"pesos frecuencia inversa: {ratio_full:.0f}:1")}
    ctx.table(ctx.t("loss|val macro-F1|test accuracy|test macro-F1|minority recall",
                    "pérdida|macro-F1 val.|exactitud test|macro-F1 test|recall minoritaria")
              .split("|"),
              [[titles[n], val_f1[n], scores[n]["accuracy"], scores[n]["macro_f1"],
                scores[n]["recall"]] for n in variants],
              f"Imbalanced set: {int(counts[1])} minority vs {int(counts[0])} majority training "
              "rows (test split)",
              f"Conjunto desbalanceado: {int(counts[1])} filas minoritarias frente a "
              f"{int(counts[0])} mayoritarias de entrenamiento (partición de test)")
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, name in zip(axes, variants):
        s = scores[name]
        confusion_panel(ax, s["cm"], imb.classes,
                        f"{titles[name]}\n{ctx.t('acc', 'exactitud')} {s['accuracy']:.3f} · "
                        f"macro-F1 {s['macro_f1']:.3f}",
                        xlabel=ctx.t("predicted", "predicha"), ylabel=ctx.t("true", "real"))
    fig.tight_layout()
    ctx.figure("imbalance", fig,
               "Test confusion matrices (row percentages = recall of each class).",
               "Matrices de confusión en test (porcentajes por fila = recall de cada clase).")
    plain, weighted = scores["plain"], scores[chosen]
    ctx.say(f"**d. Balance.** With 5% minority, predicting 'majority' always would score 95% "
            f"accuracy. Plain training reaches {plain['accuracy']:.3f} accuracy but finds only "
            f"{plain['recall']:.0%} of the minority: its loss is an average over rows, and the "
            "rare rows barely move it. Weighting the loss per class makes each minority error "
            "cost more. Inverse-frequency weights (each class weighs the same in total) raise "
            f"minority recall to {scores['balanced']['recall']:.0%}, but now "
            f"{scores['balanced']['cm'][0, 1]} majority rows are flagged too "
            f"(plain: {plain['cm'][0, 1]}): recall is bought with precision. The square root of "
            "those weights is a milder correction. Chosen on validation macro-F1: "
            f"**{titles[chosen]}**, test macro-F1 {plain['macro_f1']:.3f} → "
            f"{weighted['macro_f1']:.3f}. "
            "The weights move the decision threshold; they do not add information. A larger "
            "network trained longer separates the rare class far better on its own (try "
            "`--set imbalance_hidden=[64,64] --set imbalance_epochs=60`); then weighting still "
            "raises minority recall but no longer improves macro-F1.",
            f"**d. Equilibrio de clases.** Con un 5% de minoría, predecir siempre "
            "'mayoritaria' daría un 95% de exactitud. El entrenamiento normal llega a "
            f"{plain['accuracy']:.3f} de exactitud pero solo encuentra el {plain['recall']:.0%} "
            "de la minoría: su pérdida es una media sobre filas y las filas raras apenas la "
            "mueven. Ponderar la pérdida por clase hace que cada error en la minoría cueste más. "
            "Los pesos de frecuencia inversa (cada clase pesa lo mismo en total) suben el recall "
            f"de la minoría al {scores['balanced']['recall']:.0%}, pero ahora también se marcan "
            f"{scores['balanced']['cm'][0, 1]} filas mayoritarias (normal: {plain['cm'][0, 1]}): "
            "el recall se paga con precisión. La raíz cuadrada de esos pesos es una corrección "
            f"más suave. Elegida por macro-F1 de validación: **{titles[chosen]}**, macro-F1 en "
            f"test {plain['macro_f1']:.3f} → {weighted['macro_f1']:.3f}. Los pesos mueven el "
            "umbral de decisión; no añaden información. Una red más grande entrenada más tiempo "
            "separa mucho mejor la clase rara por sí sola (prueba `--set "
            "imbalance_hidden=[64,64] --set imbalance_epochs=60`); entonces la ponderación aún "
            "sube el recall de la minoría pero ya no mejora el macro-F1.")

    return {
        "sweep_val_losses": val_losses,
        "sweep_best_hidden": str(sweep[best]["hidden"]),
        "sweep_best_is_interior": 0 < best < len(sweep) - 1,
        "underfit_train_accuracy": smallest["train_acc"],
        "underfit_val_loss_ratio": smallest["val_loss"] / val_losses[best],
        "overfit_train_accuracy": largest["train_acc"],
        "overfit_val_accuracy": largest["val_acc"],
        "overfit_val_loss_ratio": largest["val_loss"] / val_losses[best],
        "val_loss_min_epoch": min_epoch,
        "val_loss_min": min_loss,
        "val_loss_end": end_loss,
        "val_loss_end_over_min": end_loss / min_loss,
        "val_min_before_end": min_epoch < epochs[-1],
        "standardized_epochs_to_target": std["reached"],
        "raw_epochs_to_target": raw["reached"],
        "raw_reached_target": raw["reached"] is not None,
        "standardization_epoch_ratio": ratio,
        "plain_accuracy": plain["accuracy"],
        "plain_macro_f1": plain["macro_f1"],
        "plain_minority_recall": float(plain["recall"]),
        "weighting_chosen": chosen,
        "weighted_macro_f1": weighted["macro_f1"],
        "weighted_minority_recall": float(weighted["recall"]),
        "balanced_macro_f1": scores["balanced"]["macro_f1"],
        "sqrt_macro_f1": scores["sqrt"]["macro_f1"],
        "macro_f1_gain": weighted["macro_f1"] - plain["macro_f1"],
        "minority_recall_gain": float(scores["balanced"]["recall"] - plain["recall"]),
    }
