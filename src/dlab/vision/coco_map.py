"""Mean average precision with the COCO reference implementation (pycocotools, extra
``detection``), from boxes held in memory: no JSON files.

``coco_map(predictions, truths, classes)`` takes one dict per image, predictions with
``boxes`` (k, 4) xyxy, ``scores`` and ``labels``, truths with ``boxes`` and ``labels``, and
returns ``map50`` (AP at IoU 0.5, averaged over classes), ``map`` (averaged over IoU 0.50,
0.55, …, 0.95 too), ``recall`` (per class, the share of true boxes some prediction reaches
with IoU ≥ 0.5 within 100 detections per image, averaged over classes) and ``precision50``
(classes × 101 recall points: each class's interpolated precision–recall curve at IoU 0.5).
"""
from __future__ import annotations

import contextlib
import io

import numpy as np

from dlab.errors import ConfigError
from dlab.vision.boxes import check_xyxy, xyxy_to_xywh

RECALL_POINTS = np.linspace(0, 1, 101)  # where COCOeval reads each precision–recall curve


def _coco_objects():
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError as exc:  # pragma: no cover - the extra is part of dev
        raise ConfigError("mAP needs pycocotools: pip install 'dlab[detection]' / "
                          "el mAP necesita pycocotools: pip install 'dlab[detection]'") from exc
    return COCO, COCOeval


def _annotations(truths: list[dict]) -> list[dict]:
    found = []
    for image_id, truth in enumerate(truths, start=1):
        for box, label in zip(xyxy_to_xywh(truth["boxes"].float()).tolist(),
                              truth["labels"].tolist()):
            # ids start at 1: COCOeval reads an id of 0 as "not matched"
            found.append({"id": len(found) + 1, "image_id": image_id,
                          "category_id": int(label) + 1, "bbox": box, "area": box[2] * box[3],
                          "iscrowd": 0})
    return found


def _results(predictions: list[dict]) -> list[dict]:
    return [{"image_id": image_id, "category_id": int(label) + 1, "bbox": box,
             "score": float(score)}
            for image_id, p in enumerate(predictions, start=1)
            for box, score, label in zip(xyxy_to_xywh(p["boxes"].float()).tolist(),
                                         p["scores"].tolist(), p["labels"].tolist())]


def coco_map(predictions: list[dict], truths: list[dict], classes: int) -> dict:
    """COCO box AP of ``predictions`` against ``truths`` (one dict per image, same order;
    labels 0…classes−1). See the module docstring for what is returned."""
    if len(predictions) != len(truths):
        raise ConfigError(f"{len(predictions)} images of predictions for {len(truths)} of "
                          f"truths / hay predicciones de {len(predictions)} imágenes para "
                          f"{len(truths)} con verdad")
    for i, (p, t) in enumerate(zip(predictions, truths)):
        check_xyxy(p["boxes"], f"predictions[{i}]")
        check_xyxy(t["boxes"], f"truths[{i}]")
    COCO, COCOeval = _coco_objects()
    results = _results(predictions)
    if not results:
        return {"map50": 0.0, "map": 0.0, "recall": 0.0,
                "precision50": np.zeros((classes, len(RECALL_POINTS)))}
    truth = COCO()
    truth.dataset = {"images": [{"id": i} for i in range(1, len(truths) + 1)],
                     "annotations": _annotations(truths),
                     "categories": [{"id": c + 1} for c in range(classes)]}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        truth.createIndex()
        found = truth.loadRes(results)
        evaluation = COCOeval(truth, found, iouType="bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    # precision: [IoU thresholds, recall points, classes, area ranges, max detections]
    precision50 = np.clip(evaluation.eval["precision"][0, :, :, 0, -1].T, 0, None)
    recall50 = evaluation.eval["recall"][0, :, 0, -1]
    return {"map50": float(evaluation.stats[1]), "map": float(evaluation.stats[0]),
            "recall": float(np.mean(np.clip(recall50, 0, None))), "precision50": precision50}
