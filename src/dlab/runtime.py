"""Seeding and device choice: the two things every run does first."""
from __future__ import annotations

import random

import numpy as np
import torch

from dlab.errors import ConfigError


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch so that a lab run twice with the same seed on CPU gives the
    same numbers. (CPU kernels are deterministic already; torch's global deterministic mode
    is left off because it doubles the cost of small ops.)"""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def select_device(name: str = "auto") -> torch.device:
    """``auto`` picks cuda > mps > cpu; an explicit name is checked so a typo or a missing GPU
    fails early with a clear message instead of deep inside the first forward pass."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"Unknown device '{name}'. Use auto, cpu, cuda, cuda:N or mps.") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for but no CUDA GPU is visible to PyTorch. "
                          "Use --device cpu (or auto).")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("--device mps was asked for but Apple MPS is not available here. "
                          "Use --device cpu (or auto).")
    return device


def rng_state() -> dict:
    """Every random-number generator a training step can touch, in a form that
    ``torch.load(weights_only=True)`` accepts (tensors, ints, lists; no pickled objects)."""
    np_state = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    state = {
        "python": list(py_internal) + [py_version],
        "python_gauss": py_gauss,  # random.gauss caches every second value
        "numpy": {"keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    *internal, version = state["python"]
    random.setstate((version, tuple(internal), state.get("python_gauss")))
    np_s = state["numpy"]
    keys = np_s["keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, np_s["pos"], np_s.get("has_gauss", 0),
                         np_s.get("cached_gaussian", 0.0)))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
