# %% [markdown] lang="en"
# A language model predicts the next token from the ones before it; trained on enough text,
# it can then write by sampling one token at a time and feeding it back. This lab does it at
# the smallest scale, one character at a time: a GRU reads Tiny Shakespeare (about a million
# characters of the plays), learns to predict each next character, and then writes 1 000
# characters after "ROMEO:" at three temperatures.

# %% [markdown] lang="es"
# Un modelo de lenguaje predice el siguiente token a partir de los anteriores; entrenado con
# suficiente texto, puede después escribir muestreando un token por vez y volviéndolo a
# entrar. Este laboratorio lo hace a la escala más chica, carácter a carácter: una GRU lee
# Tiny Shakespeare (cerca de un millón de caracteres de las obras), aprende a predecir cada
# carácter siguiente y después escribe 1 000 caracteres tras "ROMEO:" a tres temperaturas.

# %% spec
from dataclasses import dataclass, field

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_chars: int = 0        # 0 = the whole training split (quick mode uses a slice)
    val_chars: int = 0          # 0 = the whole validation split
    seq_len: int = 100
    embed: int = 64
    hidden: int = 256
    layers: int = 2
    epochs: int = 6
    batch_size: int = 64
    lr: float = 3e-3
    grad_clip: float = 5.0
    prompt: str = "ROMEO:"
    sample_chars: int = 1000
    temperatures: list = field(default_factory=lambda: [0.3, 0.7, 1.2])

    def check(self):
        positive(seq_len=self.seq_len, embed=self.embed, hidden=self.hidden,
                 layers=self.layers, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, grad_clip=self.grad_clip, sample_chars=self.sample_chars)
        if 0.7 not in self.temperatures:
            raise ValueError("temperatures must include 0.7 (the criteria read that sample)")


LAB = Lab(
    id="char-rnn",
    title_en="A character-level GRU language model writes Shakespeare",
    title_es="Un modelo de lenguaje GRU a nivel de carácter escribe Shakespeare",
    source="Part 2 · class 139 (homework)",
    block="part2-sequences",
    dataset="tiny_shakespeare (1.1 M characters, 65 symbols; contiguous 90/5/5 split)",
    criteria=(
        Criterion("val_loss", "<", 1.5,
                  "Validation loss < 1.5 nats per character (uniform guessing: ln 65 ≈ 4.17)",
                  "Pérdida de validación < 1.5 nats por carácter (adivinar uniforme: "
                  "ln 65 ≈ 4.17)"),
        Criterion("known_word_share_t07", ">=", 0.8,
                  "The sample at T = 0.7 is made of recognizable words: ≥ 80 % of its words "
                  "occur in the training text",
                  "La muestra a T = 0.7 está hecha de palabras reconocibles: ≥ 80 % de sus "
                  "palabras aparecen en el texto de entrenamiento"),
        Criterion("speaker_lines_t07", ">=", 2,
                  "The sample at T = 0.7 has the shape of a play: at least 2 speaker lines "
                  "(\"NAME:\")",
                  "La muestra a T = 0.7 tiene forma de obra de teatro: al menos 2 líneas de "
                  "personaje (\"NOMBRE:\")"),
    ),
    config=Config,
    quick={"train_chars": 40_000, "val_chars": 10_000, "hidden": 64, "layers": 1,
           "epochs": 1, "sample_chars": 200},
    timed=("train_seconds", "tokens_per_second"),
)

# %% [markdown] lang="en"
# ## 1. Characters as numbers
# The vocabulary is every distinct character of the text — 65 of them: letters, digits,
# punctuation, space and newline — each given an id. The text becomes one long sequence of
# ids, cut in time order: the first 90 % trains, the next 5 % validates, the last 5 % tests.

# %% [markdown] lang="es"
# ## 1. Caracteres como números
# El vocabulario son todos los caracteres distintos del texto — 65: letras, dígitos,
# puntuación, espacio y salto de línea — cada uno con un número. El texto se vuelve una larga
# secuencia de números, cortada en orden: el primer 90 % entrena, el 5 % siguiente valida y
# el último 5 % es de test.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch
from torch import nn

from dlab.data import load
from dlab.engine import LRScheduler, Trainer
from dlab.sequences import CharLanguageModel, generate
from dlab.sequences.lm import known_word_share, speaker_lines, words

data = load("tiny_shakespeare")
itos, stoi = data.info["vocab"], data.info["stoi"]
train_ids = data.train[:cfg.train_chars] if cfg.train_chars else data.train
val_ids = data.val[:cfg.val_chars] if cfg.val_chars else data.val


def decode(ids) -> str:
    return "".join(itos[int(i)] for i in ids)


ctx.table([ctx.t("vocabulary", "vocabulario"), ctx.t("train chars", "caracteres train"),
           ctx.t("val chars", "caracteres val"), ctx.t("test chars", "caracteres test"),
           ctx.t("uniform loss ln V", "pérdida uniforme ln V")],
          [[len(itos), len(train_ids), len(val_ids), len(data.test), math.log(len(itos))]])

# %% [markdown] lang="en"
# ## 2. Inputs and targets: the same text, shifted by one
# The text is cut into pieces of 100 characters. For each piece, the target at every position
# is the character that comes next, so one piece gives 100 predictions to learn from.

# %% [markdown] lang="es"
# ## 2. Entradas y objetivos: el mismo texto, corrido en uno
# El texto se corta en trozos de 100 caracteres. En cada trozo, el objetivo en cada posición
# es el carácter que viene a continuación, así que un trozo da 100 predicciones de las que
# aprender.

# %% exercise="make_sequences"
def make_sequences(ids: torch.Tensor, length: int):
    """[en] Cut the 1-D tensor of character ids `ids` into n = (len(ids) − 1) // length
    consecutive, non-overlapping pieces. Return `(X, Y)`, two (n, length) tensors: `X[i]` is
    `ids[i·length : (i+1)·length]` and `Y[i]` the same span shifted one character to the
    right, `ids[i·length + 1 : (i+1)·length + 1]` (each target is the next character).

    [es] Corta el tensor 1-D de números de carácter `ids` en n = (len(ids) − 1) // length
    trozos consecutivos que no se solapan. Devuelve `(X, Y)`, dos tensores (n, length):
    `X[i]` es `ids[i·length : (i+1)·length]` e `Y[i]` el mismo tramo corrido un carácter a la
    derecha, `ids[i·length + 1 : (i+1)·length + 1]` (cada objetivo es el carácter siguiente).
    """
    n = (len(ids) - 1) // length
    return ids[:n * length].view(n, length), ids[1:n * length + 1].view(n, length)


# %% check
import torch

from dlab.exercises import expect


@ctx.check("make_sequences")
def targets_are_the_next_characters():
    X, Y = make_sequences(torch.arange(11), 3)
    expect.shape(X, (3, 3), "make_sequences(torch.arange(11), 3)[0]")
    expect.shape(Y, (3, 3), "make_sequences(torch.arange(11), 3)[1]")
    expect.close(X, [[0, 1, 2], [3, 4, 5], [6, 7, 8]], "make_sequences(torch.arange(11), 3)[0]")
    expect.close(Y, [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "make_sequences(torch.arange(11), 3)[1]")


@ctx.check("make_sequences")
def the_last_target_must_exist():
    X, Y = make_sequences(torch.arange(9), 3)
    expect.shape(X, (2, 3), "make_sequences(torch.arange(9), 3)[0] (the 9th id has no "
                            "next character, so only 2 pieces fit)")
    expect.close(Y[-1], [4, 5, 6], "make_sequences(torch.arange(9), 3)[1][-1]")


# %%
train = make_sequences(train_ids, cfg.seq_len)
val = make_sequences(val_ids, cfg.seq_len)
test = make_sequences(data.test, cfg.seq_len)

# %% [markdown] lang="en"
# ## 3. The model and its training
# Each id is looked up in an embedding table (64 numbers per character), two GRU layers of
# 256 units read the sequence, and a linear layer gives 65 logits — one score per possible
# next character — at every position. The loss is the cross-entropy of the true next
# character, in nats: guessing uniformly costs ln 65 ≈ 4.17. Adam's learning rate decays along
# a cosine to a twentieth of its start, and the gradient norm is clipped at 5, the usual guard
# against the occasional explosion of a recurrent network. The weights are saved for later
# labs (the mini-GPT lab compares itself with this model).

# %% [markdown] lang="es"
# ## 3. El modelo y su entrenamiento
# Cada número se busca en una tabla de embeddings (64 números por carácter), dos capas GRU de
# 256 unidades leen la secuencia y una capa lineal da 65 logits — un puntaje por cada posible
# carácter siguiente — en cada posición. La pérdida es la entropía cruzada del carácter
# siguiente verdadero, en nats: adivinar uniforme cuesta ln 65 ≈ 4.17. La tasa de
# aprendizaje de Adam baja siguiendo un coseno hasta la vigésima parte de su valor inicial y
# la norma del gradiente se recorta en 5, la protección habitual contra alguna explosión de
# una red recurrente. Los pesos se guardan para laboratorios posteriores (el de mini-GPT se
# compara con este modelo).

# %%
model = CharLanguageModel(len(itos), cfg.embed, cfg.hidden, cfg.layers, cell="gru")
n_params = sum(p.numel() for p in model.parameters())
optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
steps = cfg.epochs * math.ceil(len(train[0]) / cfg.batch_size)
cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=cfg.lr / 20)
trainer = Trainer(model, optimizer, grad_clip=cfg.grad_clip,
                  callbacks=[LRScheduler(cosine, interval="step")], **ctx.trainer_options())


def fit(model) -> dict:
    started = time.perf_counter()
    history = trainer.fit(train, val, epochs=cfg.epochs, batch_size=cfg.batch_size,
                          seed=ctx.seed)
    seconds = time.perf_counter() - started
    return {"train_loss": history["loss"], "val_loss": history["val_loss"],
            "train_seconds": seconds,
            "tokens_per_second": cfg.epochs * train[0].numel() / seconds}


settings = {"vocab": len(itos), "embed": cfg.embed, "hidden": cfg.hidden,
            "layers": cfg.layers, "cell": "gru", "seq_len": cfg.seq_len, "epochs": cfg.epochs,
            "batch_size": cfg.batch_size, "lr": cfg.lr, "grad_clip": cfg.grad_clip,
            "train_chars": cfg.train_chars, "precision": trainer.precision}
shared = ctx.shared_model(model, "char-gru", settings, fit)
curves = shared["metrics"]
val_loss = trainer.evaluate(val)["loss"]

fig, ax = plt.subplots(figsize=(7, 4))
epochs = range(1, len(curves["train_loss"]) + 1)
ax.plot(epochs, curves["train_loss"], marker="o", label=ctx.t("train", "entrenamiento"))
ax.plot(epochs, curves["val_loss"], marker="o", label=ctx.t("validation", "validación"))
ax.axhline(math.log(len(itos)), color="k", linestyle="--", linewidth=1,
           label=ctx.t("uniform guess, ln 65", "adivinar uniforme, ln 65"))
ax.axhline(1.5, color="tab:red", linestyle=":", linewidth=1,
           label=ctx.t("course target 1.5", "objetivo del curso 1.5"))
ax.set_xlabel(ctx.t("epoch", "época"))
ax.set_ylabel(ctx.t("cross-entropy (nats / char)", "entropía cruzada (nats / carácter)"))
ax.set_title(ctx.t(f"GRU {cfg.layers}×{cfg.hidden}, {n_params:,} parameters",
                   f"GRU {cfg.layers}×{cfg.hidden}, {n_params:,} parámetros"))
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
ctx.figure("loss_curves", fig)

# %% [markdown] lang="en"
# ## 4. Sampling with a temperature
# To write, the model's 65 logits for the next character become probabilities, one character
# is drawn from them, appended, and fed back. Dividing the logits by a temperature T before
# the softmax changes the character of the text: T < 1 sharpens the distribution (safer,
# more repetitive), T > 1 flattens it (more varied, more mistakes).

# %% [markdown] lang="es"
# ## 4. Muestrear con temperatura
# Para escribir, los 65 logits del modelo para el carácter siguiente se vuelven
# probabilidades, se sortea un carácter con ellas, se agrega y se vuelve a entrar. Dividir los
# logits por una temperatura T antes de la softmax cambia el carácter del texto: T < 1 afila
# la distribución (más seguro, más repetitivo), T > 1 la aplana (más variado, más errores).

# %% exercise="temperature_probs"
def temperature_probs(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """[en] Turn `logits` (any shape; the scores are along the last dimension) into
    probabilities at temperature `temperature` > 0: softmax(logits / temperature) over the
    last dimension. The result has the shape of `logits` and sums to 1 along the last
    dimension.

    [es] Convierte `logits` (de cualquier forma; los puntajes van en la última dimensión) en
    probabilidades a temperatura `temperature` > 0: softmax(logits / temperature) sobre la
    última dimensión. El resultado tiene la forma de `logits` y suma 1 a lo largo de la
    última dimensión.
    """
    return torch.softmax(logits / temperature, dim=-1)


# %% check
import torch

from dlab.exercises import expect


@ctx.check("temperature_probs")
def is_a_softmax_of_scaled_logits():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0], [0.5, 0.5, 3.0, 0.0]])
    for t in (1.0, 0.5, 2.0):
        expect.close(temperature_probs(logits, t), torch.softmax(logits / t, dim=-1),
                     f"temperature_probs(logits (2, 4), {t})", atol=1e-6)


@ctx.check("temperature_probs")
def low_temperature_concentrates_the_mass():
    logits = torch.tensor([1.0, 2.0, 3.0])
    cold, hot = temperature_probs(logits, 0.1), temperature_probs(logits, 10.0)
    expect.true(float(cold[2]) > 0.99 and float(hot.max() - hot.min()) < 0.1,
                "At T = 0.1 almost all the probability should go to the largest logit, and at "
                "T = 10 the probabilities should be nearly equal.",
                "Con T = 0.1 casi toda la probabilidad debería ir al logit más grande, y con "
                "T = 10 las probabilidades deberían ser casi iguales.")


# %%
training_words = set(words(decode(train_ids)))
prompt = [stoi[c] for c in cfg.prompt]
model.eval()
samples = {}
for temperature in cfg.temperatures:
    generator = torch.Generator().manual_seed(ctx.seed)
    new = generate(model.step, prompt, cfg.sample_chars, temperature, generator,
                   probabilities=temperature_probs)
    samples[str(temperature)] = cfg.prompt + decode(new)
ctx.table(["T", ctx.t("known words", "palabras conocidas"),
           ctx.t("speaker lines", "líneas de personaje"), ctx.t("sample", "muestra")],
          [[t, known_word_share(text, training_words), speaker_lines(text), text]
           for t, text in samples.items()])

# %% [markdown] lang="en"
# At T = 0.3 the model keeps to its safest paths and tends to repeat itself; at 1.2 it
# invents words and loses the layout; 0.7 is usually the best compromise. The share of known
# words and the number of speaker lines put numbers on what the eye sees.
#
# ## 5. The test split, once

# %% [markdown] lang="es"
# Con T = 0.3 el modelo sigue sus caminos más seguros y tiende a repetirse; con 1.2 inventa
# palabras y pierde la disposición; 0.7 suele ser el mejor compromiso. La proporción de
# palabras conocidas y el número de líneas de personaje ponen en números lo que ve el ojo.
#
# ## 5. La partición de test, una vez

# %%
test_loss = trainer.evaluate(test)["loss"]
ctx.finish({
    "val_loss": val_loss,
    "test_loss": test_loss,
    "uniform_loss": math.log(len(itos)),
    "parameters": n_params,
    "epochs": cfg.epochs,
    "known_word_share_t07": known_word_share(samples["0.7"], training_words),
    "speaker_lines_t07": speaker_lines(samples["0.7"]),
    "samples": samples,
    "train_seconds": curves["train_seconds"],
    "tokens_per_second": curves["tokens_per_second"],
})
