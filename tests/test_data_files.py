"""File-backed datasets on the real shared data (``DLAB_DATA``), plus the IDX parser.

The dataset tests skip when ``DLAB_DATA`` is unset or lacks the file: they never download.
"""
from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from dlab.data import files, load, names
from dlab.data.idx import read_idx
from dlab.errors import DataError


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("DLAB_OFFLINE", "1")  # a missing file must skip or fail, never download


def need(folder: str, filename: str) -> None:
    root = os.environ.get("DLAB_DATA")
    if not root:
        pytest.skip("DLAB_DATA is not set: point it at the shared data folder to run this test")
    if not (Path(root) / folder / filename).is_file():
        pytest.skip(f"{folder}/{filename} is not in DLAB_DATA={root}")


def test_all_file_datasets_are_registered():
    assert {"fashion_mnist", "mnist", "california_housing", "tiny_shakespeare", "spa_eng",
            "imdb", "electricity"} <= set(names())


@pytest.mark.parametrize("name, folder, classes", [
    ("fashion_mnist", "fashion-mnist", files.FASHION_CLASSES),
    ("mnist", "mnist", [str(d) for d in range(10)]),
])
def test_mnist_like_shapes_ranges_and_classes(name, folder, classes):
    need(folder, "train-images-idx3-ubyte.gz")
    ds = load(name)
    assert ds.task == "classification" and ds.classes == classes
    assert ds.normalization == {"scale": 1 / 255}
    for (X, y), n in zip((ds.train, ds.val, ds.test), (50_000, 10_000, 10_000)):
        assert X.shape == (n, 784) and X.dtype == torch.float32
        assert y.shape == (n,) and y.dtype == torch.int64
        assert 0.0 <= X.min() and X.max() <= 1.0 and X.max() > 0.99
        assert set(y.unique().tolist()) == set(range(10))


def test_fashion_mnist_image_layout_and_seeded_split():
    need("fashion-mnist", "train-images-idx3-ubyte.gz")
    a = files.fashion_mnist(seed=0)
    images = files.fashion_mnist(seed=0, flatten=False)
    assert images.train[0].shape == (50_000, 1, 28, 28)
    assert torch.equal(images.train[0].reshape(50_000, 784), a.train[0])
    assert torch.equal(files.fashion_mnist(seed=0).val[1], a.val[1])  # same seed, same split
    assert not torch.equal(files.fashion_mnist(seed=1).val[1], a.val[1])
    assert torch.equal(files.fashion_mnist(seed=1).test[1], a.test[1])  # test is fixed
    # train and val partition the official 60k: together they hold 6,000 of each class.
    counts = torch.bincount(torch.cat([a.train[1], a.val[1]]), minlength=10)
    assert counts.tolist() == [6000] * 10


def test_california_housing_train_only_statistics():
    need("california-housing", "housing.csv")
    ds = files.california_housing()
    (Xtr, ytr), (Xva, yva), (Xte, yte) = ds.train, ds.val, ds.test
    assert ds.task == "regression"
    assert (len(ytr), len(yva), len(yte)) == (12_384, 4_128, 4_128)
    assert Xtr.shape[1] == 13 == len(ds.info["feature_names"]) == len(ds.normalization["std"])
    assert Xtr.dtype == ytr.dtype == torch.float32 and ytr.ndim == 1
    assert not any(torch.isnan(X).any() for X in (Xtr, Xva, Xte))
    assert 14_000 < ytr.min() and ytr.max() < 600_000  # dollars, not scaled
    numeric = slice(0, 8)
    assert torch.allclose(Xtr[:, numeric].mean(0), torch.zeros(8), atol=1e-4)
    assert torch.allclose(Xtr[:, numeric].std(0, correction=0), torch.ones(8), atol=1e-3)
    assert Xva[:, numeric].mean(0).abs().max() > 1e-4  # fitted on train, not on val
    onehot = Xtr[:, 8:]
    assert set(onehot.unique().tolist()) <= {0.0, 1.0} and bool((onehot.sum(1) == 1).all())
    assert 400 < ds.normalization["fill"]["total_bedrooms"] < 500
    again = files.california_housing(seed=0)
    assert torch.equal(again.val[1], yva)
    assert not torch.equal(files.california_housing(seed=1).val[1], yva)


def test_tiny_shakespeare_contiguous_char_splits():
    need("tinyshakespeare", "input.txt")
    ds = files.tiny_shakespeare()
    vocab, stoi = ds.info["vocab"], ds.info["stoi"]
    parts = (ds.train, ds.val, ds.test)
    assert ds.task == "text" and len(vocab) == 65
    assert all(p.dtype == torch.int64 and p.ndim == 1 for p in parts)
    assert sum(len(p) for p in parts) == 1_115_394
    assert len(ds.train) == int(0.9 * 1_115_394)
    assert "".join(vocab[i] for i in ds.train[:13].tolist()) == "First Citizen"
    assert all(stoi[c] == i for i, c in enumerate(vocab))


def test_spa_eng_pairs_split_80_10_10():
    need("spa-eng", "spa-eng.zip")
    ds = files.spa_eng()
    assert ds.task == "translation"
    assert (len(ds.train), len(ds.val), len(ds.test)) == (95_172, 11_896, 11_896)
    english, spanish = ds.train[0]
    assert isinstance(english, str) and isinstance(spanish, str) and "\t" not in spanish
    assert files.spa_eng(seed=0).val == ds.val
    assert files.spa_eng(seed=1).val != ds.val


def test_imdb_official_test_and_seeded_val():
    need("imdb", "aclImdb_labelled.tar.gz")
    ds = files.imdb()
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = ds.train, ds.val, ds.test
    assert ds.classes == ["neg", "pos"] and ds.task == "text"
    assert (len(tr_x), len(va_x), len(te_x)) == (20_000, 5_000, 25_000)
    assert len(tr_y) == 20_000 and tr_y.dtype == torch.int64
    assert te_y.sum().item() == 12_500  # the official test set is balanced
    assert tr_y.sum().item() + va_y.sum().item() == 12_500
    assert isinstance(tr_x[0], str) and len(tr_x[0]) > 10
    # (No text-level disjointness check: IMDB itself holds a few duplicate reviews.)
    assert files.imdb(seed=0).val[0] == va_x
    assert files.imdb(seed=1).val[0] != va_x


def test_electricity_chronological_split_and_train_scaling():
    need("opsd-germany-daily", "opsd_germany_daily.csv")
    ds = files.electricity()
    parts = (ds.train, ds.val, ds.test)
    assert ds.task == "sequence"
    assert [len(p) for p in parts] == [3068, 657, 658]
    dates = ds.info["dates"]
    assert len(dates) == 4383 and dates[0] == "2006-01-01" and dates[-1] == "2017-12-31"
    assert abs(ds.train.mean().item()) < 1e-4 and abs(ds.train.std(correction=0) - 1) < 1e-3
    assert abs(ds.test.mean().item()) > 1e-3  # later years differ: stats come from train only
    mean, std = ds.normalization["mean"], ds.normalization["std"]
    assert ds.train[0].item() * std + mean == pytest.approx(1069.184, rel=1e-5)


# ---------------------------------------------------------------- IDX parser (no data needed)

def _idx_bytes(magic: int, shape: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(f">I{len(shape)}I", magic, *shape) + payload


def test_read_idx_round_trip(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / "ok.gz"
    path.write_bytes(gzip.compress(_idx_bytes(2051, images.shape, images.tobytes())))
    assert np.array_equal(read_idx(path), images)


@pytest.mark.parametrize("content, match", [
    (b"this is not gzip at all", "not a complete gzip"),
    (gzip.compress(_idx_bytes(2051, (2, 3, 4), bytes(24)))[:-12], "not a complete gzip"),
    (gzip.compress(_idx_bytes(1234, (3,), bytes(3))), "magic number is 1234"),
    (gzip.compress(_idx_bytes(2049, (10,), bytes(7))), "promises"),
    (gzip.compress(b"\x00\x00\x08\x03\x00"), "header is cut short"),
], ids=["not-gzip", "truncated-gzip", "bad-magic", "short-payload", "short-header"])
def test_read_idx_rejects_broken_files(tmp_path, content, match):
    path = tmp_path / "broken.gz"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match) as exc:
        read_idx(path)
    assert str(path) in str(exc.value)
