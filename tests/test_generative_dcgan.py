"""DCGAN shapes as class 158 lays them out, and the image-grid helpers (PNG grids, GIF)."""
import torch
from torch import nn

from dlab.generative.dcgan import Discriminator, Generator
from dlab.generative.grids import image_grid, image_rows, save_gif


def test_generator_follows_the_course_layout():
    G = Generator(noise=16, channels=128, width=32)
    dense = G.net[0]
    assert isinstance(dense, nn.Linear) and dense.out_features == 7 * 7 * 128
    assert sum(isinstance(m, nn.ConvTranspose2d) for m in G.modules()) == 3
    out = G(torch.randn(4, 16))
    assert out.shape == (4, 1, 28, 28) and out.min() >= -1 and out.max() <= 1
    images = G.generate(torch.randn(5, 16))
    assert images.min() >= 0 and images.max() <= 1 and not G.training


def test_discriminator_is_three_convolutions_and_one_logit():
    D = Discriminator(width=8)
    assert sum(isinstance(m, nn.Conv2d) for m in D.modules()) == 3
    assert isinstance(D.net[-1], nn.Linear)
    assert D(torch.rand(6, 1, 28, 28)).shape == (6, 1)
    assert D(torch.rand(6, 784)).shape == (6, 1)


def test_grids_and_gif(tmp_path):
    images = torch.rand(20, 1, 28, 28)
    fig = image_grid(images, 4, 5, "title")
    assert len(fig.axes) == 20
    fig = image_rows({"a": images[:6], "b": images[6:12]})
    assert len(fig.axes) == 12 and fig.axes[0].get_ylabel() == "a"
    path = save_gif([image_grid(images, 2, 2), image_grid(images[4:], 2, 2)], tmp_path / "x.gif")
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.n_frames == 2
