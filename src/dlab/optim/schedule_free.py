"""Schedule-Free AdamW (Defazio et al. 2024, *The Road Less Scheduled*, Algorithm 1).

No learning-rate schedule: instead of decaying the step, the method keeps three points,

    z   the "live" iterate, moved by Adam-style steps
    x   a running weighted average of the z's: what you evaluate and keep
    y   the point where gradients are taken, y = (1 − β1)·z + β1·x (this interpolation plays
        the role of momentum)

and each step t (γ_t = lr·√(1 − β2ᵗ)·min(1, t / warmup), the bias correction folded in):

    v ← β2·v + (1 − β2)·g²                         g is the gradient at y
    z ← z − γ_t·g / (√v + ε) − γ_t·λ·y             decoupled weight decay, taken at y
    c = γ_t² / Σᵢ γ_i²;   x ← (1 − c)·x + c·z      the average, weighted by γ_i²

The parameters hold y while training and x while evaluating: call ``optimizer.train()`` and
``optimizer.eval()`` together with ``model.train()`` / ``model.eval()`` (dlab's ``Trainer``
does it). Only z and v are stored (x is recovered from y and z): two buffers, like AdamW. Do
not add a learning-rate scheduler on top; the averaging already does that job.
"""
from __future__ import annotations

import math

import torch

from dlab.errors import ConfigError


class ScheduleFreeAdamW(torch.optim.Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, warmup_steps: int = 0):
        if lr <= 0 or eps <= 0:
            raise ConfigError(f"lr and eps must be > 0, got {lr}, {eps}")
        if not (0.0 < betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ConfigError(f"betas must be in (0, 1) and [0, 1), got {betas}")
        if weight_decay < 0 or warmup_steps < 0:
            raise ConfigError("weight_decay and warmup_steps must be >= 0, got "
                              f"{weight_decay}, {warmup_steps}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps,
                                  "weight_decay": weight_decay, "warmup_steps": warmup_steps,
                                  "step": 0, "weight_sum": 0.0, "train_mode": True})

    @torch.no_grad()
    def _switch(self, train: bool) -> None:
        for group in self.param_groups:
            if group["train_mode"] == train:
                continue
            beta1 = group["betas"][0]
            for p in group["params"]:
                z = self.state[p].get("z")
                if z is None:  # never stepped: x = y = z
                    continue
                # y = (1 − β1)·z + β1·x  ⇔  x = y + (1 − 1/β1)·(z − y)
                p.lerp_(z, 1 - beta1 if train else 1 - 1 / beta1)
            group["train_mode"] = train

    def train(self) -> None:
        """Parameters ← y, the point where gradients are taken."""
        self._switch(True)

    def eval(self) -> None:
        """Parameters ← x, the average: evaluate, predict and save in this mode."""
        self._switch(False)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            if not group["train_mode"]:
                raise ConfigError("ScheduleFreeAdamW.step() in eval mode: call "
                                  "optimizer.train() before training.")
            group["step"] += 1
            t, (beta1, beta2) = group["step"], group["betas"]
            warmup = min(1.0, t / group["warmup_steps"]) if group["warmup_steps"] else 1.0
            lr = group["lr"] * math.sqrt(1 - beta2 ** t) * warmup
            group["weight_sum"] += lr ** 2
            c = lr ** 2 / group["weight_sum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["z"] = p.clone()
                    state["exp_avg_sq"] = torch.zeros_like(p)
                z, v = state["z"], state["exp_avg_sq"]
                v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                direction = p.grad / (v.sqrt() + group["eps"]) + group["weight_decay"] * p
                # New y from the old y and z: y' = (1 − c)·y + c·z + lr·(β1·(1 − c) − 1)·d,
                # which is (1 − β1)·z' + β1·x' with z' and x' as in the docstring.
                p.lerp_(z, c).add_(direction, alpha=lr * (beta1 * (1 - c) - 1))
                z.sub_(direction, alpha=lr)
        return loss
