"""GradientClipping: clips with the function it is given right before each optimizer step and
records the global norm before and after; the Trainer's own grad_clip reports the same norms
per step."""
import pytest
import torch
from torch import nn

from dlab.engine import Callback, Trainer
from dlab.engine.clipping import GradientClipping, global_norm
from dlab.errors import ConfigError


def torch_clip(grads, max_norm):
    """clip_by_global_norm with torch's own kernel, as a clipping rule."""
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params], float(norm)


def data(n=64):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 5, generator=g) * 4
    return X, (X[:, 0] > 0).long()


def model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 2))


class StepNorms(Callback):
    def __init__(self):
        self.norms = []

    def on_batch_end(self, trainer, step, logs):
        self.norms.append(logs["grad_norm"])


def test_global_norm_is_the_norm_of_all_tensors_as_one_vector():
    tensors = [torch.randn(3, 4), torch.randn(7)]
    expected = float(torch.cat([t.flatten() for t in tensors]).norm())
    assert global_norm(tensors) == pytest.approx(expected, rel=1e-6)
    assert global_norm([]) == 0.0


def test_clipping_hook_trains_exactly_like_trainer_grad_clip():
    hooked = model()
    opt = torch.optim.SGD(hooked.parameters(), lr=0.5)
    clipping = GradientClipping(opt, 0.5, torch_clip)
    Trainer(hooked, opt, device="cpu", progress=False, doctor=False).fit(
        data(), epochs=2, batch_size=16)

    builtin, steps = model(), StepNorms()
    Trainer(builtin, torch.optim.SGD(builtin.parameters(), lr=0.5), grad_clip=0.5,
            callbacks=[steps], device="cpu", progress=False, doctor=False).fit(
        data(), epochs=2, batch_size=16)

    for a, b in zip(hooked.parameters(), builtin.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
    assert len(clipping.before) == len(steps.norms) == 8
    assert clipping.before == pytest.approx(steps.norms, rel=1e-5)
    assert max(clipping.after) <= 0.5
    assert clipping.clipped_share() == pytest.approx(
        sum(n > 0.5 for n in clipping.before) / 8)
    assert clipping.clipped_share() > 0  # the data were scaled so that it bites


def test_measuring_only_leaves_the_gradients_alone():
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    norms = GradientClipping(opt)
    net(data()[0]).sum().backward()
    expected = global_norm([p.grad for p in net.parameters()])
    opt.step()
    assert norms.before == norms.after == [pytest.approx(expected)]
    assert norms.clipped_share() == 0.0
    norms.remove()
    opt.step()
    assert len(norms.before) == 1


def test_bad_setups_are_explained():
    opt = torch.optim.SGD(model().parameters(), lr=0.1)
    with pytest.raises(ConfigError):
        GradientClipping(opt, 1.0)  # a cap but no rule
    with pytest.raises(ConfigError):
        GradientClipping(opt, -1.0, torch_clip)
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    GradientClipping(opt, 1.0, lambda grads, c: (grads[:1], 0.0))
    net(data()[0]).sum().backward()
    with pytest.raises(ConfigError, match="one per gradient"):
        opt.step()
