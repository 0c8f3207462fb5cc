"""Autoencoder building blocks: shapes, output range, PSNR against its formula."""
import math

import torch

from dlab.generative.autoencoders import (ConvAutoencoder, ConvDecoder, ConvEncoder,
                                          DenseAutoencoder, psnr, reconstruct)


def test_dense_autoencoder_mirrors_its_sizes():
    model = DenseAutoencoder([784, 256, 64])
    sizes = [tuple(m.weight.shape) for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert sizes == [(256, 784), (64, 256), (256, 64), (784, 256)]
    x = torch.rand(5, 1, 28, 28)
    out = model(x)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1
    assert model.encoder(x).shape == (5, 64)
    codes = DenseAutoencoder([784, 32], relu_code=True).encoder(x)
    assert codes.min() >= 0


def test_conv_blocks_shapes():
    x = torch.rand(3, 1, 28, 28)
    assert ConvEncoder(10, width=8)(x).shape == (3, 10)
    assert ConvDecoder(10, width=8)(torch.randn(3, 10)).shape == (3, 1, 28, 28)
    assert not isinstance(ConvDecoder(10, width=8, logits=True).net[-1], torch.nn.Sigmoid)
    out = ConvAutoencoder(8, width=8)(x)
    assert out.shape == x.shape and 0 <= out.min() and out.max() <= 1


def test_psnr_is_ten_log10_of_one_over_mse():
    clean = torch.zeros(2, 1, 28, 28)
    other = torch.full_like(clean, 0.1)  # MSE 0.01 → 20 dB
    assert math.isclose(psnr(clean, other), 20.0, rel_tol=1e-5)
    assert psnr(clean, torch.full_like(clean, 0.01)) > psnr(clean, other)


def test_reconstruct_batches_in_eval_mode():
    model = torch.nn.Sequential(torch.nn.Dropout(0.9))
    x = torch.rand(2500, 4)
    torch.testing.assert_close(reconstruct(model, x, batch_size=1000), x)
    assert not model.training
