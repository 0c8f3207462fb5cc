"""Beam search for a step-by-step decoder: keeps the ``width`` best partial sentences instead
of greedy decoding's single one, so a word that looks worse now can win later.

The decoder is seen only through ``step(tokens (N, 1), state) → (logits (N, 1, V), state)``, the
same interface as greedy decoding (``Seq2Seq.translate`` passes either). The state is a tensor
or a tuple of tensors with the rows in dimension 1 (an LSTM's ``(h, c)``); the search runs the
``width`` candidates of every sentence side by side as ``B · width`` rows, sentence-major (row
``b · width + j`` is candidate j of sentence b).

Candidates are ranked by their length-normalised score, ``sum of log-probabilities /
length ** alpha`` (length counts the end token): with ``alpha = 0`` plain sums, which favour
short sentences; with ``alpha = 1`` the mean log-probability per word. A candidate that wrote
the end token is finished: it keeps its score and length and stays in the beam, competing
with the others, until every candidate of every sentence is finished or ``max_len`` words
were written.
"""
from __future__ import annotations

from typing import Callable

import torch


def _map_state(state, fn):
    return fn(state) if isinstance(state, torch.Tensor) else type(state)(fn(s) for s in state)


def _rows(state) -> int:
    return (state if isinstance(state, torch.Tensor) else state[0]).shape[1]


@torch.no_grad()
def beam_search(step: Callable, state, bos: int, eos: int, max_len: int, width: int = 4,
                alpha: float = 1.0, with_scores: bool = False):
    """The best sentence for every row of ``state``: ``(B, L)`` ids, L ≤ ``max_len``, each row
    ending with ``eos`` (repeated after the end when other rows are longer) unless it hit
    ``max_len``. With ``with_scores``, also the ``(B,)`` sum of the log-probabilities of each
    returned sentence up to and including its first ``eos``."""
    b = _rows(state)
    state = _map_state(state, lambda s: s.repeat_interleave(width, dim=1))
    tokens = torch.full((b * width, 1), bos, dtype=torch.long)
    scores = torch.full((b, width), float("-inf"))
    scores[:, 0] = 0.0  # all candidates start equal: expand only the first at step one
    lengths = torch.zeros(b, width)
    finished = torch.zeros(b, width, dtype=torch.bool)
    history = torch.zeros(b, width, 0, dtype=torch.long)
    rows = torch.arange(b).unsqueeze(1)
    for _ in range(max_len):
        logits, state = step(tokens, state)
        logp = torch.log_softmax(logits[:, -1].float(), dim=-1).view(b, width, -1)
        vocab = logp.shape[-1]
        # A finished candidate has one continuation, the end token again, at no cost.
        done = torch.full((vocab,), float("-inf"))
        done[eos] = 0.0
        logp = torch.where(finished.unsqueeze(-1), done, logp)
        total = (scores.unsqueeze(-1) + logp).view(b, -1)
        new_len = (lengths + (~finished).float()).unsqueeze(-1).expand(b, width, vocab)
        ranked = total / new_len.reshape(b, -1).clamp(min=1) ** alpha
        best = ranked.topk(width, dim=-1).indices
        parent, word = best // vocab, best % vocab
        scores = total.gather(1, best)
        lengths = new_len.reshape(b, -1).gather(1, best)
        finished = finished.gather(1, parent) | (word == eos)
        history = torch.cat([history[rows, parent], word.unsqueeze(-1)], dim=-1)
        flat_parent = (rows * width + parent).view(-1)
        state = _map_state(state, lambda s: s.index_select(1, flat_parent))
        tokens = word.view(-1, 1)
        if finished.all():
            break
    winner = (scores / lengths.clamp(min=1) ** alpha).argmax(dim=1)
    best_tokens = history[torch.arange(b), winner]
    if with_scores:
        return best_tokens, scores[torch.arange(b), winner]
    return best_tokens
