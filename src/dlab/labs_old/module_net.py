"""module-net — the scratch network again, as an nn.Module trained by torch.optim and the Trainer.

Course: Stage 2, session 4 (nn.Module and the training loop). The two-layer network of
scratch-net is rewritten as a class with two ``nn.Linear`` layers, optimized by
``torch.optim.SGD`` inside ``dlab.engine.Trainer``. Started from the same weights and fed the
same batches, it ends with the same weights as the hand-written loop: the abstractions
automate the mechanism, they do not change it.
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
    lr: float = 0.3

    def check(self):
        positive(n_samples=self.n_samples, hidden=self.hidden, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr)


LAB = Lab(
    id="module-net",
    title_en="The same network with nn.Module, torch.optim and the Trainer",
    title_es="La misma red con nn.Module, torch.optim y el Trainer",
    source="Stage 2 · session 4",
    dataset="moons (sklearn make_moons, noise=0.2, random_state=42)",
    summary_en="The scratch-net network rewritten with two nn.Linear layers, torch.optim.SGD and "
               "the dlab Trainer. Same initial weights, same batches: at the end of training its "
               "weights equal those of the hand-written loop.",
    summary_es="La red de scratch-net reescrita con dos capas nn.Linear, torch.optim.SGD y el "
               "Trainer de dlab. Mismos pesos iniciales, mismos lotes: al terminar el "
               "entrenamiento sus pesos son iguales a los del bucle escrito a mano.",
    criteria=(
        Criterion("max_weight_diff", "<=", 1e-6,
                  "nn.Module + SGD + Trainer ends with the scratch loop's weights "
                  "(max |diff| ≤ 1e-6, float64)",
                  "nn.Module + SGD + Trainer termina con los pesos del bucle a mano "
                  "(máx |dif| ≤ 1e-6, float64)"),
        Criterion("test_accuracy", ">=", 0.95,
                  "nn.Module version: test accuracy ≥ 0.95",
                  "Versión nn.Module: exactitud en test ≥ 0.95"),
    ),
    config=Config,
    quick={"n_samples": 300, "epochs": 3},
)


def run(ctx, cfg: Config) -> dict:
    import math

    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from dlab.data import load
    from dlab.engine import Trainer
    from dlab.models import scratch_mlp
    from dlab.models.two_layer import TwoLayerNet
    from dlab.viz import decision_boundary

    data = load("moons", n_samples=cfg.n_samples, noise=cfg.noise, seed=ctx.seed)
    (X_train, y_train), (X_test, y_test) = data.train, data.test
    steps = cfg.epochs * math.ceil(len(X_train) / cfg.batch_size)

    def race(dtype, options):
        """Train the scratch net and the module from the same weights on the same batches;
        return both trained versions and the Trainer."""
        start = scratch_mlp.init_params(2, cfg.hidden, 2, seed=ctx.seed)
        params = {k: v.detach().to(dtype).requires_grad_() for k, v in start.items()}
        # nn.Linear keeps its weight as (out, in), so load_scratch copies W1.T and W2.T.
        model = TwoLayerNet(2, cfg.hidden, 2).to(dtype).load_scratch(params)
        scratch_mlp.train_scratch(params, X_train.to(dtype), y_train, lr=cfg.lr,
                                  epochs=cfg.epochs, batch_size=cfg.batch_size, seed=ctx.seed)
        # fit(seed=...) builds Batches(X, y, batch_size, shuffle=True, seed) and numbers the
        # epochs from 1, exactly like train_scratch: same batches, same order. The doctor and
        # the progress bar only read the loss; they never touch weights or gradients.
        trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=cfg.lr),
                          metrics=["accuracy"], **options)
        trainer.fit((X_train.to(dtype), y_train), epochs=cfg.epochs, batch_size=cfg.batch_size,
                    seed=ctx.seed)
        ours = {k: v.detach().cpu() for k, v in params.items()}
        theirs = {k: v.cpu() for k, v in model.scratch_params().items()}
        diffs = {k: float((ours[k] - theirs[k]).abs().max()) for k in ours}
        return params, trainer, diffs

    # --- 1. float32, the everyday precision ------------------------------------------------
    params, trainer, diffs32 = race(torch.float32, ctx.trainer_options())
    test_acc = trainer.evaluate(data.test)["accuracy"]
    scratch_test_acc = (scratch_mlp.predict(params, X_test) == y_test).float().mean().item()
    ctx.say(f"After {steps} SGD steps ({cfg.epochs} epochs), float32: the nn.Module's weights "
            f"differ from the scratch loop's by at most {max(diffs32.values()):.1e}. Test "
            f"accuracy: nn.Module {test_acc:.3f}, scratch {scratch_test_acc:.3f}.",
            f"Tras {steps} pasos de SGD ({cfg.epochs} épocas), en float32: los pesos del "
            f"nn.Module difieren de los del bucle a mano como mucho en "
            f"{max(diffs32.values()):.1e}. "
            f"Exactitud en test: nn.Module {test_acc:.3f}, desde cero {scratch_test_acc:.3f}.")

    # --- 2. float64: is that gap a different computation, or rounding? --------------------
    # nn.Linear computes b + x Wᵀ in one fused call; the scratch code does x @ W, then + b.
    # Same math, different order of float operations, so float32 round-off (~1e-7) differs
    # and drifts a little over the steps. In float64 round-off is ~1e-16: if the two versions
    # really do the same computation, the gap must shrink by the same factor.
    # CPU for this check: the scratch loop runs there, and Apple's MPS has no float64.
    _, _, diffs64 = race(torch.float64, {**ctx.trainer_options(), "device": "cpu"})
    max_diff = max(diffs64.values())
    ctx.table([ctx.t("parameter", "parámetro"), "max |diff| float32", "max |diff| float64"],
              [[k, diffs32[k], diffs64[k]] for k in diffs32],
              f"Scratch loop vs nn.Module + SGD + Trainer, weights after {steps} steps",
              f"Bucle a mano vs nn.Module + SGD + Trainer, pesos tras {steps} pasos")
    ctx.say(f"In float64 the largest gap is {max_diff:.1e}: the difference in float32 was "
            "round-off, not a different algorithm.",
            f"En float64 la mayor diferencia es {max_diff:.1e}: la de float32 era redondeo, no "
            "un algoritmo distinto.")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    names = list(diffs32)
    pos = np.arange(len(names))
    axes[0].bar(pos - 0.2, [diffs32[k] for k in names], 0.4, label="float32")
    axes[0].bar(pos + 0.2, [max(diffs64[k], 1e-18) for k in names], 0.4, label="float64")
    axes[0].axhline(1e-6, color="k", linestyle="--", linewidth=1)
    axes[0].set_xticks(pos, names)
    axes[0].set_yscale("log")
    axes[0].set_title(ctx.t(f"max |scratch - nn.Module| after {steps} steps",
                            f"máx |a mano - nn.Module| tras {steps} pasos"))
    axes[0].legend()
    axes[0].grid(alpha=0.3, axis="y")

    def predict_grid(grid):
        return trainer.predict(torch.as_tensor(grid, dtype=torch.float32)).argmax(1).cpu().numpy()

    decision_boundary(axes[1], predict_grid, X_test.numpy(), y_test.numpy(),
                      ctx.t(f"nn.Module — test accuracy {test_acc:.3f}",
                            f"nn.Module — exactitud en test {test_acc:.3f}"))
    fig.tight_layout()
    ctx.figure("same_weights", fig,
               "Left: the largest weight difference per tensor (log scale; dashed line: 1e-6). "
               "Right: the nn.Module's decision regions, indistinguishable from scratch-net's.",
               "Izquierda: la mayor diferencia de pesos por tensor (escala logarítmica; línea "
               "punteada: 1e-6). Derecha: regiones de decisión del nn.Module, idénticas a las de "
               "scratch-net.")

    # --- 3. What each abstraction took over ------------------------------------------------
    t = ctx.t
    ctx.table([t("job", "tarea"), t("scratch-net (by hand)", "scratch-net (a mano)"),
               "nn.Module + torch.optim + Trainer"],
              [[t("create and initialise parameters", "crear e inicializar parámetros"),
                t("4 tensors, requires_grad=True", "4 tensores, requires_grad=True"),
                "nn.Linear(2, 16), nn.Linear(16, 2)"],
               [t("list parameters for the update", "listar parámetros para actualizar"),
                t("a dict we maintain", "un dict que mantenemos"), "model.parameters()"],
               ["forward", "relu(X @ W1 + b1) @ W2 + b2", "self.out(relu(self.hidden(x)))"],
               [t("clear gradients", "borrar gradientes"), "p.grad = None",
                "optimizer.zero_grad()"],
               [t("update", "actualizar"), "with no_grad(): p -= lr * p.grad", "optimizer.step()"],
               [t("batches, epochs, NaN check", "lotes, épocas, control de NaN"),
                t("our loop", "nuestro bucle"), "Trainer.fit"]],
              "Who does what", "Quién hace qué")
    ctx.say("The module version is shorter and harder to get wrong (no forgotten zero_grad, no "
            "update recorded in the graph, no parameter left out of the update), and switching "
            "to Adam or momentum is a one-word change. Underneath, it runs the computation you wrote by "
            "hand, step for step, as the weights above show.",
            "La versión con módulos es más corta y más difícil de romper (no hay zero_grad "
            "olvidado, ni actualización registrada en el grafo, ni parámetros que se quedan sin "
            "actualizar), y pasar a "
            "Adam o a momentum es cambiar una palabra. Por debajo ejecuta el mismo cálculo que "
            "escribimos a mano, paso a paso, como muestran los pesos de arriba.")

    return {
        "max_weight_diff": max_diff,
        "max_weight_diff_float32": max(diffs32.values()),
        "sgd_steps": steps,
        "test_accuracy": test_acc,
        "scratch_test_accuracy": scratch_test_acc,
        "final_train_loss": trainer.history["loss"][-1],
    }
