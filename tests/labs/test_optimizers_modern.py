"""optimizers-modern: quick mode runs end to end with every reference check passing; the
reference lion_step trains like dlab.optim.Lion, and state_bytes counts optimizer buffers."""
import pytest
import torch
from torch import nn

from dlab.engine.rules import RuleOptimizer
from dlab.lab import catalog
from dlab.optim import Lion, ScheduleFreeAdamW, Sophia

RACE = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adam_l2", "adamw", "lion",
        "sophia", "schedule_free")
VIT = ("adamw", "lion", "sophia", "schedule_free")
SUMMARY = ["adamw_minus_adam_pp", "adamw_minus_adam_l2_pp", "best_modern_minus_adamw_mlp_pp",
           "lion_minus_adamw_pp", "adamw_to_lion_lr_ratio", "lion_minus_adamw_at_max_lr_pp",
           "lion_state_saving_mlp",
           "lion_state_saving_vit", "lion_weights_grads_state_saving_vit",
           "best_modern_minus_adamw_vit_pp", "sophia_time_overhead_vit", "test_model",
           "test_accuracy", "sgd_best_lr", "adamw_best_lr", "lion_best_lr"]


@pytest.fixture(scope="module")
def fns():
    return catalog.get("optimizers-modern").reference_functions()


def test_quick(run_lab_in, shared_data, lab_figures):
    record = run_lab_in("optimizers-modern")
    assert record["status"] in ("passed", "failed")
    m = record["metrics"]
    expected = set(SUMMARY)
    for name in RACE:
        expected |= {f"{name}_val_accuracy", f"{name}_state_bytes", f"{name}_s_per_epoch",
                     f"{name}_cpu_s_per_epoch"}
    for name in VIT:
        expected |= {f"vit_{name}_val_accuracy", f"vit_{name}_state_bytes",
                     f"vit_{name}_s_per_epoch", f"vit_{name}_cpu_s_per_epoch"}
    assert expected <= set(m)
    assert lab_figures("optimizers-modern") == {"mlp_race.png", "mlp_memory_time.png",
                                                "lr_sweep.png", "vit_race.png"}
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    # Memory is exact whatever the budget: no state for SGD, one buffer for momentum and Lion,
    # two for the Adam family, Sophia and Schedule-Free.
    assert m["sgd_state_bytes"] == 0
    assert m["lion_state_bytes"] == m["momentum_state_bytes"]
    assert m["sophia_state_bytes"] == m["schedule_free_state_bytes"] == 2 * m["lion_state_bytes"]
    assert m["lion_state_saving_mlp"] == pytest.approx(0.5, abs=1e-3)
    assert 0.0 < m["lion_weights_grads_state_saving_vit"] < m["lion_state_saving_vit"]


def test_lion_step_trains_like_the_library_lion(fns):
    lion_step = fns["lion_step"]

    def rule(w, grad, state, lr):
        m = state.get("m", torch.zeros_like(w))
        w, state["m"] = lion_step(w, grad, m, lr, 0.9, 0.99, 0.1)
        return w

    torch.manual_seed(0)
    x, y = torch.randn(64, 5), torch.randint(0, 3, (64,))
    ours, theirs = nn.Linear(5, 3), nn.Linear(5, 3)
    theirs.load_state_dict(ours.state_dict())
    optimizers = [RuleOptimizer(ours.parameters(), rule, lr=0.01),
                  Lion(theirs.parameters(), lr=0.01, weight_decay=0.1)]
    for _ in range(30):
        for model, opt in zip((ours, theirs), optimizers):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    torch.testing.assert_close(ours.weight, theirs.weight)


def test_state_bytes_counts_one_or_two_copies_of_the_weights(fns):
    state_bytes = fns["state_bytes"]
    model = nn.Sequential(nn.Linear(20, 10), nn.ReLU(), nn.Linear(10, 4))
    weights = sum(p.numel() * 4 for p in model.parameters())
    counts = {}
    for name, make in {"sgd": lambda p: torch.optim.SGD(p, lr=0.1),
                       "momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                       "lion": lambda p: Lion(p),
                       "sophia": lambda p: Sophia(p),
                       "schedule_free": lambda p: ScheduleFreeAdamW(p)}.items():
        optimizer = make(model.parameters())
        model(torch.randn(8, 20)).sum().backward()
        optimizer.step()
        counts[name] = state_bytes(optimizer) / weights
        model.zero_grad()
    assert counts == {"sgd": 0, "momentum": 1, "lion": 1, "sophia": 2, "schedule_free": 2}
