"""scratch-net — a two-layer network with bare tensors: no nn.Module, no torch.optim.

Course: Stage 2, session 3 (building a neural network from scratch). The parameters W1, b1,
W2, b2 are plain tensors; the forward pass is matrix algebra; autograd gives the gradients;
the SGD update and the zeroing of gradients are written by hand (``dlab.models.scratch_mlp``).
Then the learning-rate question: too small crawls, too large blows up to NaN, and the dlab
training doctor recognises the blow-up.
"""
from __future__ import annotations

from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n_samples: int = 1000
    noise: float = 0.2
    hidden: int = 16
    epochs: int = 50
    batch_size: int = 32
    lr: float = 0.3  # good
    lr_small: float = 0.01
    lr_large: float = 100.0

    def check(self):
        positive(n_samples=self.n_samples, hidden=self.hidden, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, lr_small=self.lr_small,
                 lr_large=self.lr_large)


LAB = Lab(
    id="scratch-net",
    title_en="A neural network from scratch (no nn.Module)",
    title_es="Una red neuronal desde cero (sin nn.Module)",
    source="Stage 2 · session 3",
    dataset="moons (sklearn make_moons, noise=0.2, random_state=42)",
    summary_en="Two layers written as X @ W1 + b1 → ReLU → @ W2 + b2, trained with cross-entropy, "
               ".backward() and a hand-written SGD step. Then three learning rates: one too small "
               "(slow), one good, one too large (the loss explodes to NaN and the training "
               "doctor says why).",
    summary_es="Dos capas escritas como X @ W1 + b1 → ReLU → @ W2 + b2, entrenadas con entropía "
               "cruzada, .backward() y un paso de SGD escrito a mano. Luego tres tasas de "
               "aprendizaje: una demasiado pequeña (lenta), una buena y una demasiado grande (la "
               "pérdida explota a NaN y el doctor de entrenamiento explica por qué).",
    criteria=(
        Criterion("test_accuracy", ">=", 0.95,
                  "Scratch network, good learning rate: test accuracy ≥ 0.95",
                  "Red desde cero, tasa de aprendizaje buena: exactitud en test ≥ 0.95"),
        Criterion("small_lr_loss_ratio", ">=", 2.0,
                  "Too-small learning rate: training loss ≥ 2× the good one's after the same "
                  "epochs",
                  "Tasa demasiado pequeña: pérdida de entrenamiento ≥ 2× la de la buena tras las "
                  "mismas épocas"),
        Criterion("large_lr_diverged", "is", True,
                  "Too-large learning rate: the loss becomes NaN or infinite",
                  "Tasa demasiado grande: la pérdida se vuelve NaN o infinita"),
        Criterion("doctor_caught_divergence", "is", True,
                  "The training doctor stops the too-large run with an explanation",
                  "El doctor de entrenamiento detiene la ejecución con la tasa demasiado grande "
                  "y explica por qué"),
    ),
    config=Config,
    quick={"n_samples": 300, "epochs": 3},
)


def run(ctx, cfg: Config) -> dict:
    import math

    import matplotlib.pyplot as plt
    import numpy as np
    import torch
    import torch.nn.functional as F

    from dlab.data import load
    from dlab.engine import Trainer
    from dlab.errors import TrainingError
    from dlab.models import scratch_mlp
    from dlab.models.two_layer import TwoLayerNet
    from dlab.viz import decision_boundary

    data = load("moons", n_samples=cfg.n_samples, noise=cfg.noise, seed=ctx.seed)
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = data.train, data.val, data.test

    # --- 1. The network is four tensors ----------------------------------------------------
    params = scratch_mlp.init_params(2, cfg.hidden, 2, seed=ctx.seed)
    ctx.table([ctx.t("tensor", "tensor"), ctx.t("shape", "forma"), ctx.t("role", "papel")],
              [["W1", str(tuple(params["W1"].shape)), ctx.t("input → hidden weights",
                                                           "pesos entrada → oculta")],
               ["b1", str(tuple(params["b1"].shape)), ctx.t("one bias per hidden unit",
                                                           "un sesgo por unidad oculta")],
               ["W2", str(tuple(params["W2"].shape)), ctx.t("hidden → output weights",
                                                           "pesos oculta → salida")],
               ["b2", str(tuple(params["b2"].shape)), ctx.t("one bias per class",
                                                           "un sesgo por clase")]],
              "The whole model: leaf tensors with requires_grad=True",
              "El modelo completo: tensores hoja con requires_grad=True")
    ctx.say(f"A mini-batch X of shape ({cfg.batch_size}, 2) becomes X @ W1 + b1 of shape "
            f"({cfg.batch_size}, {cfg.hidden}) (b1 is added to every row), ReLU keeps the shape, "
            f"and @ W2 + b2 gives ({cfg.batch_size}, 2) logits, one score per class. The "
            "cross-entropy turns them into one number; `.backward()` fills W1.grad ... b2.grad; "
            "the update θ ← θ - lr·grad runs inside `torch.no_grad()` so it is not recorded as "
            "part of the model, and the gradients are cleared before the next backward, because "
            "backward adds to them.",
            f"Un mini-lote X de forma ({cfg.batch_size}, 2) pasa a X @ W1 + b1 de forma "
            f"({cfg.batch_size}, {cfg.hidden}) (b1 se suma a cada fila), la ReLU conserva la "
            f"forma y @ W2 + b2 da logits de forma ({cfg.batch_size}, 2), un puntaje por clase. "
            "La entropía cruzada los resume en un número; `.backward()` llena W1.grad ... "
            "b2.grad; la actualización θ ← θ - lr·grad se hace dentro de `torch.no_grad()` para "
            "que no quede registrada como parte del modelo, y los gradientes se borran antes del "
            "siguiente backward, porque backward los suma.")

    # --- 2. Three learning rates, same start, same batches ---------------------------------
    lrs = {"small": cfg.lr_small, "good": cfg.lr, "large": cfg.lr_large}
    runs = {}
    for name, lr in lrs.items():
        p = scratch_mlp.init_params(2, cfg.hidden, 2, seed=ctx.seed)
        step_losses = scratch_mlp.train_scratch(p, X_train, y_train, lr=lr, epochs=cfg.epochs,
                                                batch_size=cfg.batch_size, seed=ctx.seed)
        with torch.no_grad():
            train_loss = F.cross_entropy(scratch_mlp.forward(p, X_train), y_train).item()
        val_acc = (scratch_mlp.predict(p, X_val) == y_val).float().mean().item()
        runs[name] = {"params": p, "steps": step_losses, "train_loss": train_loss,
                      "val_accuracy": val_acc}
    ctx.table(["lr", ctx.t("steps run", "pasos ejecutados"),
               ctx.t("training loss", "pérdida de entrenamiento"),
               ctx.t("validation accuracy", "exactitud en validación")],
              [[lrs[n], len(r["steps"]), r["train_loss"], r["val_accuracy"]]
               for n, r in runs.items()],
              f"After {cfg.epochs} epochs of mini-batch SGD (batch {cfg.batch_size})",
              f"Tras {cfg.epochs} épocas de SGD con mini-lotes (lote de {cfg.batch_size})")

    large = runs["large"]["steps"]
    diverged = not math.isfinite(large[-1])
    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    window = math.ceil(len(X_train) / cfg.batch_size)  # steps in one epoch
    for name, color in (("small", "tab:blue"), ("good", "tab:green"), ("large", "tab:red")):
        losses = np.array(runs[name]["steps"])
        steps = np.arange(1, len(losses) + 1)
        if len(losses) >= window and np.isfinite(losses).all():
            # One mini-batch per step makes the raw curve noisy: overlay a one-epoch mean.
            axes[0].plot(steps, losses, color=color, linewidth=0.6, alpha=0.3)
            smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
            axes[0].plot(steps[window - 1:], smooth, color=color, label=f"lr = {lrs[name]:g}")
        else:
            axes[0].plot(steps, losses, color=color, label=f"lr = {lrs[name]:g}")
    axes[0].set_yscale("log")
    axes[0].set_ylim(0.005, 10)  # the large-lr curve leaves the frame upwards: see the right panel
    axes[0].set_title(ctx.t("training loss per step (line: one-epoch mean)",
                            "pérdida de entrenamiento por paso (línea: media de una época)"))
    axes[1].semilogy(np.arange(1, len(large) + 1), large, "o-", color="tab:red", markersize=3,
                     label=f"lr = {cfg.lr_large:g}")
    if diverged:
        axes[1].axvline(len(large), color="k", linestyle="--", linewidth=1)
        axes[1].text(len(large), 1.0, f" {large[-1]} ", ha="right", va="bottom")
    axes[1].set_title(ctx.t(f"lr = {cfg.lr_large:g}: first {len(large)} steps",
                            f"lr = {cfg.lr_large:g}: primeros {len(large)} pasos"))
    for ax in axes:
        ax.set_xlabel(ctx.t("SGD step", "paso de SGD"))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    ctx.figure("lr_loss_curves", fig,
               f"Left: lr {cfg.lr_small:g} creeps down, lr {cfg.lr:g} drops fast and flattens "
               f"(log scale). Right: with lr {cfg.lr_large:g} every step overshoots so far that "
               "the loss grows by orders of magnitude per step until it overflows to NaN.",
               f"Izquierda: con lr {cfg.lr_small:g} la pérdida baja despacio, con lr {cfg.lr:g} "
               f"cae rápido y se aplana (escala logarítmica). Derecha: con lr {cfg.lr_large:g} "
               "cada paso se pasa tanto de largo que la pérdida crece órdenes de magnitud por paso "
               "hasta desbordarse a NaN.")
    ctx.say("Why: SGD moves each weight by lr × slope. A tiny lr takes tiny steps, so after the "
            "same number of epochs the network is still far from a good solution. A huge lr "
            "jumps past the valley to a place where the slope is steeper, so the next jump is "
            "even larger: the weights grow without bound until float32 overflows (about 3.4e38) "
            "and inf - inf gives NaN.",
            "Por qué: SGD mueve cada peso lr × pendiente. Con un lr diminuto los pasos son "
            "diminutos y tras las mismas épocas la red sigue lejos de una buena solución. Con un "
            "lr enorme el paso salta por encima del valle a un lugar con más pendiente, y el "
            "salto siguiente es todavía mayor: los pesos crecen sin límite hasta desbordar "
            "float32 (unos 3.4e38) e inf - inf da NaN.")

    # --- 3. The same mistake under the dlab Trainer: the doctor catches it -----------------
    # TwoLayerNet is this very network as an nn.Module (next lab); same weights, same batches,
    # so the Trainer walks the same path to NaN and its doctor stops it at the first bad step.
    model = TwoLayerNet(2, cfg.hidden, 2).load_scratch(
        scratch_mlp.init_params(2, cfg.hidden, 2, seed=ctx.seed))
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=cfg.lr_large),
                      **ctx.trainer_options())
    try:
        trainer.fit((X_train, y_train), epochs=cfg.epochs, batch_size=cfg.batch_size,
                    seed=ctx.seed)
        doctor_caught, doctor_step = False, None
        ctx.say("The Trainer finished without complaint: this lr did not blow up here.",
                "El Trainer terminó sin quejarse: este lr no explotó aquí.")
    except TrainingError as err:
        doctor_caught, doctor_step = True, trainer.global_step + 1
        ctx.say(f"The dlab Trainer with lr {cfg.lr_large:g} stopped at step {doctor_step} (our "
                f"loop saw the first non-finite loss at step {len(large)}). Its doctor said:\n\n"
                f"> {err}",
                f"El Trainer de dlab con lr {cfg.lr_large:g} se detuvo en el paso {doctor_step} "
                f"(nuestro bucle vio la primera pérdida no finita en el paso {len(large)}). Su "
                f"doctor dijo:\n\n> {err}")

    # --- 4. The good network on the test split (used once, here) ---------------------------
    good = runs["good"]["params"]
    test_acc = (scratch_mlp.predict(good, X_test) == y_test).float().mean().item()

    def predict_grid(grid):
        return scratch_mlp.predict(good, torch.as_tensor(grid, dtype=torch.float32)).numpy()

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    decision_boundary(ax, predict_grid, X_test.numpy(), y_test.numpy(),
                      ctx.t(f"lr {cfg.lr:g} — test accuracy {test_acc:.3f}",
                            f"lr {cfg.lr:g} — exactitud en test {test_acc:.3f}"))
    ctx.figure("decision_boundary", fig,
               "The hand-trained network's decision regions, with the test points on top.",
               "Regiones de decisión de la red entrenada a mano, con los puntos de test encima.")

    return {
        "test_accuracy": test_acc,
        "val_accuracy": runs["good"]["val_accuracy"],
        "train_loss_small_lr": runs["small"]["train_loss"],
        "train_loss_good_lr": runs["good"]["train_loss"],
        "small_lr_loss_ratio": runs["small"]["train_loss"] / runs["good"]["train_loss"],
        "large_lr_diverged": diverged,
        "large_lr_steps_to_nan": len(large) if diverged else None,
        "doctor_caught_divergence": doctor_caught,
        "doctor_stop_step": doctor_step,
    }
