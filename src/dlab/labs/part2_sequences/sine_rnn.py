# %% [markdown] lang="en"
# A recurrent network reads a sequence one value at a time and carries a hidden state from
# each step to the next. This lab forecasts a noisy sine wave with the smallest such network,
# a simple RNN of 20 units and a linear head: it predicts the value after every window of 50,
# is compared with the "repeat the last value" forecast, and then is opened up to show how
# the gradient of its loss travels back through the 50 steps (backpropagation through time).

# %% [markdown] lang="es"
# Una red recurrente lee una secuencia valor a valor y lleva un estado oculto de cada paso al
# siguiente. Este laboratorio pronostica una senoidal con ruido con la red más pequeña de ese
# tipo, una RNN simple de 20 unidades y una cabeza lineal: predice el valor que sigue a cada
# ventana de 50, se compara con el pronóstico "repetir el último valor" y después se abre por
# dentro para ver cómo viaja el gradiente de su pérdida hacia atrás por los 50 pasos
# (retropropagación a través del tiempo).

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    n_steps: int = 5000
    frequency: float = 0.01   # sin(frequency · t)
    noise: float = 0.05       # standard deviation of the Gaussian noise
    window: int = 50
    hidden: int = 20
    epochs: int = 40
    batch_size: int = 32
    lr: float = 3e-3
    patience: int = 8
    recursive_steps: int = 200  # forecast fed with its own predictions

    def check(self):
        positive(n_steps=self.n_steps, frequency=self.frequency, noise=self.noise,
                 window=self.window, hidden=self.hidden, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, patience=self.patience,
                 recursive_steps=self.recursive_steps)


LAB = Lab(
    id="sine-rnn",
    title_en="A simple RNN forecasts a noisy sine wave, and BPTT made visible",
    title_es="Una RNN simple pronostica una senoidal con ruido, y BPTT a la vista",
    source="Part 2 · class 135 (homework)",
    block="part2-sequences",
    dataset="generated: 5 000 steps of sin(0.01 t) + N(0, 0.05²), split 70/15/15 in time order",
    criteria=(
        Criterion("test_mae", "<", 0.1,
                  "SimpleRNN [20] + linear head: test MAE < 0.1",
                  "SimpleRNN [20] + cabeza lineal: MAE en test < 0.1"),
        Criterion("mae_vs_naive", "<", 1.0,
                  "The RNN beats the naive forecast (repeat the last value): test MAE ratio "
                  "RNN / naive < 1",
                  "La RNN supera al pronóstico ingenuo (repetir el último valor): cociente de "
                  "MAE en test RNN / ingenuo < 1"),
        Criterion("gradient_first_over_last", "<", 1.0,
                  "BPTT shown: the gradient reaching the first step of the window is smaller "
                  "than at the last step (‖∂L/∂h₁‖ / ‖∂L/∂h₅₀‖ < 1)",
                  "BPTT a la vista: el gradiente que llega al primer paso de la ventana es "
                  "menor que en el último (‖∂L/∂h₁‖ / ‖∂L/∂h₅₀‖ < 1)"),
    ),
    config=Config,
    quick={"n_steps": 1200, "epochs": 2, "recursive_steps": 50},
    timed=("seconds_per_epoch",),
)

# %% [markdown] lang="en"
# ## 1. The series and a split in time order
# The wave sin(0.01 t) takes about 628 steps per period; Gaussian noise with standard
# deviation 0.05 is added to every value. The first 70 % of the series trains, the next 15 %
# validates, the last 15 % tests: the model only ever forecasts a future it has not seen.
# Shuffling before splitting would put points from the test period among the training ones.

# %% [markdown] lang="es"
# ## 1. La serie y una partición en orden temporal
# La onda sin(0.01 t) tarda unos 628 pasos por período; a cada valor se le suma ruido
# gaussiano de desviación estándar 0.05. El primer 70 % de la serie entrena, el 15 % siguiente
# valida y el último 15 % es de test: el modelo solo pronostica un futuro que no ha visto.
# Mezclar antes de partir pondría puntos del período de test entre los de entrenamiento.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.engine import EarlyStopping, Trainer
from dlab.sequences import RecurrentNet, gradient_through_time

rng = np.random.default_rng(ctx.seed)
t = np.arange(cfg.n_steps)
series = (np.sin(cfg.frequency * t) + rng.normal(0, cfg.noise, cfg.n_steps)).astype(np.float32)
cut_val, cut_test = int(0.7 * cfg.n_steps), int(0.85 * cfg.n_steps)
parts = {"train": series[:cut_val], "val": series[cut_val:cut_test], "test": series[cut_test:]}

# %% [markdown] lang="en"
# ## 2. Windows: 50 values in, the next one out
# A supervised example is a window of 50 consecutive values and, as its target, the value
# right after it. Each split is windowed on its own, so no target of one split is an input of
# another.

# %% [markdown] lang="es"
# ## 2. Ventanas: 50 valores de entrada, el siguiente de salida
# Un ejemplo supervisado es una ventana de 50 valores consecutivos y, como objetivo, el valor
# que viene justo después. Cada partición se corta en ventanas por separado, así que ningún
# objetivo de una partición es entrada de otra.

# %% exercise="make_windows"
def make_windows(series: np.ndarray, lookback: int, horizon: int = 1):
    """[en] Cut the 1-D array `series` into every window that fits: `X[i]` holds the
    `lookback` values `series[i : i + lookback]` and `Y[i]` the `horizon` values that follow
    them, `series[i + lookback : i + lookback + horizon]`. Return `(X, Y)` as float32 numpy
    arrays of shapes (n, lookback) and (n, horizon), where n = len(series) − lookback −
    horizon + 1 (no window may run past the end).

    [es] Corta el arreglo 1-D `series` en todas las ventanas que caben: `X[i]` contiene los
    `lookback` valores `series[i : i + lookback]` e `Y[i]` los `horizon` valores que les
    siguen, `series[i + lookback : i + lookback + horizon]`. Devuelve `(X, Y)` como arreglos
    numpy float32 de formas (n, lookback) y (n, horizon), con n = len(series) − lookback −
    horizon + 1 (ninguna ventana puede pasarse del final).
    """
    n = len(series) - lookback - horizon + 1
    X = np.stack([series[i:i + lookback] for i in range(n)])
    Y = np.stack([series[i + lookback:i + lookback + horizon] for i in range(n)])
    return X.astype(np.float32), Y.astype(np.float32)


# %% check
import numpy as np

from dlab.exercises import expect


@ctx.check("make_windows")
def windows_and_targets_line_up():
    X, Y = make_windows(np.arange(6, dtype=np.float32), 3)
    expect.shape(X, (3, 3), "make_windows(np.arange(6), 3)[0]")
    expect.shape(Y, (3, 1), "make_windows(np.arange(6), 3)[1]")
    expect.close(X, [[0, 1, 2], [1, 2, 3], [2, 3, 4]], "make_windows(np.arange(6), 3)[0]")
    expect.close(Y, [[3], [4], [5]], "make_windows(np.arange(6), 3)[1]")


@ctx.check("make_windows")
def a_longer_horizon_keeps_every_window_that_fits():
    X, Y = make_windows(np.arange(10, dtype=np.float32) * 2, 4, horizon=3)
    expect.shape(X, (4, 4), "make_windows(2 * np.arange(10), 4, horizon=3)[0]")
    expect.shape(Y, (4, 3), "make_windows(2 * np.arange(10), 4, horizon=3)[1]")
    expect.close(Y[-1], [14, 16, 18], "the last target of make_windows(2 * np.arange(10), 4, "
                 "horizon=3)")
    expect.close(X[1], [2, 4, 6, 8], "the second window of make_windows(2 * np.arange(10), 4, "
                 "horizon=3)")


# %%
windows = {name: make_windows(values, cfg.window) for name, values in parts.items()}
tensors = {name: (torch.from_numpy(X).unsqueeze(-1), torch.from_numpy(Y))
           for name, (X, Y) in windows.items()}
ctx.table([ctx.t("split", "partición"), ctx.t("time steps", "pasos"),
           ctx.t("windows", "ventanas")],
          [[name, len(parts[name]), len(windows[name][0])] for name in parts])

# %% [markdown] lang="en"
# ## 3. One step of a recurrent neuron
# At every step the cell mixes the new input with the previous hidden state and squashes the
# sum with tanh: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). The same weights serve all
# 50 steps; that sharing is what makes the network recurrent.

# %% [markdown] lang="es"
# ## 3. Un paso de una neurona recurrente
# En cada paso la celda mezcla la entrada nueva con el estado oculto anterior y comprime la
# suma con tanh: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). Los mismos pesos sirven
# para los 50 pasos; ese reparto es lo que hace recurrente a la red.

# %% exercise="rnn_step"
def rnn_step(x_t: torch.Tensor, h_prev: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
             b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """[en] One step of a simple RNN, laid out like `nn.RNNCell`: `x_t` is (batch, inputs),
    `h_prev` is (batch, hidden), `W_ih` is (hidden, inputs), `W_hh` is (hidden, hidden), the
    biases are (hidden,). Return the new hidden state
    tanh(x_t W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh), of shape (batch, hidden), built with torch
    operations so that autograd can go back through it.

    [es] Un paso de una RNN simple, con la disposición de `nn.RNNCell`: `x_t` es
    (batch, entradas), `h_prev` es (batch, ocultas), `W_ih` es (ocultas, entradas), `W_hh` es
    (ocultas, ocultas) y los sesgos son (ocultas,). Devuelve el nuevo estado oculto
    tanh(x_t W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh), de forma (batch, ocultas), hecho con
    operaciones de torch para que autograd pueda recorrerlo hacia atrás.
    """
    return torch.tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh)


# %% check
import torch
from torch import nn

from dlab.exercises import expect


def _cell_and_inputs():
    torch.manual_seed(0)
    cell = nn.RNNCell(3, 4)
    return cell, torch.randn(5, 3), torch.randn(5, 4)


@ctx.check("rnn_step")
def returns_one_state_per_sequence():
    cell, x, h = _cell_and_inputs()
    out = rnn_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expect.type(out, torch.Tensor, "rnn_step(...)")
    expect.shape(out, (5, 4), "rnn_step(x (5, 3), h (5, 4), ...)")


@ctx.check("rnn_step")
def matches_torch_rnn_cell():
    cell, x, h = _cell_and_inputs()
    out = rnn_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expect.close(out.detach(), cell(x, h).detach(), "rnn_step(...) against nn.RNNCell",
                 atol=1e-5)
    other = rnn_step(x, 3 * h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expect.close(other.detach(), cell(x, 3 * h).detach(),
                 "rnn_step(...) with another previous state, against nn.RNNCell", atol=1e-5)


@ctx.check("rnn_step")
def autograd_can_go_back_through_it():
    cell, x, h = _cell_and_inputs()
    h = h.requires_grad_()
    out = rnn_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expect.true(out.requires_grad,
                "rnn_step's result is cut from the graph (.detach(), .item(), numpy or "
                "torch.no_grad()): backpropagation through time cannot reach the earlier steps.",
                "El resultado de rnn_step está separado del grafo (.detach(), .item(), numpy o "
                "torch.no_grad()): la retropropagación en el tiempo no puede llegar a los "
                "pasos anteriores.")
    out.sum().backward()
    expect.true(h.grad is not None and float(h.grad.abs().sum()) > 0,
                "No gradient reaches h_prev through rnn_step: the previous state must enter "
                "the sum through W_hh.",
                "Ningún gradiente llega a h_prev a través de rnn_step: el estado anterior debe "
                "entrar en la suma a través de W_hh.")


# %% [markdown] lang="en"
# ## 4. Training the RNN
# `nn.RNN` runs the step above over the 50 values of each window; the linear head reads the
# last hidden state and outputs the forecast. Mean squared error, Adam, and early stopping on
# the validation loss (the best epoch's weights are kept).

# %% [markdown] lang="es"
# ## 4. Entrenar la RNN
# `nn.RNN` aplica el paso de arriba a los 50 valores de cada ventana; la cabeza lineal lee el
# último estado oculto y da el pronóstico. Error cuadrático medio, Adam y parada temprana con
# la pérdida de validación (se conservan los pesos de la mejor época).

# %%
model = RecurrentNet("rnn", 1, cfg.hidden, 1)
initial_weights = {k: v.clone() for k, v in model.state_dict().items()}
trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr), loss="mse",
                  metrics=["mae"], callbacks=[EarlyStopping(patience=cfg.patience)],
                  **ctx.trainer_options(precision="fp32"))
started = time.perf_counter()
history = trainer.fit(tensors["train"], tensors["val"], epochs=cfg.epochs,
                      batch_size=cfg.batch_size, seed=ctx.seed, **ctx.fit_options())
seconds_per_epoch = (time.perf_counter() - started) / len(history)

# %% [markdown] lang="en"
# ## 5. The test set, once
# The naive forecast repeats the last value of each window. On a slow wave it is already
# close; what is left is the noise, which no forecast can predict. A model that has learnt
# the wave averages the noise away inside the window and should beat it.

# %% [markdown] lang="es"
# ## 5. El conjunto de test, una vez
# El pronóstico ingenuo repite el último valor de cada ventana. En una onda lenta ya queda
# cerca; lo que falta es el ruido, que ningún pronóstico puede adivinar. Un modelo que aprendió
# la onda promedia el ruido dentro de la ventana y debería superarlo.

# %%
X_test, y_test = tensors["test"]
predicted = trainer.predict(X_test).squeeze(-1).numpy()
truth = y_test.squeeze(-1).numpy()
test_mae = float(np.abs(predicted - truth).mean())
naive_mae = float(np.abs(X_test[:, -1, 0].numpy() - truth).mean())
ctx.table([ctx.t("forecast", "pronóstico"), ctx.t("test MAE", "MAE en test")],
          [[ctx.t("naive (last value)", "ingenuo (último valor)"), naive_mae],
           [f"SimpleRNN [{cfg.hidden}]", test_mae],
           [ctx.t("noise alone (σ·√(2/π))", "solo el ruido (σ·√(2/π))"),
            cfg.noise * np.sqrt(2 / np.pi)]])

# %% [markdown] lang="en"
# Feeding the model its own forecasts, one step at a time, forecasts further ahead: each new
# window ends with predictions instead of measurements, so errors can pile up. The right panel
# starts from the first test window and goes on without looking at the data again.

# %% [markdown] lang="es"
# Si al modelo se le dan sus propios pronósticos, paso a paso, pronostica más lejos: cada
# ventana nueva termina con predicciones en lugar de mediciones, así que los errores pueden
# acumularse. El panel derecho parte de la primera ventana de test y sigue sin volver a mirar
# los datos.

# %%
window = X_test[:1].clone()
recursive = []
with torch.no_grad():
    model.eval()
    for _ in range(min(cfg.recursive_steps, len(truth))):
        value = model(window)
        recursive.append(float(value))
        window = torch.cat([window[:, 1:], value.view(1, 1, 1)], dim=1)
recursive = np.array(recursive)
recursive_mae = float(np.abs(recursive - truth[:len(recursive)]).mean())
clean = np.sin(cfg.frequency * t[cut_test + cfg.window:])

fig, axes = plt.subplots(1, 2, figsize=(12, 4))
steps = np.arange(len(truth))
axes[0].plot(steps, truth, ".", ms=2, color="0.6", label=ctx.t("measured", "medido"))
axes[0].plot(steps, clean, color="k", lw=1, label="sin(0.01 t)")
axes[0].plot(steps, predicted, color="tab:red", lw=1.2,
             label=ctx.t(f"RNN, MAE {test_mae:.3f}", f"RNN, MAE {test_mae:.3f}"))
axes[0].set_title(ctx.t("One step ahead on the test period", "Un paso adelante en el período "
                                                             "de test"))
axes[1].plot(steps[:len(recursive)], truth[:len(recursive)], ".", ms=2, color="0.6",
             label=ctx.t("measured", "medido"))
axes[1].plot(steps[:len(recursive)], recursive, color="tab:purple", lw=1.2,
             label=ctx.t(f"fed its own forecasts, MAE {recursive_mae:.3f}",
                         f"con sus propios pronósticos, MAE {recursive_mae:.3f}"))
axes[1].set_title(ctx.t("Recursive forecast from the first test window",
                        "Pronóstico recursivo desde la primera ventana de test"))
for ax in axes:
    ax.set_xlabel(ctx.t("test step", "paso de test"))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
ctx.figure("prediction_vs_truth", fig)

# %% [markdown] lang="en"
# ## 6. Backpropagation through time, step by step
# Unrolled over a window, the RNN is a 50-layer network whose layers share their weights. Here
# the window is unrolled with your `rnn_step` and the trained weights, every hidden state kept
# as its own tensor; one backward pass of the loss then tells how large ∂L/∂h_t is at each
# step t. Each step back multiplies the gradient by W_hh and by the tanh slope, so it shrinks
# on the way to the first steps: those get the weakest learning signal.

# %% [markdown] lang="es"
# ## 6. Retropropagación a través del tiempo, paso a paso
# Desenrollada sobre una ventana, la RNN es una red de 50 capas que comparten sus pesos. Aquí
# la ventana se desenrolla con tu `rnn_step` y los pesos entrenados, con cada estado oculto
# guardado como un tensor propio; una pasada hacia atrás de la pérdida dice entonces qué tan
# grande es ∂L/∂h_t en cada paso t. Cada paso hacia atrás multiplica el gradiente por W_hh y
# por la pendiente de tanh, así que se achica camino a los primeros pasos: esos reciben la
# señal de aprendizaje más débil.

# %%
def gradient_norms(weights: dict, X: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    net = RecurrentNet("rnn", 1, cfg.hidden, 1)
    net.load_state_dict(weights)
    rnn = net.rnn

    def step(x_t, h):
        return rnn_step(x_t, h, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0,
                        rnn.bias_hh_l0)

    return gradient_through_time(step, X, torch.zeros(len(X), cfg.hidden), net.head, y,
                                 nn.MSELoss())


probe = X_test[:256], y_test[:256]
norms = {ctx.t("at initialization", "al inicializar"): gradient_norms(initial_weights, *probe),
         ctx.t("trained", "entrenada"): gradient_norms(model.state_dict(), *probe)}
trained_norms = norms[ctx.t("trained", "entrenada")]
gradient_first_over_last = float(trained_norms[0] / trained_norms[-1])

fig, ax = plt.subplots(figsize=(7, 4))
for label, values in norms.items():
    ax.semilogy(np.arange(1, cfg.window + 1), values, marker=".", label=label)
ax.set_xlabel(ctx.t("time step t in the window", "paso t de la ventana"))
ax.set_ylabel("‖∂L/∂h_t‖")
ax.set_title(ctx.t("Gradient reaching each hidden state (BPTT)",
                   "Gradiente que llega a cada estado oculto (BPTT)"))
ax.grid(alpha=0.3, which="both")
ax.legend()
ctx.figure("gradient_through_time", fig)

# %%
ctx.finish({
    "test_mae": test_mae,
    "naive_test_mae": naive_mae,
    "mae_vs_naive": test_mae / naive_mae,
    "recursive_mae": recursive_mae,
    "gradient_first_over_last": gradient_first_over_last,
    "epochs_trained": len(history),
    "best_val_loss": history.best("val_loss")[1],
    "seconds_per_epoch": seconds_per_epoch,
})
