"""dlab.models.cnn: the course's small CNN and its pooling-lab variants."""
import pytest
import torch
from torch import nn

from dlab.errors import ConfigError
from dlab.models.cnn import count_parameters, small_cnn


def test_course_cnn_shapes_and_parameter_count():
    model = small_cnn()
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    # conv 1·32·9+32, conv 32·64·9+64, dense 3136·128+128, out 128·10+10
    assert count_parameters(model) == 320 + 18_496 + 401_536 + 1_290
    assert [type(m) for m in model[:3]] == [nn.Conv2d, nn.ReLU, nn.MaxPool2d]


def test_gap_head_has_one_number_per_channel():
    model = small_cnn(head="gap", dense=0)
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert count_parameters(model) == 320 + 18_496 + 64 * 10 + 10
    assert not any(isinstance(m, nn.MaxPool2d) for m in small_cnn(downsample="stride"))


def test_strided_convs_halve_the_side_like_pooling():
    pooled, strided = small_cnn(), small_cnn(downsample="stride")
    x = torch.rand(1, 1, 28, 28)
    assert pooled[:-4](x).shape == strided[:-4](x).shape == (1, 64, 7, 7)
    assert strided(x).shape == (1, 10)


def test_frozen_parameters_are_not_counted():
    model = small_cnn(channels=(8,), dense=0)
    model[0].requires_grad_(False)
    assert count_parameters(model) == 8 * 14 * 14 * 10 + 10


def test_rejects_unknown_options():
    with pytest.raises(ConfigError):
        small_cnn(head="dense")
    with pytest.raises(ConfigError):
        small_cnn(downsample="avg")


def test_function_layer_runs_its_function_inside_a_network():
    from dlab.models.cnn import FunctionLayer

    model = small_cnn(head="gap", dense=0)
    model[-3] = FunctionLayer(lambda x: x.mean(dim=(2, 3), keepdim=True))
    reference = small_cnn(head="gap", dense=0)
    reference.load_state_dict(model.state_dict())
    x = torch.rand(2, 1, 28, 28)
    assert torch.allclose(model(x), reference(x), atol=1e-6)
