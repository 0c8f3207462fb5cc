"""A one-stage grid detector in the style of the first YOLO, small enough for a laptop CPU.

The image is cut into an ``S × S`` grid of ``stride``-pixel cells. The network predicts, for
every cell, ``5 + C`` numbers (channels of an ``(N, 5 + C, S, S)`` map):

* channel 0: the objectness logit (does an object's centre fall in this cell?);
* channels 1–2: the centre's offset inside the cell, through a sigmoid (0 = left/top edge);
* channels 3–4: ``log(w / anchor)``, ``log(h / anchor)``: the size relative to one anchor size;
* channels 5…: the class logits.

A training target has the same layout with 6 channels: objectness (0/1), the two offsets, the
two log-sizes and the class index (read only where objectness is 1). Writing the targets (each
object goes to the cell holding its centre) is the detection lab's exercise; decoding, the loss
and the post-processing are here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from dlab.errors import ConfigError
from dlab.vision.boxes import class_aware_nms, cxcywh_to_xyxy


@dataclass(frozen=True)
class Grid:
    size: int = 12       # cells per side
    stride: int = 8      # pixels per cell
    anchor: float = 32.0  # the box size that log-size 0 stands for, in pixels


def decode_boxes(offsets: torch.Tensor, grid: Grid) -> torch.Tensor:
    """``offsets`` (N, 4, S, S): centre offsets in the cell (in [0, 1]) and log-sizes, per cell
    → boxes (N, S, S, 4) ``(x1, y1, x2, y2)`` in pixels. The inverse of the target encoding."""
    cells = torch.arange(grid.size, dtype=offsets.dtype, device=offsets.device)
    cx = (cells[None, None, :] + offsets[:, 0]) * grid.stride  # columns run along x
    cy = (cells[None, :, None] + offsets[:, 1]) * grid.stride
    w = grid.anchor * torch.exp(offsets[:, 2])
    h = grid.anchor * torch.exp(offsets[:, 3])
    return cxcywh_to_xyxy(torch.stack([cx, cy, w, h], dim=-1))


def prediction_offsets(output: torch.Tensor) -> torch.Tensor:
    """The network's raw box channels (1–4) as offsets: sigmoid on the centre, log-size as is."""
    return torch.cat([torch.sigmoid(output[:, 1:3]), output[:, 3:5]], dim=1)


def conv_block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]


class GridDetector(nn.Module):
    """Conv–BN–ReLU blocks with a 2×2 max-pool after each of the first ``log2(stride)`` widths
    (96 px → 12 cells with stride 8), then ``extra`` more blocks at grid resolution to widen
    the receptive field, and a 1×1 convolution to the ``5 + classes`` outputs per cell."""

    def __init__(self, classes: int, widths=(16, 32, 64), extra: int = 2, grid: Grid = Grid()):
        super().__init__()
        if 2 ** len(widths) != grid.stride:
            raise ConfigError(f"{len(widths)} poolings give stride {2 ** len(widths)}, but the "
                              f"grid has stride {grid.stride}. / {len(widths)} poolings dan "
                              f"paso {2 ** len(widths)}, pero la rejilla tiene paso "
                              f"{grid.stride}.")
        layers: list[nn.Module] = []
        cin = 1
        for width in widths:
            layers += conv_block(cin, width) + [nn.MaxPool2d(2)]
            cin = width
        for _ in range(extra):
            layers += conv_block(cin, cin)
        self.features = nn.Sequential(*layers)
        self.head = nn.Conv2d(cin, 5 + classes, 1)
        self.grid, self.classes = grid, classes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def detection_loss(output: torch.Tensor, target: torch.Tensor, positive_weight: float = 1.0,
                   parts: dict | None = None) -> torch.Tensor:
    """Binary cross-entropy on objectness over every cell, the cells that hold an object
    weighted ``positive_weight`` times (they are few: YOLO's λ_noobj rebalances the same way),
    plus, on those cells, the L1 distance between predicted and true offsets and the
    cross-entropy of the class. ``parts``, when given, receives the three terms."""
    output = output.float()
    objectness = F.binary_cross_entropy_with_logits(
        output[:, 0], target[:, 0], pos_weight=output.new_tensor(positive_weight))
    positive = target[:, 0] > 0.5
    if positive.any():
        predicted = prediction_offsets(output).permute(0, 2, 3, 1)[positive]
        box = F.l1_loss(predicted, target[:, 1:5].permute(0, 2, 3, 1)[positive])
        logits = output[:, 5:].permute(0, 2, 3, 1)[positive]
        label = F.cross_entropy(logits, target[:, 5][positive].long())
    else:
        box = label = output.sum() * 0.0
    if parts is not None:
        parts.update(objectness=float(objectness), box=float(box), label=float(label))
    return objectness + box + label


def detections(output: torch.Tensor, grid: Grid, nms: Callable, *, score_threshold: float = 0.05,
               iou_threshold: float = 0.5, max_per_image: int = 100) -> list[dict]:
    """Boxes from raw outputs (N, 5 + C, S, S): score = sigmoid(objectness) × the best class's
    softmax probability, cells below ``score_threshold`` dropped, then class-aware
    non-maximum suppression with the single-class ``nms``. One dict per image with ``boxes``
    (k, 4) xyxy, ``scores`` (k,) and ``labels`` (k,), highest score first."""
    output = output.float()
    boxes = decode_boxes(prediction_offsets(output), grid).flatten(1, 2)
    probs = torch.softmax(output[:, 5:], dim=1).flatten(2).transpose(1, 2)
    best, labels = probs.max(-1)
    scores = torch.sigmoid(output[:, 0]).flatten(1) * best
    found = []
    for b, s, c in zip(boxes, scores, labels):
        keep = s >= score_threshold
        b, s, c = b[keep], s[keep], c[keep]
        kept = class_aware_nms(b, s, c, iou_threshold, nms)[:max_per_image]
        found.append({"boxes": b[kept], "scores": s[kept], "labels": c[kept]})
    return found
