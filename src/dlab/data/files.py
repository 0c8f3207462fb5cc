"""Datasets backed by files: found in ``--data-dir``/``DLAB_DATA``, the cache, or downloaded.

Each file is pinned by SHA256 (see :mod:`dlab.data.download`), so every student trains on
exactly the same bytes. Parsed arrays are cached per process: labs load the same dataset
many times, and decompressing 26 MB of images each time would dominate short runs.
"""
from __future__ import annotations

import csv
import functools
import os
import tarfile
import zipfile
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np
import torch

from dlab.data.download import fetch
from dlab.data.idx import read_idx
from dlab.data.registry import Dataset, register
from dlab.errors import DataError

PathLike = str | Path | None
T = TypeVar("T")

# ---------------------------------------------------------------- MNIST and Fashion-MNIST

_FASHION_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_IDX_SHA256 = {  # per folder, keyed by file name without "-ubyte.gz"
    "fashion-mnist": {
        "train-images-idx3": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
    "mnist": {
        "train-images-idx3": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
}
FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
MNIST_CLASSES = [str(d) for d in range(10)]


@register("fashion_mnist")
def fashion_mnist(data_dir: PathLike = None, val_size: int = 10_000, seed: int = 0,
                  flatten: bool = True) -> Dataset:
    """Zalando's 28x28 clothing images: 50k train / 10k val (seeded) / 10k official test."""
    return _mnist_like("fashion_mnist", "fashion-mnist", _FASHION_URL, FASHION_CLASSES,
                       data_dir, val_size, seed, flatten)


@register("mnist")
def mnist(data_dir: PathLike = None, val_size: int = 10_000, seed: int = 0,
          flatten: bool = True) -> Dataset:
    """LeCun's 28x28 handwritten digits: 50k train / 10k val (seeded) / 10k official test."""
    return _mnist_like("mnist", "mnist", _MNIST_URL, MNIST_CLASSES,
                       data_dir, val_size, seed, flatten)


def _mnist_like(name: str, folder: str, base_url: str, classes: list[str],
                data_dir: PathLike, val_size: int, seed: int, flatten: bool) -> Dataset:
    def part(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        arrays = []
        for kind in ("images-idx3", "labels-idx1"):
            filename = f"{prefix}-{kind}-ubyte.gz"
            path = fetch(folder, filename, url=base_url + filename,
                         sha256=_IDX_SHA256[folder][f"{prefix}-{kind}"], data_dir=data_dir)
            arrays.append(_cached(read_idx, path))
        return arrays[0], arrays[1]

    train_images, train_labels = part("train")
    test_images, test_labels = part("t10k")
    if not 0 < val_size < len(train_labels):
        raise DataError(f"{name}: val_size must be between 1 and {len(train_labels) - 1}, "
                        f"got {val_size}.")
    train_idx, val_idx = _split_indices(len(train_labels), [val_size], seed)
    shape = (-1, 784) if flatten else (-1, 1, 28, 28)

    def pair(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        # One pass uint8 -> float32 in [0, 1]; the cached uint8 arrays are never modified.
        X = np.divide(images, np.float32(255), dtype=np.float32).reshape(shape)
        return torch.from_numpy(X), torch.from_numpy(labels.astype(np.int64))

    return Dataset(
        name=name, task="classification",
        train=pair(train_images[train_idx], train_labels[train_idx]),
        val=pair(train_images[val_idx], train_labels[val_idx]),
        test=pair(test_images, test_labels),
        classes=list(classes),
        normalization={"scale": 1 / 255},
        info={"image_shape": (1, 28, 28)},
    )


# ---------------------------------------------------------------- California housing

_HOUSING_URL = ("https://raw.githubusercontent.com/ageron/handson-ml2/master/datasets/"
                "housing/housing.csv")
_HOUSING_SHA256 = "8a3727f4cf54ac1a327f69b1d5b4db54c5834ea81c6e4efc0d163300022a685e"
_HOUSING_NUMERIC = ["longitude", "latitude", "housing_median_age", "total_rooms",
                    "total_bedrooms", "population", "households", "median_income"]
# Fixed list (not "whatever occurs"), so the one-hot columns never depend on the split.
_OCEAN = ["<1H OCEAN", "INLAND", "ISLAND", "NEAR BAY", "NEAR OCEAN"]


@register("california_housing")
def california_housing(data_dir: PathLike = None, seed: int = 0) -> Dataset:
    """1990 census block groups: predict median_house_value (US dollars) from 13 features.

    Seeded 60/20/20 split. The 207 missing total_bedrooms are filled with the train median,
    and the 8 numeric features are standardized with train mean/std; the 5 one-hot
    ocean_proximity columns stay 0/1 (recorded as mean 0, std 1 so that
    ``X * std + mean`` undoes the scaling for every column alike).
    """
    path = fetch("california-housing", "housing.csv", url=_HOUSING_URL,
                 sha256=_HOUSING_SHA256, data_dir=data_dir)
    X, y = _cached(_read_housing, path)
    test_n = val_n = round(0.2 * len(y))
    train_idx, val_idx, test_idx = _split_indices(len(y), [val_n, test_n], seed)
    X_train, X_val, X_test = X[train_idx], X[val_idx], X[test_idx]  # fancy indexing copies

    bedrooms = _HOUSING_NUMERIC.index("total_bedrooms")
    fill = float(np.nanmedian(X_train[:, bedrooms]))
    for part in (X_train, X_val, X_test):
        part[np.isnan(part[:, bedrooms]), bedrooms] = fill

    n_num = len(_HOUSING_NUMERIC)
    mean = np.zeros(X.shape[1])
    std = np.ones(X.shape[1])
    mean[:n_num] = X_train[:, :n_num].mean(axis=0)
    std[:n_num] = X_train[:, :n_num].std(axis=0)

    def pair(Xs: np.ndarray, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        scaled = ((Xs - mean) / std).astype(np.float32)
        return torch.from_numpy(scaled), torch.from_numpy(y[idx].astype(np.float32))

    return Dataset(
        name="california_housing", task="regression",
        train=pair(X_train, train_idx), val=pair(X_val, val_idx), test=pair(X_test, test_idx),
        normalization={"mean": mean.tolist(), "std": std.tolist(),
                       "fill": {"total_bedrooms": fill}},
        info={"feature_names": _HOUSING_NUMERIC + [f"ocean_proximity={c}" for c in _OCEAN],
              "target": "median_house_value", "target_unit": "USD"},
    )


def _read_housing(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Raw features (float64, NaN where empty, one-hot ocean_proximity) and target."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    X = np.empty((len(rows), len(_HOUSING_NUMERIC) + len(_OCEAN)))
    y = np.empty(len(rows))
    for i, row in enumerate(rows):
        X[i, :len(_HOUSING_NUMERIC)] = [float(row[c] or "nan") for c in _HOUSING_NUMERIC]
        X[i, len(_HOUSING_NUMERIC):] = [row["ocean_proximity"] == c for c in _OCEAN]
        y[i] = float(row["median_house_value"])
    return X, y


# ---------------------------------------------------------------- Tiny Shakespeare

_SHAKESPEARE_URL = ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                    "tinyshakespeare/input.txt")
_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


@register("tiny_shakespeare")
def tiny_shakespeare(data_dir: PathLike = None) -> Dataset:
    """1.1M characters of Shakespeare, encoded as char ids (int64, 1-D).

    train/val/test are contiguous 90/5/5 slices of the text (no shuffling: a random split
    of an autoregressive text would put every val sentence's neighbours in train).
    ``info["vocab"]`` maps id -> char, ``info["stoi"]`` char -> id.
    """
    path = fetch("tinyshakespeare", "input.txt", url=_SHAKESPEARE_URL,
                 sha256=_SHAKESPEARE_SHA256, data_dir=data_dir)
    ids, vocab = _cached(_encode_chars, path)
    n = len(ids)
    a, b = int(0.9 * n), int(0.95 * n)
    tokens = torch.tensor(ids)  # a copy: the cached array must not change under the user
    return Dataset(
        name="tiny_shakespeare", task="text",
        train=tokens[:a], val=tokens[a:b], test=tokens[b:],
        info={"vocab": list(vocab), "stoi": {c: i for i, c in enumerate(vocab)}},
    )


def _encode_chars(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    # Vectorised: UTF-32 gives one uint32 code point per char; np.unique sorts them, which
    # is the same order as sorted(set(text)).
    codes = np.frombuffer(path.read_text(encoding="utf-8").encode("utf-32-le"), dtype="<u4")
    uniq, ids = np.unique(codes, return_inverse=True)
    return ids.astype(np.int64), tuple(chr(c) for c in uniq)


# ---------------------------------------------------------------- English-Spanish pairs

_SPA_ENG_URL = "http://storage.googleapis.com/download.tensorflow.org/data/spa-eng.zip"
_SPA_ENG_SHA256 = "0c4fd7825d3d872488d38c157f784e035edab4f2ff0df25a2a208790ecb5b58f"


@register("spa_eng")
def spa_eng(data_dir: PathLike = None, seed: int = 0) -> Dataset:
    """118,964 (english, spanish) sentence pairs from Tatoeba; seeded 80/10/10 split.
    train/val/test are lists of ``(english, spanish)`` string tuples."""
    path = fetch("spa-eng", "spa-eng.zip", url=_SPA_ENG_URL, sha256=_SPA_ENG_SHA256,
                 data_dir=data_dir)
    pairs = _cached(_read_pairs, path)
    n_held = round(0.1 * len(pairs))
    train_idx, val_idx, test_idx = _split_indices(len(pairs), [n_held, n_held], seed)
    return Dataset(
        name="spa_eng", task="translation",
        train=[pairs[i] for i in train_idx],
        val=[pairs[i] for i in val_idx],
        test=[pairs[i] for i in test_idx],
        info={"source_language": "en", "target_language": "es"},
    )


def _read_pairs(path: Path) -> tuple[tuple[str, str], ...]:
    with zipfile.ZipFile(path) as zf:
        text = zf.read("spa-eng/spa.txt").decode("utf-8")
    pairs = []
    for line in text.splitlines():
        if line:
            english, _, spanish = line.partition("\t")
            pairs.append((english, spanish))
    return tuple(pairs)


# ---------------------------------------------------------------- IMDB reviews

# The canonical archive is https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz
# (84 MB, with 50k unlabelled reviews). dlab pins a smaller repack instead,
# aclImdb_labelled.tar.gz: only the 50k labelled reviews, byte-identical texts, but a
# different file and hash, so the upstream URL cannot serve it. There is no public URL for
# the repack: it comes from --data-dir/DLAB_DATA, or from a mirror named by DLAB_IMDB_URL
# (or the ``url`` argument).
_IMDB_FILE = "aclImdb_labelled.tar.gz"
_IMDB_SHA256 = "4dacb6c14e483c41fbee422e6b811b6a4915823ce9b5f5386811f632800dee44"


@register("imdb")
def imdb(data_dir: PathLike = None, val_size: int = 5_000, seed: int = 0,
         url: str | None = None) -> Dataset:
    """50k movie reviews labelled neg=0 / pos=1. train = the official 25k train minus a
    seeded ``val_size`` val; test = the official 25k test. Each split is
    ``(texts: list[str], labels: int64 tensor)``."""
    path = fetch("imdb", _IMDB_FILE, url=url or os.environ.get("DLAB_IMDB_URL"),
                 sha256=_IMDB_SHA256, data_dir=data_dir)
    reviews = _cached(_read_imdb, path)
    train_texts, train_labels = reviews["train"]
    if not 0 < val_size < len(train_labels):
        raise DataError(f"imdb: val_size must be between 1 and {len(train_labels) - 1}, "
                        f"got {val_size}.")
    train_idx, val_idx = _split_indices(len(train_labels), [val_size], seed)

    def pick(idx: np.ndarray) -> tuple[list[str], torch.Tensor]:
        return [train_texts[i] for i in idx], torch.from_numpy(train_labels[idx])

    test_texts, test_labels = reviews["test"]
    return Dataset(
        name="imdb", task="text",
        train=pick(train_idx), val=pick(val_idx),
        test=(list(test_texts), torch.from_numpy(test_labels.copy())),
        classes=["neg", "pos"],
        info={"layout": "(texts, labels) per split"},
    )


def _read_imdb(path: Path) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    # ~4 s, mostly tarfile parsing 50k member headers; hence the per-process cache.
    found: dict[str, list[tuple[int, int, str]]] = {"train": [], "test": []}
    try:
        with tarfile.open(path, "r:gz") as tf:
            for member in tf:
                parts = member.name.split("/")  # aclImdb/<split>/<pos|neg>/<id>_<rating>.txt
                if (member.isfile() and len(parts) == 4 and parts[1] in found
                        and parts[2] in ("neg", "pos")):
                    text = tf.extractfile(member).read().decode("utf-8")
                    review_id = int(parts[3].split("_")[0])
                    found[parts[1]].append((int(parts[2] == "pos"), review_id, text))
    except (OSError, EOFError, tarfile.TarError, ValueError) as exc:
        raise DataError(f"Cannot read {path}: {exc}. Delete it and provide a good copy.") from exc
    result = {}
    for split, items in found.items():
        items.sort()  # (label, id): independent of the archive's member order
        result[split] = (tuple(t for _, _, t in items),
                         np.array([label for label, _, _ in items], dtype=np.int64))
    return result


# ---------------------------------------------------------------- German electricity

_OPSD_URL = "https://raw.githubusercontent.com/jenfly/opsd/master/opsd_germany_daily.csv"
_OPSD_SHA256 = "729b025d984497827cb6b89048d7c2c6a551e7aa727bc47ea0b74a2d1e84675d"


@register("electricity")
def electricity(data_dir: PathLike = None) -> Dataset:
    """Germany's daily electricity consumption (GWh), 2006-2017, as a 1-D float32 series.

    Split chronologically 70/15/15 (shuffling a time series would let the model peek at
    the future). Values are standardized with the train mean/std: ``x * std + mean`` gives
    GWh back. ``info["dates"]`` holds the ISO date of every value, train then val then test.
    """
    path = fetch("opsd-germany-daily", "opsd_germany_daily.csv", url=_OPSD_URL,
                 sha256=_OPSD_SHA256, data_dir=data_dir)
    dates, values = _cached(_read_consumption, path)
    n = len(values)
    a, b = int(0.7 * n), int(0.85 * n)
    mean, std = float(values[:a].mean()), float(values[:a].std())
    series = torch.from_numpy(((values - mean) / std).astype(np.float32))
    return Dataset(
        name="electricity", task="sequence",
        train=series[:a], val=series[a:b], test=series[b:],
        normalization={"mean": mean, "std": std},
        info={"dates": list(dates), "unit": "GWh", "column": "Consumption"},
    )


def _read_consumption(path: Path) -> tuple[tuple[str, ...], np.ndarray]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return tuple(r["Date"] for r in rows), np.array([float(r["Consumption"]) for r in rows])


# ---------------------------------------------------------------- helpers

def _split_indices(n: int, held_out: list[int], seed: int) -> list[np.ndarray]:
    """Seeded random partition of ``range(n)``: ``[rest, *held_out parts]``, each sorted so
    that a split keeps the file's order."""
    perm = np.random.default_rng(seed).permutation(n)
    parts, start = [], 0
    for size in held_out:
        parts.append(np.sort(perm[start:start + size]))
        start += size
    return [np.sort(perm[start:]), *parts]


@functools.lru_cache(maxsize=32)
def _parse(reader: Callable[[Path], T], path: str, size: int, mtime_ns: int) -> T:
    return reader(Path(path))


def _cached(reader: Callable[[Path], T], path: Path) -> T:
    """``reader(path)``, computed once per process per file version (size + mtime)."""
    st = path.stat()
    return _parse(reader, str(path.resolve()), st.st_size, st.st_mtime_ns)
