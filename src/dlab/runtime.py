"""Seeding and device choice: the two things every run does first."""
from __future__ import annotations

import os
import random
from functools import lru_cache
from pathlib import Path

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


PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """True on CPUs that compute bf16 in hardware (Intel AMX or AVX512-BF16): there bf16
    autocast is several times faster than fp32; elsewhere it is emulated and slower."""
    try:
        with open(Path("/proc/cpuinfo")) as f:
            flags = next((line.split(":", 1)[1].split() for line in f
                          if line.startswith("flags")), [])
    except OSError:  # not Linux: no way to tell cheaply, so no bf16 by default
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def default_precision() -> str:
    """``$DLAB_PRECISION`` when set (e.g. fp32 for numbers that do not depend on the CPU
    model: the test suite sets it), else ``auto``."""
    return os.environ.get("DLAB_PRECISION", "auto")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto``: bf16 autocast on CUDA (fp16 on GPUs without bf16) and on CPUs with native
    bf16; fp32 everywhere else, MPS included. An explicit choice is kept as it is."""
    if precision not in PRECISIONS:
        raise ConfigError(f"Unknown precision '{precision}'. Use one of {', '.join(PRECISIONS)}.")
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if device.type == "cpu" and cpu_has_native_bf16():
        return "bf16"
    return "fp32"


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
