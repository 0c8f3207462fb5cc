"""Box prompts for a promptable mask head (SAM's interface in miniature): the objects of a set
of scenes as (image row, box, mask) triples, boxes jittered as a detector would give them, and
the crop-and-resize that turns an image and a box into a fixed-size input.

A prompt box becomes a *region*: the box grown by ``margin`` pixels on every side, rounded out
to whole pixels and clipped to the canvas. The region is cut out of the image and resized to
``size × size`` (bilinear); a second channel marks which crop pixels lie inside the prompt box,
so the network knows which object it is asked about when a neighbour shows in the margin.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from dlab.vision.scenes import Scenes


def instances(scenes: Scenes) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every object of ``scenes``: image rows (K,) long, boxes (K, 4) float ``(x1, y1, x2,
    y2)`` and masks (K, S, S) bool, in scene order."""
    rows = torch.cat([torch.full((len(b),), i, dtype=torch.long)
                      for i, b in enumerate(scenes.boxes)])
    return rows, torch.cat(scenes.boxes), torch.cat(scenes.masks)


def jitter_boxes(boxes: torch.Tensor, pixels: int, generator: torch.Generator,
                 canvas: int) -> torch.Tensor:
    """Move each coordinate of ``boxes`` (K, 4) by its own whole number of pixels drawn in
    ``[-pixels, pixels]``, keeping every box inside the canvas and at least one pixel wide."""
    if pixels == 0:
        return boxes.clone()
    moved = boxes + torch.randint(-pixels, pixels + 1, boxes.shape, generator=generator)
    x1 = moved[:, 0].clamp(0, canvas - 1)
    y1 = moved[:, 1].clamp(0, canvas - 1)
    x2 = torch.maximum(moved[:, 2], x1 + 1).clamp(max=canvas)
    y2 = torch.maximum(moved[:, 3], y1 + 1).clamp(max=canvas)
    return torch.stack([x1, y1, x2, y2], dim=1)


def prompt_regions(boxes: torch.Tensor, margin: int, canvas: int) -> torch.Tensor:
    """(K, 4) long regions: each box grown by ``margin`` pixels, rounded out to whole pixels,
    clipped to ``[0, canvas]`` (``x2``/``y2`` exclusive)."""
    grown = torch.cat([(boxes[:, :2] - margin).floor(), (boxes[:, 2:] + margin).ceil()], dim=1)
    return grown.clamp(0, canvas).long()


def crop_regions(images: torch.Tensor, rows: torch.Tensor, regions: torch.Tensor,
                 size: int) -> torch.Tensor:
    """(K, C, size, size): region ``k`` of image ``rows[k]`` of ``images`` (N, C, H, W),
    resized bilinearly (``align_corners=False``)."""
    crops = [F.interpolate(images[r, :, y1:y2, x1:x2][None].float(), size=(size, size),
                           mode="bilinear", align_corners=False)[0]
             for r, (x1, y1, x2, y2) in zip(rows.tolist(), regions.tolist())]
    return torch.stack(crops) if crops else images.new_zeros(0, images.shape[1], size, size)


def box_channel(boxes: torch.Tensor, regions: torch.Tensor, size: int) -> torch.Tensor:
    """(K, 1, size, size) floats: 1 where the centre of a crop pixel (mapped back to the
    canvas) falls inside the prompt box, 0 elsewhere."""
    steps = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    regions = regions.float()
    xs = regions[:, 0:1] + steps * (regions[:, 2:3] - regions[:, 0:1])  # (K, size)
    ys = regions[:, 1:2] + steps * (regions[:, 3:4] - regions[:, 1:2])
    inside_x = (xs >= boxes[:, 0:1]) & (xs < boxes[:, 2:3])
    inside_y = (ys >= boxes[:, 1:2]) & (ys < boxes[:, 3:4])
    return (inside_y[:, :, None] & inside_x[:, None, :]).float()[:, None]


def prompt_inputs(images: torch.Tensor, rows: torch.Tensor, boxes: torch.Tensor, *,
                  margin: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The mask head's input for each prompt: (K, C + 1, size, size) crops with the box
    channel appended, and the (K, 4) regions they were cut from."""
    regions = prompt_regions(boxes, margin, images.shape[-1])
    crops = crop_regions(images, rows, regions, size)
    return torch.cat([crops, box_channel(boxes, regions, size)], dim=1), regions

