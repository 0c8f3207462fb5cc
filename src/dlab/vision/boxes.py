"""Box formats, a format check and class-aware suppression for the detection lab.

Boxes are ``(x1, y1, x2, y2)`` in pixels (``xyxy``, ``x2``/``y2`` exclusive) unless a name says
otherwise: ``cxcywh`` is centre and size, ``xywh`` is COCO's top-left corner and size. The
pairwise IoU and the greedy non-maximum suppression of one class are what the detection lab's
students write (its exercises); this module holds what goes around them, and takes the
single-class ``nms`` as an argument.
"""
from __future__ import annotations

from typing import Callable

import torch

from dlab.errors import ConfigError


def check_xyxy(boxes: torch.Tensor, what: str) -> None:
    """Stop with an explanation when a box of ``boxes`` (k, 4) has ``x2 < x1`` or ``y2 < y1``:
    the usual sign of ``(x, y, w, h)`` or ``(cx, cy, w, h)`` boxes passed where ``(x1, y1, x2,
    y2)`` was expected."""
    boxes = boxes.reshape(-1, 4)
    wrong = torch.nonzero((boxes[:, 2] < boxes[:, 0]) | (boxes[:, 3] < boxes[:, 1])).flatten()
    if len(wrong):
        box = [round(float(v), 2) for v in boxes[int(wrong[0])]]
        raise ConfigError(
            f"{what}: box {box} has x2 < x1 or y2 < y1. Boxes here are (x1, y1, x2, y2) in "
            "pixels; convert (x, y, w, h) or (cx, cy, w, h) boxes first (dlab.vision.boxes). / "
            f"{what}: la caja {box} tiene x2 < x1 o y2 < y1. Aquí las cajas son "
            "(x1, y1, x2, y2) en píxeles; convierte antes las cajas (x, y, w, h) o "
            "(cx, cy, w, h) (dlab.vision.boxes).")


def xyxy_to_cxcywh(boxes: torch.Tensor) -> torch.Tensor:
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    cx, cy, w, h = boxes.unbind(-1)
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=-1)


def xyxy_to_xywh(boxes: torch.Tensor) -> torch.Tensor:
    """COCO's box format: top-left corner, width, height."""
    x1, y1, x2, y2 = boxes.unbind(-1)
    return torch.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)


def class_aware_nms(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor,
                    iou_threshold: float,
                    nms: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]
                    ) -> torch.Tensor:
    """Suppress only boxes of the same class: shift each class's boxes by its own offset, larger
    than any coordinate, so boxes of different classes never overlap, and run the single-class
    ``nms(boxes, scores, iou_threshold) -> kept indices`` once on all of them. Returns the kept
    indices, highest score first."""
    if len(boxes) == 0:
        return torch.zeros(0, dtype=torch.long)
    offset = labels.to(boxes.dtype)[:, None] * (boxes.max() - boxes.min() + 1)
    return nms(boxes + offset, scores, iou_threshold)
