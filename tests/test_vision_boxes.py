import pytest
import torch

from dlab.errors import ConfigError
from dlab.vision.boxes import (check_xyxy, class_aware_nms, cxcywh_to_xyxy, xyxy_to_cxcywh,
                               xyxy_to_xywh)


def test_formats_convert_both_ways():
    boxes = torch.tensor([[2.0, 4.0, 10.0, 8.0], [0.0, 0.0, 1.0, 3.0]])
    assert torch.equal(xyxy_to_cxcywh(boxes), torch.tensor([[6.0, 6.0, 8.0, 4.0],
                                                            [0.5, 1.5, 1.0, 3.0]]))
    assert torch.equal(cxcywh_to_xyxy(xyxy_to_cxcywh(boxes)), boxes)
    assert torch.equal(xyxy_to_xywh(boxes), torch.tensor([[2.0, 4.0, 8.0, 4.0],
                                                          [0.0, 0.0, 1.0, 3.0]]))


def _nms_by_definition(boxes, scores, threshold):
    """Single-class greedy NMS written pair by pair (the reference for the wrapper)."""
    def iou(a, b):
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        return w * h / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h)
    kept = []
    for i in sorted(range(len(boxes)), key=lambda i: -float(scores[i])):
        if all(iou(boxes[i].tolist(), boxes[j].tolist()) <= threshold for j in kept):
            kept.append(i)
    return torch.tensor(kept, dtype=torch.long)


def test_boxes_of_different_classes_never_suppress_each_other():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0],
                          [0.0, 0.0, 10.0, 10.0], [-5.0, -5.0, 3.0, 3.0]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.6])
    labels = torch.tensor([0, 0, 1, 1])
    kept = class_aware_nms(boxes, scores, labels, 0.5, _nms_by_definition)
    assert kept.tolist() == [0, 2, 3]  # box 1 is a duplicate of box 0; box 2 is another class
    assert class_aware_nms(boxes, scores, torch.zeros(4, dtype=torch.long), 0.5,
                           _nms_by_definition).tolist() == [0, 3]


def test_check_xyxy_names_the_first_inverted_box():
    check_xyxy(torch.tensor([[0.0, 0.0, 5.0, 5.0], [2.0, 2.0, 2.0, 3.0]]), "fine")
    with pytest.raises(ConfigError, match=r"truths\[0\]: box \[30.0, 40.0, 10.0, 10.0\]"):
        check_xyxy(torch.tensor([[0.0, 0.0, 5.0, 5.0], [30.0, 40.0, 10.0, 10.0]]), "truths[0]")
