"""dlab.optim.Lion follows Algorithm 2 of Chen et al. (2023), written out here in numpy, and
its update is a sign: every coordinate moves by exactly lr."""
import numpy as np
import pytest
import torch

from dlab.errors import ConfigError
from dlab.optim import Lion

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 4))
Y = RNG.normal(size=(16, 3))
W0 = RNG.normal(size=(4, 3))


def gradient(w: np.ndarray) -> np.ndarray:
    """Gradient of mean((X w − Y)²) with respect to w."""
    return 2 * X.T @ (X @ w - Y) / Y.size


def torch_gradient(w: torch.Tensor) -> torch.Tensor:
    return torch.autograd.grad(((torch.from_numpy(X) @ w - torch.from_numpy(Y)) ** 2).mean(),
                               w)[0]


def lion_paper(theta, m, g, lr, beta1, beta2, decay):
    """Algorithm 2 of the paper, one step."""
    c = beta1 * m + (1 - beta1) * g
    theta = theta - lr * (np.sign(c) + decay * theta)
    m = beta2 * m + (1 - beta2) * g
    return theta, m


@pytest.mark.parametrize("lr,betas,decay", [(0.01, (0.9, 0.99), 0.0),
                                            (0.003, (0.95, 0.98), 0.5)])
def test_matches_the_paper_step_by_step(lr, betas, decay):
    w = torch.tensor(W0, requires_grad=True)
    opt = Lion([w], lr=lr, betas=betas, weight_decay=decay)
    theta, m = W0.copy(), np.zeros_like(W0)
    for _ in range(25):
        w.grad = torch_gradient(w)
        opt.step()
        theta, m = lion_paper(theta, m, gradient(theta), lr, *betas, decay)
        np.testing.assert_allclose(w.detach().numpy(), theta, atol=1e-12)
        np.testing.assert_allclose(opt.state[w]["exp_avg"].numpy(), m, atol=1e-12)


def test_every_coordinate_moves_by_exactly_lr():
    w = torch.tensor(W0, requires_grad=True)
    opt = Lion([w], lr=0.01)
    for _ in range(5):
        before = w.detach().clone()
        w.grad = torch_gradient(w)
        opt.step()
        np.testing.assert_allclose((before - w.detach()).abs().numpy(), 0.01, rtol=1e-9)
    # From zero momentum the first direction is the gradient's sign.
    w = torch.tensor(W0, requires_grad=True)
    w.grad = torch_gradient(w)
    Lion([w], lr=0.01).step()
    np.testing.assert_allclose(w.detach().numpy(), W0 - 0.01 * np.sign(gradient(W0)))


def test_the_scale_of_the_gradient_does_not_matter():
    paths = []
    for scale in (1.0, 1000.0):
        w = torch.tensor(W0, requires_grad=True)
        opt = Lion([w], lr=0.01, weight_decay=0.1)
        for _ in range(10):
            w.grad = scale * torch_gradient(w)
            opt.step()
        paths.append(w.detach().clone())
    torch.testing.assert_close(paths[0], paths[1])


def test_one_buffer_per_parameter():
    layer = torch.nn.Linear(5, 3)
    opt = Lion(layer.parameters())
    layer(torch.randn(4, 5)).sum().backward()
    opt.step()
    for p in layer.parameters():
        assert list(opt.state[p]) == ["exp_avg"]
        assert opt.state[p]["exp_avg"].shape == p.shape


def test_rejects_bad_settings():
    params = [torch.zeros(2, requires_grad=True)]
    for kwargs in ({"lr": 0.0}, {"betas": (0.9, 1.0)}, {"weight_decay": -0.1}):
        with pytest.raises(ConfigError):
            Lion(params, **kwargs)
