"""detection: quick mode runs end to end with every reference check passing, ONNX agreeing with
PyTorch; the reference IoU and NMS agree with brute force, and encoding a scene's boxes on the
grid then decoding them gives the boxes back."""
import itertools

import torch

from dlab.lab import catalog
from dlab.vision.boxes import class_aware_nms
from dlab.vision.grid_detector import Grid, decode_boxes, detections
from dlab.vision.scenes import make_scenes

METRICS = ["val_map50", "val_map50_95", "val_recall50", "test_map50", "test_map50_95",
           "inspection_correct", "onnx_matched_share", "onnx_same_counts", "seconds_per_epoch",
           "torch_ms_per_image", "onnx_ms_per_image"]


def _fns():
    return catalog.get("detection").reference_functions()


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("detection")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("detection") == {"training_curves.png", "precision_recall.png",
                                        "inspection.png"}
    m = record["metrics"]
    assert m["onnx_same_counts"] is True and m["onnx_matched_share"] == 1.0
    assert 0 <= m["val_map50_95"] <= m["val_map50"] <= 1


def _random_boxes(n, seed):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(n, 2, generator=g) * 60
    return torch.cat([xy, xy + 1 + torch.rand(n, 2, generator=g) * 30], 1)


def _iou_one_pair(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def test_box_iou_matches_a_pair_by_pair_loop():
    a, b = _random_boxes(7, 0), _random_boxes(5, 1)
    expected = torch.tensor([[_iou_one_pair(x.tolist(), y.tolist()) for y in b] for x in a])
    assert torch.allclose(_fns()["box_iou"](a, b), expected, atol=1e-6)


def _greedy_by_definition(boxes, scores, threshold):
    """Kept iff no higher-scored kept box overlaps it by more than ``threshold``."""
    kept = []
    for i in sorted(range(len(boxes)), key=lambda i: -float(scores[i])):
        if all(_iou_one_pair(boxes[i].tolist(), boxes[j].tolist()) <= threshold for j in kept):
            kept.append(i)
    return kept


def test_nms_matches_brute_force_on_random_boxes():
    nms = _fns()["nms"]
    for seed, threshold in itertools.product(range(3), (0.3, 0.5, 0.7)):
        boxes = _random_boxes(40, seed)
        scores = torch.rand(40, generator=torch.Generator().manual_seed(10 + seed))
        assert nms(boxes, scores, threshold).tolist() == _greedy_by_definition(boxes, scores,
                                                                              threshold)


def test_class_aware_nms_equals_one_nms_per_class():
    nms = _fns()["nms"]
    boxes = _random_boxes(50, 3)
    scores = torch.rand(50, generator=torch.Generator().manual_seed(4))
    labels = torch.randint(0, 3, (50,), generator=torch.Generator().manual_seed(5))
    per_class = []
    for c in range(3):
        rows = torch.nonzero(labels == c).flatten()
        per_class += rows[nms(boxes[rows], scores[rows], 0.4)].tolist()
    kept = class_aware_nms(boxes, scores, labels, 0.4, nms).tolist()
    assert sorted(kept) == sorted(per_class)
    assert kept == sorted(kept, key=lambda i: -float(scores[i]))  # highest score first
    assert class_aware_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0), 0.4,
                           nms).tolist() == []


def _scenes():
    images = torch.zeros(12, 1, 28, 28)
    images[:, :, 4:24, 8:20] = 1.0
    return make_scenes(images, torch.arange(12) % 3, 40, seed=0)


def test_encode_then_decode_gives_the_boxes_back():
    encode, grid = _fns()["encode_targets"], Grid(size=12, stride=8, anchor=32.0)
    scenes = _scenes()
    for boxes, labels in zip(scenes.boxes, scenes.labels):
        target = encode(boxes, labels, grid)
        decoded = decode_boxes(target[None, 1:5], grid)[0]  # (S, S, 4)
        assert int(target[0].sum()) == len(boxes)  # one cell per object
        for box, label in zip(boxes, labels):
            column, row = (int((box[0] + box[2]) / 2 // 8), int((box[1] + box[3]) / 2 // 8))
            assert target[0, row, column] == 1 and target[5, row, column] == label
            assert torch.allclose(decoded[row, column], box, atol=1e-4)


def test_detections_of_a_perfect_output_are_the_true_boxes():
    fns = _fns()
    grid = Grid()
    scenes = _scenes()
    targets = torch.stack([fns["encode_targets"](b, c, grid)
                           for b, c in zip(scenes.boxes, scenes.labels)])
    # logits that reproduce the targets: objectness ±20, sigmoid⁻¹ of the offsets, log-sizes,
    # and a one-hot class
    offsets = targets[:, 1:3].clamp(1e-6, 1 - 1e-6)
    output = torch.cat([targets[:, :1] * 40 - 20, torch.log(offsets / (1 - offsets)),
                        targets[:, 3:5],
                        torch.nn.functional.one_hot(targets[:, 5].long(), 3)
                        .permute(0, 3, 1, 2).float() * 20], 1)
    found = detections(output, grid, fns["nms"], score_threshold=0.5)
    for d, boxes, labels in zip(found, scenes.boxes, scenes.labels):
        assert len(d["boxes"]) == len(boxes)
        iou = fns["box_iou"](d["boxes"], boxes)
        assert (iou.max(1).values > 0.999).all()
        assert torch.equal(d["labels"], labels[iou.argmax(1)])
