"""Batches: the in-memory batch iterator, and the Trainer's handling of DataLoaders."""
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlab.data.batches import Batches
from dlab.engine import Trainer


def _data(n=23, d=3):
    X = torch.arange(n * d, dtype=torch.float32).reshape(n, d)
    y = torch.arange(n)
    return X, y


def _epoch_rows(batches, epoch):
    batches.set_epoch(epoch)
    return torch.cat([yb for _, yb in batches]).tolist()


def test_every_sample_once_per_epoch_and_rows_stay_paired():
    X, y = _data()
    b = Batches(X, y, batch_size=5, shuffle=True, seed=3)
    assert len(b) == 5
    for epoch in (1, 2, 3):
        b.set_epoch(epoch)
        sizes, seen = [], []
        for xb, yb in b:
            sizes.append(len(yb))
            seen += yb.tolist()
            # X and y rows are gathered with the same index
            assert torch.equal(xb, X[yb])
        assert sorted(seen) == list(range(23))
        assert sizes == [5, 5, 5, 5, 3]


def test_shuffle_depends_only_on_seed_and_epoch():
    X, y = _data()
    a = Batches(X, y, batch_size=4, seed=7)
    b = Batches(X, y, batch_size=4, seed=7)
    # iterating a few times, in another order, or touching the global RNG changes nothing
    _epoch_rows(a, 5)
    torch.manual_seed(123)
    torch.rand(10)
    assert _epoch_rows(a, 2) == _epoch_rows(b, 2)
    assert _epoch_rows(a, 2) == _epoch_rows(a, 2)
    # another epoch or another seed gives another order
    assert _epoch_rows(a, 2) != _epoch_rows(a, 3)
    c = Batches(X, y, batch_size=4, seed=8)
    assert _epoch_rows(a, 2) != _epoch_rows(c, 2)
    # and it is shuffled at all
    assert _epoch_rows(a, 2) != list(range(23))


def test_batch_size_does_not_change_the_order():
    X, y = _data()
    assert _epoch_rows(Batches(X, y, batch_size=4, seed=1), 3) == \
        _epoch_rows(Batches(X, y, batch_size=7, seed=1), 3)


def test_drop_last():
    X, y = _data()
    b = Batches(X, y, batch_size=5, shuffle=True, seed=0, drop_last=True)
    assert len(b) == 4
    batches = list(b)
    assert len(batches) == 4
    assert all(len(yb) == 5 for _, yb in batches)
    rows = torch.cat([yb for _, yb in batches]).tolist()
    assert len(set(rows)) == 20
    nb = Batches(X, y, batch_size=5, shuffle=False, drop_last=True)
    assert torch.cat([yb for _, yb in nb]).tolist() == list(range(20))
    # exact multiple: nothing dropped
    assert len(list(Batches(X[:20], y[:20], batch_size=5, drop_last=True))) == 4


def test_no_shuffle_keeps_order():
    X, y = _data()
    b = Batches(X, y, batch_size=6, shuffle=False)
    for epoch in (1, 2):
        b.set_epoch(epoch)
        out = list(b)
        assert torch.cat([yb for _, yb in out]).tolist() == list(range(23))
        assert torch.equal(torch.cat([xb for xb, _ in out]), X)
    assert [len(yb) for _, yb in out] == [6, 6, 6, 5]


def test_mismatched_lengths_and_bad_batch_size():
    X, y = _data()
    with pytest.raises(ValueError, match="same number of rows"):
        Batches(X, y[:-1])
    with pytest.raises(ValueError, match="batch_size"):
        Batches(X, y, batch_size=0)
    with pytest.raises(ValueError):
        Batches()


# ---------------------------------------------------------------- Trainer with a DataLoader
def _problem():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 4, generator=g)
    y = (X[:, 0] + X[:, 1] > 0).long()
    return X, y


def _trainer(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    return Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), metrics=["accuracy"],
                   device="cpu", progress=False, doctor=False)


def test_trainer_accepts_a_dataloader_and_matches_batches_unshuffled():
    X, y = _problem()
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=False)
    t_loader = _trainer()
    h_loader = t_loader.fit(loader, val=loader, epochs=3)
    t_batches = _trainer()
    h_batches = t_batches.fit(Batches(X, y, batch_size=16, shuffle=False),
                              val=(X, y), epochs=3)

    assert len(h_loader) == 3
    assert h_loader["loss"] == h_batches["loss"]
    assert h_loader["val_loss"] == pytest.approx(h_batches["val_loss"], abs=1e-6)
    assert h_loader["val_accuracy"] == h_batches["val_accuracy"]
    for p, q in zip(t_loader.model.parameters(), t_batches.model.parameters()):
        assert torch.equal(p, q)

    # evaluate / predict accept the loader too and agree with the tensors
    ev_loader = t_loader.evaluate(loader)
    ev_tensors = t_batches.evaluate((X, y))
    assert ev_loader["loss"] == pytest.approx(ev_tensors["loss"], abs=1e-6)
    assert ev_loader["accuracy"] == ev_tensors["accuracy"]
    assert torch.allclose(t_loader.predict(loader), t_batches.predict(X), atol=1e-6)
    assert t_loader.predict(loader).shape == (64, 2)


def test_trainer_with_shuffled_dataloader_trains():
    X, y = _problem()
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)
    t = _trainer()
    before = t.evaluate((X, y))["loss"]
    t.fit(loader, epochs=10)
    assert t.evaluate((X, y))["loss"] < before
    assert t.steps_per_epoch == 8
