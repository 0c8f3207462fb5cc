"""augmentation: quick mode runs end to end with every reference check passing; the exercise
solutions agree with the library's batched transforms."""
import torch

from dlab.lab import catalog
from dlab.vision import augment

METRICS = ["plain_test_accuracy", "augmented_test_accuracy", "mean_gain", "min_gain",
           "seeds_improved_share", "gains", "plain_seconds_per_epoch",
           "augmented_seconds_per_epoch"]


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("augmentation")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("augmentation") == {"augmented_examples.png", "comparison.png"}
    assert len(record["metrics"]["gains"]) == 2  # quick mode: two seeds


def test_references_draw_like_the_library():
    fns = catalog.get("augmentation").reference_functions()
    x = torch.rand(32, 1, 12, 12)
    assert torch.equal(fns["random_flip"](x, 0.5, torch.Generator().manual_seed(0)),
                       augment.random_flip(x, 0.5, torch.Generator().manual_seed(0)))
    assert torch.equal(fns["random_shift"](x, 3, torch.Generator().manual_seed(0)),
                       augment.random_shift(x, 3, torch.Generator().manual_seed(0)))
