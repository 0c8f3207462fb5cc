# %% [markdown] lang="en"
# The GPT of 2019 and the language models of today (Llama, Mistral, Qwen) share their plan —
# a stack of pre-norm Transformer blocks predicting the next token — but differ in five parts:
# RMSNorm instead of LayerNorm, rotary position embeddings (RoPE) instead of learned ones,
# grouped-query attention (GQA: 8 query heads share 4 key/value heads), a SwiGLU MLP instead
# of GELU, and a fused attention kernel (`F.scaled_dot_product_attention`). This lab trains
# both versions of our character-level mini-GPT on Tiny Shakespeare with the same budget and
# measures what the course promises: stability, memory, speed and quality.

# %% [markdown] lang="es"
# El GPT de 2019 y los modelos de lenguaje de hoy (Llama, Mistral, Qwen) comparten el plan —
# una pila de bloques Transformer pre-norm que predice el token siguiente — pero difieren en
# cinco piezas: RMSNorm en lugar de LayerNorm, embeddings de posición rotatorios (RoPE) en
# lugar de aprendidos, atención de consultas agrupadas (GQA: 8 cabezas de consulta comparten
# 4 cabezas de clave/valor), un MLP SwiGLU en lugar de GELU y un núcleo de atención fusionado
# (`F.scaled_dot_product_attention`). Este laboratorio entrena las dos versiones de nuestro
# mini-GPT de caracteres con Tiny Shakespeare y el mismo presupuesto, y mide lo que el curso
# promete: estabilidad, memoria, velocidad y calidad.

# %% spec
from dataclasses import dataclass

from dlab.lab import Criterion, Lab
from dlab.lab.config import positive


@dataclass
class Config:
    train_chars: int = 0        # 0 = the whole training split (quick mode uses a slice)
    val_chars: int = 0          # 0 = the whole validation split
    block_size: int = 64
    n_layer: int = 4
    d_model: int = 128
    classic_heads: int = 4
    query_heads: int = 8
    kv_heads: int = 4
    epochs: int = 1
    batch_size: int = 16
    lr: float = 3e-3
    warmup: int = 50
    prompt: str = "ROMEO:"
    sample_chars: int = 300
    temperature: float = 0.7
    long_context: int = 8192

    def check(self):
        positive(block_size=self.block_size, n_layer=self.n_layer, d_model=self.d_model,
                 classic_heads=self.classic_heads, query_heads=self.query_heads,
                 kv_heads=self.kv_heads, epochs=self.epochs, batch_size=self.batch_size,
                 lr=self.lr, sample_chars=self.sample_chars, long_context=self.long_context)


LAB = Lab(
    id="modern-gpt",
    title_en="RMSNorm, RoPE, GQA, SwiGLU: a modern mini-GPT against the classic one",
    title_es="RMSNorm, RoPE, GQA, SwiGLU: un mini-GPT moderno contra el clásico",
    source="Part 2 · class 144 (homework)",
    block="part2-sequences",
    dataset="tiny_shakespeare (1.1 M characters, 65 symbols; contiguous 90/5/5 split)",
    criteria=(
        Criterion("spikes_modern_minus_classic", "<=", 0,
                  "The modern model trains at least as stably: no more loss spikes than the "
                  "classic one",
                  "El modelo moderno entrena al menos igual de estable: no más picos de pérdida "
                  "que el clásico"),
        Criterion("kv_cache_ratio", "<=", 0.5,
                  "Its KV cache takes at most half the memory of the classic one",
                  "Su caché KV ocupa como máximo la mitad de la memoria de la del clásico"),
        Criterion("val_loss_modern_minus_classic", "<=", 0.05,
                  "Comparable quality: validation loss at most 0.05 nats above the classic one",
                  "Calidad comparable: pérdida de validación como máximo 0.05 nats por encima "
                  "de la del clásico"),
        Criterion("cached_equals_uncached", "is", True,
                  "Generation with the KV cache gives exactly the tokens of generation "
                  "without it",
                  "Generar con la caché KV da exactamente los mismos tokens que sin ella"),
    ),
    config=Config,
    quick={"train_chars": 30_000, "val_chars": 5_000, "block_size": 32, "n_layer": 1,
           "d_model": 32, "sample_chars": 60, "long_context": 1024},
    points={"apply_rope": 2},
    timed=("classic_tokens_per_second", "modern_tokens_per_second", "cached_seconds",
           "uncached_seconds"),
)

# %% [markdown] lang="en"
# ## 1. The text
# The same pieces as in the mini-GPT lab: 64 characters of context, targets shifted by one.

# %% [markdown] lang="es"
# ## 1. El texto
# Los mismos trozos que en el laboratorio del mini-GPT: 64 caracteres de contexto, objetivos
# corridos en uno.

# %%
import time

import matplotlib.pyplot as plt
import torch

from dlab.data import load
from dlab.sequences.lm import loss_spikes, pieces, saved_activation_bytes, train_language_model
from dlab.models.gpt import GPT, GPTConfig
from dlab.sequences import generate

data = load("tiny_shakespeare")
itos, stoi = data.info["vocab"], data.info["stoi"]
train_ids = data.train[:cfg.train_chars] if cfg.train_chars else data.train
val_ids = data.val[:cfg.val_chars] if cfg.val_chars else data.val
train, val, test = (pieces(ids, cfg.block_size) for ids in (train_ids, val_ids, data.test))

# %% [markdown] lang="en"
# ## 2. Rotary position embeddings
# A learned position embedding adds a vector per absolute position to the token. RoPE adds
# nothing: it rotates each pair of numbers (x₂ⱼ, x₂ⱼ₊₁) of every query and key by an angle
# position · θⱼ, with θⱼ = 10000^(−2j/d). Seen as a complex number x₂ⱼ + i·x₂ⱼ₊₁, the rotation
# is a product by e^(i·angle). The dot product of a query rotated by position m and a key
# rotated by position n then depends only on m − n: attention sees relative distances, and the
# model has no position parameters at all.

# %% [markdown] lang="es"
# ## 2. Embeddings de posición rotatorios
# Un embedding de posición aprendido suma al token un vector por posición absoluta. RoPE no
# suma nada: rota cada par de números (x₂ⱼ, x₂ⱼ₊₁) de cada consulta y cada clave en un ángulo
# posición · θⱼ, con θⱼ = 10000^(−2j/d). Visto como el número complejo x₂ⱼ + i·x₂ⱼ₊₁, la
# rotación es un producto por e^(i·ángulo). El producto escalar de una consulta rotada por la
# posición m y una clave rotada por la posición n depende entonces solo de m − n: la atención
# ve distancias relativas y el modelo no tiene ningún parámetro de posición.

# %% exercise="apply_rope"
def apply_rope(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """[en] Rotate the pairs of `x` (shape (..., T, d), d even): for every position t and
    j = 0 … d/2 − 1, the pair (x[..., t, 2j], x[..., t, 2j+1]) becomes
    (a·cos − b·sin, a·sin + b·cos) with a, b the pair and the angle `angles[t, j]`
    (`angles` is (T, d/2)). Return a tensor of the shape of `x`, the pairs in the same
    interleaved places.

    [es] Rota los pares de `x` (forma (..., T, d), d par): para cada posición t y
    j = 0 … d/2 − 1, el par (x[..., t, 2j], x[..., t, 2j+1]) pasa a ser
    (a·cos − b·sin, a·sin + b·cos) con a, b el par y el ángulo `angles[t, j]` (`angles` es
    (T, d/2)). Devuelve un tensor de la forma de `x`, con los pares en los mismos lugares
    intercalados.
    """
    a, b = x[..., 0::2], x[..., 1::2]
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    return torch.stack((a * cos - b * sin, a * sin + b * cos), dim=-1).flatten(-2)


# %% check
import torch

from dlab.exercises import expect
from dlab.models.gpt import rope_angles


@ctx.check("apply_rope")
def is_a_complex_rotation_of_each_pair():
    x = torch.randn(2, 3, 5, 8, generator=torch.Generator().manual_seed(0))
    angles = rope_angles(torch.arange(5), 8)
    out = apply_rope(x, angles)
    expect.shape(out, (2, 3, 5, 8), "apply_rope(x (2, 3, 5, 8), angles (5, 4))")
    pairs = torch.view_as_complex(x.reshape(2, 3, 5, 4, 2).contiguous())
    rotated = torch.view_as_real(pairs * torch.polar(torch.ones_like(angles), angles))
    expect.close(out, rotated.flatten(-2), "apply_rope(x, angles) vs (x₂ⱼ + i·x₂ⱼ₊₁)·e^(i·angle)",
                 atol=1e-5)


@ctx.check("apply_rope")
def scores_depend_only_on_the_distance():
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(1, 8, generator=g), torch.randn(1, 8, generator=g)

    def score(m, n):
        return float(apply_rope(q, rope_angles(torch.tensor([m]), 8))
                     @ apply_rope(k, rope_angles(torch.tensor([n]), 8)).T)
    expect.close(score(7, 3), score(12, 8),
                 "score(query at 7, key at 3) vs score(query at 12, key at 8)", atol=1e-4)
    expect.close(score(0, 0), float(q @ k.T), "score at position 0 (no rotation) vs q·k",
                 atol=1e-5)
    expect.true(abs(score(7, 3) - score(7, 4)) > 1e-3,
                "score(query at 7, key at 3) equals score(query at 7, key at 4): the rotation "
                "should make the score change with the distance.",
                "score(consulta en 7, clave en 3) es igual a score(consulta en 7, clave en 4): "
                "la rotación debería hacer que el puntaje cambie con la distancia.")


# %% [markdown] lang="en"
# ## 3. Two models, one budget
# Both have 4 blocks and d_model 128. The classic one: LayerNorm, learned positions, 4 heads of
# 32 with their own keys and values, GELU MLP 128 → 512 → 128, attention written out. The
# modern one: RMSNorm, RoPE (the `apply_rope` above), 8 query heads of 16 sharing 4 key/value
# heads, SwiGLU MLP with hidden size 344 (three matrices instead of two, so about the same
# parameters), `F.scaled_dot_product_attention`. Both train one pass over the text with the
# same optimizer, the same schedule and a learning rate of 3·10⁻³, a little high on purpose: a
# stability difference shows when the step is bold.

# %% [markdown] lang="es"
# ## 3. Dos modelos, un presupuesto
# Los dos tienen 4 bloques y d_model 128. El clásico: LayerNorm, posiciones aprendidas, 4
# cabezas de 32 con sus propias claves y valores, MLP GELU 128 → 512 → 128, atención escrita a
# mano. El moderno: RMSNorm, RoPE (la `apply_rope` de arriba), 8 cabezas de consulta de 16 que
# comparten 4 cabezas de clave/valor, MLP SwiGLU con tamaño oculto 344 (tres matrices en vez de
# dos, así los parámetros quedan parecidos), `F.scaled_dot_product_attention`. Ambos entrenan
# una pasada por el texto con el mismo optimizador, el mismo calendario y una tasa de
# aprendizaje de 3·10⁻³, un poco alta a propósito: las diferencias de estabilidad aparecen
# cuando el paso es audaz.

# %%
def build(modern: bool) -> GPT:
    heads = cfg.query_heads if modern else cfg.classic_heads
    settings = GPTConfig(vocab=len(itos), block_size=cfg.block_size, n_layer=cfg.n_layer,
                         d_model=cfg.d_model, n_head=heads,
                         n_kv_head=cfg.kv_heads if modern else heads, modern=modern)
    return GPT(settings, rope=apply_rope)


models, runs, val_losses = {}, {}, {}
for name, modern in (("classic", False), ("modern", True)):
    models[name] = build(modern)
    runs[name] = train_language_model(models[name], train, val, epochs=cfg.epochs,
                                      batch_size=cfg.batch_size, lr=cfg.lr,
                                      warmup=cfg.warmup, seed=ctx.seed,
                                      trainer_options=ctx.trainer_options())
    val_losses[name] = runs[name]["trainer"].evaluate(val)["loss"]
spikes = {name: loss_spikes(run["step_losses"]) for name, run in runs.items()}

fig, ax = plt.subplots(figsize=(8, 4.2))
for name, run in runs.items():
    ax.plot(run["step_losses"], linewidth=0.8, alpha=0.85,
            label=ctx.t(f"{name}: val {val_losses[name]:.3f}, {spikes[name]} spikes",
                        f"{'clásico' if name == 'classic' else 'moderno'}: val "
                        f"{val_losses[name]:.3f}, {spikes[name]} picos"))
ax.set_xlabel(ctx.t("training step", "paso de entrenamiento"))
ax.set_ylabel(ctx.t("training loss (nats / char)", "pérdida de entrenamiento (nats / carácter)"))
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
ctx.figure("training_loss", fig)

# %% [markdown] lang="en"
# A spike is a step whose loss rises more than 4 standard deviations above the mean of the 50
# steps before it — the sudden setbacks of an unstable run, not the ordinary noise between
# batches. The table also measures training speed: on a CPU, with a context of 64 and heads of
# 16 numbers, the fused attention kernel has little to save, and RoPE and the third matrix of
# SwiGLU add work.
#
# ## 4. Memory: the KV cache
# To generate, each layer keeps the key and the value of every token already read. Their size
# is layers × 2 (key and value) × key/value heads × head size × tokens × bytes per number.
# GQA keeps half as many key/value heads as query heads and each one is smaller, which is what
# makes long contexts affordable for large models.

# %% [markdown] lang="es"
# Un pico es un paso cuya pérdida sube más de 4 desviaciones estándar por encima de la media de
# los 50 pasos anteriores — los retrocesos repentinos de un entrenamiento inestable, no el ruido
# común entre lotes. La tabla también mide la velocidad de entrenamiento: en una CPU, con un
# contexto de 64 y cabezas de 16 números, el núcleo de atención fusionado tiene poco que
# ahorrar, y RoPE y la tercera matriz de SwiGLU agregan trabajo.
#
# ## 4. Memoria: la caché KV
# Para generar, cada capa guarda la clave y el valor de cada token ya leído. Su tamaño es
# capas × 2 (clave y valor) × cabezas de clave/valor × tamaño de cabeza × tokens × bytes por
# número. GQA guarda la mitad de cabezas de clave/valor que de consulta, y cada una es más
# chica: eso es lo que hace accesibles los contextos largos en modelos grandes.

# %% exercise="kv_cache_bytes"
def kv_cache_bytes(n_layer: int, n_kv_head: int, head_size: int, tokens: int,
                   bytes_per_number: int = 4) -> int:
    """[en] Bytes of a KV cache holding `tokens` tokens: every one of the `n_layer` layers
    keeps a key and a value per token, each of `n_kv_head` heads × `head_size` numbers of
    `bytes_per_number` bytes.

    [es] Bytes de una caché KV con `tokens` tokens: cada una de las `n_layer` capas guarda una
    clave y un valor por token, cada uno de `n_kv_head` cabezas × `head_size` números de
    `bytes_per_number` bytes.
    """
    return n_layer * 2 * n_kv_head * head_size * tokens * bytes_per_number


# %% check
import torch

from dlab.exercises import expect
from dlab.models.gpt import GPT, GPTConfig, KVCache


@ctx.check("kv_cache_bytes")
def matches_a_real_cache():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab=10, block_size=16, d_model=32, n_layer=3, n_head=8,
                          n_kv_head=2, modern=True))
    cache = KVCache(3)
    with torch.no_grad():
        model.logits(torch.zeros(1, 11, dtype=torch.long), cache)
    expect.equal(kv_cache_bytes(3, 2, 4, 11), cache.nbytes(),
                 "kv_cache_bytes(3, 2, 4, 11) vs the bytes of a real cache of 11 tokens")


@ctx.check("kv_cache_bytes")
def counts_bytes_per_number():
    expect.equal(kv_cache_bytes(2, 4, 16, 100, bytes_per_number=2), 51_200,
                 "kv_cache_bytes(2, 4, 16, 100, bytes_per_number=2)")


# %%
head = {"classic": cfg.d_model // cfg.classic_heads, "modern": cfg.d_model // cfg.query_heads}
kv_heads = {"classic": cfg.classic_heads, "modern": cfg.kv_heads}
cache_bytes = {name: kv_cache_bytes(cfg.n_layer, kv_heads[name], head[name], cfg.block_size)
               for name in models}
long_bytes = {name: kv_cache_bytes(cfg.n_layer, kv_heads[name], head[name], cfg.long_context)
              for name in models}
probe = train[0][:1]
activations = {name: saved_activation_bytes(model, probe) for name, model in models.items()}
params = {name: sum(p.numel() for p in model.parameters()) for name, model in models.items()}
ctx.table([ctx.t("model", "modelo"), ctx.t("parameters", "parámetros"),
           ctx.t("val loss", "pérdida val"), ctx.t("loss spikes", "picos de pérdida"),
           ctx.t("chars / s (training)", "caracteres / s (entrenamiento)"),
           ctx.t(f"KV cache, {cfg.block_size} tokens (KiB)",
                 f"caché KV, {cfg.block_size} tokens (KiB)"),
           ctx.t(f"KV cache, {cfg.long_context} tokens (MiB)",
                 f"caché KV, {cfg.long_context} tokens (MiB)"),
           ctx.t("activations kept for backward, 1 sequence (KiB)",
                 "activaciones guardadas para backward, 1 secuencia (KiB)")],
          [[name, params[name], val_losses[name], spikes[name],
            runs[name]["tokens_per_second"], cache_bytes[name] / 1024,
            long_bytes[name] / 2 ** 20, activations[name] / 1024] for name in models])

# %% [markdown] lang="en"
# The last column is the training memory of one sequence: what the forward pass stores for
# the backward pass. The attention written out keeps a T × T matrix of weights per head; the
# fused kernel recomputes what it needs instead.
#
# ## 5. Generating with and without the cache
# The modern model writes after "ROMEO:" twice from the same random seed: once with the cache,
# once recomputing the whole context for every new character. The tokens must be identical;
# the time shows what the cache saves.

# %% [markdown] lang="es"
# La última columna es la memoria de entrenamiento de una secuencia: lo que la pasada hacia
# adelante guarda para la pasada hacia atrás. La atención escrita a mano guarda una matriz
# T × T de pesos por cabeza; el núcleo fusionado recalcula lo que necesita.
#
# ## 5. Generar con y sin la caché
# El modelo moderno escribe tras "ROMEO:" dos veces con la misma semilla: una con la caché y
# otra recalculando todo el contexto en cada carácter nuevo. Los tokens deben ser idénticos; el
# tiempo muestra lo que ahorra la caché.

# %%
modern = models["modern"].eval()
prompt = [stoi[c] for c in cfg.prompt]
tokens, seconds = {}, {}
for name, step in (("cached", modern.step), ("uncached", modern.step_uncached)):
    started = time.perf_counter()
    tokens[name] = generate(step, prompt, cfg.sample_chars, cfg.temperature,
                            torch.Generator().manual_seed(ctx.seed))
    seconds[name] = time.perf_counter() - started
sample = cfg.prompt + "".join(itos[i] for i in tokens["cached"])
ctx.table([ctx.t("generation", "generación"), ctx.t("seconds", "segundos"),
           ctx.t("same tokens", "mismos tokens")],
          [[name, seconds[name], tokens[name] == tokens["cached"]] for name in tokens])
ctx.table([ctx.t("sample of the modern model, T = 0.7", "muestra del modelo moderno, T = 0.7")],
          [[sample]])

# %% [markdown] lang="en"
# ## 6. The test split, once

# %% [markdown] lang="es"
# ## 6. La partición de test, una vez

# %%
test_losses = {name: run["trainer"].evaluate(test)["loss"] for name, run in runs.items()}
ctx.finish({
    "classic_val_loss": val_losses["classic"],
    "modern_val_loss": val_losses["modern"],
    "val_loss_modern_minus_classic": val_losses["modern"] - val_losses["classic"],
    "classic_test_loss": test_losses["classic"],
    "modern_test_loss": test_losses["modern"],
    "classic_spikes": spikes["classic"],
    "modern_spikes": spikes["modern"],
    "spikes_modern_minus_classic": spikes["modern"] - spikes["classic"],
    "classic_parameters": params["classic"],
    "modern_parameters": params["modern"],
    "classic_kv_cache_bytes": cache_bytes["classic"],
    "modern_kv_cache_bytes": cache_bytes["modern"],
    "kv_cache_ratio": cache_bytes["modern"] / cache_bytes["classic"],
    "classic_activation_bytes": activations["classic"],
    "modern_activation_bytes": activations["modern"],
    "cached_equals_uncached": tokens["cached"] == tokens["uncached"],
    "sample": sample,
    "classic_tokens_per_second": runs["classic"]["tokens_per_second"],
    "modern_tokens_per_second": runs["modern"]["tokens_per_second"],
    "cached_seconds": seconds["cached"],
    "uncached_seconds": seconds["uncached"],
})
