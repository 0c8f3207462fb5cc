"""regularization — force overfitting, then fight it with L2, dropout and early stopping.

Course: Stage 2, session 8 (regularization and generalization in code). A wide MLP on only
1,000 Fashion-MNIST images memorizes its training set. The same network, from the same
initial weights, is retrained with L2 (weight_decay), dropout, early stopping, and all three
together. The variant with the best validation accuracy is chosen, compared with the
baseline, and only then scored once on the test set.
"""
from __future__ import annotations

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
    dataset="fashion_mnist (seeded 1,000-image training subset, 5,000 validation images, "
            "official 10k test)",
    summary_en="A wide MLP trained for a long time on 1,000 images learns them by heart: "
               "near-perfect training accuracy, a large gap to validation. L2, dropout and "
               "early stopping are applied alone and together to the same network from the "
               "same start; the best one on validation shrinks the gap without losing "
               "validation accuracy, and is then scored once on the test set.",
    summary_es="Un MLP ancho entrenado mucho tiempo con 1,000 imágenes se las aprende de "
               "memoria: exactitud de entrenamiento casi perfecta y una gran brecha con "
               "validación. L2, dropout y parada temprana se aplican por separado y juntos a la "
               "misma red desde el mismo punto de partida; la mejor en validación reduce la "
               "brecha sin perder exactitud de validación y después se evalúa una vez en test.",
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


def run(ctx, cfg: Config) -> dict:
    import matplotlib.pyplot as plt
    import torch

    from dlab.data import load
    from dlab.engine import EarlyStopping, Trainer
    from dlab.models import MLP
    from dlab.viz.compare import curves, grouped_bars

    data = load("fashion_mnist", seed=ctx.seed)
    g = torch.Generator().manual_seed(ctx.seed)
    pick = torch.randperm(len(data.train[1]), generator=g)[:cfg.train_subset]
    train = (data.train[0][pick], data.train[1][pick])
    pick = torch.randperm(len(data.val[1]), generator=g)[:cfg.val_subset]
    val = (data.val[0][pick], data.val[1][pick])
    n_params = sum(p.numel() for p in MLP(784, cfg.hidden, 10).parameters())
    ctx.say(f"Overfitting on purpose: {len(train[1]):,} training images for an MLP {cfg.hidden} "
            f"with {n_params:,} parameters (~{n_params // len(train[1])} per image), Adam "
            f"lr={cfg.lr}, up to {cfg.epochs} epochs. {len(val[1]):,} validation images choose "
            f"the winner; the {len(data.test[1]):,} test images are used once, at the very end.",
            f"Sobreajuste a propósito: {len(train[1]):,} imágenes de entrenamiento para un MLP "
            f"{cfg.hidden} con {n_params:,} parámetros (~{n_params // len(train[1])} por "
            f"imagen), Adam lr={cfg.lr}, hasta {cfg.epochs} épocas. {len(val[1]):,} imágenes "
            f"de validación eligen al ganador; las {len(data.test[1]):,} de test se usan una "
            "sola vez, al final.")

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
    for name, (weight_decay, dropout, early_stop) in variants.items():
        # Same seed before every build: Dropout has no weights, so all variants start from
        # identical Linear layers and differences come from the regularizer alone.
        torch.manual_seed(ctx.seed)
        model = MLP(784, cfg.hidden, 10, dropout=dropout)
        # Adam's weight_decay adds weight_decay * w to every gradient: the gradient of an
        # L2 penalty (weight_decay / 2) * ||w||^2 on the loss. fused=True: same maths, one
        # kernel for all parameters (Adam's bookkeeping was ~1/4 of this lab's time on CPU).
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=weight_decay,
                                     fused=True)
        callbacks = [EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                   restore_best_weights=True)] if early_stop else []
        trainer = Trainer(model, optimizer, metrics=["accuracy"], callbacks=callbacks,
                          progress=False, **ctx.trainer_options())
        history = trainer.fit(train, val, epochs=cfg.epochs, batch_size=cfg.batch_size,
                              seed=ctx.seed)
        # Train accuracy in eval mode (dropout off), on the same footing as validation.
        train_acc = trainer.evaluate(train)["accuracy"]
        val_eval = trainer.evaluate(val)
        kept_epoch = history.best("val_loss")[0] if early_stop else len(history)
        results[name] = {
            "train_accuracy": train_acc, "val_accuracy": val_eval["accuracy"],
            "gap": train_acc - val_eval["accuracy"], "val_loss": val_eval["loss"],
            "epochs_run": len(history), "kept_epoch": kept_epoch,
            "weight_norm": float(torch.cat([m.weight.detach().flatten() for m in model
                                            if isinstance(m, torch.nn.Linear)]).norm()),
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
    chosen = max((n for n in variants if n != "baseline"),
                 key=lambda n: results[n]["val_accuracy"])
    best = results[chosen]

    ctx.table(ctx.t("variant|epochs (kept)|train acc|val acc|gap|val loss|‖W‖",
                    "variante|épocas (guardada)|exact. entren.|exact. val.|brecha|pérdida val.|‖W‖"
                    ).split("|"),
              [[("★ " if n == chosen else "") + shown[n], f"{r['epochs_run']} ({r['kept_epoch']})",
                r["train_accuracy"], r["val_accuracy"], r["gap"], r["val_loss"],
                r["weight_norm"]] for n, r in results.items()],
              "Train vs validation (★ = best validation accuracy among the regularized)",
              "Entrenamiento vs validación (★ = mejor exactitud de validación entre los "
              "regularizados)")

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
    ctx.figure("accuracy", fig,
               "The distance between the two bars of a variant is its generalization gap.",
               "La distancia entre las dos barras de una variante es su brecha de generalización.")

    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(12, 4.2))
    curves(ax_loss, {shown[n]: results[n]["val_loss_curve"] for n in names},
           title=ctx.t("Validation loss", "Pérdida de validación"),
           xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy")
    curves(ax_acc, {shown[n]: results[n]["val_acc_curve"] for n in names},
           title=ctx.t("Validation accuracy", "Exactitud de validación"),
           xlabel=ctx.t("epoch", "época"), ylabel=ctx.t("accuracy", "exactitud"))
    fig.tight_layout()
    ctx.figure("validation_curves", fig,
               "The baseline's validation loss turns up after a few epochs while its accuracy "
               "flattens: it has started to memorize. Early-stopped runs end where they stopped.",
               "La pérdida de validación del modelo base vuelve a subir tras unas pocas épocas "
               "mientras su exactitud se estanca: ha empezado a memorizar. Las ejecuciones con "
               "parada temprana terminan donde se detuvieron.")

    ctx.say("How each one works. **L2** adds λ‖w‖² to the loss, so every step also pulls each "
            "weight towards zero: large weights, which let the network fit single examples "
            "sharply, have to earn their size (see ‖W‖ in the table). With Adam the pull is "
            "divided by the adaptive step size, which weakens it; AdamW applies it separately "
            "for that reason. **Dropout** zeroes a random half of the hidden units at every "
            "training step, so no unit can depend on one specific partner; at evaluation all "
            "units are on (PyTorch scales them during training so the sums match). **Early "
            "stopping** watches validation loss, stops after it fails to improve for "
            f"{cfg.patience} epochs and restores the best epoch's weights. Note that "
            "validation loss usually bottoms out before validation accuracy does: the model "
            "keeps getting more examples right while becoming over-confident on the ones it "
            "gets wrong.",
            "Cómo funciona cada una. **L2** suma λ‖w‖² a la pérdida, así que cada paso también "
            "empuja cada peso hacia cero: los pesos grandes, que permiten ajustar ejemplos "
            "sueltos con precisión, tienen que ganarse su tamaño (ver ‖W‖ en la tabla). Con "
            "Adam ese empuje queda dividido por el paso adaptativo, lo que lo debilita; AdamW "
            "lo aplica por separado por ese motivo. **Dropout** pone a cero una mitad aleatoria "
            "de las neuronas ocultas en cada paso de entrenamiento, así ninguna puede depender "
            "de una compañera concreta; al evaluar están todas activas (PyTorch las reescala "
            "durante el entrenamiento para que las sumas coincidan). **La parada temprana** "
            f"vigila la pérdida de validación, se detiene tras {cfg.patience} épocas sin mejora "
            "y recupera los pesos de la mejor época. La pérdida de validación suele tocar fondo "
            "antes que la exactitud: el modelo sigue acertando más ejemplos mientras se vuelve "
            "demasiado seguro en los que falla.")

    # The test split, once, for the chosen model only.
    test_acc = models[chosen].evaluate(data.test)["accuracy"]
    ctx.say(f"Chosen on validation: **{shown[chosen]}** — validation accuracy "
            f"{best['val_accuracy']:.3f} vs {base['val_accuracy']:.3f} for the baseline, gap "
            f"{best['gap']:.3f} vs {base['gap']:.3f}. Its test accuracy, measured once: "
            f"**{test_acc:.3f}**.",
            f"Elegido en validación: **{shown[chosen]}** — exactitud de validación "
            f"{best['val_accuracy']:.3f} frente a {base['val_accuracy']:.3f} del modelo base, "
            f"brecha {best['gap']:.3f} frente a {base['gap']:.3f}. Su exactitud en test, medida "
            f"una sola vez: **{test_acc:.3f}**.")

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
    return metrics
