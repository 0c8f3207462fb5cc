"""dlab.optim.ScheduleFreeAdamW follows Algorithm 1 of Defazio et al. (2024), written out here
in numpy with its three sequences x, y, z; the parameters hold y in train mode and x in eval
mode, and x is the γ²-weighted average of the z's."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from dlab.engine import Trainer
from dlab.errors import ConfigError
from dlab.optim import ScheduleFreeAdamW

RNG = np.random.default_rng(1)
X = RNG.normal(size=(16, 4))
Y = RNG.normal(size=(16, 3))
W0 = RNG.normal(size=(4, 3))


def gradient(w: np.ndarray) -> np.ndarray:
    return 2 * X.T @ (X @ w - Y) / Y.size


def torch_gradient(w: torch.Tensor) -> torch.Tensor:
    return torch.autograd.grad(((torch.from_numpy(X) @ w - torch.from_numpy(Y)) ** 2).mean(),
                               w)[0]


def schedule_free_paper(x1, steps, lr, beta1, beta2, eps, decay, warmup):
    """Algorithm 1 of the paper; returns y_t, x_{t+1}, z_{t+1} and γ_t of every step t."""
    z, x, v, squares = x1.copy(), x1.copy(), np.zeros_like(x1), 0.0
    out = []
    for t in range(1, steps + 1):
        y = (1 - beta1) * z + beta1 * x
        g = gradient(y)
        v = beta2 * v + (1 - beta2) * g ** 2
        gamma = lr * math.sqrt(1 - beta2 ** t) * min(1.0, t / warmup)
        z = z - gamma * g / (np.sqrt(v) + eps) - gamma * decay * y
        squares += gamma ** 2
        c = gamma ** 2 / squares
        x = (1 - c) * x + c * z
        out.append((y, x, z, gamma))
    return out


@pytest.mark.parametrize("betas,decay,warmup", [((0.9, 0.999), 0.0, 1),
                                                ((0.8, 0.99), 0.05, 5)])
def test_matches_the_paper_step_by_step(betas, decay, warmup):
    lr, eps = 0.05, 1e-8
    w = torch.tensor(W0, requires_grad=True)
    opt = ScheduleFreeAdamW([w], lr=lr, betas=betas, eps=eps, weight_decay=decay,
                            warmup_steps=warmup)
    paper = schedule_free_paper(W0, 20, lr, *betas, eps, decay, warmup)
    for t, (y, x_next, z_next, _) in enumerate(paper):
        np.testing.assert_allclose(w.detach().numpy(), y, atol=1e-12)  # gradient taken at y_t
        w.grad = torch_gradient(w)
        opt.step()
        np.testing.assert_allclose(opt.state[w]["z"].numpy(), z_next, atol=1e-12)
        opt.eval()
        np.testing.assert_allclose(w.detach().numpy(), x_next, atol=1e-12)
        opt.train()


def test_y_interpolates_and_x_averages_the_zs():
    lr, beta1, warmup = 0.05, 0.9, 4
    w = torch.tensor(W0, requires_grad=True)
    opt = ScheduleFreeAdamW([w], lr=lr, betas=(beta1, 0.999), warmup_steps=warmup)
    zs, gammas = [], []
    for t in range(1, 13):
        w.grad = torch_gradient(w)
        opt.step()
        zs.append(opt.state[w]["z"].clone())
        gammas.append(lr * math.sqrt(1 - 0.999 ** t) * min(1.0, t / warmup))
    y = w.detach().clone()
    opt.eval()
    x = w.detach().clone()
    torch.testing.assert_close(y, (1 - beta1) * zs[-1] + beta1 * x)  # interpolation
    weights = torch.tensor(gammas, dtype=torch.float64) ** 2
    average = sum(wt * z for wt, z in zip(weights, zs)) / weights.sum()
    torch.testing.assert_close(x, average)  # x is the γ²-weighted average of z_2 ... z_13


def test_switching_modes_is_idempotent_and_step_needs_train_mode():
    w = torch.tensor(W0, requires_grad=True)
    opt = ScheduleFreeAdamW([w], lr=0.05)
    opt.eval()  # before any step: nothing to switch
    torch.testing.assert_close(w.detach(), torch.tensor(W0))
    opt.train()
    w.grad = torch_gradient(w)
    opt.step()
    opt.eval()
    x = w.detach().clone()
    opt.eval()
    torch.testing.assert_close(w.detach(), x)
    with pytest.raises(ConfigError):
        opt.step()


def test_trainer_evaluates_at_x():
    torch.manual_seed(0)
    X_t, y_t = torch.randn(64, 4), torch.randint(0, 3, (64,))
    model = nn.Linear(4, 3)
    opt = ScheduleFreeAdamW(model.parameters(), lr=0.05)
    trainer = Trainer(model, opt, progress=False, device="cpu", precision="fp32")
    history = trainer.fit((X_t, y_t), (X_t, y_t), epochs=3, batch_size=16)
    assert all(not g["train_mode"] for g in opt.param_groups)  # evaluated, so holding x
    x_loss = nn.functional.cross_entropy(model(X_t), y_t).item()
    assert history["val_loss"][-1] == pytest.approx(x_loss, rel=1e-6)
    opt.train()
    y_loss = nn.functional.cross_entropy(model(X_t), y_t).item()
    assert y_loss != pytest.approx(x_loss)  # x and y are different points


def test_two_buffers_per_parameter():
    layer = nn.Linear(5, 3)
    opt = ScheduleFreeAdamW(layer.parameters())
    layer(torch.randn(4, 5)).sum().backward()
    opt.step()
    for p in layer.parameters():
        assert sorted(opt.state[p]) == ["exp_avg_sq", "z"]


def test_rejects_bad_settings():
    params = [torch.zeros(2, requires_grad=True)]
    for kwargs in ({"lr": 0.0}, {"betas": (0.0, 0.9)}, {"warmup_steps": -1},
                   {"weight_decay": -1.0}):
        with pytest.raises(ConfigError):
            ScheduleFreeAdamW(params, **kwargs)
