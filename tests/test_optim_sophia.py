"""dlab.optim.Sophia follows Algorithm 3 of Liu et al. (2023) and gauss_newton_bartlett its
Algorithm 2, both written out here in numpy for a softmax regression; the clipping caps every
coordinate's step at lr."""
import numpy as np
import pytest
import torch
from torch import nn

from dlab.engine import Trainer
from dlab.errors import ConfigError
from dlab.optim import Sophia, SophiaHessian, gauss_newton_bartlett

RNG = np.random.default_rng(2)
X = RNG.normal(size=(12, 4))
LABELS = RNG.integers(0, 3, size=12)
W0 = RNG.normal(size=(3, 4)) * 0.5


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ce_gradient(w, labels):
    """Gradient of the mean cross-entropy of softmax(X wᵀ) against ``labels``."""
    p = softmax(X @ w.T)
    p[np.arange(len(labels)), labels] -= 1
    return p.T @ X / len(labels)


def linear_model():
    model = nn.Linear(4, 3, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.from_numpy(W0))
    return model


def test_gauss_newton_bartlett_matches_the_paper():
    model = linear_model()
    torch.manual_seed(5)
    [estimate] = gauss_newton_bartlett(model, torch.from_numpy(X), [model.weight])
    torch.manual_seed(5)  # the same draw of ŷ from the model's softmax
    sampled = torch.distributions.Categorical(logits=torch.from_numpy(X @ W0.T)).sample().numpy()
    g_hat = ce_gradient(W0, sampled)
    np.testing.assert_allclose(estimate.numpy(), len(X) * g_hat * g_hat, atol=1e-12)


def sophia_paper(theta, estimates, every, lr, beta1, beta2, gamma, eps, decay):
    """Algorithm 3 of the paper on the softmax regression: h refreshed with ``estimates[t]``
    after steps t = 1, 1 + k, ...; yields θ after each step."""
    m, h = np.zeros_like(theta), np.zeros_like(theta)
    for t in range(1, len(estimates) + 1):
        g = ce_gradient(theta, LABELS)
        m = beta1 * m + (1 - beta1) * g
        theta = theta - lr * decay * theta
        theta = theta - lr * np.clip(m / np.maximum(gamma * h, eps), -1, 1)
        if (t - 1) % every == 0:  # the estimate taken after this step serves the next ones
            h = beta2 * h + (1 - beta2) * estimates[t]
        yield theta


def test_matches_the_paper_step_by_step():
    lr, betas, gamma, eps, decay, every, steps = 0.05, (0.9, 0.95), 0.05, 1e-12, 0.1, 3, 15
    estimates = {t: RNG.uniform(0, 2, size=W0.shape) for t in range(1, steps + 1)}
    model = linear_model()
    opt = Sophia(model.parameters(), lr=lr, betas=betas, rho=gamma, eps=eps,
                 weight_decay=decay)
    paper = sophia_paper(W0.copy(), estimates, every, lr, *betas, gamma, eps, decay)
    for t, theta in enumerate(paper, start=1):
        model.weight.grad = torch.from_numpy(ce_gradient(model.weight.detach().numpy(), LABELS))
        opt.step()
        if (t - 1) % every == 0:
            opt.update_hessian([torch.from_numpy(estimates[t])])
        np.testing.assert_allclose(model.weight.detach().numpy(), theta, atol=1e-12)


def test_clipping_caps_each_coordinate_at_lr():
    p = torch.zeros(4, requires_grad=True)
    opt = Sophia([p], lr=0.1, betas=(0.0, 0.0), rho=1.0, weight_decay=0.0)
    p.grad = torch.tensor([3.0, -2.0, 0.5, -0.01])
    opt.step()  # no curvature yet (h = 0): every coordinate is clipped, a sign step of lr
    torch.testing.assert_close(p.detach(), torch.tensor([-0.1, 0.1, -0.1, 0.1]))
    p = torch.zeros(4, requires_grad=True)
    opt = Sophia([p], lr=0.1, betas=(0.0, 0.0), rho=1.0, weight_decay=0.0)
    opt.update_hessian([torch.tensor([1.0, 100.0, 10.0, 0.001])])
    p.grad = torch.tensor([3.0, -2.0, 0.5, -0.01])
    opt.step()  # m / h = [3, −0.02, 0.05, −10]: the first and last are clipped to ±1
    torch.testing.assert_close(p.detach(), -0.1 * torch.tensor([1.0, -0.02, 0.05, -1.0]))


def test_the_callback_estimates_after_steps_one_plus_k():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    opt = Sophia(model.parameters(), lr=0.01)
    calls = []
    update = opt.update_hessian
    opt.update_hessian = lambda estimates: (calls.append(len(calls)), update(estimates))
    data = (torch.randn(56, 4), torch.randint(0, 3, (56,)))
    trainer = Trainer(model, opt, callbacks=[SophiaHessian(opt, every=3)], progress=False,
                      device="cpu", precision="fp32")
    trainer.fit(data, epochs=1, batch_size=8)  # 7 steps: estimates after 1, 4 and 7
    assert len(calls) == 3
    assert all(opt.state[p]["hessian"].abs().sum() > 0 for p in model.parameters())
    assert not model._forward_pre_hooks  # the callback removed its hook


def test_two_buffers_per_parameter():
    layer = nn.Linear(5, 3)
    opt = Sophia(layer.parameters())
    layer(torch.randn(4, 5)).sum().backward()
    opt.step()
    for p in layer.parameters():
        assert sorted(opt.state[p]) == ["exp_avg", "hessian"]


def test_rejects_bad_settings():
    params = [torch.zeros(2, requires_grad=True)]
    for kwargs in ({"lr": 0.0}, {"rho": 0.0}, {"betas": (1.0, 0.9)}, {"weight_decay": -1.0}):
        with pytest.raises(ConfigError):
            Sophia(params, **kwargs)
    with pytest.raises(ConfigError):
        Sophia(params).update_hessian([])
