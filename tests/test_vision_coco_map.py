"""dlab.vision.coco_map against average precisions computed by hand (COCO interpolates each
precision–recall curve at 101 recall points, taking the best precision at that recall or
beyond)."""
import pytest
import torch

from dlab.errors import ConfigError
from dlab.vision.coco_map import coco_map

pytest.importorskip("pycocotools")

TRUTH = [{"boxes": torch.tensor([[10.0, 10.0, 30.0, 40.0], [50.0, 50.0, 70.0, 60.0]]),
          "labels": torch.tensor([0, 0])}]


def _found(boxes, scores, labels=None):
    boxes = torch.tensor(boxes)
    return [{"boxes": boxes, "scores": torch.tensor(scores),
             "labels": torch.zeros(len(boxes), dtype=torch.long) if labels is None
             else torch.tensor(labels)}]


def test_perfect_predictions_score_one():
    result = coco_map(_found(TRUTH[0]["boxes"].tolist(), [0.9, 0.8]), TRUTH, classes=1)
    assert result["map50"] == pytest.approx(1.0) and result["map"] == pytest.approx(1.0)
    assert result["recall"] == pytest.approx(1.0)
    assert result["precision50"].shape == (1, 101)


def test_a_false_positive_ranked_between_two_hits():
    # hit (0.9), miss far away (0.8), hit (0.7): precision 1 up to recall 0.5, then 2/3
    found = _found([[10.0, 10.0, 30.0, 40.0], [80.0, 0.0, 95.0, 10.0], [50.0, 50.0, 70.0, 60.0]],
                   [0.9, 0.8, 0.7])
    expected = (51 * 1.0 + 50 * 2 / 3) / 101
    assert coco_map(found, TRUTH, classes=1)["map50"] == pytest.approx(expected, abs=1e-6)


def test_a_false_positive_ranked_first_halves_ap():
    truth = [{"boxes": TRUTH[0]["boxes"][:1], "labels": torch.tensor([0])}]
    found = _found([[80.0, 0.0, 95.0, 10.0], [10.0, 10.0, 30.0, 40.0]], [0.9, 0.8])
    assert coco_map(found, truth, classes=1)["map50"] == pytest.approx(0.5)


def test_wrong_class_and_loose_boxes_do_not_count_at_iou_05():
    # the right box with the wrong class, and a box of IoU 0.4 with the other object
    found = _found([[10.0, 10.0, 30.0, 40.0], [50.0, 50.0, 58.0, 60.0]], [0.9, 0.8], [1, 0])
    result = coco_map(found, TRUTH, classes=2)
    assert result["map50"] == pytest.approx(0.0)  # class 1 has no true box: COCO skips it


def test_no_detections_score_zero():
    empty = [{"boxes": torch.zeros(0, 4), "scores": torch.zeros(0),
              "labels": torch.zeros(0, dtype=torch.long)}]
    assert coco_map(empty, TRUTH, classes=1)["map50"] == 0.0


def test_boxes_in_the_wrong_format_are_explained():
    xywh = [{"boxes": torch.tensor([[50.0, 50.0, 20.0, 10.0]]), "labels": torch.tensor([0])}]
    with pytest.raises(ConfigError, match="x2 < x1"):
        coco_map(_found([[50.0, 50.0, 70.0, 60.0]], [0.9]), xywh, classes=1)
