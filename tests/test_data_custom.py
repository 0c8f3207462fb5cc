"""TabularDataset and Standardize: the hand-written Dataset of the data-pipeline lab."""
import pytest
import torch
from torch.utils.data import DataLoader, random_split

from dlab.data.custom import Standardize, TabularDataset


def _data(n=10, d=3):
    X = torch.arange(n * d, dtype=torch.float32).reshape(n, d)
    X[:, 2] = 5.0  # a constant feature
    return X, torch.arange(n) % 2


def test_len_getitem_and_transform_per_sample():
    X, y = _data()
    ds = TabularDataset(X, y)
    assert len(ds) == 10
    x3, y3 = ds[3]
    assert torch.equal(x3, X[3]) and int(y3) == 1
    ds.transform = lambda x: x * 2
    assert torch.equal(ds[3][0], X[3] * 2)
    assert torch.equal(ds.X, X)  # the stored data is not modified, only what is read


def test_accepts_numpy_and_rejects_mismatched_lengths():
    X, y = _data()
    ds = TabularDataset(X.numpy(), y.numpy())
    assert ds.X.dtype == torch.float32 and len(ds) == 10
    with pytest.raises(ValueError, match="rows"):
        TabularDataset(X, y[:-1])


def test_standardize_fits_train_rows_only_and_keeps_constant_features_finite():
    X, y = _data()
    ds = TabularDataset(X, y)
    train, val = random_split(ds, [7, 3], generator=torch.Generator().manual_seed(0))
    norm = Standardize.fit(X[train.indices])
    ds.transform = norm
    Xt = torch.stack([x for x, _ in train])
    assert torch.allclose(Xt.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(Xt[:, :2].std(0, unbiased=False), torch.ones(2), atol=1e-5)
    assert torch.equal(Xt[:, 2], torch.zeros(7))  # std 0 → divided by 1, no NaN
    assert torch.allclose(norm.mean, X[train.indices].mean(0))  # val rows did not enter
    Xv = torch.stack([x for x, _ in val])
    assert torch.isfinite(Xv).all()


def test_dataloader_batches_and_shuffles():
    X, y = _data(n=23)
    loader = DataLoader(TabularDataset(X, y), batch_size=5, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    assert len(loader) == 5
    epochs = [torch.cat([xb[:, 0] for xb, _ in loader]) for _ in range(2)]
    assert [len(xb) for xb, _ in loader] == [5, 5, 5, 5, 3]
    assert sorted(epochs[0].tolist()) == sorted(X[:, 0].tolist())  # each sample once
    assert not torch.equal(epochs[0], epochs[1])  # a new order every epoch
