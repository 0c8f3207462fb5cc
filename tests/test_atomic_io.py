"""Atomic writes: a writer that fails leaves the previous file exactly as it was, and no
temporary file behind."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from dlab.engine import load_weights, save_weights
from dlab.engine import checkpoint as checkpoint_mod
from dlab.engine.checkpoint import load_state, save_state
from dlab.io import atomic_path, write_json, write_text


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_write_text_creates_parents_and_replaces(tmp_path):
    path = tmp_path / "a" / "b" / "report.md"
    write_text(path, "first")
    write_text(path, "second — ñ")
    assert path.read_text(encoding="utf-8") == "second — ñ"
    assert listing(path.parent) == ["report.md"]


def test_failing_writer_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text("old content")

    with pytest.raises(RuntimeError, match="disk on fire"):
        with atomic_path(path) as tmp:
            assert tmp.parent == path.parent and tmp != path
            tmp.write_text("half of the new con")
            raise RuntimeError("disk on fire")
    assert path.read_text() == "old content"
    assert listing(tmp_path) == ["metrics.json"]


def test_failing_writer_without_an_old_file_leaves_nothing(tmp_path):
    path = tmp_path / "new.txt"
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(path) as tmp:
            tmp.write_text("partial")
            raise KeyboardInterrupt
    assert listing(tmp_path) == []


def test_write_json_that_cannot_be_serialized_keeps_the_old_file(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert listing(tmp_path) == ["m.json"]
    # numpy values, tensors and paths are written as plain JSON
    write_json(path, {"x": np.float32(0.5), "v": np.arange(3), "t": torch.tensor([1, 2]),
                      "p": Path("runs/x")})
    assert json.loads(path.read_text()) == {"x": 0.5, "v": [0, 1, 2], "t": [1, 2], "p": "runs/x"}


def test_written_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    path = tmp_path / "report.html"
    write_text(path, "<html></html>")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert (path.stat().st_mode & 0o777) == (plain.stat().st_mode & 0o777) == 0o666 & ~umask


def test_failing_weight_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "best.safetensors"
    good = nn.Linear(3, 2)
    save_weights(good, path, {"epoch": 1})

    def broken_save_file(state, filename):
        Path(filename).write_bytes(b"\x00" * 10)  # a partial write, then the crash
        raise OSError("no space left on device")

    monkeypatch.setattr(checkpoint_mod, "save_file", broken_save_file)
    with pytest.raises(OSError):
        save_weights(nn.Linear(3, 2), path, {"epoch": 2})
    monkeypatch.undo()

    fresh = nn.Linear(3, 2)
    assert load_weights(fresh, path)["epoch"] == 1
    assert torch.equal(fresh.weight, good.weight)
    assert listing(tmp_path) == ["best.safetensors", "best.safetensors.json"]


def test_failing_state_save_keeps_the_previous_state(tmp_path):
    path = tmp_path / "train_state.pt"
    save_state(path, {"epoch": 3, "w": torch.ones(2)})
    with pytest.raises(Exception):
        save_state(path, {"epoch": 4, "bad": lambda: None})  # cannot be pickled
    assert load_state(path)["epoch"] == 3
    assert listing(tmp_path) == ["train_state.pt"]
