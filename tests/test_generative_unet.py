"""The diffusion lab's small U-Net: shapes, the time features, and that the timestep, the
class and the edge channel each change the prediction."""
import torch

from dlab.generative.unet import SmallUNet, timestep_features


def test_timestep_features_are_sin_and_cos():
    f = timestep_features(torch.tensor([0, 5]), 8)
    assert f.shape == (2, 8)
    torch.testing.assert_close(f[0], torch.tensor([0.0] * 4 + [1.0] * 4))
    torch.testing.assert_close(f[1, 0], torch.sin(torch.tensor(5.0)))


def test_output_shape_and_every_input_matters():
    torch.manual_seed(0)
    model = SmallUNet(width=8, cond_channels=1)
    torch.nn.init.normal_(model.out.weight, std=0.1)  # the output layer starts at zero
    x, t = torch.randn(2, 1, 28, 28), torch.tensor([3, 3])
    labels, edges = torch.tensor([1, 1]), torch.rand(2, 1, 28, 28)
    base = model(x, t, labels, edges)
    assert base.shape == x.shape
    assert not torch.allclose(base, model(x, torch.tensor([50, 50]), labels, edges))
    assert not torch.allclose(base, model(x, t, torch.tensor([10, 10]), edges))
    assert not torch.allclose(base, model(x, t, labels, None))
    torch.testing.assert_close(model(x, t, labels, None),
                               model(x, t, labels, torch.zeros(2, 1, 28, 28)))


def test_zero_initialised_output_predicts_zero_noise():
    model = SmallUNet(width=8)
    out = model(torch.randn(3, 1, 28, 28), torch.tensor([0, 1, 2]), torch.tensor([0, 10, 5]))
    assert torch.equal(out, torch.zeros_like(out))
