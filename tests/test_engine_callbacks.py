"""Callbacks: EarlyStopping, ModelCheckpoint, LR schedulers, CSV and TensorBoard loggers, and
the weight files they rely on."""
import copy
import csv
import json

import pytest
import torch
from torch import nn

from dlab.engine import (CSVLogger, Callback, EarlyStopping, LRScheduler, ModelCheckpoint,
                         ReduceLROnPlateau, TensorBoardLogger, Trainer, load_weights,
                         save_weights)
from dlab.errors import CheckpointError, ConfigError


def data(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g)
    y = (X[:, 0] > X[:, 1]).long()
    return X, y


def mlp(seed=0, hidden=8):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 2))


def make_trainer(model, callbacks, lr=0.05, optimizer=None):
    opt = optimizer or torch.optim.SGD(model.parameters(), lr=lr)
    return Trainer(model, opt, callbacks=callbacks, device="cpu", progress=False, doctor=False)


class Script(Callback):
    """Overwrite a logged value with a scripted sequence (placed before the callback under
    test, which sees the same logs dict)."""

    def __init__(self, values, key="val_loss"):
        self.values, self.key = values, key

    def on_epoch_end(self, trainer, epoch, logs):
        logs[self.key] = self.values[epoch - 1]


class Snapshots(Callback):
    """The model weights at the end of every epoch."""

    def __init__(self):
        self.weights = {}

    def on_epoch_end(self, trainer, epoch, logs):
        self.weights[epoch] = copy.deepcopy(trainer.model.state_dict())


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- EarlyStopping
def test_early_stopping_patience():
    values = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.4, 0.3]
    es = EarlyStopping(patience=3, restore_best_weights=False)
    t = make_trainer(mlp(), [Script(values), es])
    history = t.fit(data(), data(), epochs=8)
    assert len(history) == 5  # best at epoch 2, then 3 epochs without progress
    assert history.stopped_early is True
    assert es.best == 0.9 and es.best_epoch == 2


def test_early_stopping_waits_for_patience_before_stopping():
    values = [1.0, 0.9, 0.95, 0.85, 0.96, 0.97, 0.98, 0.99]
    history = make_trainer(mlp(), [Script(values), EarlyStopping(patience=3)]).fit(
        data(), data(), epochs=8)
    assert len(history) == 7  # progress at epoch 4 resets the count
    history = make_trainer(mlp(), [Script(values), EarlyStopping(patience=10)]).fit(
        data(), data(), epochs=8)
    assert len(history) == 8 and history.stopped_early is False


def test_early_stopping_min_delta():
    values = [1.0, 0.99, 0.98, 0.97, 0.96, 0.95]
    small = make_trainer(mlp(), [Script(values), EarlyStopping(patience=2)]).fit(
        data(), data(), epochs=6)
    assert len(small) == 6  # every epoch improves a little
    es = EarlyStopping(patience=2, min_delta=0.05)
    big = make_trainer(mlp(), [Script(values), es]).fit(data(), data(), epochs=6)
    assert len(big) == 3 and big.stopped_early  # 0.99 and 0.98 are not 0.05 better than 1.0
    assert es.best_epoch == 1


def test_early_stopping_mode_max():
    values = [0.5, 0.7, 0.6, 0.6, 0.9]
    es = EarlyStopping(monitor="val_accuracy", mode="max", patience=2,
                       restore_best_weights=False)
    history = make_trainer(mlp(), [Script(values, "val_accuracy"), es]).fit(
        data(), data(), epochs=5)
    assert len(history) == 4 and es.best == 0.7
    with pytest.raises(ConfigError):
        EarlyStopping(mode="maximum")


def test_restore_best_weights_restores_the_best_epoch(tmp_path):
    values = [1.0, 0.8, 0.3, 0.6, 0.7, 0.9, 0.95]
    best = tmp_path / "best.safetensors"
    every = tmp_path / "last.safetensors"
    snaps = Snapshots()
    model = mlp()
    t = make_trainer(model, [Script(values), ModelCheckpoint(best),
                             ModelCheckpoint(every, save_best_only=False), snaps,
                             EarlyStopping(patience=3, restore_best_weights=True)])
    history = t.fit(data(), data(), epochs=7)
    assert len(history) == 6 and history.stopped_early
    assert json.loads(best.with_suffix(".safetensors.json").read_text())["epoch"] == 3
    assert json.loads(every.with_suffix(".safetensors.json").read_text())["epoch"] == 6

    from_file = mlp(seed=99)
    load_weights(from_file, best)
    last = mlp(seed=99)
    load_weights(last, every)
    assert same_weights(model.state_dict(), from_file.state_dict())
    assert same_weights(model.state_dict(), snaps.weights[3])
    # training did move on after epoch 3, so this is a real restore
    assert not same_weights(model.state_dict(), last.state_dict())
    assert same_weights(last.state_dict(), snaps.weights[6])


def test_without_restore_the_last_weights_stay(tmp_path):
    values = [1.0, 0.5, 0.9, 0.9]
    snaps = Snapshots()
    model = mlp()
    make_trainer(model, [Script(values), snaps,
                         EarlyStopping(patience=2, restore_best_weights=False)]).fit(
        data(), data(), epochs=4)
    assert same_weights(model.state_dict(), snaps.weights[4])


def test_monitor_not_logged_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="val_loss"):
        make_trainer(mlp(), [EarlyStopping()]).fit(data(), epochs=2)  # no validation data
    with pytest.raises(ConfigError, match="val_loss"):
        make_trainer(mlp(), [ModelCheckpoint(tmp_path / "m.safetensors")]).fit(data(), epochs=1)


# ---------------------------------------------------------------- ModelCheckpoint
def test_model_checkpoint_best_only_writes_on_improvement(tmp_path):
    path = tmp_path / "ckpt" / "best.safetensors"
    sidecar = path.with_suffix(".safetensors.json")
    values = [1.0, 0.8, 0.9, 0.7, 0.75]

    class Watch(Callback):
        def __init__(self):
            self.seen = []

        def on_epoch_end(self, trainer, epoch, logs):
            self.seen.append(json.loads(sidecar.read_text())["epoch"])

    snaps, watch = Snapshots(), Watch()
    model = mlp()
    make_trainer(model, [Script(values), ModelCheckpoint(path), snaps, watch]).fit(
        data(), data(), epochs=5)
    assert watch.seen == [1, 2, 2, 4, 4]
    meta = json.loads(sidecar.read_text())
    assert meta["epoch"] == 4 and meta["monitor"] == "val_loss" and meta["value"] == 0.7
    assert meta["architecture"] == "Sequential"
    assert meta["shapes"] == {"0.weight": [8, 2], "0.bias": [8], "2.weight": [2, 8],
                              "2.bias": [2]}
    # the file is a plain safetensors file with the weights of epoch 4
    from safetensors.torch import load_file
    assert same_weights(load_file(str(path)), snaps.weights[4])
    fresh = mlp(seed=5)
    assert load_weights(fresh, path)["epoch"] == 4
    assert same_weights(fresh.state_dict(), snaps.weights[4])
    # nothing but the two files (no temp files left behind)
    assert sorted(p.name for p in path.parent.iterdir()) == ["best.safetensors",
                                                              "best.safetensors.json"]


def test_model_checkpoint_mode_max(tmp_path):
    path = tmp_path / "best.safetensors"
    make_trainer(mlp(), [Script([0.5, 0.9, 0.8], "val_accuracy"),
                         ModelCheckpoint(path, monitor="val_accuracy", mode="max")]).fit(
        data(), data(), epochs=3)
    assert json.loads(path.with_suffix(".safetensors.json").read_text())["epoch"] == 2


def test_load_weights_into_another_architecture_lists_mismatches(tmp_path):
    path = tmp_path / "w.safetensors"
    save_weights(mlp(hidden=8), path)
    with pytest.raises(CheckpointError) as err:
        load_weights(mlp(hidden=16), path)
    msg = str(err.value)
    assert "0.weight: checkpoint (8, 2) vs model (16, 2)" in msg
    assert "2.weight" in msg
    deeper = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2), nn.ReLU(), nn.Linear(2, 2))
    with pytest.raises(CheckpointError, match="missing 4.weight"):
        load_weights(deeper, path)
    with pytest.raises(CheckpointError, match="unexpected 2.weight"):
        load_weights(nn.Sequential(nn.Linear(2, 8)), path)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_weights(mlp(), tmp_path / "nope.safetensors")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_safetensors_is_a_checkpoint_error(tmp_path, damage):
    path = tmp_path / "w.safetensors"
    save_weights(mlp(), path)
    raw = path.read_bytes()
    path.write_bytes({"garbage": b"\x00not a safetensors file" * 10,
                      "truncated": raw[: len(raw) // 2],
                      "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_weights(mlp(), path)


def test_tied_weights_can_be_saved_and_loaded(tmp_path):
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(5, 3)
            self.out = nn.Linear(3, 5, bias=False)
            self.out.weight = self.emb.weight

    src, dst = Tied(), Tied()
    save_weights(src, tmp_path / "tied.safetensors")
    load_weights(dst, tmp_path / "tied.safetensors")
    assert torch.equal(dst.emb.weight, src.emb.weight)
    assert dst.out.weight is dst.emb.weight


# ---------------------------------------------------------------- LR schedules
def test_step_lr_per_epoch():
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = LRScheduler(torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.1))
    history = make_trainer(model, [sched], optimizer=opt).fit(data(), epochs=5)
    # "lr" is the rate used during that epoch
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001])
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)  # after 5 steps: 0.1 * 0.1 ** (5 // 2)


class StepLRs(Callback):
    def __init__(self):
        self.lrs = []

    def on_batch_begin(self, trainer, step):
        self.lrs.append(trainer.optimizer.param_groups[0]["lr"])


@pytest.mark.parametrize("kind", ["onecycle", "linear"])
def test_per_step_schedule(kind):
    epochs, batch_size, n = 3, 8, 44  # 6 steps per epoch (the last one short)
    total = epochs * 6

    def make(opt):
        if kind == "onecycle":
            return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=total)
        return torch.optim.lr_scheduler.LinearLR(opt, start_factor=1.0, end_factor=0.05,
                                                 total_iters=total)

    # reference: the schedule stepped by hand
    ref_opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    ref = make(ref_opt)
    expected = []
    for _ in range(total):
        expected.append(ref_opt.param_groups[0]["lr"])
        ref_opt.step()
        ref.step()

    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    probe = StepLRs()
    history = make_trainer(model, [LRScheduler(make(opt), interval="step"), probe],
                           optimizer=opt).fit(data(n), epochs=epochs, batch_size=batch_size)
    assert len(probe.lrs) == total
    assert probe.lrs == pytest.approx(expected)
    assert len(set(round(v, 8) for v in probe.lrs)) > 10  # it really changes every step
    assert history["lr"][-1] == pytest.approx(opt.param_groups[0]["lr"])


def test_bad_scheduler_interval():
    opt = torch.optim.SGD(mlp().parameters(), lr=0.1)
    with pytest.raises(ConfigError):
        LRScheduler(torch.optim.lr_scheduler.StepLR(opt, 1), interval="batch")
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
    with pytest.raises(ConfigError):
        LRScheduler(plateau, interval="step")


def test_reduce_lr_on_plateau_cuts_after_patience():
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    cb = ReduceLROnPlateau(opt, factor=0.5, patience=2)
    history = make_trainer(model, [Script([1.0] * 8), cb], optimizer=opt).fit(
        data(), data(), epochs=8)
    # best at epoch 1; epochs 2, 3, 4 bring no progress: the cut happens after epoch 4
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_reduce_lr_on_plateau_needs_the_monitored_value():
    model = mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ConfigError, match="val_loss"):
        make_trainer(model, [ReduceLROnPlateau(opt)], optimizer=opt).fit(data(), epochs=1)


# ---------------------------------------------------------------- loggers
def test_csv_logger_one_row_per_epoch(tmp_path):
    path = tmp_path / "logs" / "train.csv"
    history = make_trainer(mlp(), [CSVLogger(path)]).fit(data(), data(), epochs=3)
    with path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "val_loss", "lr"]
    assert len(rows) == 4
    parsed = list(csv.DictReader(path.open(newline="")))
    assert [int(r["epoch"]) for r in parsed] == [1, 2, 3]
    assert [float(r["loss"]) for r in parsed] == pytest.approx(history["loss"])
    assert [float(r["val_loss"]) for r in parsed] == pytest.approx(history["val_loss"])


def test_csv_logger_resume_drops_rows_written_after_the_saved_state(tmp_path):
    path, state = tmp_path / "train.csv", tmp_path / "state.pt"
    make_trainer(mlp(), [CSVLogger(path)]).fit(data(), data(), epochs=3, state_path=state)
    # A crash after epoch 4 was logged but before its state was saved: epoch 4 runs again.
    with path.open("a") as f:
        f.write("4,0.5,0.5,0.05\n")
    make_trainer(mlp(), [CSVLogger(path)]).fit(data(), data(), epochs=5, resume=state)
    parsed = list(csv.DictReader(path.open(newline="")))
    assert [int(r["epoch"]) for r in parsed] == [1, 2, 3, 4, 5]


def test_tensorboard_logger_writes_events(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log_dir = tmp_path / "tb"
    history = make_trainer(mlp(), [TensorBoardLogger(log_dir)]).fit(data(), data(), epochs=3)
    files = list(log_dir.glob("events.out.tfevents.*"))
    assert len(files) == 1 and files[0].stat().st_size > 0
    acc = EventAccumulator(str(log_dir))
    acc.Reload()
    assert {"loss", "val_loss", "lr"} <= set(acc.Tags()["scalars"])
    events = acc.Scalars("loss")
    assert [e.step for e in events] == [1, 2, 3]
    assert [e.value for e in events] == pytest.approx(history["loss"], rel=1e-6)
