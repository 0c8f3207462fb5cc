"""Mixed precision for the hand-written loops of the generative labs (a VAE's loss, a GAN's
two optimizers, a diffusion model's training and samplers), chosen like the engine's Trainer
does it: the run's ``--precision``, resolved for its device (``auto``: bf16 where the CPU
computes it natively)."""
from __future__ import annotations

import contextlib

import torch

from dlab.runtime import resolve_precision


def autocast(precision: str, device: str = "cpu"):
    """A ``torch.autocast`` context for bf16/fp16, or a no-op for fp32."""
    device = torch.device(device)
    used = resolve_precision(precision, device)
    if used == "fp32":
        return contextlib.nullcontext()
    dtype = torch.float16 if used == "fp16" else torch.bfloat16
    return torch.autocast(device.type, dtype=dtype)
