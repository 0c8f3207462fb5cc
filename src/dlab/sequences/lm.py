"""Training and judging character-level language models, shared by the language-model labs
(char-RNN, mini-GPT, modern GPT): text cut into training pieces, a ``Trainer`` run with warm-up and
cosine decay that keeps the loss of every step and the training time, loss spikes counted,
and two plain measures of how play-like a sample looks.
"""
from __future__ import annotations

import math
import re
import time

import torch
from torch import nn

from dlab.engine import LRScheduler, Trainer
from dlab.engine.recorder import LossRecorder


def pieces(ids: torch.Tensor, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping ``(n, length)`` inputs and the same spans shifted by one (targets)."""
    n = (len(ids) - 1) // length
    return ids[:n * length].view(n, length), ids[1:n * length + 1].view(n, length)


def warmup_cosine(step: int, warmup: int, total: int, floor: float = 0.1) -> float:
    """LR multiplier: linear warm-up over ``warmup`` steps, then cosine decay to ``floor``."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def train_language_model(model: nn.Module, train, val, *, epochs: int, batch_size: int,
                         lr: float, warmup: int, seed: int, trainer_options: dict,
                         weight_decay: float = 0.1, grad_clip: float = 1.0) -> dict:
    """Train with AdamW, warm-up + cosine decay stepped every batch and gradient clipping.
    Returns the trainer, the history, every step's loss, the training time in seconds and
    the tokens per second."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99),
                                  weight_decay=weight_decay)
    total = epochs * math.ceil(len(train[0]) / batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: warmup_cosine(step, warmup, total))
    recorder = LossRecorder()
    trainer = Trainer(model, optimizer, grad_clip=grad_clip,
                      callbacks=[LRScheduler(schedule, interval="step"), recorder],
                      **trainer_options)
    started = time.perf_counter()
    history = trainer.fit(train, val, epochs=epochs, batch_size=batch_size, seed=seed)
    seconds = time.perf_counter() - started
    return {"trainer": trainer, "history": history, "step_losses": recorder.losses,
            "train_seconds": seconds,
            "tokens_per_second": epochs * train[0].numel() / seconds}


def loss_spikes(losses: list[float], window: int = 50, sigmas: float = 4.0) -> int:
    """Steps whose loss exceeds the mean of the ``window`` steps before it by more than
    ``sigmas`` of their standard deviations: the sudden setbacks of an unstable run, not the
    ordinary noise between batches."""
    t = torch.tensor(losses, dtype=torch.float64)
    if len(t) <= window:
        return 0
    before = t.unfold(0, window, 1)[:-1]
    return int((t[window:] > before.mean(dim=1) + sigmas * before.std(dim=1)).sum())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def known_word_share(text: str, vocabulary: set[str]) -> float:
    """Share of the words of ``text`` that appear in ``vocabulary``."""
    found = words(text)
    return sum(w in vocabulary for w in found) / max(len(found), 1)


def speaker_lines(text: str) -> int:
    """Lines that are only a speaker's name and a colon, as in "ROMEO:"."""
    return len(re.findall(r"^[A-Z][A-Za-z ]*:$", text, flags=re.MULTILINE))


def saved_activation_bytes(model: nn.Module, ids: torch.Tensor) -> int:
    """Bytes of the tensors one forward pass keeps for the backward pass (the activation
    memory of training, which the attention's score matrices dominate at long contexts).
    Tensors saved several times (or parameters) are counted once."""
    seen: dict[tuple, int] = {}

    def pack(t: torch.Tensor):
        seen.setdefault((t.data_ptr(), tuple(t.shape)), t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(ids)
    params = {(p.data_ptr(), tuple(p.shape)) for p in model.parameters()}
    return sum(n for key, n in seen.items() if key not in params)
