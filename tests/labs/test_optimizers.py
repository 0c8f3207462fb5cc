"""optimizers: quick mode runs end to end; full mode shows the optimizer and init effects."""
import math

import pytest

METRICS = ["sgd_target_loss", "sgd_final_loss", "momentum_final_loss", "rmsprop_final_loss",
           "adam_final_loss", "sgd_epochs_to_sgd_loss", "momentum_epochs_to_sgd_loss",
           "momentum_speedup", "rmsprop_speedup", "adam_speedup", "init_default_final_loss",
           "init_tiny_final_loss", "init_he_final_loss", "init_tiny_last_layer_std",
           "tiny_to_he_loss_ratio", "default_to_he_loss_ratio"]
FIGURES = {"optimizers.png", "initialization.png"}


def test_epochs_to_reach():
    from dlab.labs.optimizers import epochs_to_reach

    assert epochs_to_reach([2.0, 1.0, 0.5], 1.0) == 2
    assert epochs_to_reach([2.0, 1.0, 0.5], 0.1) is None


def test_quick(run_lab_in, tmp_path, shared_data, lab_figures):
    record = run_lab_in("optimizers")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    assert set(METRICS) <= set(m)
    assert lab_figures("optimizers") == FIGURES
    # Plain SGD reaches its own final loss by definition, so its speed-up is exactly 1.
    assert m["sgd_speedup"] == 1.0
    # Weights of std 1e-3 leave almost no signal after five ReLU layers, trained or not.
    assert m["init_tiny_last_layer_std"] < 1e-6


@pytest.mark.slow  # seven training runs on 10k images: ~45 s on an idle laptop
def test_full_passes(run_lab_in, shared_data):
    record = run_lab_in("optimizers", quick=False)
    assert record["status"] == "passed", record["criteria"]
    m = record["metrics"]
    # The tiny init never leaves chance level: the loss of a uniform guess over 10 classes.
    assert m["init_tiny_final_loss"] == pytest.approx(math.log(10), abs=0.02)
