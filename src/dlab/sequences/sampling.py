"""Generating text from a language model, one token at a time, with a temperature."""
from __future__ import annotations

from typing import Callable

import torch


def temperature_softmax(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """``softmax(logits / temperature)`` over the last dimension: below 1 it sharpens the
    distribution towards the likeliest token, above 1 it flattens it."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    return torch.softmax(logits / temperature, dim=-1)


@torch.no_grad()
def generate(step: Callable, prompt: list[int], length: int, temperature: float,
             generator: torch.Generator,
             probabilities: Callable = temperature_softmax) -> list[int]:
    """``length`` new token ids after ``prompt``. ``step(ids (1, k), state) -> (logits
    (1, k, vocab), state)`` runs the model on new ids from ``state`` (``None`` at first), like
    :meth:`CharLanguageModel.step`; each next id is drawn from ``probabilities(logits of the
    last position, temperature)`` with ``generator``, then fed back."""
    logits, state = step(torch.tensor([prompt]), None)
    new = []
    for _ in range(length):
        p = probabilities(logits[0, -1].float(), temperature)
        token = int(torch.multinomial(p, 1, generator=generator))
        new.append(token)
        logits, state = step(torch.tensor([[token]]), state)
    return new
