"""decision-boundaries: quick mode runs end to end; full mode meets every criterion."""

from PIL import Image

METRICS = ["binary_test_accuracy", "spirals_test_accuracy", "spirals_first_epoch_val_accuracy",
           "snapshots", "gifs_written"]
FIGURES = {"circles_snapshots.png", "spirals_snapshots.png", "final_boundaries.png"}


def test_quick(run_lab_in, tmp_path, lab_figures):
    record = run_lab_in("decision-boundaries")
    assert record["status"] in ("passed", "failed")
    assert set(METRICS) <= set(record["metrics"])
    assert lab_figures("decision-boundaries") == FIGURES
    assert lab_figures("decision-boundaries", "gif") == {"circles_training.gif",
                                                                "spirals_training.gif"}
    assert record["metrics"]["gifs_written"] is True
    assert record["checks"] and all(c["passed"] for c in record["checks"])


def test_full_passes(run_lab_in, tmp_path):
    record = run_lab_in("decision-boundaries", quick=False)
    assert record["status"] == "passed", record["criteria"]
    gif = next(tmp_path.glob("decision-boundaries/*/figures/spirals_training.gif"))
    with Image.open(gif) as im:  # one frame per snapshot
        assert im.n_frames == record["metrics"]["snapshots"] == len(
            record["config"]["spirals_snapshots"])
    # The narration points to the animations (the report has no other way to show them).
    assert any("spirals_training.gif" in item.get("text", "") for item in record["story"])


def test_reference_probabilities_draw_the_snapshots():
    """The lab passes its class_probabilities to BoundarySnapshots: the same colours as the
    library's default (sigmoid as two columns, softmax)."""
    import numpy as np
    import torch

    from dlab.engine import metrics
    from dlab.lab import catalog

    probabilities = catalog.get("decision-boundaries").reference_functions()["class_probabilities"]
    for logits in (torch.randn(6, 1), torch.randn(6, 3)):
        p = metrics.probabilities(logits)
        want = np.stack([1 - p, p], axis=1) if p.ndim == 1 else p
        assert np.allclose(probabilities(logits).numpy(), want, atol=1e-6)
