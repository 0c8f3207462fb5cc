# %% [markdown] lang="en"
# Translation turns a sentence of one length into a sentence of another. An encoder–decoder
# does it with two recurrent networks: the encoder reads the English sentence into a state,
# the decoder writes the Spanish one word by word from that state. This lab trains that
# model on short Tatoeba sentence pairs, then the same model with attention, which lets
# every decoding step look back at all the encoder's states instead of one summary, and
# measures both with BLEU on sentences neither has seen.

# %% [markdown] lang="es"
# Traducir convierte una oración de un largo en otra de otro largo. Un codificador–
# decodificador lo hace con dos redes recurrentes: el codificador lee la oración en inglés y
# la resume en un estado; el decodificador escribe la oración en español palabra a palabra a
# partir de ese estado. Este laboratorio entrena ese modelo con pares de oraciones cortas de
# Tatoeba, después el mismo modelo con atención, que deja a cada paso del decodificador mirar
# todos los estados del codificador en lugar de un único resumen, y mide ambos con BLEU en
# oraciones que ninguno vio.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_pairs: int = 40_000   # seeded subset of the short training pairs
    eval_pairs: int = 1_000     # validation and test pairs translated for BLEU
    max_words: int = 8          # both sentences have at most this many tokens
    src_vocab: int = 4_000
    tgt_vocab: int = 6_000
    embed: int = 128
    hidden: int = 256
    epochs: int = 5
    batch_size: int = 128
    lr: float = 3e-3
    grad_clip: float = 1.0
    beam_width: int = 4         # candidates kept by the beam search of section 6

    def check(self):
        positive(train_pairs=self.train_pairs, eval_pairs=self.eval_pairs,
                 max_words=self.max_words, src_vocab=self.src_vocab, tgt_vocab=self.tgt_vocab,
                 embed=self.embed, hidden=self.hidden, epochs=self.epochs,
                 batch_size=self.batch_size, lr=self.lr, grad_clip=self.grad_clip,
                 beam_width=self.beam_width)


LAB = Lab(
    id="translation",
    title_en="English → Spanish with an LSTM encoder–decoder, without and with attention",
    title_es="Inglés → español con un codificador–decodificador LSTM, sin y con atención",
    source="Part 2 · classes 141 and 142 (homework)",
    block="part2-sequences",
    dataset="spa_eng (Tatoeba pairs; seeded 80/10/10 split, sentences of ≤ 8 tokens)",
    criteria=(
        Criterion("bleu_plain", ">", 10,
                  "Test BLEU of the encoder–decoder without attention > 10 (sacrebleu)",
                  "BLEU en test del codificador–decodificador sin atención > 10 (sacrebleu)"),
        Criterion("attention_gain", ">=", 5,
                  "Attention improves test BLEU by at least 5 points",
                  "La atención mejora el BLEU en test en al menos 5 puntos"),
    ),
    config=Config,
    quick={"train_pairs": 2_000, "eval_pairs": 100, "src_vocab": 500, "tgt_vocab": 500,
           "embed": 32, "hidden": 48, "epochs": 1},
    timed=("seconds_per_epoch_plain", "seconds_per_epoch_attention"),
)

# %% [markdown] lang="en"
# ## 1. Sentence pairs, words and ids
# Sentences are lower-cased and cut into words and punctuation marks ("¿", "?" count as
# words). Only pairs where both sides have at most 8 tokens are kept: short sentences keep
# the lab within a few minutes of CPU. Each language gets its own vocabulary of its most
# frequent training words; ids 0–3 are padding, unknown word, start and end of sentence.

# %% [markdown] lang="es"
# ## 1. Pares de oraciones, palabras e ids
# Las oraciones se pasan a minúsculas y se cortan en palabras y signos ("¿", "?" cuentan como
# palabras). Solo quedan los pares con 8 tokens o menos en ambos lados: las oraciones cortas
# mantienen el laboratorio en pocos minutos de CPU. Cada idioma tiene su propio vocabulario con
# sus palabras de entrenamiento más frecuentes; los ids 0–3 son relleno, palabra desconocida,
# inicio y fin de oración.

# %%
import time
from functools import partial

import matplotlib.pyplot as plt
import sacrebleu
import torch
from torch import nn

from dlab.data import load
from dlab.engine import LRScheduler, Trainer
from dlab.sequences.beam import beam_search
from dlab.sequences.seq2seq import (BOS, PAD, Seq2Seq, Vocabulary, pad_left, pad_targets,
                                    tokenize)

data = load("spa_eng", seed=ctx.seed)


def short_pairs(pairs, n: int, generator: torch.Generator):
    tokens = [(tokenize(en), tokenize(es)) for en, es in pairs]
    kept = [p for p in tokens if 0 < len(p[0]) <= cfg.max_words and 0 < len(p[1]) <= cfg.max_words]
    pick = torch.randperm(len(kept), generator=generator)[:n]
    return [kept[i] for i in pick]


generator = torch.Generator().manual_seed(ctx.seed)
pairs = {"train": short_pairs(data.train, cfg.train_pairs, generator),
         "val": short_pairs(data.val, cfg.eval_pairs, generator),
         "test": short_pairs(data.test, cfg.eval_pairs, generator)}
src_vocab = Vocabulary([en for en, _ in pairs["train"]], cfg.src_vocab)
tgt_vocab = Vocabulary([es for _, es in pairs["train"]], cfg.tgt_vocab)
ctx.table([ctx.t("split", "partición"), ctx.t("pairs", "pares"), ctx.t("example", "ejemplo")],
          [[name, len(p), " ".join(p[0][0]) + "  →  " + " ".join(p[0][1])]
           for name, p in pairs.items()])
ctx.table([ctx.t("English vocabulary", "vocabulario inglés"),
           ctx.t("Spanish vocabulary", "vocabulario español")],
          [[len(src_vocab), len(tgt_vocab)]])

# %% [markdown] lang="en"
# ## 2. Teacher forcing
# While training, the decoder does not read its own guesses: at every step it reads the
# correct previous word and learns to predict the next one. Its inputs are therefore the
# target sentence shifted one place to the right, starting with the start-of-sentence id;
# its targets are the sentence followed by the end-of-sentence id.

# %% [markdown] lang="es"
# ## 2. Teacher forcing
# Al entrenar, el decodificador no lee sus propias conjeturas: en cada paso lee la palabra
# anterior correcta y aprende a predecir la siguiente. Sus entradas son entonces la oración
# objetivo corrida un lugar a la derecha, empezando por el id de inicio de oración; sus
# objetivos son la oración seguida del id de fin de oración.

# %% exercise="decoder_inputs"
def decoder_inputs(targets: torch.Tensor, bos: int) -> torch.Tensor:
    """[en] `targets` is a (batch, T) tensor of target ids (each row: the sentence, the
    end id, then padding). Return the decoder's teacher-forcing inputs, also (batch, T): a
    column filled with `bos` followed by `targets` without its last column (each input is
    the word before the one to predict).

    [es] `targets` es un tensor (batch, T) de ids objetivo (cada fila: la oración, el id de
    fin y después relleno). Devuelve las entradas del decodificador con teacher forcing,
    también (batch, T): una columna llena de `bos` seguida de `targets` sin su última columna
    (cada entrada es la palabra anterior a la que hay que predecir).
    """
    start = torch.full((targets.shape[0], 1), bos, dtype=targets.dtype)
    return torch.cat([start, targets[:, :-1]], dim=1)


# %% check
import torch

from dlab.exercises import expect


@ctx.check("decoder_inputs")
def inputs_are_targets_shifted_right():
    targets = torch.tensor([[5, 6, 7, 3, 0], [8, 9, 3, 0, 0]])
    got = decoder_inputs(targets, 2)
    expect.shape(got, (2, 5), "decoder_inputs(targets (2, 5), 2)")
    expect.close(got, [[2, 5, 6, 7, 3], [2, 8, 9, 3, 0]], "decoder_inputs(targets (2, 5), 2)")


# %%
def tensors(split: list) -> tuple:
    src = pad_left([src_vocab.ids(en) for en, _ in split], cfg.max_words)
    targets = pad_targets([tgt_vocab.ids(es) for _, es in split], cfg.max_words)
    return torch.cat([src, decoder_inputs(targets, BOS)], dim=1), targets


train, val = tensors(pairs["train"]), tensors(pairs["val"])

# %% [markdown] lang="en"
# ## 3. Attention: a weighted look at every source word
# Without attention, the whole English sentence must fit in the encoder's final state. With
# attention (Luong's dot product), each decoder state scores every encoder state by their dot
# product, the softmax of the scores over the source positions gives weights (padding gets
# none), and the weighted sum of the encoder states is a context vector made for that step.

# %% [markdown] lang="es"
# ## 3. Atención: una mirada ponderada a cada palabra de origen
# Sin atención, toda la oración en inglés tiene que caber en el estado final del
# codificador. Con atención (producto punto de Luong), cada estado del decodificador puntúa
# cada estado del codificador con su producto punto, la softmax de los puntajes sobre las
# posiciones de origen da los pesos (el relleno no recibe nada) y la suma ponderada de los
# estados del codificador es un vector de contexto hecho para ese paso.

# %% exercise="dot_attention"
def dot_attention(queries: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor):
    """[en] `queries` (B, T, H) are decoder states, `keys` (B, S, H) encoder states and
    `mask` (B, S) is True at real source words, False at padding. Scores = queries · keysᵀ
    (B, T, S); set the scores at padding to −∞; weights = softmax of the scores over the
    source positions (last dimension); context = weights @ keys (B, T, H). Return
    `(context, weights)`.

    [es] `queries` (B, T, H) son estados del decodificador, `keys` (B, S, H) estados del
    codificador y `mask` (B, S) vale True en las palabras reales de origen y False en el
    relleno. Puntajes = queries · keysᵀ (B, T, S); pon los puntajes del relleno en −∞;
    pesos = softmax de los puntajes sobre las posiciones de origen (última dimensión);
    contexto = pesos @ keys (B, T, H). Devuelve `(context, weights)`.
    """
    scores = queries @ keys.transpose(1, 2)
    scores = scores.masked_fill(~mask[:, None, :], float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ keys, weights


# %% check
import torch

from dlab.exercises import expect


@ctx.check("dot_attention")
def weights_are_a_masked_softmax_of_dot_products():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(2, 3, 4, generator=g), torch.randn(2, 5, 4, generator=g)
    mask = torch.tensor([[True] * 5, [False, False, True, True, True]])
    context, weights = dot_attention(q, k, mask)
    expect.shape(weights, (2, 3, 5), "dot_attention(q (2, 3, 4), k (2, 5, 4), mask)[1]")
    expect.shape(context, (2, 3, 4), "dot_attention(q (2, 3, 4), k (2, 5, 4), mask)[0]")
    expect.close(weights[1, :, :2], torch.zeros(3, 2), "weights at padded source positions")
    expect.close(weights.sum(-1), torch.ones(2, 3), "weights summed over the source")
    scores = (q @ k.transpose(1, 2)).masked_fill(~mask[:, None, :], float("-inf"))
    expected = torch.softmax(scores, dim=-1)
    expect.close(weights, expected, "dot_attention(...)[1]", atol=1e-5)
    expect.close(context, expected @ k, "dot_attention(...)[0]", atol=1e-5)


# %% [markdown] lang="en"
# ## 4. Greedy decoding
# To translate, the decoder starts from the start id and at each step keeps its most likely
# word, feeding it back as the next input, until it writes the end id or reaches the length
# limit. (Beam search would keep several candidates; greedy keeps one.)

# %% [markdown] lang="es"
# ## 4. Decodificación voraz
# Para traducir, el decodificador parte del id de inicio y en cada paso se queda con su
# palabra más probable, que vuelve a entrar como siguiente entrada, hasta escribir el id de
# fin o llegar al largo máximo. (La búsqueda en haz guardaría varios candidatos; la voraz
# guarda uno.)

# %% exercise="greedy_decode"
def greedy_decode(step, state, bos: int, eos: int, max_len: int) -> torch.Tensor:
    """[en] `step(tokens, state)` takes the (B, 1) ids of the previous words and returns
    `(logits (B, 1, V), new_state)`; `state` holds the batch size B in its first tensor's
    dimension 1 (an LSTM's (h, c)). Start with a (B, 1) column of `bos`; repeat `max_len`
    times: take the argmax of the logits as the next words and feed them back. Return the
    (B, L) chosen ids, L ≤ max_len: you may stop early once every row has produced `eos`.

    [es] `step(tokens, state)` recibe los ids (B, 1) de las palabras anteriores y devuelve
    `(logits (B, 1, V), nuevo_estado)`; `state` tiene el tamaño de lote B en la dimensión 1 de
    su primer tensor (el (h, c) de una LSTM). Empieza con una columna (B, 1) de `bos`; repite
    `max_len` veces: toma el argmax de los logits como palabras siguientes y vuélvelas a
    entrar. Devuelve los ids elegidos (B, L), L ≤ max_len: puedes parar antes cuando todas
    las filas hayan producido `eos`.
    """
    tokens = torch.full((state[0].shape[1], 1), bos, dtype=torch.long)
    chosen = []
    finished = torch.zeros(len(tokens), dtype=torch.bool)
    for _ in range(max_len):
        logits, state = step(tokens, state)
        tokens = logits.argmax(-1)
        chosen.append(tokens)
        finished |= tokens[:, 0] == eos
        if finished.all():
            break
    return torch.cat(chosen, dim=1)


# %% check
import torch

from dlab.exercises import expect


@ctx.check("greedy_decode")
def feeds_back_the_most_likely_word():
    # A toy decoder over 5 words: it favours (previous word + 1), and 4 is the end id.
    def step(tokens, state):
        logits = torch.nn.functional.one_hot((tokens + 1).clamp(max=4), 5).float()
        return logits, (state[0] + 1,)

    got = greedy_decode(step, (torch.zeros(1, 2, 3),), 0, 4, 10)
    expect.close(got[:, :4], [[1, 2, 3, 4], [1, 2, 3, 4]], "greedy_decode(toy step)[:, :4]")
    expect.true(got.shape[1] <= 10, "greedy_decode must stop after max_len steps.",
                "greedy_decode debe parar tras max_len pasos.")


# %% [markdown] lang="en"
# ## 5. Two models, the same budget
# Both models have 128-number embeddings and LSTMs of 256 units and train for the same number
# of epochs with Adam (learning rate decaying along a cosine) and gradient clipping; the
# attention model adds one linear layer that mixes each decoder state with its context. The
# loss ignores padding. BLEU (sacrebleu, on the lower-cased token sequences) compares the
# greedy translations of validation sentences with their references.

# %% [markdown] lang="es"
# ## 5. Dos modelos, el mismo presupuesto
# Ambos modelos tienen embeddings de 128 números y LSTM de 256 unidades y entrenan la misma
# cantidad de épocas con Adam (tasa de aprendizaje que baja siguiendo un coseno) y recorte del
# gradiente; el modelo con atención agrega una capa lineal que mezcla cada estado del
# decodificador con su contexto. La pérdida ignora el relleno. BLEU (sacrebleu, sobre las
# secuencias de tokens en minúsculas) compara las traducciones voraces de oraciones de
# validación con sus referencias.

# %%
def translate(model, split, search=greedy_decode):
    src = pad_left([src_vocab.ids(en) for en, _ in split], cfg.max_words)
    tokens, weights = model.translate(src, cfg.max_words + 1, search)
    return [" ".join(tgt_vocab.words(row)) for row in tokens], tokens, weights


def bleu(model, split, search=greedy_decode) -> float:
    hypotheses = translate(model, split, search)[0]
    references = [" ".join(es) for _, es in split]
    return sacrebleu.corpus_bleu(hypotheses, [references], force=True).score


def train_model(attention):
    torch.manual_seed(ctx.seed)
    model = Seq2Seq(len(src_vocab), len(tgt_vocab), cfg.embed, cfg.hidden, cfg.max_words,
                    attention=attention)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    steps = cfg.epochs * -(-len(train[1]) // cfg.batch_size)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps,
                                                        eta_min=cfg.lr / 20)
    trainer = Trainer(model, optimizer, loss=nn.CrossEntropyLoss(ignore_index=PAD),
                      grad_clip=cfg.grad_clip, callbacks=[LRScheduler(cosine, interval="step")],
                      **ctx.trainer_options())
    started = time.perf_counter()
    history = trainer.fit(train, val, epochs=cfg.epochs, batch_size=cfg.batch_size,
                          seed=ctx.seed)
    seconds = (time.perf_counter() - started) / cfg.epochs
    return model, history, seconds


plain, plain_history, plain_seconds = train_model(None)
attentive, attentive_history, attentive_seconds = train_model(dot_attention)
val_bleu = {"plain": bleu(plain, pairs["val"]), "attention": bleu(attentive, pairs["val"])}

fig, ax = plt.subplots(figsize=(7, 4))
for name, history in ((ctx.t("without attention", "sin atención"), plain_history),
                      (ctx.t("with attention", "con atención"), attentive_history)):
    epochs = range(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], marker="o", label=f"{name} · train")
    ax.plot(epochs, history["val_loss"], marker="o", linestyle="--", label=f"{name} · val")
ax.set_xlabel(ctx.t("epoch", "época"))
ax.set_ylabel(ctx.t("cross-entropy per word", "entropía cruzada por palabra"))
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
ctx.figure("loss_curves", fig)
ctx.table([ctx.t("model", "modelo"), ctx.t("parameters", "parámetros"),
           ctx.t("s / epoch", "s / época"), ctx.t("val loss", "pérdida val"), "val BLEU"],
          [[ctx.t("without attention", "sin atención"),
            sum(p.numel() for p in plain.parameters()), plain_seconds,
            plain_history["val_loss"][-1], val_bleu["plain"]],
           [ctx.t("with attention", "con atención"),
            sum(p.numel() for p in attentive.parameters()), attentive_seconds,
            attentive_history["val_loss"][-1], val_bleu["attention"]]])

# %% [markdown] lang="en"
# ## 6. Greedy or beam search
# Greedy decoding commits to the likeliest word at every step, even when that word leads to
# an awkward rest of the sentence. Beam search keeps the 4 likeliest partial translations at
# every step (scored by their mean log-probability per word, so short sentences get no
# unfair advantage) and returns the best finished one. Same trained models, same validation
# sentences: only the decoding changes.

# %% [markdown] lang="es"
# ## 6. Voraz o búsqueda en haz
# La decodificación voraz se queda con la palabra más probable en cada paso, aunque esa
# palabra lleve a un resto de oración torpe. La búsqueda en haz conserva las 4 traducciones
# parciales más probables en cada paso (puntuadas por su log-probabilidad media por palabra,
# para que las oraciones cortas no tengan ventaja injusta) y devuelve la mejor terminada.
# Los mismos modelos entrenados, las mismas oraciones de validación: solo cambia la
# decodificación.

# %%
beam = partial(beam_search, width=cfg.beam_width)
val_bleu_beam = {"plain": bleu(plain, pairs["val"], beam),
                 "attention": bleu(attentive, pairs["val"], beam)}
ctx.table([ctx.t("model", "modelo"), ctx.t("val BLEU, greedy", "BLEU val, voraz"),
           ctx.t(f"val BLEU, beam k={cfg.beam_width}", f"BLEU val, haz k={cfg.beam_width}")],
          [[ctx.t("without attention", "sin atención"), val_bleu["plain"],
            val_bleu_beam["plain"]],
           [ctx.t("with attention", "con atención"), val_bleu["attention"],
            val_bleu_beam["attention"]]],
          title=ctx.t("Decoding the same models two ways",
                      "Decodificar los mismos modelos de dos maneras"))

# %% [markdown] lang="en"
# ## 7. Where attention looks
# For two test sentences, the weights each Spanish word gave to each English word. A good
# model shows a rough diagonal, bending where the two languages order words differently.

# %% [markdown] lang="es"
# ## 7. Adónde mira la atención
# Para dos oraciones de test, el peso que cada palabra en español dio a cada palabra en
# inglés. Un buen modelo muestra una diagonal aproximada, que se dobla donde los dos idiomas
# ordenan las palabras de otra manera.

# %%
shown = pairs["test"][:2]
texts, tokens, weights = translate(attentive, shown)
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
for ax, (en, _), row, w in zip(axes, shown, tokens, weights):
    out = tgt_vocab.words(row)
    n_out = len(out) + 1  # the end-of-sentence step too
    w = w[:n_out, cfg.max_words - len(en):].numpy()
    ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(en)), en, rotation=45, ha="right")
    ax.set_yticks(range(n_out), out + ["</s>"])
fig.tight_layout()
ctx.figure("attention_maps", fig)

# %% [markdown] lang="en"
# ## 8. The test split, once

# %% [markdown] lang="es"
# ## 8. La partición de test, una vez

# %%
samples = pairs["test"][:8]
plain_text, attentive_text = translate(plain, samples)[0], translate(attentive, samples)[0]
ctx.table(["English", ctx.t("reference", "referencia"), ctx.t("without attention", "sin atención"),
           ctx.t("with attention", "con atención")],
          [[" ".join(en), " ".join(es), p, a]
           for (en, es), p, a in zip(samples, plain_text, attentive_text)])
test_bleu = {"plain": bleu(plain, pairs["test"]), "attention": bleu(attentive, pairs["test"])}
ctx.finish({
    "bleu_plain": test_bleu["plain"],
    "bleu_attention": test_bleu["attention"],
    "attention_gain": test_bleu["attention"] - test_bleu["plain"],
    "val_bleu_plain": val_bleu["plain"],
    "val_bleu_attention": val_bleu["attention"],
    "val_bleu_beam_plain": val_bleu_beam["plain"],
    "val_bleu_beam_attention": val_bleu_beam["attention"],
    "val_loss_plain": plain_history["val_loss"][-1],
    "val_loss_attention": attentive_history["val_loss"][-1],
    "train_pairs": len(pairs["train"]),
    "samples": [{"en": " ".join(en), "plain": p, "attention": a}
                for (en, _), p, a in zip(samples, plain_text, attentive_text)],
    "seconds_per_epoch_plain": plain_seconds,
    "seconds_per_epoch_attention": attentive_seconds,
})
