"""regularization: quick mode runs end to end; full mode reduces the gap without losing
validation accuracy."""

import pytest

VARIANTS = ["baseline", "l2", "dropout", "early_stopping", "l2_dropout_early_stop"]
METRICS = ["chosen", "chosen_test_accuracy", "baseline_gap", "chosen_gap", "gap_reduction",
           "baseline_val_accuracy", "chosen_val_accuracy", "val_accuracy_gain"] + [
    f"{v}_{k}" for v in VARIANTS for k in ("train_accuracy", "val_accuracy", "gap", "epochs_run")]
FIGURES = {"accuracy.png", "validation_curves.png"}


def test_quick(run_lab_in, tmp_path, shared_data, lab_figures):
    record = run_lab_in("regularization")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert lab_figures("regularization") == FIGURES
    # The baseline is the reference, never a candidate.
    assert m["chosen"] in ("L2", "dropout", "early stopping", "L2 + dropout + early stop")
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]


def test_reference_pieces_reproduce_torch():
    """The lab's dropout draws the very masks nn.Dropout draws, and its L2 penalty gives the
    gradient torch's weight_decay adds: the lab's numbers equal the torch versions'."""
    import torch
    from torch import nn

    from dlab.engine.rules import replace_dropout
    from dlab.lab import catalog
    from dlab.models import MLP

    fns = catalog.get("regularization").reference_functions()
    torch.manual_seed(0)
    torch_model = MLP(20, [30, 30], 5, dropout=0.5)
    own_model = replace_dropout(MLP(20, [30, 30], 5, dropout=0.5), fns["dropout"])
    own_model.load_state_dict(torch_model.state_dict())
    x = torch.randn(8, 20)
    torch.manual_seed(1)
    expected = torch_model(x)
    torch.manual_seed(1)
    assert torch.equal(own_model(x), expected)

    model = nn.Linear(4, 3)
    fns["l2_penalty"](model, 0.01).backward()
    assert torch.allclose(model.weight.grad, 0.01 * model.weight.detach())


@pytest.mark.slow  # five runs of up to 80 epochs: ~1 min on an idle laptop
def test_full_passes(run_lab_in, shared_data):
    record = run_lab_in("regularization", quick=False)
    assert record["status"] == "passed", record["criteria"]
    m = record["metrics"]
    assert m["baseline_train_accuracy"] > 0.99  # it really memorized its 1,000 images
    assert m["early_stopping_epochs_run"] < record["config"]["epochs"]
