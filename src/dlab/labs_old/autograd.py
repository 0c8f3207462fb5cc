"""autograd — gradients by hand, by torch, and by an engine written from scratch.

Course: Stage 2, session 2 (tensors, autograd and computational graphs). A derivative worked
out on paper is compared with ``requires_grad``; ``.grad`` is shown to accumulate across
``backward()`` calls and what that does to a training loop that forgets ``zero_grad``; the
numpy engine of ``dlab.scratch`` is checked against torch on a small network with matmul and
broadcasting, draws its computational graph, and trains a two-layer net on the moons.
"""
from __future__ import annotations

from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    x: float = 2.0  # where to differentiate y = x² + 3x + 1
    sgd_lr: float = 0.1
    sgd_steps: int = 100
    scratch_hidden: int = 16
    scratch_lr: float = 1.0
    scratch_steps: int = 300

    def check(self):
        positive(sgd_lr=self.sgd_lr, sgd_steps=self.sgd_steps, scratch_hidden=self.scratch_hidden,
                 scratch_lr=self.scratch_lr, scratch_steps=self.scratch_steps)


LAB = Lab(
    id="autograd",
    title_en="Autograd: by hand, by torch, from scratch",
    title_es="Autograd: a mano, con torch y desde cero",
    source="Stage 2 · session 2",
    dataset="y = x² + 3x + 1; a noisy line (50 points); moons (sklearn make_moons, noise=0.2)",
    summary_en="requires_grad gives the same derivative as the chain rule on paper. backward() "
               "adds to .grad, so a loop that never clears it stops converging. A small numpy "
               "engine reproduces torch's gradients on a small network, draws the graph it "
               "walks backwards, and trains a classifier on the moons.",
    summary_es="requires_grad da la misma derivada que la regla de la cadena en papel. backward() "
               "suma en .grad, así que un bucle que nunca lo limpia deja de converger. Un pequeño "
               "motor en numpy reproduce los gradientes de torch en una red pequeña, "
               "dibuja el grafo que recorre hacia atrás y entrena un clasificador en las lunas.",
    criteria=(
        Criterion("grad_abs_error", "<=", 1e-9,
                  "dy/dx at x = 2: autograd equals the hand derivative 2x + 3 = 7 (|error| ≤ 1e-9)",
                  "dy/dx en x = 2: autograd igual a la derivada a mano 2x + 3 = 7 "
                  "(|error| ≤ 1e-9)"),
        Criterion("accumulation_ratio", "between", (2 - 1e-9, 2 + 1e-9),
                  "Two backward() calls without zeroing give twice the gradient",
                  "Dos llamadas a backward() sin poner a cero dan el doble de gradiente"),
        Criterion("forgot_zero_grad_loss_ratio", ">=", 10,
                  "SGD that forgets zero_grad ends with ≥ 10× the loss of correct SGD",
                  "SGD que olvida zero_grad termina con ≥ 10× la pérdida del SGD correcto"),
        Criterion("scratch_vs_torch_max_grad_diff", "<=", 1e-6,
                  "Scratch engine matches torch on a 2-layer net (max |grad diff| ≤ 1e-6)",
                  "El motor desde cero coincide con torch en una red de 2 capas "
                  "(máx |dif. de gradiente| ≤ 1e-6)"),
        Criterion("scratch_moons_test_accuracy", ">=", 0.95,
                  "2-layer net trained with the scratch engine: moons test accuracy ≥ 0.95",
                  "Red de 2 capas entrenada con el motor desde cero: exactitud en test ≥ 0.95"),
    ),
    config=Config,
    quick={"sgd_steps": 30, "scratch_steps": 30},
)


def run(ctx, cfg: Config) -> dict:
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    from dlab.data import load
    from dlab.scratch import Tensor, draw_graph
    from dlab.scratch import mlp as scratch_mlp

    # --- 1. One derivative, two ways --------------------------------------------------------
    # float64 everywhere in this lab: we compare numbers to 1e-9, beyond float32's ~1e-7.
    x = torch.tensor(cfg.x, dtype=torch.float64, requires_grad=True)
    y = x**2 + 3 * x + 1
    y.backward()
    by_hand = 2 * cfg.x + 3  # d/dx (x² + 3x + 1) = 2x + 3
    autograd_grad = float(x.grad)
    ctx.say(f"y = x² + 3x + 1 at x = {cfg.x:g}: y = {y.item():g}. On paper dy/dx = 2x + 3 = "
            f"{by_hand:g}; `y.backward()` leaves x.grad = {autograd_grad:g}.",
            f"y = x² + 3x + 1 en x = {cfg.x:g}: y = {y.item():g}. En papel dy/dx = 2x + 3 = "
            f"{by_hand:g}; `y.backward()` deja x.grad = {autograd_grad:g}.")

    # --- 2. .grad accumulates ---------------------------------------------------------------
    # Recompute y (backward frees the graph) and call backward again, without clearing x.grad.
    y = x**2 + 3 * x + 1
    y.backward()
    accumulation_ratio = float(x.grad) / autograd_grad
    ctx.say(f"A second forward + backward without zeroing: x.grad = {float(x.grad):g}, "
            f"{accumulation_ratio:g}× the true derivative. torch adds each new gradient to "
            "`.grad` on purpose (it lets you sum gradients over several mini-batches or losses), "
            "so clearing it between training steps is your job.",
            f"Un segundo forward + backward sin poner a cero: x.grad = {float(x.grad):g}, "
            f"{accumulation_ratio:g}× la derivada verdadera. torch suma cada gradiente nuevo a "
            "`.grad` a propósito (permite acumular gradientes de varios mini-lotes o pérdidas), "
            "así que limpiarlo entre pasos de entrenamiento es tarea nuestra.")

    # What forgetting costs: fit y = 2x + 1 (plus noise) by SGD, with and without zeroing.
    gen = torch.Generator().manual_seed(ctx.seed)
    xs = torch.linspace(-1, 1, 50, dtype=torch.float64)
    ys = 2 * xs + 1 + 0.1 * torch.randn(50, generator=gen, dtype=torch.float64)

    def sgd(zero_grad: bool) -> list[float]:
        w = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        losses = []
        for _ in range(cfg.sgd_steps):
            loss = ((w * xs + b - ys) ** 2).mean()
            if zero_grad:
                w.grad, b.grad = None, None
            loss.backward()
            with torch.no_grad():
                w -= cfg.sgd_lr * w.grad
                b -= cfg.sgd_lr * b.grad
            losses.append(loss.item())
        return losses

    zeroed, forgot = sgd(zero_grad=True), sgd(zero_grad=False)
    # Mean of the last 10 steps: the forgetful loop oscillates, one step could land anywhere.
    tail = min(10, cfg.sgd_steps)
    zeroed_loss, forgot_loss = np.mean(zeroed[-tail:]), np.mean(forgot[-tail:])

    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    ax.semilogy(zeroed, label=ctx.t("zero_grad every step", "zero_grad en cada paso"))
    ax.semilogy(forgot, label=ctx.t("never zeroed", "nunca a cero"))
    ax.set_xlabel(ctx.t("SGD step", "paso de SGD"))
    ax.set_ylabel("MSE")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    ctx.figure("forgot_zero_grad", fig,
               "Fitting a line with SGD. Without zeroing, each step uses the sum of every gradient "
               "so far: the parameters overshoot and swing around the minimum instead of "
               "settling.",
               "Ajuste de una recta con SGD. Sin poner a cero, cada paso usa la suma de todos los "
               "gradientes anteriores: los parámetros se pasan de largo y oscilan alrededor del "
               "mínimo en vez de asentarse.")
    ctx.say(f"Mean loss over the last {tail} steps: {zeroed_loss:.4f} with zero_grad, "
            f"{forgot_loss:.4f} without ({forgot_loss / zeroed_loss:.0f}× higher). The stale sum "
            "behaves like momentum that never decays: the loop keeps its speed long after the "
            "slope has changed sign.",
            f"Pérdida media en los últimos {tail} pasos: {zeroed_loss:.4f} con zero_grad, "
            f"{forgot_loss:.4f} sin él ({forgot_loss / zeroed_loss:.0f}× mayor). La suma vieja "
            "actúa como un momentum que nunca se apaga: el bucle conserva su velocidad mucho "
            "después de que la pendiente cambió de signo.")

    # --- 3. The scratch engine against torch ------------------------------------------------
    rng = np.random.default_rng(ctx.seed)
    X, T = rng.normal(size=(8, 3)), rng.normal(size=(8, 2))  # 8 samples, 3 features, 2 targets
    arrays = {"W1": rng.normal(size=(3, 4)), "b1": rng.normal(size=4),
              "W2": rng.normal(size=(4, 2)), "b2": rng.normal(size=2)}

    def net_loss(X, T, p):
        # Runs unchanged on both engines. b1 (4,) is broadcast over the 8 rows, so its gradient
        # must be summed over them: the case a naive engine gets wrong.
        hidden = (X @ p["W1"] + p["b1"]).tanh()
        return ((hidden @ p["W2"] + p["b2"] - T) ** 2).mean()

    ours = {k: Tensor(v, label=k) for k, v in arrays.items()}
    ours_loss = net_loss(Tensor(X), Tensor(T), ours)
    ours_loss.backward()
    theirs = {k: torch.tensor(v, requires_grad=True) for k, v in arrays.items()}
    theirs_loss = net_loss(torch.tensor(X), torch.tensor(T), theirs)
    theirs_loss.backward()
    diffs = {k: float(np.abs(ours[k].grad - theirs[k].grad.numpy()).max()) for k in arrays}
    max_grad_diff = max(diffs.values())
    ctx.table([ctx.t("parameter", "parámetro"), ctx.t("shape", "forma"), "max |scratch - torch|"],
              [[k, str(arrays[k].shape), diffs[k]] for k in arrays],
              "Gradients of mean((tanh(X W1 + b1) W2 + b2 - T)²): scratch engine vs torch, "
              "float64",
              "Gradientes de mean((tanh(X W1 + b1) W2 + b2 - T)²): motor desde cero vs torch, "
              "float64")

    # The graph of section 1, built by the scratch engine: values in boxes, operations in circles.
    x_node = Tensor(cfg.x, label="x")
    y_node = x_node**2 + 3 * x_node + 1
    y_node.label = "y"
    y_node.backward()
    ctx.figure("graph_polynomial", draw_graph(y_node),
               f"The computational graph of y = x² + 3x + 1 at x = {cfg.x:g}, after backward(): "
               "each box holds its value (data) and dy/d(that value) (grad). x has two paths to "
               f"y, and its grad, {float(x_node.grad[()]):g}, is the sum of both.",
               f"El grafo computacional de y = x² + 3x + 1 en x = {cfg.x:g}, tras backward(): cada "
               "caja guarda su valor (data) y dy/d(ese valor) (grad). x llega a y por dos caminos, "
               f"y su grad, {float(x_node.grad[()]):g}, es la suma de ambos.")

    w1, w2, x1, x2, b = (Tensor(v, label=n) for v, n in
                         ((-3.0, "w1"), (1.0, "w2"), (2.0, "x1"), (0.0, "x2"), (6.88, "b")))
    neuron = (x1 * w1 + x2 * w2 + b).tanh()
    neuron.label = "tanh(w·x + b)"
    neuron.backward()
    ctx.figure("graph_neuron", draw_graph(neuron),
               "One neuron, tanh(w1·x1 + w2·x2 + b). Read it right to left: backward() starts at "
               "the output with grad 1 and multiplies by one local derivative per circle.",
               "Una neurona, tanh(w1·x1 + w2·x2 + b). Se lee de derecha a izquierda: backward() "
               "empieza en la salida con grad 1 y multiplica por una derivada local en cada "
               "círculo.")

    # --- 4. Train a real classifier with nothing but the scratch engine ---------------------
    data = load("moons", n_samples=1000, noise=0.2, seed=ctx.seed)
    X_train, y_train = data.train[0].double().numpy(), data.train[1].numpy()
    params = scratch_mlp.init_params(2, cfg.scratch_hidden, 2, seed=ctx.seed)
    losses = scratch_mlp.train(params, X_train, y_train, lr=cfg.scratch_lr, steps=cfg.scratch_steps)
    val_acc = float(np.mean(scratch_mlp.predict(params, data.val[0].double().numpy())
                            == data.val[1].numpy()))
    test_acc = float(np.mean(scratch_mlp.predict(params, data.test[0].double().numpy())
                             == data.test[1].numpy()))
    ctx.say(f"A 2-{cfg.scratch_hidden}-2 ReLU network trained on the moons with the scratch engine "
            f"alone ({cfg.scratch_steps} full-batch gradient steps, lr {cfg.scratch_lr:g}): "
            f"training loss {losses[-1]:.3f}, validation accuracy {val_acc:.3f}, test accuracy "
            f"{test_acc:.3f}.",
            f"Una red ReLU 2-{cfg.scratch_hidden}-2 entrenada en las lunas solo con el motor desde "
            f"cero ({cfg.scratch_steps} pasos de gradiente con el lote completo, lr "
            f"{cfg.scratch_lr:g}): pérdida de entrenamiento {losses[-1]:.3f}, exactitud en "
            f"validación {val_acc:.3f}, en test {test_acc:.3f}.")

    return {
        "manual_grad": by_hand,
        "autograd_grad": autograd_grad,
        "grad_abs_error": abs(autograd_grad - by_hand),
        "accumulation_ratio": accumulation_ratio,
        "zeroed_final_loss": float(zeroed_loss),
        "forgot_final_loss": float(forgot_loss),
        "forgot_zero_grad_loss_ratio": float(forgot_loss / zeroed_loss),
        "scratch_vs_torch_max_grad_diff": max_grad_diff,
        "scratch_vs_torch_loss_diff": abs(float(ours_loss.data) - theirs_loss.item()),
        "scratch_moons_final_loss": losses[-1],
        "scratch_moons_val_accuracy": val_acc,
        "scratch_moons_test_accuracy": test_acc,
    }
