"""Sophia, "Second-order Clipped Stochastic Optimization" (Liu et al. 2023), in its Sophia-G
form: the diagonal of the Hessian is estimated with the Gauss-Newton-Bartlett (GNB)
estimator (the paper's Algorithm 2), and the update is the paper's Algorithm 3:

    m ← β1·m + (1 − β1)·g                      every step
    h ← β2·h + (1 − β2)·ĥ                      every k steps, ĥ from GNB
    θ ← θ − lr·λ·θ                             decoupled weight decay
    θ ← θ − lr·clip(m / max(γ·h, ε), −1, 1)    a Newton-like step, clipped per coordinate

Dividing by the curvature takes large steps along flat directions and small ones along
steep ones; the clipping caps every coordinate's step at ``lr``, which keeps the update safe
where the estimate is tiny, noisy or out of date (before the first estimate, h = 0 and every
step is ``lr·sign(m)``).

GNB needs only the inputs of a mini-batch: labels ŷ are *sampled* from the model's own
softmax, and ĥ = B·ĝ⊙ĝ with ĝ the gradient of the mean cross-entropy on (x, ŷ). It is one
extra forward and backward pass, done every ``k`` steps (the paper uses k = 10).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from dlab.engine.callbacks import Callback
from dlab.errors import ConfigError


class Sophia(torch.optim.Optimizer):
    """Sophia's update; feed it curvature with ``update_hessian`` (``SophiaHessian`` does it
    inside a ``Trainer``). ``rho`` is the paper's γ."""

    def __init__(self, params, lr: float = 1e-4, betas: tuple[float, float] = (0.965, 0.99),
                 rho: float = 0.05, weight_decay: float = 0.1, eps: float = 1e-12):
        if lr <= 0 or rho <= 0 or eps <= 0:
            raise ConfigError(f"lr, rho and eps must be > 0, got {lr}, {rho}, {eps}")
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ConfigError(f"betas must be in [0, 1), got {betas}")
        if weight_decay < 0:
            raise ConfigError(f"weight_decay must be >= 0, got {weight_decay}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "rho": rho,
                                  "weight_decay": weight_decay, "eps": eps})

    def params(self) -> list[torch.Tensor]:
        """Every parameter, in the order ``update_hessian`` expects its estimates."""
        return [p for group in self.param_groups for p in group["params"]]

    def _buffers(self, p: torch.Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["exp_avg"] = torch.zeros_like(p)
            state["hessian"] = torch.zeros_like(p)
        return state

    @torch.no_grad()
    def update_hessian(self, estimates) -> None:
        """h ← β2·h + (1 − β2)·ĥ for each parameter; ``estimates`` follow ``params()`` (None
        for a parameter without one)."""
        estimates = list(estimates)
        if len(estimates) != len(self.params()):
            raise ConfigError(f"update_hessian got {len(estimates)} estimates for "
                              f"{len(self.params())} parameters")
        it = iter(estimates)
        for group in self.param_groups:
            beta2 = group["betas"][1]
            for p in group["params"]:
                estimate = next(it)
                if estimate is not None:
                    self._buffers(p)["hessian"].lerp_(estimate, 1 - beta2)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, beta1 = group["lr"], group["betas"][0]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self._buffers(p)
                m = state["exp_avg"].lerp_(p.grad, 1 - beta1)
                curvature = (group["rho"] * state["hessian"]).clamp_(min=group["eps"])
                p.mul_(1 - lr * group["weight_decay"])
                p.sub_((m / curvature).clamp_(-1.0, 1.0), alpha=lr)
        return loss


def gauss_newton_bartlett(model: nn.Module, x: torch.Tensor,
                          params: list[torch.Tensor]) -> list[torch.Tensor | None]:
    """The GNB estimate of the Hessian's diagonal for a classifier (Algorithm 2): sample
    ŷ ~ softmax(model(x)), take ĝ = ∇ mean cross-entropy(model(x), ŷ) with respect to
    ``params`` and return B·ĝ⊙ĝ for each (None where a parameter gets no gradient). Uses the
    global RNG for the sampling."""
    with torch.enable_grad():
        logits = model(x)
        sampled = torch.distributions.Categorical(logits=logits.detach().float()).sample()
        loss = F.cross_entropy(logits, sampled)
        grads = torch.autograd.grad(loss, params, allow_unused=True)
    batch = x.shape[0]
    return [None if g is None else batch * g * g for g in grads]


class SophiaHessian(Callback):
    """Feeds a ``Sophia`` optimizer its curvature inside a ``Trainer``: after the training
    steps 1, 1 + k, 1 + 2k, ... one GNB estimate on that step's mini-batch (the inputs are
    caught by a forward hook on the model, only in training mode)."""

    def __init__(self, optimizer: Sophia, every: int = 10):
        if every < 1:
            raise ConfigError(f"every must be >= 1, got {every}")
        self.optimizer, self.every = optimizer, every
        self._inputs = None
        self._hook = None

    def on_fit_begin(self, trainer):
        def remember(module, args):
            if module.training and args and isinstance(args[0], torch.Tensor):
                self._inputs = args[0]

        self._hook = trainer.model.register_forward_pre_hook(remember)

    def on_batch_end(self, trainer, step, logs):
        if (step - 1) % self.every or self._inputs is None:
            return
        estimates = gauss_newton_bartlett(trainer.model, self._inputs.detach(),
                                          self.optimizer.params())
        self.optimizer.update_hessian(estimates)

    def on_fit_end(self, trainer):
        if self._hook is not None:
            self._hook.remove()
            self._hook = None
        self._inputs = None
