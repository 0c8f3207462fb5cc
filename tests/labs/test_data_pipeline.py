"""data-pipeline: quick mode runs end to end; full mode meets every criterion. Also the lab's
reference Dataset, normalization and loader (they were dlab.data.custom before they became the
lab's exercises)."""
import math

import pytest
import torch
from torch.utils.data import random_split

from dlab.lab import catalog

METRICS = ["updates_per_epoch_exact", "epoch_time_ratio_b1_b256", "middle_batch_wins",
           "best_batch_size", "batches_vs_dataloader_loading", "batches_vs_dataloader_training",
           "val_loss_batch_1", "val_loss_batch_32", "val_loss_batch_256", "val_loss_batch_full",
           "val_loss_avg_batch_1", "val_loss_avg_batch_32", "test_accuracy_best"]
FIGURES = {"normalization_statistics.png", "batch_size_tradeoff.png", "loader_timing.png"}


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("data-pipeline")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert lab_figures("data-pipeline") == FIGURES
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    # Whatever the budget, the loader serves ceil(N / batch) batches per epoch.
    assert m["updates_per_epoch_exact"] is True
    assert m["updates_batch_full"] >= 1 and math.isfinite(m["val_loss_batch_full"])
    # Every metric that depends on the clock is declared as such (the notebook test relies
    # on it); the rest are functions of the seed.
    timed = set(catalog.get("data-pipeline").lab.timed)
    assert timed <= set(m)
    assert set(m) - timed == {"train_size", "val_size", "updates_per_epoch_exact"}


def test_full_passes(run_lab_in):
    """Every criterion that is a function of the seed passes; the clock-based ones (loader and
    batch-size timings) are measured, but under a parallel test run their ratios move with the
    load on the other workers, so `make labs-full` and the benchmarks judge them, not this."""
    record = run_lab_in("data-pipeline", quick=False)
    timed = set(catalog.get("data-pipeline").lab.timed)
    untimed = [c for c in record["criteria"] if c["metric"] not in timed]
    assert untimed and all(c["passed"] for c in untimed), untimed
    assert all(math.isfinite(float(c["value"])) for c in record["criteria"]
               if c["metric"] in timed and not isinstance(c["value"], bool))


@pytest.fixture(scope="module")
def ref():
    return catalog.get("data-pipeline").reference_functions()


def _data(n=10, d=3):
    X = torch.arange(n * d, dtype=torch.float32).reshape(n, d)
    X[:, 2] = 5.0  # a constant feature
    return X, torch.arange(n) % 2


def test_dataset_len_getitem_and_transform_per_sample(ref):
    X, y = _data()
    ds = ref["build_dataset"](X, y)
    assert len(ds) == 10
    x3, y3 = ds[3]
    assert torch.equal(x3, X[3]) and int(y3) == 1
    ds.transform = lambda x: x * 2
    assert torch.equal(ds[3][0], X[3] * 2)
    assert torch.equal(ds.X, X)  # the stored data is not modified, only what is read


def test_dataset_accepts_numpy_and_rejects_mismatched_lengths(ref):
    X, y = _data()
    ds = ref["build_dataset"](X.numpy(), y.numpy())
    assert ds.X.dtype == torch.float32 and len(ds) == 10
    with pytest.raises(ValueError, match="rows"):
        ref["build_dataset"](X, y[:-1])


def test_standardize_fits_train_rows_only_and_keeps_constant_features_finite(ref):
    X, y = _data()
    ds = ref["build_dataset"](X, y)
    train, val = random_split(ds, [7, 3], generator=torch.Generator().manual_seed(0))
    mean, std = ref["fit_standardize"](X[train.indices])
    ds.transform = lambda x: (x - mean) / std
    Xt = torch.stack([x for x, _ in train])
    assert torch.allclose(Xt.mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(Xt[:, :2].std(0, unbiased=False), torch.ones(2), atol=1e-5)
    assert torch.equal(Xt[:, 2], torch.zeros(7))  # std 0 → divided by 1, no NaN
    assert torch.allclose(mean, X[train.indices].mean(0))  # val rows did not enter
    Xv = torch.stack([x for x, _ in val])
    assert torch.isfinite(Xv).all()


def test_loader_batches_and_shuffles(ref):
    X, y = _data(n=23)
    loader = ref["make_loader"](ref["build_dataset"](X, y), 5, seed=0)
    assert len(loader) == 5
    epochs = [torch.cat([xb[:, 0] for xb, _ in loader]) for _ in range(2)]
    assert [len(xb) for xb, _ in loader] == [5, 5, 5, 5, 3]
    assert sorted(epochs[0].tolist()) == sorted(X[:, 0].tolist())  # each sample once
    assert not torch.equal(epochs[0], epochs[1])  # a new order every epoch
