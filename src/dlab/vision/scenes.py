"""Generated scenes for detection and segmentation: small object images (Fashion-MNIST or MNIST,
pixels in [0, 1]) pasted at random positions and scales on a noisy square canvas.

Every object keeps what a labelled dataset would give: its class, its box (the tight box around
its visible pixels, ``(x1, y1, x2, y2)`` in pixels with ``x2``/``y2`` exclusive) and its
instance mask (the pixels brighter than ``mask_threshold`` before noise is added). Objects never
overlap (placement is rejection-sampled with a ``gap`` of free pixels between boxes), so each
pixel belongs to at most one object and the masks are exact.

``make_scenes(images, labels, n, seed=...)`` builds ``n`` scenes from one split; give the train
and validation scenes different object images and seeds.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Scenes:
    """``images``: (N, 1, S, S) floats in [0, 1]; per scene ``i``: ``boxes[i]`` (k, 4) float
    ``(x1, y1, x2, y2)``, ``labels[i]`` (k,) long, ``masks[i]`` (k, S, S) bool."""

    images: torch.Tensor
    boxes: list[torch.Tensor]
    labels: list[torch.Tensor]
    masks: list[torch.Tensor]

    def __len__(self) -> int:
        return len(self.images)

    def semantic_masks(self) -> torch.Tensor:
        """(N, S, S) long: 0 for background, ``label + 1`` on each object's pixels."""
        n, _, s, _ = self.images.shape
        out = torch.zeros(n, s, s, dtype=torch.long)
        for i in range(n):
            for mask, label in zip(self.masks[i], self.labels[i]):
                out[i][mask] = int(label) + 1
        return out

    def subset(self, rows) -> "Scenes":
        rows = list(rows)
        return Scenes(self.images[rows], [self.boxes[r] for r in rows],
                      [self.labels[r] for r in rows], [self.masks[r] for r in rows])


def _place(sizes: list[int], canvas: int, gap: int, g: torch.Generator,
           attempts: int = 50) -> list[tuple[int, int, int]]:
    """``(index, x, y)``: top-left corners for the squares of ``sizes`` that keep ``gap`` pixels
    apart; a square that finds no room after ``attempts`` draws is left out."""
    placed: list[tuple[int, int, int]] = []
    corners: list[tuple[int, int, int]] = []
    for index, size in enumerate(sizes):
        for _ in range(attempts):
            x, y = (int(v) for v in torch.randint(0, canvas - size + 1, (2,), generator=g))
            if all(x + size + gap <= px or px + ps + gap <= x or
                   y + size + gap <= py or py + ps + gap <= y for px, py, ps in placed):
                placed.append((x, y, size))
                corners.append((index, x, y))
                break
    return corners


def make_scenes(images: torch.Tensor, labels: torch.Tensor, n: int, *, seed: int,
                canvas: int = 96, objects: tuple[int, int] = (1, 4),
                scale: tuple[int, int] = (24, 44), noise: float = 0.1, gap: int = 2,
                mask_threshold: float = 0.25) -> Scenes:
    """``n`` scenes of ``objects[0]``–``objects[1]`` objects each, drawn from ``images``
    (M, 1, h, w) in [0, 1] with class ``labels`` (M,), each resized to a square side in
    ``scale`` (inclusive); Gaussian noise of std ``noise`` is added and the result clipped."""
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"images must be (M, 1, h, w); got {tuple(images.shape)}. "
                         "Load the dataset with flatten=False. / "
                         f"images debe ser (M, 1, h, w); llegó {tuple(images.shape)}. "
                         "Carga el dataset con flatten=False.")
    if not (0 < scale[0] <= scale[1] <= canvas):
        raise ValueError(f"scale {scale} must fit in the canvas of {canvas} px. / "
                         f"la escala {scale} debe caber en el lienzo de {canvas} px.")
    g = torch.Generator().manual_seed(seed)
    clean = torch.zeros(n, 1, canvas, canvas)
    all_boxes, all_labels, all_masks = [], [], []
    for i in range(n):
        count = int(torch.randint(objects[0], objects[1] + 1, (1,), generator=g))
        sizes = torch.randint(scale[0], scale[1] + 1, (count,), generator=g).tolist()
        picks = torch.randint(0, len(images), (count,), generator=g).tolist()
        boxes, kept, masks = [], [], []
        for index, x, y in _place(sizes, canvas, gap, g):
            size, pick = sizes[index], picks[index]
            obj = F.interpolate(images[pick][None], size=(size, size), mode="bilinear",
                                align_corners=False)[0, 0].clamp(0, 1)
            mask = torch.zeros(canvas, canvas, dtype=torch.bool)
            mask[y:y + size, x:x + size] = obj > mask_threshold
            if not mask.any():
                continue
            clean[i, 0, y:y + size, x:x + size] = obj
            rows = torch.nonzero(mask.any(1)).flatten()
            cols = torch.nonzero(mask.any(0)).flatten()
            boxes.append([float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)])
            kept.append(int(labels[pick]))
            masks.append(mask)
        all_boxes.append(torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4))
        all_labels.append(torch.tensor(kept, dtype=torch.long))
        all_masks.append(torch.stack(masks) if masks
                         else torch.zeros(0, canvas, canvas, dtype=torch.bool))
    noisy = (clean + noise * torch.randn(clean.shape, generator=g)).clamp(0, 1)
    return Scenes(noisy, all_boxes, all_labels, all_masks)


def objects_of(pair, classes: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of ``classes`` from an ``(X, y)`` pair, relabelled 0, 1, ... in that order."""
    X, y = pair
    relabel = torch.full((int(y.max()) + 1,), -1, dtype=torch.long)
    relabel[list(classes)] = torch.arange(len(classes))
    keep = relabel[y] >= 0
    return X[keep], relabel[y[keep]]


def scene_splits(data, classes: tuple[int, ...], counts: tuple[int, int, int], *, seed: int,
                 **options) -> tuple[Scenes, Scenes, Scenes]:
    """Train, validation and test scenes of ``counts`` scenes each, built from the objects of
    ``classes`` in the matching split of ``data`` (a ``dlab.data.Dataset`` of images), with
    seeds ``seed``, ``seed + 1`` and ``seed + 2``: no object image and no layout is shared."""
    pairs = (data.train, data.val, data.test)
    return tuple(make_scenes(*objects_of(pair, classes), n, seed=seed + k, **options)
                 for k, (pair, n) in enumerate(zip(pairs, counts)))
