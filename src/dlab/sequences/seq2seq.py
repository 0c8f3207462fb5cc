"""Word-level sequence to sequence: tokenizing sentence pairs, a vocabulary with the four
special ids, and an LSTM encoder–decoder that can read its encoder through an attention
function given from outside (the translation lab passes the student's)."""
from __future__ import annotations

import re
from collections import Counter
from typing import Callable

import torch
from torch import nn

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS = ["<pad>", "<unk>", "<s>", "</s>"]
_WORD = re.compile(r"\w+|[^\w\s]")


def tokenize(sentence: str) -> list[str]:
    """Lower-cased words and single punctuation marks ("¿Qué?" → ["¿", "qué", "?"])."""
    return _WORD.findall(sentence.lower())


class Vocabulary:
    """The ``max_size`` most frequent words (seen at least ``min_count`` times) after the
    four special ids; any other word reads as ``<unk>``."""

    def __init__(self, sentences: list[list[str]], max_size: int, min_count: int = 2):
        counts = Counter(w for s in sentences for w in s)
        kept = [w for w, c in counts.most_common(max_size) if c >= min_count]
        self.itos = SPECIALS + kept
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def ids(self, words: list[str]) -> list[int]:
        return [self.stoi.get(w, UNK) for w in words]

    def words(self, ids) -> list[str]:
        """Ids up to the first ``</s>``, as words (padding and ``<s>`` skipped)."""
        out = []
        for i in map(int, ids):
            if i == EOS:
                break
            if i not in (PAD, BOS):
                out.append(self.itos[i])
        return out


def pad_left(rows: list[list[int]], length: int) -> torch.Tensor:
    """Source sentences padded on the LEFT, so the encoder's last step is a real word."""
    return torch.tensor([[PAD] * (length - len(r)) + r for r in rows])


def pad_targets(rows: list[list[int]], length: int) -> torch.Tensor:
    """Target sentences followed by ``</s>`` and padded on the right to ``length`` + 1."""
    return torch.tensor([r + [EOS] + [PAD] * (length - len(r)) for r in rows])


class Seq2Seq(nn.Module):
    """Embedding → LSTM encoder; embedding → LSTM decoder started from the encoder's final
    state → linear layer to one logit per target word. With ``attention`` (a function
    ``(queries (B, T, H), keys (B, S, H), mask (B, S)) → (context (B, T, H), weights
    (B, T, S))``) each decoder state is also combined with a context vector read from all
    encoder states (Luong et al., 2015). ``forward`` takes the source and the decoder
    inputs side by side in one ``(B, S + T)`` tensor (what ``Trainer`` feeds as X) and returns
    ``(B, vocab, T)`` logits."""

    def __init__(self, src_vocab: int, tgt_vocab: int, embed: int, hidden: int,
                 src_len: int, attention: Callable | None = None):
        super().__init__()
        self.src_len = src_len
        self.attention = attention
        self.src_embed = nn.Embedding(src_vocab, embed, padding_idx=PAD)
        self.tgt_embed = nn.Embedding(tgt_vocab, embed, padding_idx=PAD)
        self.encoder = nn.LSTM(embed, hidden, batch_first=True)
        self.decoder = nn.LSTM(embed, hidden, batch_first=True)
        self.combine = nn.Linear(2 * hidden, hidden) if attention else None
        self.head = nn.Linear(hidden, tgt_vocab)

    def encode(self, src: torch.Tensor):
        memory, state = self.encoder(self.src_embed(src))
        return memory, state, src != PAD

    def decode(self, memory, mask, tgt_in, state):
        """Decoder inputs ``(B, T)`` → logits ``(B, T, vocab)``, new state, attention weights
        ``(B, T, S)`` (None without attention)."""
        out, state = self.decoder(self.tgt_embed(tgt_in), state)
        weights = None
        if self.attention is not None:
            context, weights = self.attention(out, memory, mask)
            out = torch.tanh(self.combine(torch.cat([out, context], dim=-1)))
        return self.head(out), state, weights

    def forward(self, packed: torch.Tensor) -> torch.Tensor:
        src, tgt_in = packed[:, :self.src_len], packed[:, self.src_len:]
        memory, state, mask = self.encode(src)
        return self.decode(memory, mask, tgt_in, state)[0].transpose(1, 2)

    @torch.no_grad()
    def translate(self, src: torch.Tensor, max_len: int, search: Callable):
        """Greedy (or any) decoding with ``search(step, state, bos, eos, max_len)``, where
        ``step(tokens (B, 1), state) → (logits (B, 1, V), state)`` (or k · B rows,
        sentence-major, for a beam search that keeps k candidates per sentence). Returns the
        tokens ``(B, ≤ max_len)`` and the attention weights of those tokens ``(B, T, S)`` (or
        None), recomputed by feeding the chosen words back in one pass."""
        self.eval()
        memory, state, mask = self.encode(src)

        def step(tokens, state):
            k = len(tokens) // len(src)  # beam search decodes k candidates per sentence
            logits, state, _ = self.decode(memory.repeat_interleave(k, 0),
                                           mask.repeat_interleave(k, 0), tokens, state)
            return logits, state

        tokens = search(step, state, BOS, EOS, max_len)
        start = torch.full((len(src), 1), BOS, dtype=tokens.dtype)
        inputs = torch.cat([start, tokens[:, :-1]], dim=1)
        weights = self.decode(memory, mask, inputs, state)[2]
        return tokens, weights
