"""The doctor warns when grad_clip is far below the gradients' size (class 111: "clipnorm=0.01
and the model does not learn"), and stays quiet for a usual cap."""
import torch
from rich.console import Console
from torch import nn

from dlab.engine import Trainer


def fit(grad_clip, lang="en"):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 3))
    X = torch.randn(64, 20)
    y = torch.randint(0, 3, (64,))
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), grad_clip=grad_clip,
                      device="cpu", progress=False, lang=lang,
                      console=Console(file=open("/dev/null", "w")))
    trainer.fit((X, y), epochs=1, batch_size=32)
    return [w for w in trainer.history.warnings if "grad_clip" in w]


def test_a_tiny_cap_is_explained_in_both_languages():
    [warning] = fit(0.001)
    assert "grad_clip=0.001" in warning and "1.0" in warning
    [aviso] = fit(0.001, lang="es")
    assert "muy por debajo" in aviso


def test_a_usual_cap_or_no_cap_says_nothing():
    assert fit(1.0) == []
    assert fit(None) == []
