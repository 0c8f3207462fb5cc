"""The convolutional VAE's shapes and output range, and the precision helper of the
generative labs' hand-written loops."""
import torch

from dlab.generative.precision import autocast
from dlab.generative.vae import ConvVAE


def test_encode_decode_generate_shapes():
    vae = ConvVAE(latent=10, width=8)
    mu, logvar = vae.encode(torch.rand(5, 1, 28, 28))
    assert mu.shape == logvar.shape == (5, 10)
    logits = vae.decode(torch.randn(5, 10))
    assert logits.shape == (5, 1, 28, 28)
    images = vae.generate(torch.randn(2500, 10), batch_size=1000)
    assert images.shape == (2500, 1, 28, 28) and 0 <= images.min() and images.max() <= 1
    assert not vae.training


def test_autocast_follows_the_precision():
    layer = torch.nn.Linear(4, 4)
    x = torch.randn(2, 4)
    with autocast("fp32"):
        assert layer(x).dtype == torch.float32
    with autocast("bf16"):
        assert layer(x).dtype == torch.bfloat16
