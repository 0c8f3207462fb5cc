"""The doctor's normalization check (dlab.diagnostics.normalization), triggered through a real
Trainer.fit, in English and Spanish."""
import io

import pytest
import torch
from rich.console import Console
from torch import nn

from dlab.engine import Trainer
from dlab.models import MLP


def warnings_of(model, lang="en"):
    torch.manual_seed(0)
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.01), device="cpu",
                      progress=False, console=Console(file=io.StringIO()), lang=lang)
    history = trainer.fit((torch.randn(32, 4), torch.randint(0, 3, (32,))), epochs=1,
                          batch_size=16)
    return history.warnings


@pytest.mark.parametrize("lang", ["en", "es"])
def test_batchnorm_on_the_logits_warns(lang):
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.BatchNorm1d(3))
    (warning,) = warnings_of(model, lang)
    assert ("The model ends with BatchNorm1d '3'" if lang == "en" else
            "El modelo termina con BatchNorm1d '3'") in warning
    assert ("running averages" if lang == "en" else "medias móviles") in warning


def test_layernorm_on_the_logits_warns():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3), nn.LayerNorm(3))
    (warning,) = warnings_of(model)
    assert "ends with LayerNorm '3', so its 3 outputs" in warning
    assert "running averages" not in warning


@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
def test_normalization_between_hidden_layers_is_fine(norm):
    assert warnings_of(MLP(4, [8, 8], 3, **{norm: True})) == []
