"""Resuming training: a run killed with SIGKILL and resumed from its state file ends exactly
where an uninterrupted run ends; bad state files are refused with a clear message."""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlab.engine import EarlyStopping, LRScheduler, Trainer
from dlab.errors import CheckpointError
from dlab.runtime import rng_state, seed_everything, set_rng_state

SCRIPT = Path(__file__).parent / "helpers" / "train_script.py"
EPOCHS = 8


def _start(out: Path, state: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(out), "--state", str(state), "--epochs", str(EPOCHS),
         *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)


def _finish(proc: subprocess.Popen, timeout: float = 300) -> None:
    output, _ = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, output


def _saved_epoch(path: Path) -> int | None:
    """Epoch recorded in a state file, or None if it is not there (yet) or being replaced."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)["epoch"]
    except Exception:  # missing, or replaced while we read it
        return None


def _result(out: Path) -> dict:
    return json.loads((out / "result.json").read_text())


def test_killed_run_resumes_to_the_same_result(tmp_path):
    state = tmp_path / "killed" / "state.pt"
    state.parent.mkdir()
    victim = _start(tmp_path / "killed", state, "--sleep", "0.4")
    reference = _start(tmp_path / "reference", tmp_path / "reference-state.pt")

    deadline = time.monotonic() + 240
    epoch = None
    while time.monotonic() < deadline and victim.poll() is None:
        epoch = _saved_epoch(state)
        if epoch is not None and epoch >= 3:
            break
        time.sleep(0.05)
    assert victim.poll() is None, "the run finished (or failed) before it could be killed:\n" \
        + victim.communicate()[0]
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=60)
    assert victim.returncode == -signal.SIGKILL

    killed_at = _saved_epoch(state)
    assert killed_at is not None, "the state file must survive a kill (atomic writes)"
    assert 3 <= killed_at < EPOCHS
    assert not (tmp_path / "killed" / "result.json").exists()
    # no half-written temp files are mistaken for the state: only the state and maybe one temp
    leftovers = [p.name for p in state.parent.iterdir() if p.name != "state.pt"]
    assert all(name.startswith(".state.pt.") for name in leftovers), leftovers

    resumed = _start(tmp_path / "killed", state, "--resume")
    _finish(resumed)
    _finish(reference)

    got, want = _result(tmp_path / "killed"), _result(tmp_path / "reference")
    assert len(want["history"]) == EPOCHS
    assert got["history"] == want["history"]  # every loss, accuracy and lr, bit for bit
    assert got["best_epoch"] == want["best_epoch"]
    assert got["lr"] == want["lr"] == pytest.approx(0.02 * 0.5 ** (EPOCHS // 3))
    assert got["global_step"] == want["global_step"] == EPOCHS * 8
    assert got["rng_after"] == want["rng_after"]

    final_got = load_file(str(tmp_path / "killed" / "final.safetensors"))
    final_want = load_file(str(tmp_path / "reference" / "final.safetensors"))
    assert final_got.keys() == final_want.keys()
    assert all(torch.equal(final_got[k], final_want[k]) for k in final_want)
    last_got = torch.load(tmp_path / "killed" / "last.pt", weights_only=True)
    last_want = torch.load(tmp_path / "reference" / "last.pt", weights_only=True)
    assert all(torch.equal(last_got[k], last_want[k]) for k in last_want)
    # the weights really changed after the kill: the comparison is not trivially true
    at_kill = torch.load(state, weights_only=True)  # rewritten by the resumed run: epoch 8
    assert at_kill["epoch"] == EPOCHS


# ---------------------------------------------------------------- in-process resume
def _setup(loader: bool, hidden: int = 16, early: bool = True):
    seed_everything(0)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(96, 2, generator=g)
    y = (X[:, 0] * X[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(hidden, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    callbacks = [LRScheduler(torch.optim.lr_scheduler.StepLR(opt, 2, 0.5))]
    if early:
        callbacks.append(EarlyStopping(patience=50))
    trainer = Trainer(model, opt, callbacks=callbacks, device="cpu", progress=False,
                      doctor=False)
    train = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True) if loader else (X, y)
    return trainer, train, (X, y)


@pytest.mark.parametrize("loader", [False, True], ids=["batches", "dataloader"])
def test_resume_in_process_equals_uninterrupted(tmp_path, loader):
    trainer, train, val = _setup(loader)
    full = trainer.fit(train, val, epochs=6, state_path=tmp_path / "full.pt")
    want = {k: v.clone() for k, v in trainer.model.state_dict().items()}

    # a run that stopped after epoch 3, then a fresh process-like setup that resumes it
    first, train1, val1 = _setup(loader)
    first.fit(train1, val1, epochs=3, state_path=tmp_path / "at3.pt")
    torch.rand(5)  # whatever happens in between does not matter
    second, train2, val2 = _setup(loader)
    resumed = second.fit(train2, val2, epochs=6, resume=tmp_path / "at3.pt")
    assert resumed.epochs == full.epochs
    assert all(torch.equal(second.model.state_dict()[k], want[k]) for k in want)


def test_resume_of_a_finished_run_trains_no_more(tmp_path):
    trainer, train, val = _setup(False)
    trainer.fit(train, val, epochs=2, state_path=tmp_path / "s.pt")
    again, train2, val2 = _setup(False)
    history = again.fit(train2, val2, epochs=2, resume=tmp_path / "s.pt")
    assert len(history) == 2 and again.epoch == 2 and history.stopped_early is False


def test_rng_state_roundtrip_includes_cached_gaussians(tmp_path):
    random.seed(1)
    np.random.seed(1)
    torch.manual_seed(1)
    random.gauss(0, 1)      # both caches now hold a second value
    np.random.randn()
    state = rng_state()
    # it must survive torch.save / torch.load(weights_only=True)
    torch.save(state, tmp_path / "rng.pt")
    state = torch.load(tmp_path / "rng.pt", weights_only=True)
    want = (random.gauss(0, 1), float(np.random.randn()), random.random(), torch.rand(2).tolist())
    set_rng_state(state)
    got = (random.gauss(0, 1), float(np.random.randn()), random.random(), torch.rand(2).tolist())
    assert got == want


# ---------------------------------------------------------------- bad state files
@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_state_is_a_checkpoint_error(tmp_path, damage):
    path = tmp_path / "state.pt"
    trainer, train, val = _setup(False)
    trainer.fit(train, val, epochs=1, state_path=path)
    raw = path.read_bytes()
    path.write_bytes({"garbage": b"definitely not a torch file" * 20,
                      "truncated": raw[: len(raw) // 2], "empty": b""}[damage])
    again, train, val = _setup(False)
    with pytest.raises(CheckpointError, match="corrupt"):
        again.fit(train, val, epochs=2, resume=path)


def test_missing_or_foreign_state_is_a_checkpoint_error(tmp_path):
    trainer, train, val = _setup(False)
    with pytest.raises(CheckpointError, match="does not exist"):
        trainer.fit(train, val, epochs=2, resume=tmp_path / "nope.pt")
    torch.save(trainer.model.state_dict(), tmp_path / "weights.pt")  # a plain state_dict
    with pytest.raises(CheckpointError, match="not a dlab training state"):
        trainer.fit(train, val, epochs=2, resume=tmp_path / "weights.pt")


def test_resume_with_another_architecture_is_refused_clearly(tmp_path):
    path = tmp_path / "state.pt"
    trainer, train, val = _setup(False, hidden=16)
    trainer.fit(train, val, epochs=1, state_path=path)

    other, train, val = _setup(False, hidden=32)
    before = {k: v.clone() for k, v in other.model.state_dict().items()}
    with pytest.raises(CheckpointError) as err:
        other.fit(train, val, epochs=2, resume=path)
    msg = str(err.value)
    assert "does not match this model" in msg and "another architecture" in msg
    assert "0.weight: checkpoint (16, 2) vs model (32, 2)" in msg
    assert "Traceback" not in msg and "\n" not in msg
    # nothing was half-loaded into the model
    assert all(torch.equal(other.model.state_dict()[k], before[k]) for k in before)


def test_resume_with_other_callbacks_is_refused(tmp_path):
    path = tmp_path / "state.pt"
    trainer, train, val = _setup(False)
    trainer.fit(train, val, epochs=1, state_path=path)
    other, train, val = _setup(False, early=False)
    with pytest.raises(CheckpointError, match="callbacks"):
        other.fit(train, val, epochs=2, resume=path)
