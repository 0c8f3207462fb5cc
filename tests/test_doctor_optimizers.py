"""The doctor's optimizer checks (dlab.diagnostics.optimizers), each triggered through a real
Trainer.fit, in English and Spanish with the same numbers."""
import io
import re

import pytest
import torch
from rich.console import Console
from torch import nn

from dlab.engine import LRScheduler, Trainer
from dlab.optim import Lion, ScheduleFreeAdamW


def warnings_of(optimizer_for, callbacks_for=lambda opt: [], lang="en"):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = optimizer_for(model.parameters())
    trainer = Trainer(model, optimizer, callbacks=callbacks_for(optimizer), device="cpu",
                      progress=False, console=Console(file=io.StringIO()), lang=lang)
    history = trainer.fit((torch.randn(32, 4), torch.randint(0, 3, (32,))), epochs=1,
                          batch_size=16)
    return history.warnings


def numbers(text):
    return sorted(re.findall(r"\d+(?:\.\d+)?", text))


@pytest.mark.parametrize("lang", ["en", "es"])
def test_lion_with_adamw_learning_rate_warns(lang):
    (warning,) = warnings_of(lambda p: Lion(p, lr=1e-3), lang=lang)
    assert ("Lion with learning rate 0.001" if lang == "en" else
            "Lion con tasa de aprendizaje 0.001") in warning
    assert warnings_of(lambda p: Lion(p, lr=3e-4)) == []


@pytest.mark.parametrize("lang", ["en", "es"])
def test_schedule_free_with_a_scheduler_warns(lang):
    def cosine(optimizer):
        return [LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=5))]

    (warning,) = warnings_of(lambda p: ScheduleFreeAdamW(p), cosine, lang=lang)
    assert "ScheduleFreeAdamW" in warning and "CosineAnnealingLR" in warning
    assert ("remove the LRScheduler callback" if lang == "en" else
            "quita el callback LRScheduler") in warning
    assert warnings_of(lambda p: ScheduleFreeAdamW(p)) == []
    assert warnings_of(lambda p: torch.optim.AdamW(p), cosine) == []


def test_messages_carry_the_same_numbers_in_both_languages():
    for optimizer_for, callbacks_for in (
            (lambda p: Lion(p, lr=0.01), lambda opt: []),
            (lambda p: ScheduleFreeAdamW(p),
             lambda opt: [LRScheduler(torch.optim.lr_scheduler.StepLR(opt, step_size=1))])):
        (en,) = warnings_of(optimizer_for, callbacks_for, "en")
        (es,) = warnings_of(optimizer_for, callbacks_for, "es")
        assert en != es and numbers(en) == numbers(es)
