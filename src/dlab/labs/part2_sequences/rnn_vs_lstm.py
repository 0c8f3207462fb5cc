# %% [markdown] lang="en"
# How far back can a recurrent network remember? Each sequence here is a string of random
# symbols, and the answer is always its first symbol: everything after it is distraction, and
# the longer the sequence, the more steps the memory must survive. A plain RNN, an LSTM and a
# GRU of the same width are trained at growing lengths; you write one step of the LSTM and one
# of the GRU by hand and watch the gradient travel back through them.

# %% [markdown] lang="es"
# ¿Hasta dónde puede recordar una red recurrente? Cada secuencia de este laboratorio es una
# cadena de símbolos al azar y la respuesta es siempre su primer símbolo: todo lo que sigue es
# distracción y, cuanto más larga la secuencia, más pasos debe sobrevivir el recuerdo. Una RNN
# simple, una LSTM y una GRU del mismo ancho se entrenan con longitudes crecientes; escribes a
# mano un paso de la LSTM y uno de la GRU y ves viajar el gradiente hacia atrás por ellas.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    lengths: list = field(default_factory=lambda: [10, 20, 40, 60])
    symbols: int = 8
    hidden: int = 32
    n_train: int = 8000
    n_val: int = 1000
    n_test: int = 1000
    epochs: int = 8            # 125 steps per epoch: 1 000 updates per model
    batch_size: int = 64
    lr: float = 3e-3
    grad_clip: float = 5.0
    remember_bias: float = 3.0  # forget-gate (LSTM) / update-gate (GRU) bias at the start
    patience: int = 3

    def check(self):
        positive(symbols=self.symbols, hidden=self.hidden, n_train=self.n_train,
                 n_val=self.n_val, n_test=self.n_test, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, grad_clip=self.grad_clip,
                 patience=self.patience)
        if not self.lengths or min(self.lengths) < 2:
            raise ValueError("lengths must be a non-empty list of sequence lengths >= 2")


LAB = Lab(
    id="rnn-vs-lstm",
    title_en="RNN vs LSTM vs GRU: remembering across growing lengths",
    title_es="RNN vs LSTM vs GRU: recordar a través de longitudes crecientes",
    source="Part 2 · class 137 (Stage 2 · session 10)",
    block="part2-sequences",
    dataset="generated: recall the first of L random symbols (8 symbols, one-hot), "
            "8 000 train / 1 000 val / 1 000 test sequences per length",
    criteria=(
        Criterion("rnn_shortest_accuracy", ">=", 0.9,
                  "The task is fair: the plain RNN solves the shortest length (test accuracy "
                  "≥ 0.9)",
                  "La tarea es justa: la RNN simple resuelve la longitud más corta (exactitud "
                  "en test ≥ 0.9)"),
        Criterion("lengths_only_gated_solve", ">=", 1,
                  "LSTM and GRU solve lengths where the RNN fails: number of lengths with "
                  "LSTM and GRU ≥ 0.9 and RNN < 0.5 is at least 1",
                  "LSTM y GRU resuelven longitudes donde la RNN falla: hay al menos una "
                  "longitud con LSTM y GRU ≥ 0.9 y RNN < 0.5"),
        Criterion("gru_parameter_saving", "between", (0.2, 0.3),
                  "GRU has ≈ 25 % fewer parameters than the LSTM (saving in [20 %, 30 %])",
                  "La GRU tiene ≈ 25 % menos parámetros que la LSTM (ahorro entre 20 % y 30 %)"),
        Criterion("gru_lstm_gap_longest", "<=", 0.05,
                  "GRU accuracy within 5 points of the LSTM at the longest length",
                  "Exactitud de la GRU a menos de 5 puntos de la LSTM en la longitud más larga"),
    ),
    config=Config,
    quick={"lengths": [5, 15], "n_train": 1000, "n_val": 200, "n_test": 200, "epochs": 2,
           "hidden": 16},
    timed=("seconds_total",),
)

# %% [markdown] lang="en"
# ## 1. The task: recall the first symbol
# A sequence of length L is L symbols drawn uniformly from 8, each given to the network as a
# one-hot vector; the label is the first symbol. Guessing gives 1/8 = 12.5 %. To answer, the
# network has to store the first input in its state and keep it through L − 1 steps of
# unrelated inputs.

# %% [markdown] lang="es"
# ## 1. La tarea: recordar el primer símbolo
# Una secuencia de longitud L son L símbolos elegidos al azar entre 8, cada uno dado a la red
# como un vector one-hot; la etiqueta es el primer símbolo. Adivinar da 1/8 = 12,5 %. Para
# responder, la red tiene que guardar la primera entrada en su estado y conservarla durante
# L − 1 pasos de entradas que no tienen nada que ver.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from dlab.engine import EarlyStopping, Trainer
from dlab.sequences import RecurrentNet, gradient_through_time, remember_gate_bias


def recall_task(n: int, length: int, generator: torch.Generator):
    symbols = torch.randint(0, cfg.symbols, (n, length), generator=generator)
    return nn.functional.one_hot(symbols, cfg.symbols).float(), symbols[:, 0]


def task_splits(length: int) -> dict:
    generator = torch.Generator().manual_seed(1000 * ctx.seed + length)
    return {name: recall_task(n, length, generator)
            for name, n in (("train", cfg.n_train), ("val", cfg.n_val), ("test", cfg.n_test))}


example, label = recall_task(1, 12, torch.Generator().manual_seed(ctx.seed))
ctx.table([ctx.t("sequence (symbols)", "secuencia (símbolos)"), ctx.t("label", "etiqueta")],
          [[" ".join(str(int(s)) for s in example[0].argmax(-1)), int(label[0])]],
          title=ctx.t("One sequence of length 12", "Una secuencia de longitud 12"))

# %% [markdown] lang="en"
# ## 2. An LSTM step by hand
# The LSTM keeps two states: the cell c, a long-term memory, and the output h. Four blocks
# are computed from the input and the previous h: the input gate i, the forget gate f, the
# candidate g and the output gate o (PyTorch stacks them in that order in its weights). The
# new cell is c = f ⊙ c_prev + i ⊙ g: when f stays near 1, the old memory passes almost
# untouched, and so does its gradient.

# %% [markdown] lang="es"
# ## 2. Un paso de LSTM a mano
# La LSTM lleva dos estados: la celda c, una memoria de largo plazo, y la salida h. Con la
# entrada y el h anterior se calculan cuatro bloques: la compuerta de entrada i, la de olvido
# f, el candidato g y la compuerta de salida o (PyTorch los apila en ese orden en sus pesos).
# La celda nueva es c = f ⊙ c_prev + i ⊙ g: cuando f se mantiene cerca de 1, la memoria vieja
# pasa casi intacta, y su gradiente también.

# %% exercise="lstm_step"
def lstm_step(x_t: torch.Tensor, h_prev: torch.Tensor, c_prev: torch.Tensor,
              W_ih: torch.Tensor, W_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor):
    """[en] One LSTM step, laid out like `nn.LSTMCell`: `x_t` is (batch, inputs), `h_prev` and
    `c_prev` are (batch, hidden), `W_ih` is (4·hidden, inputs), `W_hh` is (4·hidden, hidden),
    the biases are (4·hidden,). Compute z = x_t W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh and split it
    into four equal blocks, in this order: input gate i, forget gate f, candidate g, output
    gate o. Then i, f, o go through a sigmoid and g through tanh;
    c = f ⊙ c_prev + i ⊙ g and h = o ⊙ tanh(c). Return the tuple `(h, c)`.

    [es] Un paso de LSTM, con la disposición de `nn.LSTMCell`: `x_t` es (batch, entradas),
    `h_prev` y `c_prev` son (batch, ocultas), `W_ih` es (4·ocultas, entradas), `W_hh` es
    (4·ocultas, ocultas) y los sesgos son (4·ocultas,). Calcula
    z = x_t W_ihᵀ + b_ih + h_prev W_hhᵀ + b_hh y pártelo en cuatro bloques iguales, en este
    orden: compuerta de entrada i, de olvido f, candidato g, compuerta de salida o. Después
    i, f, o pasan por una sigmoide y g por tanh; c = f ⊙ c_prev + i ⊙ g y h = o ⊙ tanh(c).
    Devuelve la tupla `(h, c)`.
    """
    z = x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh
    i, f, g, o = z.chunk(4, dim=-1)
    c = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


# %% check
import torch
from torch import nn

from dlab.exercises import expect


def _lstm_case():
    torch.manual_seed(0)
    cell = nn.LSTMCell(3, 4)
    return cell, torch.randn(5, 3), torch.randn(5, 4), torch.randn(5, 4)


@ctx.check("lstm_step")
def returns_h_and_c():
    cell, x, h, c = _lstm_case()
    out = lstm_step(x, h, c, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expect.true(isinstance(out, tuple) and len(out) == 2,
                "lstm_step should return a tuple (h, c).",
                "lstm_step debe devolver una tupla (h, c).")
    expect.shape(out[0], (5, 4), "h of lstm_step(x (5, 3), h (5, 4), c (5, 4), ...)")
    expect.shape(out[1], (5, 4), "c of lstm_step(x (5, 3), h (5, 4), c (5, 4), ...)")


@ctx.check("lstm_step")
def matches_torch_lstm_cell():
    cell, x, h, c = _lstm_case()
    new_h, new_c = lstm_step(x, h, c, cell.weight_ih, cell.weight_hh, cell.bias_ih,
                             cell.bias_hh)
    want_h, want_c = cell(x, (h, c))
    expect.close(new_c.detach(), want_c.detach(), "c of lstm_step(...) against nn.LSTMCell",
                 atol=1e-5)
    expect.close(new_h.detach(), want_h.detach(), "h of lstm_step(...) against nn.LSTMCell",
                 atol=1e-5)
    expect.true(new_h.requires_grad and new_c.requires_grad,
                "lstm_step's results are cut from the graph (.detach(), numpy or "
                "torch.no_grad()): the gradient could not travel back through time.",
                "Los resultados de lstm_step están separados del grafo (.detach(), numpy o "
                "torch.no_grad()): el gradiente no podría viajar hacia atrás en el tiempo.")


# %% [markdown] lang="en"
# ## 3. A GRU step by hand
# The GRU merges the cell into h and uses three blocks instead of four: a reset gate r, an
# update gate z and a new candidate n. PyTorch's convention: n = tanh(W_in x + b_in +
# r ⊙ (W_hn h_prev + b_hn)) and h = (1 − z) ⊙ n + z ⊙ h_prev, so z near 1 keeps the old state.
# Three blocks instead of four is where its 25 % saving in recurrent weights comes from.

# %% [markdown] lang="es"
# ## 3. Un paso de GRU a mano
# La GRU funde la celda en h y usa tres bloques en lugar de cuatro: la compuerta de reinicio
# r, la de actualización z y un candidato nuevo n. La convención de PyTorch: n = tanh(W_in x +
# b_in + r ⊙ (W_hn h_prev + b_hn)) y h = (1 − z) ⊙ n + z ⊙ h_prev, así que z cerca de 1
# conserva el estado viejo. Tres bloques en vez de cuatro es de donde sale su ahorro del 25 %
# en pesos recurrentes.

# %% exercise="gru_step"
def gru_step(x_t: torch.Tensor, h_prev: torch.Tensor, W_ih: torch.Tensor, W_hh: torch.Tensor,
             b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """[en] One GRU step, laid out like `nn.GRUCell`: `W_ih` is (3·hidden, inputs), `W_hh` is
    (3·hidden, hidden), the biases are (3·hidden,). Split a = x_t W_ihᵀ + b_ih and
    b = h_prev W_hhᵀ + b_hh each into three blocks (reset, update, new) in that order:
    r = sigmoid(a_r + b_r), z = sigmoid(a_z + b_z), n = tanh(a_n + r ⊙ b_n) — the reset gate
    multiplies the recurrent part only — and return h = (1 − z) ⊙ n + z ⊙ h_prev.

    [es] Un paso de GRU, con la disposición de `nn.GRUCell`: `W_ih` es (3·ocultas, entradas),
    `W_hh` es (3·ocultas, ocultas) y los sesgos son (3·ocultas,). Parte
    a = x_t W_ihᵀ + b_ih y b = h_prev W_hhᵀ + b_hh en tres bloques cada uno (reinicio,
    actualización, nuevo), en ese orden: r = sigmoid(a_r + b_r), z = sigmoid(a_z + b_z),
    n = tanh(a_n + r ⊙ b_n) — la compuerta de reinicio multiplica solo la parte recurrente — y
    devuelve h = (1 − z) ⊙ n + z ⊙ h_prev.
    """
    a_r, a_z, a_n = (x_t @ W_ih.T + b_ih).chunk(3, dim=-1)
    b_r, b_z, b_n = (h_prev @ W_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(a_r + b_r), torch.sigmoid(a_z + b_z)
    n = torch.tanh(a_n + r * b_n)
    return (1 - z) * n + z * h_prev


# %% check
import torch
from torch import nn

from dlab.exercises import expect


@ctx.check("gru_step")
def matches_torch_gru_cell():
    torch.manual_seed(0)
    cell = nn.GRUCell(3, 4)
    x, h = torch.randn(5, 3), torch.randn(5, 4)
    out = gru_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expect.type(out, torch.Tensor, "gru_step(...)")
    expect.shape(out, (5, 4), "gru_step(x (5, 3), h (5, 4), ...)")
    expect.close(out.detach(), cell(x, h).detach(), "gru_step(...) against nn.GRUCell",
                 atol=1e-5)
    expect.true(out.requires_grad,
                "gru_step's result is cut from the graph (.detach(), numpy or "
                "torch.no_grad()): the gradient could not travel back through time.",
                "El resultado de gru_step está separado del grafo (.detach(), numpy o "
                "torch.no_grad()): el gradiente no podría viajar hacia atrás en el tiempo.")


@ctx.check("gru_step")
def an_update_gate_at_one_keeps_the_state():
    torch.manual_seed(1)
    cell = nn.GRUCell(2, 3)
    with torch.no_grad():
        cell.bias_ih[3:6] = 50.0  # z = sigmoid(50) = 1: the state must pass unchanged
    x, h = torch.randn(4, 2), torch.randn(4, 3)
    out = gru_step(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    expect.close(out.detach(), h, "gru_step(...) when the update gate is 1 (expected h_prev)",
                 atol=1e-5)


# %% [markdown] lang="en"
# ## 4. Training at growing lengths
# For every length, the three networks (32 units each, a linear head on the last state) get
# the same data, the same Adam, the same gradient clipping at norm 5 and the same 1 000
# updates; early stopping on the validation loss keeps each one's best epoch. The gated
# layers start with their "keep" gate open (bias 3: sigmoid(3) ≈ 0.95 of the state kept per
# step), a standard initialization; a plain RNN has no such gate.

# %% [markdown] lang="es"
# ## 4. Entrenar con longitudes crecientes
# Para cada longitud, las tres redes (32 unidades cada una, una cabeza lineal sobre el último
# estado) reciben los mismos datos, el mismo Adam, el mismo recorte del gradiente a norma 5 y
# las mismas 1 000 actualizaciones; la parada temprana con la pérdida de validación conserva
# la mejor época de cada una. Las capas con compuertas empiezan con su compuerta de "conservar"
# abierta (sesgo 3: sigmoid(3) ≈ 0,95 del estado conservado por paso), una inicialización
# habitual; una RNN simple no tiene esa compuerta.

# %%
CELLS = ("rnn", "lstm", "gru")


def build(cell: str, seed: int) -> RecurrentNet:
    torch.manual_seed(seed)
    model = RecurrentNet(cell, cfg.symbols, cfg.hidden, cfg.symbols)
    if cell != "rnn":
        remember_gate_bias(model.rnn, cfg.remember_bias)
    return model


def train(model: RecurrentNet, data: dict) -> float:
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr),
                      metrics=["accuracy"], grad_clip=cfg.grad_clip,
                      callbacks=[EarlyStopping(patience=cfg.patience)],
                      **ctx.trainer_options(precision="fp32"))
    trainer.fit(data["train"], data["val"], epochs=cfg.epochs, batch_size=cfg.batch_size,
                seed=ctx.seed)
    return trainer.evaluate(data["test"])["accuracy"]


started = time.perf_counter()
accuracy = {cell: [] for cell in CELLS}
models = {}
for length in cfg.lengths:
    data = task_splits(length)
    for cell in CELLS:
        models[cell] = build(cell, ctx.seed)
        accuracy[cell].append(train(models[cell], data))
seconds_total = time.perf_counter() - started
params = {cell: sum(p.numel() for p in build(cell, ctx.seed).parameters()) for cell in CELLS}

ctx.table([ctx.t("length", "longitud"), "RNN", "LSTM", "GRU"],
          [[length, *(accuracy[cell][i] for cell in CELLS)]
           for i, length in enumerate(cfg.lengths)],
          title=ctx.t("Test accuracy (chance: 0.125)", "Exactitud en test (azar: 0,125)"))
ctx.table([ctx.t("network", "red"), ctx.t("parameters", "parámetros")],
          [[cell.upper(), params[cell]] for cell in CELLS])

fig, ax = plt.subplots(figsize=(7, 4))
for cell in CELLS:
    ax.plot(cfg.lengths, accuracy[cell], marker="o", label=f"{cell.upper()} ({params[cell]:,})")
ax.axhline(1 / cfg.symbols, color="k", linestyle="--", linewidth=1,
           label=ctx.t("chance", "azar"))
ax.set_xlabel(ctx.t("sequence length L", "longitud de la secuencia L"))
ax.set_ylabel(ctx.t("test accuracy", "exactitud en test"))
ax.set_ylim(0, 1.05)
ax.set_title(ctx.t("Recalling the first symbol", "Recordar el primer símbolo"))
ax.grid(alpha=0.3)
ax.legend(title=ctx.t("network (parameters)", "red (parámetros)"), fontsize=8)
ctx.figure("accuracy_vs_length", fig)

# %% [markdown] lang="en"
# ## 5. Where the gradient goes
# The three trained networks of the longest length, unrolled step by step (the RNN with
# `nn.RNN`, the LSTM with your `lstm_step`, the GRU with your `gru_step`), on 256 test
# sequences: how large is the gradient of the loss with respect to the state at each step,
# relative to the last step? In the RNN it dies out geometrically before it reaches the first
# step, the only one that matters; in the gated networks it arrives at full strength. (The
# LSTM's h carries little gradient in the middle: there its memory travels in the cell c.)

# %% [markdown] lang="es"
# ## 5. Adónde llega el gradiente
# Las tres redes entrenadas de la longitud más larga, desenrolladas paso a paso (la RNN con
# `nn.RNN`, la LSTM con tu `lstm_step`, la GRU con tu `gru_step`), sobre 256 secuencias de
# test: ¿qué tamaño tiene el gradiente de la pérdida respecto del estado en cada paso,
# relativo al último paso? En la RNN se apaga geométricamente antes de llegar al primer paso,
# el único que importa; en las redes con compuertas llega con toda su fuerza. (El h de la
# LSTM lleva poco gradiente en el medio: ahí su memoria viaja en la celda c.)

# %%
X_probe, y_probe = data["test"][0][:256], data["test"][1][:256]
zeros = torch.zeros(len(X_probe), cfg.hidden)


def weights(model: RecurrentNet) -> tuple:
    rnn = model.rnn
    return rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0


steps = {
    "rnn": (lambda x_t, h: models["rnn"].rnn(x_t[:, None], h[None])[1][0], zeros),
    "lstm": (lambda x_t, s: lstm_step(x_t, *s, *weights(models["lstm"])), (zeros, zeros)),
    "gru": (lambda x_t, h: gru_step(x_t, h, *weights(models["gru"])), zeros),
}
flow = {cell: gradient_through_time(step, X_probe, state, models[cell].head, y_probe,
                                    nn.CrossEntropyLoss())
        for cell, (step, state) in steps.items()}
flow = {cell: norms / norms[-1] for cell, norms in flow.items()}

fig, ax = plt.subplots(figsize=(7, 4))
for cell in CELLS:
    ax.semilogy(np.arange(1, len(flow[cell]) + 1), flow[cell], label=cell.upper())
ax.set_xlabel(ctx.t("time step t", "paso t"))
ax.set_ylabel("‖∂L/∂h_t‖ / ‖∂L/∂h_L‖")
ax.set_title(ctx.t(f"Gradient reaching each step (L = {cfg.lengths[-1]}, trained)",
                   f"Gradiente que llega a cada paso (L = {cfg.lengths[-1]}, entrenadas)"))
ax.grid(alpha=0.3, which="both")
ax.legend()
ctx.figure("gradient_through_time", fig)

# %%
only_gated = sum(r < 0.5 and l >= 0.9 and g >= 0.9
                 for r, l, g in zip(accuracy["rnn"], accuracy["lstm"], accuracy["gru"]))
ctx.finish({
    **{f"{cell}_accuracy": dict(zip(map(str, cfg.lengths), accuracy[cell])) for cell in CELLS},
    **{f"{cell}_parameters": params[cell] for cell in CELLS},
    "rnn_shortest_accuracy": accuracy["rnn"][0],
    "lengths_only_gated_solve": only_gated,
    "gru_parameter_saving": 1 - params["gru"] / params["lstm"],
    "gru_lstm_gap_longest": abs(accuracy["gru"][-1] - accuracy["lstm"][-1]),
    "gradient_first_over_last": {cell: float(flow[cell][0]) for cell in CELLS},
    "seconds_total": seconds_total,
})
