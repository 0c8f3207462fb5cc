"""Lion, "EvoLved Sign Momentum" (Chen et al. 2023, *Symbolic Discovery of Optimization
Algorithms*, Algorithm 2).

Each step moves every weight by exactly ``lr`` (plus weight decay): the direction is the
*sign* of an interpolation between the momentum and the fresh gradient. One buffer per
parameter (the momentum), where Adam keeps two.

    c = β1·m + (1 − β1)·g            the update direction, before the sign
    θ ← θ − lr·(sign(c) + λ·θ)       decoupled weight decay, as in AdamW
    m ← β2·m + (1 − β2)·g            the momentum, with a slower β2

Because every coordinate moves by ``lr``, Lion needs a learning rate 3–10× smaller than
AdamW's, and a weight decay 3–10× larger to keep the same ``lr·λ``.
"""
from __future__ import annotations

import torch

from dlab.errors import ConfigError


class Lion(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 1e-4, betas: tuple[float, float] = (0.9, 0.99),
                 weight_decay: float = 0.0):
        if lr <= 0:
            raise ConfigError(f"lr must be > 0, got {lr}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ConfigError(f"betas must be in [0, 1), got {betas}")
        if weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (beta1, beta2), decay = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                direction = torch.lerp(p.grad, m, beta1).sign_()  # β1·m + (1 − β1)·g
                p.mul_(1 - lr * decay).sub_(direction, alpha=lr)
                m.lerp_(p.grad, 1 - beta2)  # β2·m + (1 − β2)·g
        return loss
