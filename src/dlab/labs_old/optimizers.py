"""optimizers — SGD, Momentum, RMSProp and Adam race on the same model; then three weight inits.

Course: Stage 2, session 7 (optimization deep dive). Part 1 trains one MLP on a 10k-image
subset of Fashion-MNIST four times, from the very same initial weights and batch order,
changing only the optimizer; the yardstick is "how many epochs to reach the loss plain SGD
ends with". Part 2 trains a 5-hidden-layer ReLU MLP from three initializations (PyTorch's
default, N(0, 0.001²), He) with the same optimizer, and shows why the tiny one never starts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
INITS = ("default", "normal", "kaiming")


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
    dataset="fashion_mnist (seeded 10k-image training subset)",
    summary_en="The same MLP, the same starting weights, the same batches: only the optimizer "
               "changes. Momentum and the adaptive methods (RMSProp, Adam) reach plain SGD's "
               "final loss in a fraction of the epochs. Then a deep ReLU network is trained from "
               "three initializations: too-small weights leave it stuck at chance level, He "
               "initialization trains fastest.",
    summary_es="El mismo MLP, los mismos pesos iniciales, los mismos lotes: solo cambia el "
               "optimizador. Momentum y los métodos adaptativos (RMSProp, Adam) alcanzan la "
               "pérdida final de SGD puro en una fracción de las épocas. Después se entrena una "
               "red ReLU profunda con tres inicializaciones: con pesos demasiado pequeños se "
               "queda en el nivel del azar; con la de He es la que más rápido aprende.",
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


def epochs_to_reach(losses: list[float], target: float) -> int | None:
    """First epoch (1-based) whose train loss is at or below ``target``; None if never."""
    return next((i + 1 for i, v in enumerate(losses) if v <= target), None)


def run(ctx, cfg: Config) -> dict:
    import copy

    import matplotlib.pyplot as plt
    import torch

    from dlab.data import load
    from dlab.engine import Trainer
    from dlab.engine.recorder import LossRecorder
    from dlab.models import MLP
    from dlab.models.init import activation_stds, init_weights
    from dlab.viz.compare import curves, grouped_bars, smooth

    data = load("fashion_mnist", seed=ctx.seed)
    # A seeded subset keeps each run under a minute; 10k images is plenty to rank optimizers.
    pick = torch.randperm(len(data.train[1]),
                          generator=torch.Generator().manual_seed(ctx.seed))[:cfg.train_subset]
    train = (data.train[0][pick], data.train[1][pick])
    steps = math.ceil(len(pick) / cfg.batch_size)
    ctx.say(f"{len(pick):,} Fashion-MNIST training images (pixels ÷ 255), batches of "
            f"{cfg.batch_size}: {steps} steps per epoch, {cfg.epochs} epochs per optimizer.",
            f"{len(pick):,} imágenes de entrenamiento de Fashion-MNIST (píxeles ÷ 255), lotes "
            f"de {cfg.batch_size}: {steps} pasos por época, {cfg.epochs} épocas por optimizador.")

    def train_once(model, optimizer, epochs):
        # progress=False: seven short runs; one summary line each reads better than 70 bars.
        recorder = LossRecorder()
        trainer = Trainer(model, optimizer, callbacks=[recorder], progress=False,
                          **ctx.trainer_options())
        history = trainer.fit(train, epochs=epochs, batch_size=cfg.batch_size, seed=ctx.seed)
        return history["loss"], recorder

    # ---------------------------------------------------------------- part 1: optimizers
    # One set of initial weights, copied into every run: any difference is the optimizer's.
    start = copy.deepcopy(MLP(784, cfg.hidden, 10).state_dict())
    make = {
        "sgd": lambda p: torch.optim.SGD(p, lr=cfg.sgd_lr),
        "momentum": lambda p: torch.optim.SGD(p, lr=cfg.sgd_lr, momentum=cfg.momentum),
        "rmsprop": lambda p: torch.optim.RMSprop(p, lr=cfg.adaptive_lr),
        "adam": lambda p: torch.optim.Adam(p, lr=cfg.adaptive_lr),
    }
    labels = {"sgd": "SGD", "momentum": f"SGD + momentum {cfg.momentum}",
              "rmsprop": "RMSProp", "adam": "Adam"}
    lrs = {"sgd": cfg.sgd_lr, "momentum": cfg.sgd_lr, "rmsprop": cfg.adaptive_lr,
           "adam": cfg.adaptive_lr}
    losses, recorders = {}, {}
    for name in OPTIMIZERS:
        model = MLP(784, cfg.hidden, 10)
        model.load_state_dict(start)
        losses[name], recorders[name] = train_once(model, make[name](model.parameters()),
                                                   cfg.epochs)
        ctx.console.print(f"{labels[name]:>20}: " + ctx.t("final train loss",
                                                         "pérdida final de entrenamiento")
                          + f" {losses[name][-1]:.4f}")

    # The yardstick: the loss plain SGD ends with. How many epochs does each method need for it?
    target = losses["sgd"][-1]
    reach = {name: epochs_to_reach(losses[name], target) for name in OPTIMIZERS}
    speedup = {name: (reach["sgd"] / reach[name] if reach[name] else None) for name in OPTIMIZERS}

    fig, (ax_curve, ax_bar) = plt.subplots(1, 2, figsize=(12, 4.2),
                                           gridspec_kw={"width_ratios": [2, 1]})
    window = max(steps // 10, 1)
    curves(ax_curve, {labels[n]: (recorders[n].epochs(), smooth(recorders[n].losses, window))
                      for n in OPTIMIZERS},
           title=ctx.t("Training loss per step (moving average)",
                       "Pérdida de entrenamiento por paso (media móvil)"),
           xlabel=ctx.t("epoch", "época"), ylabel="cross-entropy", logy=True,
           hlines={ctx.t("SGD's final loss", "pérdida final de SGD"): target})
    shown = [reach[n] or 0 for n in OPTIMIZERS]
    grouped_bars(ax_bar, [labels[n].replace(" + ", "\n+ ") for n in OPTIMIZERS],
                 {"": shown}, fmt="{:d}",
                 title=ctx.t("Epochs to reach SGD's final loss",
                             "Épocas hasta la pérdida final de SGD"),
                 ylabel=ctx.t("epochs", "épocas"))
    fig.tight_layout()
    ctx.figure("optimizers", fig,
               "Same model, same start, same batches; only the optimizer differs. The dashed line "
               "is where plain SGD ends after all its epochs.",
               "Mismo modelo, mismo punto de partida, mismos lotes; solo cambia el optimizador. "
               "La línea discontinua es donde termina SGD puro tras todas sus épocas.")
    ctx.table(ctx.t("optimizer|lr|final loss|epochs to SGD's final|speed-up",
                    "optimizador|lr|pérdida final|épocas hasta la final de SGD|aceleración"
                    ).split("|"),
              [[labels[n], lrs[n], losses[n][-1], reach[n] if reach[n] else ctx.t("never", "nunca"),
                f"{speedup[n]:.1f}×" if speedup[n] else "—"] for n in OPTIMIZERS],
              "Optimizers (train loss, mean over each epoch's batches)",
              "Optimizadores (pérdida de entrenamiento, media de los lotes de cada época)")
    ctx.say("Why: plain SGD steps along the current mini-batch gradient only, so in a narrow "
            "valley it zigzags across the walls and crawls along the floor. Momentum keeps a "
            "running sum of past gradients: the zigzag cancels out and the consistent downhill "
            "direction builds up speed (with 0.9, up to ~10× the step). RMSProp divides each "
            "parameter's step by the recent size of its own gradient, so flat and steep "
            "directions both move at a sensible pace. Adam does both (momentum on the "
            "gradient, RMSProp-style scaling) and corrects the bias of the first steps, which "
            "is why lr=1e-3 works out of the box on most problems.",
            "Por qué: SGD puro avanza solo según el gradiente del mini-lote actual; en un valle "
            "estrecho zigzaguea entre las paredes y apenas avanza por el fondo. Momentum acumula "
            "los gradientes pasados: el zigzag se cancela y la dirección de bajada constante "
            "gana velocidad (con 0.9, hasta ~10 veces el paso). RMSProp divide el paso de cada "
            "parámetro por el tamaño reciente de su propio gradiente, así las direcciones planas "
            "y las empinadas avanzan a un ritmo razonable. Adam hace ambas cosas (momentum sobre "
            "el gradiente y escalado al estilo RMSProp) y corrige el sesgo de los primeros "
            "pasos; por eso lr=1e-3 funciona de entrada en la mayoría de problemas.")

    # ---------------------------------------------------------------- part 2: initialization
    depth = len(cfg.deep_hidden)
    ctx.say(f"Part 2: a deeper MLP ({depth} hidden ReLU layers of {cfg.deep_hidden[0]}), trained "
            f"with SGD + momentum (lr {cfg.init_lr}) from three initializations. SGD is used "
            "here because Adam rescales every gradient by its own size, which would partly hide "
            "how small the gradients are.",
            f"Parte 2: un MLP más profundo ({depth} capas ocultas ReLU de {cfg.deep_hidden[0]}), "
            f"entrenado con SGD + momentum (lr {cfg.init_lr}) desde tres inicializaciones. Se usa "
            "SGD porque Adam reescala cada gradiente por su propio tamaño, lo que ocultaría en "
            "parte lo pequeños que son los gradientes.")
    init_labels = {"default": ctx.t("PyTorch default", "PyTorch por defecto"),
                   "normal": f"N(0, {cfg.tiny_std:g}²)", "kaiming": "He (Kaiming)"}
    probe = train[0][:1000]
    stds, init_losses, init_recorders = {}, {}, {}
    for scheme in INITS:
        torch.manual_seed(ctx.seed)  # the default-init draw is the same in every run
        model = init_weights(MLP(784, cfg.deep_hidden, 10), scheme, std=cfg.tiny_std)
        stds[scheme] = activation_stds(model, probe)
        optimizer = torch.optim.SGD(model.parameters(), lr=cfg.init_lr, momentum=cfg.momentum)
        init_losses[scheme], init_recorders[scheme] = train_once(model, optimizer,
                                                                 cfg.init_epochs)
        ctx.console.print(f"{init_labels[scheme]:>20}: " + ctx.t("final train loss",
                                                                "pérdida final de entrenamiento")
                          + f" {init_losses[scheme][-1]:.4f}")

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
    ctx.figure("initialization", fig,
               "Left: how much signal survives each layer before any training. Right: what that "
               "does to training.",
               "Izquierda: cuánta señal sobrevive a cada capa antes de entrenar. Derecha: qué "
               "efecto tiene en el entrenamiento.")
    ctx.table(ctx.t(f"init|std after layer 1|std after layer {depth}|final loss",
                    f"inicialización|std tras la capa 1|std tras la capa {depth}|pérdida final"
                    ).split("|"),
              [[init_labels[s], stds[s][0], stds[s][-1], init_losses[s][-1]] for s in INITS],
              "Initialization (deep MLP, SGD + momentum)",
              "Inicialización (MLP profundo, SGD + momentum)")
    ctx.say("Why: each layer multiplies the variance of its input by fan_in × Var(w), and ReLU "
            "halves it. With weights of std 0.001 that factor is ~1e-4 per layer, so after a few "
            "layers the signal, and with it every gradient, is essentially zero: the network "
            "outputs the same logits for every image and the loss stays at ln 10 ≈ 2.303, the "
            "loss of a uniform guess. He initialization picks Var(w) = 2 / fan_in, exactly "
            "compensating ReLU, so the signal keeps its scale at any depth. PyTorch's default "
            "weights are smaller (Var(w) = 1 / (3·fan_in): ~6× less variance per layer); its "
            "random biases keep some signal alive, so it does train, but only after a plateau "
            "near chance level.",
            "Por qué: cada capa multiplica la varianza de su entrada por fan_in × Var(w), y ReLU "
            "la reduce a la mitad. Con pesos de desviación 0.001 ese factor es ~1e-4 por capa: "
            "tras unas pocas capas la señal, y con ella todos los gradientes, es prácticamente "
            "cero; la red da los mismos logits para todas las imágenes y la pérdida se queda en "
            "ln 10 ≈ 2.303, la de adivinar al azar. La inicialización de He elige "
            "Var(w) = 2 / fan_in, que compensa exactamente a ReLU, y la señal conserva su escala "
            "a cualquier profundidad. Los pesos por defecto de PyTorch son más pequeños "
            "(Var(w) = 1 / (3·fan_in): ~6 veces menos varianza por capa); sus sesgos aleatorios "
            "mantienen algo de señal, así que sí entrena, pero tras una meseta cerca del azar.")

    metrics = {"sgd_target_loss": target}
    for name in OPTIMIZERS:
        metrics[f"{name}_final_loss"] = losses[name][-1]
        metrics[f"{name}_epochs_to_sgd_loss"] = reach[name]
        metrics[f"{name}_speedup"] = speedup[name]
    names = {"default": "default", "normal": "tiny", "kaiming": "he"}
    for scheme in INITS:
        metrics[f"init_{names[scheme]}_final_loss"] = init_losses[scheme][-1]
        metrics[f"init_{names[scheme]}_last_layer_std"] = stds[scheme][-1]
    he = init_losses["kaiming"][-1]
    metrics["tiny_to_he_loss_ratio"] = init_losses["normal"][-1] / he
    metrics["default_to_he_loss_ratio"] = init_losses["default"][-1] / he
    return metrics
