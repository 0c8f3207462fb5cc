"""A small decoder-only Transformer (GPT) in one readable file, in the spirit of nanoGPT's
``model.py``, in two flavours that share everything else:

* **classic** (GPT-2): LayerNorm, learned position embeddings, multi-head attention, a GELU
  MLP;
* **modern** (LLaMA-style): RMSNorm, rotary position embeddings (RoPE), grouped-query
  attention (fewer key/value heads than query heads), a SwiGLU MLP and
  ``F.scaled_dot_product_attention``.

Both generate with a KV cache: the keys and values of the tokens already seen are kept, so
each new token costs one position of work instead of the whole context. ``step`` (cached) and
``step_uncached`` follow the same context policy (when the context would pass
``block_size``, keep its last half and start again), so they give the same logits.

Shapes: ids ``(batch, time)``; ``forward`` returns ``(batch, vocab, time)`` logits, the layout
``nn.CrossEntropyLoss`` takes with ``(batch, time)`` targets.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from dlab.errors import ConfigError

Attend = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
Rope = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class GPTConfig:
    vocab: int
    block_size: int = 128
    n_layer: int = 4
    n_head: int = 4
    n_kv_head: int | None = None  # None: as many as n_head (plain multi-head attention)
    d_model: int = 128
    dropout: float = 0.0
    modern: bool = False
    rope_base: float = 10000.0

    def __post_init__(self):
        if self.n_kv_head is None:
            self.n_kv_head = self.n_head
        if self.d_model % self.n_head or self.n_head % self.n_kv_head:
            raise ConfigError(f"d_model ({self.d_model}) must be a multiple of n_head "
                              f"({self.n_head}), and n_head of n_kv_head ({self.n_kv_head})")
        if self.modern and (self.d_model // self.n_head) % 2:
            raise ConfigError("RoPE rotates pairs of numbers: the head size must be even")

    @property
    def head_size(self) -> int:
        return self.d_model // self.n_head


# ---------------------------------------------------------------- attention arithmetic

def causal_mask(t_query: int, t_key: int, device=None) -> torch.Tensor:
    """``(t_query, t_key)`` booleans, True where query i may look at key j. The queries are the
    last ``t_query`` of the ``t_key`` positions (the rest are cached), so query i sits at
    position ``t_key − t_query + i`` and sees every key up to it."""
    return torch.ones(t_query, t_key, dtype=torch.bool, device=device).tril(t_key - t_query)


def attention_by_hand(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal scaled dot-product attention written out: q ``(B, H, Tq, d)``, k and v
    ``(B, H, Tk, d)`` with Tq ≤ Tk → ``(B, H, Tq, d)``."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = causal_mask(q.shape[-2], k.shape[-2], q.device)
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v


def attention_fused(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The same as :func:`attention_by_hand`, by ``F.scaled_dot_product_attention`` (one fused
    kernel that never stores the full score matrix when it can avoid it).

    On a CPU, PyTorch's kernel is several times slower backwards in bfloat16/float16 than in
    float32 at this course's sizes (small heads, short contexts: thousands of tiny
    half-precision matrix products, each with a high fixed cost; see
    ``benchmarks/gpt_precision.py``), so there the attention itself runs in float32 — the same
    mathematics, more precise — and its result is rounded back."""
    if q.device.type == "cpu" and q.dtype in (torch.bfloat16, torch.float16):
        with torch.autocast("cpu", enabled=False):  # autocast would round q, k, v back down
            return attention_fused(q.float(), k.float(), v.float()).to(q.dtype)
    t_query, t_key = q.shape[-2], k.shape[-2]
    if t_query == t_key:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_mask(t_query, t_key,
                                                                         q.device))


def rope_angles(positions: torch.Tensor, head_size: int, base: float = 10000.0) -> torch.Tensor:
    """``(T, head_size / 2)`` angles ``position · base^(−2j / head_size)``: pair j of a vector at
    that position is rotated by that angle."""
    freqs = base ** (-torch.arange(0, head_size, 2, dtype=torch.float32) / head_size)
    return positions.float()[:, None] * freqs[None, :]


def apply_rope(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate each pair ``(x[..., 2j], x[..., 2j+1])`` of ``x`` ``(..., T, d)`` by
    ``angles[t, j]``: as complex numbers, ``(x_{2j} + i x_{2j+1}) · e^{i angle}``."""
    even, odd = x[..., 0::2], x[..., 1::2]
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    return torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1).flatten(-2)


class RMSNorm(nn.Module):
    """``x / sqrt(mean(x²) + eps) · weight``: LayerNorm without centring and without bias."""

    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def make_norm(cfg: GPTConfig) -> nn.Module:
    return RMSNorm(cfg.d_model) if cfg.modern else nn.LayerNorm(cfg.d_model)


# ---------------------------------------------------------------- the KV cache

class KVCache:
    """Per layer, the keys and values ``(B, n_kv_head, T, head_size)`` of every token already
    processed, and the token ids themselves (to start again when the context is full)."""

    def __init__(self, n_layer: int):
        self.keys: list[torch.Tensor | None] = [None] * n_layer
        self.values: list[torch.Tensor | None] = [None] * n_layer
        self.tokens: torch.Tensor | None = None

    @property
    def length(self) -> int:
        return 0 if self.keys[0] is None else self.keys[0].shape[-2]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Add this step's keys and values for ``layer``; return all of them so far."""
        if self.keys[layer] is not None:
            k = torch.cat((self.keys[layer], k), dim=-2)
            v = torch.cat((self.values[layer], v), dim=-2)
        self.keys[layer], self.values[layer] = k, v
        return k, v

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.keys + self.values
                   if t is not None)


# ---------------------------------------------------------------- blocks

class SelfAttention(nn.Module):
    def __init__(self, cfg: GPTConfig, attend: Attend, rope: Rope):
        super().__init__()
        self.cfg, self.attend, self.rope = cfg, attend, rope
        kv = cfg.n_kv_head * cfg.head_size
        self.q = nn.Linear(cfg.d_model, cfg.d_model, bias=not cfg.modern)
        self.kv = nn.Linear(cfg.d_model, 2 * kv, bias=not cfg.modern)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=not cfg.modern)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x, angles=None, cache: KVCache | None = None, layer: int = 0):
        b, t, _ = x.shape
        c = self.cfg
        q = self.q(x).view(b, t, c.n_head, c.head_size).transpose(1, 2)
        k, v = self.kv(x).view(b, t, 2, c.n_kv_head, c.head_size).permute(2, 0, 3, 1, 4)
        if angles is not None:  # RoPE on queries and keys, at their absolute positions
            q, k = self.rope(q, angles), self.rope(k, angles)
        if cache is not None:
            k, v = cache.append(layer, k, v)
        group = c.n_head // c.n_kv_head  # each key/value head serves `group` query heads
        if group > 1:
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        out = self.attend(q, k, v).transpose(1, 2).reshape(b, t, c.d_model)
        return self.dropout(self.proj(out))


class MLP(nn.Module):
    """Classic: Linear(d, 4d) → GELU → Linear(4d, d). Modern (SwiGLU):
    down(silu(gate(x)) · up(x)) with a hidden size of about 8d/3, the same parameter count."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.modern = cfg.modern
        d = cfg.d_model
        if cfg.modern:
            hidden = 8 * ((8 * d // 3 + 7) // 8)
            self.gate = nn.Linear(d, hidden, bias=False)
            self.up = nn.Linear(d, hidden, bias=False)
            self.down = nn.Linear(hidden, d, bias=False)
        else:
            self.up = nn.Linear(d, 4 * d)
            self.down = nn.Linear(4 * d, d)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        if self.modern:
            return self.dropout(self.down(F.silu(self.gate(x)) * self.up(x)))
        return self.dropout(self.down(F.gelu(self.up(x))))


class Block(nn.Module):
    """Pre-norm residual block: x + attention(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, cfg: GPTConfig, attend: Attend, rope: Rope):
        super().__init__()
        self.norm1, self.attn = make_norm(cfg), SelfAttention(cfg, attend, rope)
        self.norm2, self.mlp = make_norm(cfg), MLP(cfg)

    def forward(self, x, angles=None, cache=None, layer=0):
        x = x + self.attn(self.norm1(x), angles, cache, layer)
        return x + self.mlp(self.norm2(x))


# ---------------------------------------------------------------- the model

class GPT(nn.Module):
    """Token embedding (+ learned positions when classic) → ``n_layer`` blocks → final norm →
    linear layer to one logit per vocabulary entry. ``attend(q, k, v)`` is the attention
    arithmetic (default: written out when classic, fused when modern) and ``rope(x, angles)``
    the rotation of queries and keys (modern only), so a lab can train the model with the
    attention or the RoPE a student wrote."""

    def __init__(self, cfg: GPTConfig, attend: Attend | None = None, rope: Rope = apply_rope):
        super().__init__()
        self.cfg = cfg
        attend = attend or (attention_fused if cfg.modern else attention_by_hand)
        self.tokens = nn.Embedding(cfg.vocab, cfg.d_model)
        self.positions = None if cfg.modern else nn.Embedding(cfg.block_size, cfg.d_model)
        self.dropout = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg, attend, rope) for _ in range(cfg.n_layer))
        self.norm = make_norm(cfg)
        self.head = nn.Linear(cfg.d_model, cfg.vocab, bias=False)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module):  # GPT-2's: N(0, 0.02) for weights, zero biases
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def logits(self, ids: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """``(B, T)`` ids → ``(B, T, vocab)`` logits. With ``cache``, ``ids`` are the tokens
        that follow the ones already in it, and their keys and values are added to it."""
        start = cache.length if cache is not None else 0
        t = ids.shape[1]
        if start + t > self.cfg.block_size:
            raise ConfigError(f"{start + t} positions exceed block_size {self.cfg.block_size}")
        positions = torch.arange(start, start + t, device=ids.device)
        x = self.tokens(ids)
        angles = None
        if self.cfg.modern:
            angles = rope_angles(positions, self.cfg.head_size, self.cfg.rope_base).to(ids.device)
        else:
            x = x + self.positions(positions)
        x = self.dropout(x)
        for layer, block in enumerate(self.blocks):
            x = block(x, angles, cache, layer)
        return self.head(self.norm(x))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.logits(ids).transpose(1, 2)

    # ------------------------------------------------------------ generation
    # Both steps have the signature of `dlab.sequences.generate`'s ``step(ids, state)``.

    def _restart_from(self, history: torch.Tensor | None, ids: torch.Tensor) -> torch.Tensor:
        """The context to start again from when ``ids`` no longer fit: the last half of the
        block of ``history``, then ``ids``."""
        keep = self.cfg.block_size // 2
        return ids if history is None else torch.cat((history[:, -keep:], ids), dim=1)

    def step(self, ids: torch.Tensor, cache: KVCache | None = None):
        """Generation with a KV cache: the logits ``(B, T, vocab)`` of the new ``ids`` and
        the cache that now holds them."""
        new = ids.shape[1]
        if cache is None or cache.length + new > self.cfg.block_size:
            ids = self._restart_from(None if cache is None else cache.tokens, ids)
            cache = KVCache(self.cfg.n_layer)
        logits = self.logits(ids, cache)
        cache.tokens = ids if cache.tokens is None else torch.cat((cache.tokens, ids), dim=1)
        return logits[:, -new:], cache

    def step_uncached(self, ids: torch.Tensor, context: torch.Tensor | None = None):
        """The same as :meth:`step` without a cache: the whole context is run again for every
        new token. The state is the context itself."""
        if context is None or context.shape[1] + ids.shape[1] > self.cfg.block_size:
            context = self._restart_from(context, ids)
        else:
            context = torch.cat((context, ids), dim=1)
        return self.logits(context)[:, -ids.shape[1]:], context
