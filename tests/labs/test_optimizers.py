"""optimizers: quick mode runs end to end; full mode shows the optimizer and init effects."""
import math

import pytest

METRICS = ["sgd_target_loss", "sgd_final_loss", "momentum_final_loss", "rmsprop_final_loss",
           "adam_final_loss", "sgd_epochs_to_sgd_loss", "momentum_epochs_to_sgd_loss",
           "momentum_speedup", "rmsprop_speedup", "adam_speedup", "init_default_final_loss",
           "init_tiny_final_loss", "init_he_final_loss", "init_tiny_last_layer_std",
           "tiny_to_he_loss_ratio", "default_to_he_loss_ratio"]
FIGURES = {"optimizers.png", "initialization.png"}


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
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]


def test_reference_rules_train_like_torch_optim():
    """The lab's momentum_step and adam_step, run by RuleOptimizer, follow torch.optim's SGD
    and Adam on a small model."""
    import torch
    from torch import nn

    from dlab.engine.rules import RuleOptimizer
    from dlab.lab import catalog

    fns = catalog.get("optimizers").reference_functions()

    def momentum(w, g, state, lr):
        w, state["v"] = fns["momentum_step"](w, g, state.get("v", torch.zeros_like(w)), lr, 0.9)
        return w

    def adam(w, g, state, lr):
        state["t"] = state.get("t", 0) + 1
        m, v = state.get("m", torch.zeros_like(w)), state.get("v", torch.zeros_like(w))
        w, state["m"], state["v"] = fns["adam_step"](w, g, m, v, state["t"], lr)
        return w

    x, y = torch.randn(32, 5), torch.randn(32, 1)
    for rule, make in ((momentum, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
                       (adam, lambda p: torch.optim.Adam(p, lr=0.05))):
        torch.manual_seed(0)
        ours, theirs = nn.Linear(5, 1), nn.Linear(5, 1)
        theirs.load_state_dict(ours.state_dict())
        opts = [RuleOptimizer(ours.parameters(), rule, lr=0.05), make(theirs.parameters())]
        for _ in range(20):
            for model, opt in zip((ours, theirs), opts):
                opt.zero_grad()
                nn.functional.mse_loss(model(x), y).backward()
                opt.step()
        assert torch.allclose(ours.weight, theirs.weight, atol=1e-5)


@pytest.mark.slow  # seven training runs on 10k images: ~45 s on an idle laptop
def test_full_passes(run_lab_in, shared_data):
    record = run_lab_in("optimizers", quick=False)
    assert record["status"] == "passed", record["criteria"]
    m = record["metrics"]
    # The tiny init never leaves chance level: the loss of a uniform guess over 10 classes.
    assert m["init_tiny_final_loss"] == pytest.approx(math.log(10), abs=0.02)
