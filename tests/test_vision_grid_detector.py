import math

import pytest
import torch

from dlab.errors import ConfigError
from dlab.vision.grid_detector import (Grid, GridDetector, decode_boxes, detection_loss,
                                       prediction_offsets)


def test_the_network_gives_one_prediction_per_cell():
    model = GridDetector(classes=3)
    assert model(torch.zeros(2, 1, 96, 96)).shape == (2, 8, 12, 12)
    with pytest.raises(ConfigError):
        GridDetector(classes=3, widths=(8, 16), grid=Grid(stride=8))


def test_decoding_places_the_centre_in_its_cell():
    grid = Grid(size=4, stride=10, anchor=20.0)
    offsets = torch.zeros(1, 4, 4, 4)
    offsets[0, :, 2, 1] = torch.tensor([0.5, 0.25, 0.0, torch.log(torch.tensor(2.0))])
    boxes = decode_boxes(offsets, grid)
    # row 2, column 1: centre x = (1 + 0.5) * 10 = 15, y = (2 + 0.25) * 10 = 22.5; 20 × 40
    assert torch.allclose(boxes[0, 2, 1], torch.tensor([5.0, 2.5, 25.0, 42.5]))
    assert torch.allclose(boxes[0, 0, 0], torch.tensor([-10.0, -10.0, 10.0, 10.0]))


def test_loss_is_small_for_outputs_that_reproduce_the_target_and_grows_with_errors():
    target = torch.zeros(1, 6, 12, 12)
    target[0, :, 3, 4] = torch.tensor([1.0, 0.3, 0.6, 0.1, -0.2, 2.0])
    good = torch.full((1, 8, 12, 12), -30.0)
    good[0, :, 3, 4] = torch.tensor([30.0, torch.logit(torch.tensor(0.3)),
                                     torch.logit(torch.tensor(0.6)), 0.1, -0.2, -30.0, -30.0,
                                     30.0])
    parts = {}
    assert float(detection_loss(good, target, parts=parts)) < 1e-5
    assert set(parts) == {"objectness", "box", "label"}
    wrong_box, wrong_class = good.clone(), good.clone()
    wrong_box[0, 3, 3, 4] = 1.1  # log-width 1 too large: L1 of 1 over 4 numbers
    wrong_class[0, 5:, 3, 4] = torch.tensor([30.0, -30.0, -30.0])
    assert float(detection_loss(wrong_box, target)) == pytest.approx(0.25, abs=1e-4)
    assert float(detection_loss(wrong_class, target)) > 50
    empty = torch.zeros(1, 6, 12, 12)
    assert torch.isfinite(detection_loss(good, empty))


def test_offsets_pass_the_centre_through_a_sigmoid_only():
    out = torch.randn(2, 8, 3, 3)
    offsets = prediction_offsets(out)
    assert torch.allclose(offsets[:, :2], torch.sigmoid(out[:, 1:3]))
    assert torch.equal(offsets[:, 2:], out[:, 3:5])


def test_positive_weight_scales_the_objectness_of_cells_holding_an_object():
    target = torch.zeros(1, 6, 12, 12)
    target[0, 0, 3, 4] = 1.0
    undecided = torch.zeros(1, 8, 12, 12)  # every objectness at probability 0.5
    parts = {}
    detection_loss(undecided, target, positive_weight=5.0, parts=parts)
    assert parts["objectness"] == pytest.approx((5 + 143) / 144 * math.log(2), rel=1e-5)
