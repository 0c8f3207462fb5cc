"""dlab.models.architectures: each compact CNN family takes 1×28×28 images to 10 logits, and
its defining block does what the family is known for."""
import pytest
import torch
from torch import nn

from dlab.models.architectures import (BasicBlock, ConvNeXtBlock, SqueezeExcitation,
                                       convnext_style, depthwise_separable, lenet5,
                                       mobilenet_style, resnet_style, single_image_latency,
                                       vgg_style)
from dlab.models.cnn import count_parameters


@pytest.mark.parametrize("build", [lenet5, vgg_style, resnet_style,
                                   lambda: resnet_style(se=True), convnext_style,
                                   mobilenet_style])
def test_images_to_logits(build):
    assert build()(torch.rand(2, 1, 28, 28)).shape == (2, 10)


def test_lenet5_has_its_classic_parameter_count():
    # 156 + 2,416 + 48,120 + 10,164 + 850 (LeCun 1998, with a 28×28 input padded to 32×32)
    assert count_parameters(lenet5()) == 61_706


def test_depthwise_separable_is_much_cheaper_than_a_full_convolution():
    full = nn.Conv2d(64, 128, 3, padding=1, bias=False)
    block = depthwise_separable(64, 128)
    assert count_parameters(full) / count_parameters(block) > 7
    assert block(torch.rand(1, 64, 8, 8)).shape == (1, 128, 8, 8)
    assert count_parameters(mobilenet_style()) < min(
        count_parameters(m()) for m in (lenet5, vgg_style, resnet_style, convnext_style))


def test_residual_block_is_the_identity_plus_its_branch():
    block = BasicBlock(8, 8).eval()
    with torch.no_grad():
        block.branch[-1].weight.zero_()  # last BatchNorm scale 0: the branch outputs its bias 0
    x = torch.rand(2, 8, 5, 5)  # non-negative: relu(x + 0) == x
    assert torch.allclose(block(x), x)
    assert BasicBlock(8, 16, stride=2)(x).shape == (2, 16, 3, 3)


def test_squeeze_excitation_scales_each_channel_by_a_gate_in_0_1():
    se = SqueezeExcitation(16, reduction=4)
    x = torch.rand(3, 16, 6, 6) + 0.1
    ratio = se(x) / x
    per_channel = ratio.flatten(2)
    assert torch.allclose(per_channel, per_channel[..., :1].expand_as(per_channel), atol=1e-6)
    assert ((ratio > 0) & (ratio < 1)).all()


def test_convnext_block_keeps_shape_and_adds_to_its_input():
    block = ConvNeXtBlock(8)
    with torch.no_grad():
        block.branch[-1].weight.zero_()
        block.branch[-1].bias.zero_()
    x = torch.randn(2, 8, 7, 7)
    assert torch.equal(block(x), x)


def test_single_image_latency_is_a_positive_time():
    assert 0 < single_image_latency(lenet5(), torch.rand(1, 28, 28), repeats=3) < 1
