"""The doctor explains a dense layer after the convolutions built for the wrong flatten size
(class 128's common mistake), and leaves other failures to torch."""
import pytest
import torch
from rich.console import Console
from torch import nn

from dlab.engine import Trainer
from dlab.errors import TrainingError


def fit(model, lang="en"):
    X, y = torch.rand(16, 1, 28, 28), torch.randint(0, 10, (16,))
    trainer = Trainer(model, device="cpu", progress=False, lang=lang,
                      console=Console(file=open("/dev/null", "w")))
    trainer.fit((X, y), epochs=1, batch_size=8)


def valid_padding_cnn(in_features):
    return nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(in_features, 128), nn.ReLU(), nn.Linear(128, 10))


def test_wrong_flatten_size_is_explained_in_both_languages():
    with pytest.raises(TrainingError) as err:
        fit(valid_padding_cnn(64 * 7 * 7))
    text = str(err.value)
    assert "'7', nn.Linear(3136, 128)" in text and "64 × 5 × 5 = 1600" in text
    assert "nn.Linear(1600, 128)" in text
    with pytest.raises(TrainingError) as err:
        fit(valid_padding_cnn(64 * 7 * 7), lang="es")
    assert "constrúyela como nn.Linear(1600, 128)" in str(err.value)


def test_a_right_size_trains():
    fit(valid_padding_cnn(64 * 5 * 5))
