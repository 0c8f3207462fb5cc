"""The doctor's sequence checks (classes 135-141): a recurrent layer reading the batch as time,
per-position logits with the classes last, padding counted in the loss, and a NaN loss in a
recurrent model trained without clipping. Each fires on the mistake and stays quiet on the
correct setup."""
import pytest
import torch
from rich.console import Console
from torch import nn

from dlab.engine import Trainer
from dlab.errors import TrainingError

PAD, VOCAB = 0, 12


def fit(model, X, y, lang="en", **options):
    trainer = Trainer(model, device="cpu", progress=False, lang=lang,
                      console=Console(file=open("/dev/null", "w")), **options)
    trainer.fit((X, y), epochs=1, batch_size=8)
    return trainer.history.warnings


class LastStep(nn.Module):
    """An LSTM regressor over (batch, time, features) windows."""

    def __init__(self, batch_first):
        super().__init__()
        self.rnn = nn.LSTM(3, 16, batch_first=batch_first)
        self.head = nn.Linear(16, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def windows():
    torch.manual_seed(0)
    return torch.randn(32, 20, 3), torch.randn(32, 1)


def test_batch_first_false_on_batch_first_data_is_explained_in_both_languages():
    with pytest.raises(TrainingError) as err:
        fit(LastStep(batch_first=False), *windows(), loss="mse")
    text = str(err.value)
    assert "'rnn' (nn.LSTM)" in text and "(8, 20, 3)" in text
    assert "nn.LSTM(3, 16, batch_first=True)" in text
    with pytest.raises(TrainingError) as err:
        fit(LastStep(batch_first=False), *windows(), loss="mse", lang="es")
    assert "constrúyela como nn.LSTM(3, 16, batch_first=True)" in str(err.value)


class TimeMajor(LastStep):
    """Correct use of a batch_first=False layer: transpose first."""

    def forward(self, x):
        out, _ = self.rnn(x.transpose(0, 1))
        return self.head(out[-1])


def test_batch_first_layers_and_time_major_inputs_train():
    assert fit(LastStep(batch_first=True), *windows(), loss="mse") == []
    assert fit(TimeMajor(batch_first=False), *windows(), loss="mse") == []


class Tagger(nn.Module):
    """Embedding → GRU → one logit per token and position."""

    def __init__(self, classes_last=False):
        super().__init__()
        self.classes_last = classes_last
        self.embed = nn.Embedding(VOCAB, 8, padding_idx=PAD)
        self.rnn = nn.GRU(8, 16, batch_first=True)
        self.head = nn.Linear(16, VOCAB)

    def forward(self, ids):
        logits = self.head(self.rnn(self.embed(ids))[0])
        return logits if self.classes_last else logits.transpose(1, 2)


def sentences(padded=True):
    """Shifted token rows (a language model's pairs), the last ``k`` positions padded."""
    torch.manual_seed(0)
    ids = torch.randint(1, VOCAB, (32, 11))
    if padded:
        for row, k in enumerate(torch.randint(0, 6, (32,)).tolist()):
            ids[row, 11 - k:] = PAD
    return ids[:, :-1], ids[:, 1:]


def test_classes_last_logits_are_explained_before_the_target_checks():
    with pytest.raises(TrainingError) as err:
        fit(Tagger(classes_last=True), *sentences(), loss=nn.CrossEntropyLoss(ignore_index=PAD))
    text = str(err.value)
    assert "(8, 10, 12)" in text and "logits.transpose(1, 2)" in text
    assert "logits.reshape(-1, 12)" in text


def test_padding_counted_in_the_loss_is_explained_in_both_languages():
    [warning] = [w for w in fit(Tagger(), *sentences(), loss="cross_entropy")
                 if "padding" in w]
    assert "padding_idx of embedding 'embed'" in warning and "ignore_index=0" in warning
    [aviso] = [w for w in fit(Tagger(), *sentences(), loss="cross_entropy", lang="es")
               if "relleno" in w]
    assert "nn.CrossEntropyLoss(ignore_index=0)" in aviso


def test_ignored_padding_or_no_padding_says_nothing():
    assert fit(Tagger(), *sentences(), loss=nn.CrossEntropyLoss(ignore_index=PAD)) == []
    assert fit(Tagger(), *sentences(padded=False), loss="cross_entropy") == []


def test_a_real_class_scattered_inside_the_rows_is_not_padding():
    X, y = sentences(padded=False)
    y = y.clone()
    y[:, 3] = PAD  # the id appears mid-row: a real token, not padding
    assert fit(Tagger(), X, y, loss="cross_entropy") == []


class ReluRNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(3, 32, nonlinearity="relu", batch_first=True)
        self.head = nn.Linear(32, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


def exploding_rnn():
    torch.manual_seed(0)
    model = ReluRNN()
    with torch.no_grad():
        model.rnn.weight_hh_l0.mul_(3.0)  # the gradient grows with every step back in time
    return model, torch.optim.SGD(model.parameters(), lr=1.0)


def test_a_nan_loss_in_a_recurrent_model_without_clipping_points_at_clipping():
    model, optimizer = exploding_rnn()
    with pytest.raises(TrainingError) as err:
        fit(model, *windows(), loss="mse", optimizer=optimizer)
    text = str(err.value)
    assert "recurrent layer 'rnn' (nn.RNN)" in text and "over 20 time steps" in text
    assert "grad_clip=1.0" in text


def test_the_same_recurrent_model_with_clipping_trains():
    model, optimizer = exploding_rnn()
    fit(model, *windows(), loss="mse", optimizer=optimizer, grad_clip=1.0)
