"""segmentation: quick mode runs end to end with every reference check passing; the reference
IoU matches scikit-learn's Jaccard score, the Dice loss its formula, and crop-then-paste gives
back the mask it started from."""
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import jaccard_score

from dlab.lab import catalog
from dlab.vision.prompts import crop_regions, prompt_regions

ID = "segmentation"
METRICS = ["semantic_val_miou", "semantic_test_miou", "prompted_val_iou",
           "prompted_val_iou_jittered", "box_as_mask_val_iou", "prompted_gain_over_box",
           "prompted_test_iou", "unet_ms_per_image", "prompted_ms_per_image",
           "unet_seconds_per_epoch", "head_seconds_per_epoch"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in(ID)
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures(ID) == {"overlays.png", "training_curves.png"}
    m = record["metrics"]
    assert 0 <= m["prompted_val_iou"] <= 1 and 0 <= m["semantic_val_miou"] <= 1
    assert abs(m["prompted_gain_over_box"]
               - (m["prompted_val_iou"] - m["box_as_mask_val_iou"])) < 1e-6


def _fns():
    return catalog.get(ID).reference_functions()


def test_iou_per_class_matches_sklearn_jaccard():
    g = torch.Generator().manual_seed(0)
    pred = torch.randint(0, 4, (3, 20, 20), generator=g)
    target = torch.randint(0, 4, (3, 20, 20), generator=g)
    ours = _fns()["iou_per_class"](pred, target, 4)
    want = jaccard_score(target.flatten().numpy(), pred.flatten().numpy(), average=None,
                         labels=[0, 1, 2, 3])
    assert np.allclose(ours.numpy(), want, atol=1e-6)


def test_dice_loss_is_one_minus_mean_soft_dice():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 4, 6, 6, generator=g)
    target = torch.randint(0, 4, (2, 6, 6), generator=g)
    p = logits.softmax(1)
    t = F.one_hot(target, 4).permute(0, 3, 1, 2).float()
    dice = (2 * (p * t).sum((0, 2, 3)) + 1) / (p.sum((0, 2, 3)) + t.sum((0, 2, 3)) + 1)
    assert torch.allclose(_fns()["dice_loss"](logits, target), 1 - dice.mean(), atol=1e-6)


def test_crop_then_paste_gives_back_the_mask():
    mask = torch.zeros(1, 1, 96, 96)
    mask[0, 0, 30:60, 20:44] = 1.0
    mask[0, 0, 40:50, 28:36] = 0.0  # a hole
    region = prompt_regions(torch.tensor([[20.0, 30.0, 44.0, 60.0]]), 4, 96)
    crop = crop_regions(mask, torch.tensor([0]), region, 32)[0, 0]
    pasted = _fns()["paste_mask"](crop - 0.5, tuple(region[0].tolist()), 96)
    truth = mask[0, 0].bool()
    assert (pasted & truth).sum() / (pasted | truth).sum() > 0.95
