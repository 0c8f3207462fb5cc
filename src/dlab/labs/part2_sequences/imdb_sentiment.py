# %% [markdown] lang="en"
# Is a movie review positive or negative? This lab turns 50 000 IMDB reviews into numbers
# with a tokenizer and a vocabulary of our own, then compares four networks that read those
# numbers in different ways — averaging word vectors, a dense layer over all positions, a 1-D
# convolution that spots short phrases, and a bidirectional LSTM that reads the review both
# ways — against the classic recipe: TF-IDF features and logistic regression.

# %% [markdown] lang="es"
# ¿Una reseña de película es positiva o negativa? Este laboratorio convierte 50 000 reseñas
# de IMDB en números con un tokenizador y un vocabulario propios y después compara cuatro
# redes que leen esos números de maneras distintas — promediar vectores de palabras, una capa
# densa sobre todas las posiciones, una convolución 1-D que detecta frases cortas y una LSTM
# bidireccional que lee la reseña en ambos sentidos — contra la receta clásica: rasgos TF-IDF
# y regresión logística.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import ConfigError, positive


@dataclass
class Config:
    train_reviews: int = 0      # 0 = all 20 000 training reviews (quick mode uses fewer)
    eval_reviews: int = 0       # 0 = all validation and test reviews
    max_tokens: int = 20_000
    length: int = 400
    embed: int = 128
    units: int = 64
    filters: int = 64
    kernel: int = 5
    embed_dropout: float = 0.3  # BiLSTM only
    epochs: int = 8             # early stopping (patience 2) ends most models sooner
    patience: int = 2
    batch_size: int = 64
    lr: float = 2e-3

    def check(self):
        positive(max_tokens=self.max_tokens, length=self.length, embed=self.embed,
                 units=self.units, filters=self.filters, kernel=self.kernel,
                 epochs=self.epochs, patience=self.patience, batch_size=self.batch_size,
                 lr=self.lr)
        if not 0 <= self.embed_dropout < 1:
            raise ConfigError(f"Setting 'embed_dropout' must be in [0, 1), got "
                              f"{self.embed_dropout}.")


LAB = Lab(
    id="imdb-sentiment",
    title_en="IMDB sentiment: bag of embeddings, dense, 1-D CNN and BiLSTM vs TF-IDF",
    title_es="Sentimiento en IMDB: bolsa de embeddings, densa, CNN 1-D y BiLSTM vs TF-IDF",
    source="Part 2 · classes 137 and 140 (homework)",
    block="part2-sequences",
    dataset="imdb (official 25k train minus a seeded 5k validation; official 25k test)",
    criteria=(
        Criterion("best_deep_accuracy", ">=", 0.88,
                  "The best deep model reaches test accuracy ≥ 0.88",
                  "El mejor modelo profundo alcanza exactitud en test ≥ 0.88"),
        Criterion("bilstm_accuracy", ">=", 0.85,
                  "Bidirectional LSTM test accuracy ≥ 0.85",
                  "Exactitud en test de la LSTM bidireccional ≥ 0.85"),
        Criterion("bilstm_over_dense", ">=", 0.02,
                  "The BiLSTM is clearly above the dense baseline (embeddings → flatten → "
                  "dense): at least 2 points of test accuracy more",
                  "La BiLSTM supera claramente a la referencia densa (embeddings → aplanar → "
                  "densa): al menos 2 puntos más de exactitud en test"),
    ),
    config=Config,
    quick={"train_reviews": 1000, "eval_reviews": 300, "max_tokens": 3000, "length": 40,
           "embed": 16, "units": 8, "filters": 8, "epochs": 1},
    timed=("seconds_per_epoch",),
)

# %% [markdown] lang="en"
# ## 1. From text to tokens
# A review is lower-cased, its HTML line breaks removed, and cut into tokens: runs of letters,
# digits and apostrophes, plus "!" and "?" which carry feeling. The validation reviews choose
# nothing here but keep the test set untouched until the end.

# %% [markdown] lang="es"
# ## 1. Del texto a los tokens
# Una reseña se pasa a minúsculas, se le quitan los saltos de línea HTML y se corta en tokens:
# secuencias de letras, dígitos y apóstrofos, más "!" y "?", que llevan emoción. Las reseñas
# de validación no eligen nada aquí, pero dejan intacto el conjunto de test hasta el final.

# %%
import re
import time
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from torch import nn

from dlab.data import load
from dlab.data.buckets import LengthBuckets
from dlab.engine import EarlyStopping, Trainer

data = load("imdb", seed=ctx.seed)


def subset(split, n: int, generator: torch.Generator):
    """A seeded random subset of n reviews (the files are sorted by label: never take the
    first n)."""
    texts, labels = split
    if not n:
        return texts, labels
    pick = torch.randperm(len(labels), generator=generator)[:n]
    return [texts[i] for i in pick], labels[pick]


generator = torch.Generator().manual_seed(ctx.seed)
splits = {"train": subset(data.train, cfg.train_reviews, generator),
          "val": subset(data.val, cfg.eval_reviews, generator),
          "test": subset(data.test, cfg.eval_reviews, generator)}
TOKEN = re.compile(r"[a-z0-9']+|[!?]")


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(text.lower().replace("<br />", " "))


tokens = {name: [tokenize(t) for t in texts] for name, (texts, _) in splits.items()}
lengths = np.array([len(t) for t in tokens["train"]])
ctx.table([ctx.t("split", "partición"), ctx.t("reviews", "reseñas"),
           ctx.t("positive share", "proporción positiva")],
          [[name, len(labels), float(labels.float().mean())]
           for name, (_, labels) in splits.items()])
ctx.table([ctx.t("tokens per training review", "tokens por reseña de entrenamiento"),
           ctx.t("median", "mediana"), ctx.t("90th percentile", "percentil 90"),
           ctx.t(f"share longer than {cfg.length}", f"proporción con más de {cfg.length}")],
          [["", float(np.median(lengths)), float(np.percentile(lengths, 90)),
            float((lengths > cfg.length).mean())]])

# %% [markdown] lang="en"
# ## 2. A vocabulary of the 20 000 most frequent tokens
# Counted on the training reviews only. Id 0 is reserved for padding and id 1 for every token
# outside the vocabulary; the rest go to the most frequent tokens, most frequent first.

# %% [markdown] lang="es"
# ## 2. Un vocabulario con los 20 000 tokens más frecuentes
# Contados solo en las reseñas de entrenamiento. El id 0 queda reservado para el relleno y el
# id 1 para todo token fuera del vocabulario; el resto va a los tokens más frecuentes, del más
# frecuente al menos.

# %% exercise="build_vocabulary"
def build_vocabulary(documents: list, max_tokens: int) -> dict:
    """[en] `documents` is a list of token lists. Return a dict token → id with exactly
    min(max_tokens, 2 + number of distinct tokens) entries: "<pad>" → 0, "<unk>" → 1, then the
    most frequent tokens of `documents` with ids 2, 3, … in order of decreasing count; ties
    are broken alphabetically, so the vocabulary never depends on the order of the documents.

    [es] `documents` es una lista de listas de tokens. Devuelve un dict token → id con
    exactamente min(max_tokens, 2 + número de tokens distintos) entradas: "<pad>" → 0,
    "<unk>" → 1 y después los tokens más frecuentes de `documents` con ids 2, 3, … en orden de
    frecuencia decreciente; los empates se resuelven alfabéticamente, así el vocabulario nunca
    depende del orden de los documentos.
    """
    counts = Counter(token for doc in documents for token in doc)
    ranked = sorted(counts, key=lambda token: (-counts[token], token))[:max_tokens - 2]
    return {"<pad>": 0, "<unk>": 1, **{token: i + 2 for i, token in enumerate(ranked)}}


# %% check
from dlab.exercises import expect


@ctx.check("build_vocabulary")
def specials_first_then_by_frequency():
    docs = [["b", "a", "b"], ["c", "b", "a"], ["d"]]
    vocab = build_vocabulary(docs, 10)
    expect.equal(vocab, {"<pad>": 0, "<unk>": 1, "b": 2, "a": 3, "c": 4, "d": 5},
                 "build_vocabulary([['b', 'a', 'b'], ['c', 'b', 'a'], ['d']], 10)")


@ctx.check("build_vocabulary")
def keeps_max_tokens_entries_and_breaks_ties_alphabetically():
    docs = [["z", "y", "x", "w"], ["w", "x"]]
    vocab = build_vocabulary(docs, 4)
    expect.equal(vocab, {"<pad>": 0, "<unk>": 1, "w": 2, "x": 3},
                 "build_vocabulary([['z', 'y', 'x', 'w'], ['w', 'x']], 4)")
    expect.equal(build_vocabulary(list(reversed(docs)), 4), vocab,
                 "build_vocabulary of the same documents in reverse order")


# %% [markdown] lang="en"
# ## 3. Every review as 400 ids
# Networks take tensors of one shape, so every review becomes exactly 400 ids: a longer one
# keeps its last 400 tokens (where a reviewer usually sums up), a shorter one is filled up
# with 0 at the start, so that the real text always ends at the last position. The embedding
# layer will turn each id into a learnt vector. Why 400 and not the usual 200? Here half the
# reviews have more than 175 tokens and one in ten more than 450: cutting at 200 throws away
# about a third of all the words, cutting at 400 about a tenth. On the validation reviews the
# longer cut was worth close to 1 point for the bag of embeddings (and nothing for the BiLSTM
# on its own: it needed the dropout of section 5).

# %% [markdown] lang="es"
# ## 3. Cada reseña como 400 ids
# Las redes reciben tensores de una sola forma, así que cada reseña se vuelve exactamente 400
# ids: una más larga conserva sus últimos 400 tokens (donde quien reseña suele resumir), una
# más corta se completa con 0 al principio, así el texto real siempre termina en la última
# posición. La capa de embeddings convertirá cada id en un vector aprendido. ¿Por qué 400 y no
# los 200 habituales? Aquí la mitad de las reseñas tiene más de 175 tokens y una de cada diez
# más de 450: cortar en 200 descarta cerca de un tercio de todas las palabras, cortar en 400
# cerca de una décima parte. En las reseñas de validación el corte más largo valió casi 1
# punto para la bolsa de embeddings (y nada para la BiLSTM por sí solo: ella necesitó el
# dropout de la sección 5).

# %% exercise="encode"
def encode(tokens: list, vocabulary: dict, length: int) -> list:
    """[en] Turn one review's token list into exactly `length` ids: keep only its last
    `length` tokens, map each token to `vocabulary[token]` or to 1 (unknown) when it is not in
    the vocabulary, and put 0s (padding) at the start up to `length`, so that the review's
    last token is always the last id. Return a list of ints.

    [es] Convierte la lista de tokens de una reseña en exactamente `length` ids: conserva solo
    sus últimos `length` tokens, cambia cada token por `vocabulary[token]` o por 1
    (desconocido) si no está en el vocabulario, y pon 0 (relleno) al principio hasta `length`,
    así el último token de la reseña es siempre el último id. Devuelve una lista de enteros.
    """
    ids = [vocabulary.get(token, 1) for token in tokens[-length:]]
    return [0] * (length - len(ids)) + ids


# %% check
from dlab.exercises import expect


@ctx.check("encode")
def pads_at_the_start_and_marks_unknown_tokens():
    vocab = {"<pad>": 0, "<unk>": 1, "good": 2, "film": 3}
    expect.equal(encode(["good", "odd", "film"], vocab, 5), [0, 0, 2, 1, 3],
                 "encode(['good', 'odd', 'film'], vocab, 5)")


@ctx.check("encode")
def keeps_the_last_tokens_of_a_long_review():
    vocab = {"<pad>": 0, "<unk>": 1, "a": 2, "b": 3, "c": 4}
    expect.equal(encode(["a", "b", "c", "a", "b"], vocab, 3), [4, 2, 3],
                 "encode(['a', 'b', 'c', 'a', 'b'], vocab, 3)")
    expect.equal(encode([], vocab, 2), [0, 0], "encode([], vocab, 2)")


# %%
vocabulary = build_vocabulary(tokens["train"], cfg.max_tokens)
tensors = {name: (torch.tensor([encode(t, vocabulary, cfg.length) for t in tokens[name]]),
                  splits[name][1])
           for name in splits}
unknown = float((tensors["test"][0] == 1).sum() / (tensors["test"][0] > 0).sum())
ctx.table([ctx.t("vocabulary", "vocabulario"), ctx.t("test tokens unknown", "tokens de test "
                                                                            "desconocidos")],
          [[len(vocabulary), unknown]])

# %% [markdown] lang="en"
# ## 4. The classic baseline: TF-IDF + logistic regression
# Each review becomes a sparse vector of word and word-pair weights (frequent in this review,
# rare across reviews = high weight), fed to a logistic regression. It sees the whole review,
# not just 400 tokens, and no word order beyond pairs.

# %% [markdown] lang="es"
# ## 4. La referencia clásica: TF-IDF + regresión logística
# Cada reseña se vuelve un vector disperso de pesos de palabras y pares de palabras (frecuente
# en esta reseña y rara entre las reseñas = peso alto), que entra a una regresión logística. Ve
# la reseña entera, no solo 400 tokens, y ningún orden de palabras más allá de los pares.

# %%
tfidf = TfidfVectorizer(tokenizer=tokenize, token_pattern=None, lowercase=False,
                        ngram_range=(1, 2), min_df=2, max_features=100_000, sublinear_tf=True)
features = tfidf.fit_transform(splits["train"][0])
logistic = LogisticRegression(C=4.0, max_iter=1000).fit(features, splits["train"][1].numpy())

# %% [markdown] lang="en"
# ## 5. Four networks over the same embeddings
# All four start with an embedding table (20 000 × 128) and end with two logits.
# **Bag of embeddings**: the mean of the review's word vectors (padding left out) — word order
# is lost. **Dense**: all 400 vectors side by side into one dense layer — order is kept but
# every position has its own weights. **1-D CNN**: 64 filters slide over 5 words at a time and
# keep each filter's strongest match anywhere in the review. **BiLSTM**: an LSTM of 64 units
# reads the review forwards, another backwards, and their final states are joined: the
# forward one after the last token, the backward one after the first real token (the padding
# comes before it, so the backward reader never has to cross it). Its embeddings pass through
# dropout (30 %) while it trains: without it, it learnt the training reviews by heart
# (training loss 0.05 by epoch 6) and its validation accuracy never passed 0.856. An LSTM pays for every position it reads, padding
# included, so it gets its batches from `LengthBuckets`: reviews of similar length together,
# each batch cut to its longest review — 400 tokens then cost about what 200 cost before.
# Each network trains with Adam for at most 8 epochs and keeps the epoch with the best
# validation accuracy (early stopping with patience 2).

# %% [markdown] lang="es"
# ## 5. Cuatro redes sobre los mismos embeddings
# Las cuatro empiezan con una tabla de embeddings (20 000 × 128) y terminan con dos logits.
# **Bolsa de embeddings**: el promedio de los vectores de las palabras de la reseña (sin el
# relleno) — se pierde el orden. **Densa**: los 400 vectores uno al lado del otro hacia una
# capa densa — se conserva el orden pero cada posición tiene sus propios pesos. **CNN 1-D**: 64
# filtros se deslizan sobre 5 palabras a la vez y guardan la coincidencia más fuerte de cada
# filtro en cualquier parte de la reseña. **BiLSTM**: una LSTM de 64 unidades lee la reseña
# hacia adelante y otra hacia atrás, y se unen sus estados finales: el de la primera tras el
# último token, el de la segunda tras el primer token real (el relleno va antes, así que la
# lectora hacia atrás nunca tiene que atravesarlo). Sus embeddings pasan por dropout (30 %)
# mientras entrena: sin él, se aprendía de memoria las reseñas de entrenamiento (pérdida de
# entrenamiento 0.05 en la época 6) y su exactitud de validación nunca pasó de 0.856. Una LSTM paga por cada posición que lee,
# relleno incluido, así que recibe sus lotes de `LengthBuckets`: reseñas de largo parecido
# juntas y cada lote cortado a su reseña más larga — así 400 tokens cuestan más o menos lo que
# antes costaban 200. Cada red entrena con Adam durante 8 épocas como máximo y conserva la
# época con mejor exactitud de validación (parada temprana con paciencia 2).

# %%
class BagOfEmbeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(vocabulary), cfg.embed, padding_idx=0)
        self.out = nn.Linear(cfg.embed, 2)

    def forward(self, ids):
        mask = (ids > 0).unsqueeze(-1).float()
        mean = (self.embed(ids) * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.out(mean)


class DenseOverPositions(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(vocabulary), cfg.embed, padding_idx=0)
        self.out = nn.Sequential(nn.Flatten(), nn.Linear(cfg.length * cfg.embed, cfg.units),
                                 nn.ReLU(), nn.Linear(cfg.units, 2))

    def forward(self, ids):
        return self.out(self.embed(ids))


class TextCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(vocabulary), cfg.embed, padding_idx=0)
        self.conv = nn.Conv1d(cfg.embed, cfg.filters, cfg.kernel)
        self.out = nn.Linear(cfg.filters, 2)

    def forward(self, ids):
        h = torch.relu(self.conv(self.embed(ids).transpose(1, 2)))
        return self.out(h.amax(dim=-1))


class BiLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(len(vocabulary), cfg.embed, padding_idx=0)
        self.dropout = nn.Dropout(cfg.embed_dropout)
        self.lstm = nn.LSTM(cfg.embed, cfg.units, batch_first=True, bidirectional=True)
        self.out = nn.Sequential(nn.Linear(2 * cfg.units, cfg.units), nn.ReLU(),
                                 nn.Linear(cfg.units, 2))

    def forward(self, ids):
        # Padding comes first (see `encode`): the forward reader ends on the last token, the
        # backward one is read where it has just taken in the first real token. (Packing the
        # sequences would skip the padding too, but ran 3-4x slower on this CPU.)
        out, _ = self.lstm(self.dropout(self.embed(ids)))  # (batch, time, 2 · units)
        first = (ids == 0).sum(1).clamp(max=ids.shape[1] - 1)
        backward = out[torch.arange(len(ids)), first, cfg.units:]
        return self.out(torch.cat([out[:, -1, :cfg.units], backward], dim=1))


MODELS = {"bag": BagOfEmbeddings, "dense": DenseOverPositions, "cnn": TextCNN,
          "bilstm": BiLSTM}
LABELS = {"tfidf": ctx.t("TF-IDF + logistic regression", "TF-IDF + regresión logística"),
          "bag": ctx.t("bag of embeddings", "bolsa de embeddings"),
          "dense": ctx.t("dense over positions", "densa sobre posiciones"),
          "cnn": ctx.t("1-D CNN", "CNN 1-D"), "bilstm": "BiLSTM"}


def batches_for(name: str, split: str):
    """The BiLSTM reads length buckets; the others take the tensors as they are."""
    if name != "bilstm":
        return tensors[split]
    return LengthBuckets(*tensors[split], batch_size=cfg.batch_size if split == "train" else 256,
                         shuffle=split == "train", seed=ctx.seed)


trainers, histories, seconds_per_epoch = {}, {}, {}
for name, build in MODELS.items():
    torch.manual_seed(ctx.seed)
    model = build()
    trainers[name] = Trainer(model, torch.optim.Adam(model.parameters(), lr=cfg.lr),
                             metrics=["accuracy"],
                             callbacks=[EarlyStopping("val_accuracy", patience=cfg.patience,
                                                      mode="max")],
                             **ctx.trainer_options())
    started = time.perf_counter()
    histories[name] = trainers[name].fit(batches_for(name, "train"), batches_for(name, "val"),
                                         epochs=cfg.epochs, batch_size=cfg.batch_size,
                                         seed=ctx.seed)
    seconds_per_epoch[name] = (time.perf_counter() - started) / len(histories[name])

# %% [markdown] lang="en"
# ## 6. The test set, once

# %% [markdown] lang="es"
# ## 6. El conjunto de test, una vez

# %%
accuracy = {"tfidf": float(logistic.score(tfidf.transform(splits["test"][0]),
                                          splits["test"][1].numpy()))}
accuracy.update({name: trainers[name].evaluate(batches_for(name, "test"))["accuracy"]
                 for name in MODELS})
params = {name: sum(p.numel() for p in trainers[name].model.parameters()) for name in MODELS}
ctx.table([ctx.t("model", "modelo"), ctx.t("test accuracy", "exactitud en test"),
           ctx.t("best val accuracy", "mejor exactitud val"), ctx.t("parameters", "parámetros"),
           ctx.t("s / epoch", "s / época")],
          [[LABELS["tfidf"], accuracy["tfidf"], "", features.shape[1] + 1, ""]]
          + [[LABELS[n], accuracy[n], max(histories[n]["val_accuracy"]), params[n],
              seconds_per_epoch[n]] for n in MODELS])

fig, ax = plt.subplots(figsize=(8, 4))
names = list(accuracy)
bars = ax.barh([LABELS[n] for n in names], [accuracy[n] for n in names], color="tab:blue")
bars[0].set_color("0.5")
for bar, name in zip(bars, names):
    ax.text(bar.get_width() + 0.002, bar.get_y() + bar.get_height() / 2,
            f"{accuracy[name]:.3f}", va="center", fontsize=9)
ax.axvline(0.88, color="tab:red", linestyle=":", label=ctx.t("course target 0.88",
                                                              "objetivo del curso 0.88"))
ax.set_xlim(min(0.5, min(accuracy.values()) - 0.02), 1.0)
ax.set_xlabel(ctx.t("test accuracy", "exactitud en test"))
ax.legend(fontsize=8, loc="lower right")
ax.grid(alpha=0.3, axis="x")
ctx.figure("test_accuracy", fig)

# %%
deep = {name: accuracy[name] for name in MODELS}
ctx.finish({
    "test_accuracy": accuracy,
    "best_deep_model": max(deep, key=deep.get),
    "best_deep_accuracy": max(deep.values()),
    "bilstm_accuracy": accuracy["bilstm"],
    "bilstm_over_dense": accuracy["bilstm"] - accuracy["dense"],
    "bilstm_over_bag": accuracy["bilstm"] - accuracy["bag"],
    "parameters": params,
    "seconds_per_epoch": seconds_per_epoch,
})
