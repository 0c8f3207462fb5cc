import pytest
import torch

from dlab.vision.unet import SegmentationUNet


def test_logits_have_the_image_size_and_one_channel_per_class():
    net = SegmentationUNet(2, 5, (4, 8, 16)).eval()
    assert net(torch.rand(3, 2, 32, 24)).shape == (3, 5, 32, 24)


def test_the_skip_connection_carries_full_resolution_detail():
    """The top decoder block mixes the upsampled map with the encoder's full-resolution map;
    zeroing that skip half of the concatenation changes the output."""
    torch.manual_seed(0)
    net = SegmentationUNet(1, 2, (4, 8)).eval()
    x = torch.rand(1, 1, 16, 16)
    full = net(x)

    def zero_skip(module, inputs):
        h = inputs[0].clone()
        h[:, 4:] = 0  # the concatenation is [upsampled, skip]: the skip is the second half
        return (h,)

    handle = net.merge[0].register_forward_pre_hook(zero_skip)
    cut = net(x)
    handle.remove()
    assert not torch.allclose(full, cut)
    assert net.merge[0][0].in_channels == 8  # 4 upsampled + 4 from the encoder


def test_size_not_divisible_by_the_pooling_factor_is_explained():
    with pytest.raises(ValueError, match="divisible by 4"):
        SegmentationUNet(1, 2, (4, 8, 16))(torch.rand(1, 1, 30, 32))


def test_learns_to_segment_a_bright_square():
    torch.manual_seed(0)
    x = torch.zeros(16, 1, 16, 16)
    y = torch.zeros(16, 16, 16, dtype=torch.long)
    for i in range(16):
        r, c = divmod(i, 4)
        x[i, 0, 2 * r:2 * r + 6, 2 * c:2 * c + 6] = 1.0
        y[i, 2 * r:2 * r + 6, 2 * c:2 * c + 6] = 1
    net = SegmentationUNet(1, 2, (8, 16))
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert (net.eval()(x).argmax(1) == y).float().mean() > 0.98
