"""Saving and loading, safely.

* Weights: safetensors (no pickle, cannot run code) + a JSON sidecar with metadata.
* Full training state for resuming (optimizer, schedulers, RNG...): ``torch.save``, read back
  with ``weights_only=True`` so a tampered file cannot execute code.
Both are written atomically (see :mod:`dlab.io`).
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from dlab.errors import CheckpointError
from dlab.io import atomic_path, write_json


def save_weights(model: nn.Module, path: str | Path, metadata: dict | None = None) -> Path:
    """Write ``path`` (.safetensors) and ``path.json`` (metadata + parameter shapes)."""
    path = Path(path)
    state, seen = {}, set()
    for k, v in model.state_dict().items():
        v = v.detach().contiguous().cpu()
        ptr = v.untyped_storage().data_ptr()
        # Tied weights (one tensor under two names) are refused by safetensors: store a copy.
        state[k] = v.clone() if ptr in seen else v
        seen.add(ptr)
    with atomic_path(path) as tmp:
        save_file(state, str(tmp))
    meta = dict(metadata or {})
    meta["architecture"] = type(model).__name__
    meta["shapes"] = {k: list(v.shape) for k, v in state.items()}
    write_json(path.with_suffix(path.suffix + ".json"), meta)
    return path


def load_weights(model: nn.Module, path: str | Path) -> dict:
    """Load weights saved by :func:`save_weights` into ``model``; returns the metadata.

    A checkpoint from another architecture is refused with the list of mismatching tensors,
    instead of torch's wall of text."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"Checkpoint '{path}' does not exist.")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"Checkpoint '{path}' is corrupt or not a safetensors file ({exc}). "
                              "Delete it and train again, or point to another checkpoint.") from None
    shown = mismatches(model, state)
    if shown:
        raise CheckpointError(f"Checkpoint '{path}' does not fit this model "
                              f"({type(model).__name__}): {shown}. It was saved from a different "
                              "architecture; load it into the model it came from.")
    model.load_state_dict(state)
    meta_path = path.with_suffix(path.suffix + ".json")
    return json.loads(meta_path.read_text()) if meta_path.exists() else {}


def mismatches(model: nn.Module, state: dict) -> str:
    """The tensors of ``state`` that do not fit ``model`` (missing, unexpected, other shape),
    as one short line; empty if it fits."""
    expected = model.state_dict()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
                 for k, v in expected.items() if k in state and state[k].shape != v.shape]
    return "; ".join(problems[:6]) + (" ..." if len(problems) > 6 else "")


def save_state(path: str | Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_state(path: str | Path) -> dict:
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"Cannot resume: training state '{path}' does not exist.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean the same here
        raise CheckpointError(f"Training state '{path}' is corrupt or not a dlab state file "
                              f"({type(exc).__name__}). Delete it to start from scratch.") from None
