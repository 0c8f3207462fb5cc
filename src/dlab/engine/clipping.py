"""Gradient clipping done by a function you pass in, with the gradient norm of every step on
record: before clipping (what the network produced) and after (what the optimizer applied).

``GradientClipping`` hooks into an optimizer (``register_step_pre_hook``), so it runs between
``backward()`` and the update of any training loop, the ``Trainer``'s included, whatever the
optimizer. ``clip(grads, max_norm) -> (clipped_grads, norm_before)`` is the rule, e.g. a
hand-written ``clip_by_global_norm``; without a rule (``max_norm=None``) it only measures.

(``Trainer(grad_clip=c)`` clips with ``torch.nn.utils.clip_grad_norm_`` instead; it reports
the norm before clipping of each step as ``logs["grad_norm"]`` to ``on_batch_end``.)
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from dlab.errors import ConfigError


@torch.no_grad()
def global_norm(tensors: Sequence[torch.Tensor]) -> float:
    """The L2 norm of all ``tensors`` taken together as one long vector."""
    if not tensors:
        return 0.0
    return float(torch.linalg.vector_norm(
        torch.stack([torch.linalg.vector_norm(t.float()) for t in tensors])))


class GradientClipping:
    """Clip the gradients of ``optimizer``'s parameters with ``clip`` right before each of its
    steps. ``before[i]`` and ``after[i]`` are the global gradient norms of step ``i + 1``: as
    backward left them and as the optimizer used them (measured again after ``clip``)."""

    def __init__(self, optimizer: torch.optim.Optimizer, max_norm: float | None = None,
                 clip: Callable | None = None):
        if (max_norm is None) != (clip is None):
            raise ConfigError("GradientClipping needs both max_norm and clip (to clip), or "
                              "neither (to measure the norms only).")
        if max_norm is not None and max_norm <= 0:
            raise ConfigError(f"max_norm must be > 0, got {max_norm}")
        self.max_norm, self.clip = max_norm, clip
        self.before: list[float] = []
        self.after: list[float] = []
        self._handle = optimizer.register_step_pre_hook(self._clip_before_step)

    def remove(self) -> None:
        """Stop clipping and measuring (the records stay)."""
        self._handle.remove()

    def clipped_share(self) -> float:
        """Share of the steps whose norm was above ``max_norm`` (0 when only measuring)."""
        if self.max_norm is None or not self.before:
            return 0.0
        return sum(n > self.max_norm for n in self.before) / len(self.before)

    @torch.no_grad()
    def _clip_before_step(self, optimizer, args, kwargs) -> None:
        params = [p for group in optimizer.param_groups for p in group["params"]
                  if p.grad is not None]
        grads = [p.grad for p in params]
        if self.clip is None:
            norm = global_norm(grads)
            self.before.append(norm)
            self.after.append(norm)
            return
        clipped, norm = self.clip(grads, self.max_norm)
        clipped = list(clipped)
        if len(clipped) != len(params):
            raise ConfigError(f"The clipping function returned {len(clipped)} gradients for "
                              f"{len(params)} parameters; return one per gradient, in order.")
        for p, g in zip(params, clipped):
            if g is not p.grad:
                p.grad.copy_(g)
        self.before.append(float(norm))
        self.after.append(global_norm([p.grad for p in params]))
