"""Models that several labs reuse — the Fashion-MNIST CNN, a pretrained backbone, the
generative labs' yardstick classifier — trained once by whichever lab needs one first, saved
in the platform's weight format (safetensors + JSON sidecar) beside the runs, and loaded by
the others.

The file name carries a digest of everything that shapes the weights (the settings given,
quick or full mode, the seed), so a quick run never hands its tiny model to a full one.
Training happens with the random-number generators saved and restored around it: a lab gets
the same numbers whether the shared model was trained now or loaded from disk.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from torch import nn

from dlab.engine.checkpoint import load_weights, save_weights
from dlab.errors import CheckpointError
from dlab.runtime import rng_state, set_rng_state

SHARED_FOLDER = "_shared"


def shared_path(runs_root: Path, name: str, settings: dict) -> Path:
    """``<runs_root>/_shared/<name>-<digest>.safetensors`` for these settings."""
    blob = json.dumps(settings, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(blob).hexdigest()[:12]
    return Path(runs_root) / SHARED_FOLDER / f"{name}-{digest}.safetensors"


def load_or_train(model: nn.Module, path: Path, train: Callable[[nn.Module], dict],
                  warn: Callable[[str], None] = print) -> dict:
    """Fill ``model`` with the weights at ``path``; when there are none (or the file is
    corrupt, or from another architecture) call ``train(model)``, which returns a dict of
    metrics, and save the result there. Returns the metadata: ``metrics`` and ``reused``."""
    path = Path(path)
    if path.exists():
        try:
            meta = load_weights(model, path)
            return {**meta, "reused": True}
        except CheckpointError as exc:
            warn(f"{exc} Training it again. / Se vuelve a entrenar.")
    saved = rng_state()
    try:
        metrics = train(model)
    finally:
        set_rng_state(saved)
    save_weights(model, path, metadata={"metrics": metrics})
    return {"metrics": metrics, "reused": False}
