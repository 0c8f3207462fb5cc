"""reinforce: quick mode runs end to end; the exercise solutions match the library's
reference and torch; the lab's training repeats itself exactly with the same seed."""
import numpy as np
import pytest
import torch

pytest.importorskip("gymnasium")

from dlab.lab import catalog

METRICS = {f"{v}_{m}" for v in ("plain", "baseline")
           for m in ("episodes_to_solved", "episodes_to_475", "best_mean_return",
                     "last_mean_return", "seconds")} | {"episodes_saved_by_baseline"}


def test_quick(run_lab_in, lab_figures):
    record = run_lab_in("reinforce")
    assert set(record["metrics"]) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    assert lab_figures("reinforce") == {"returns.png"}


def test_same_seed_same_returns(run_lab_in):
    first = run_lab_in("reinforce")["metrics"]
    again = run_lab_in("reinforce", quick=True, seed=0)["metrics"]
    timed = set(catalog.get("reinforce").lab.timed)
    assert {k: v for k, v in first.items() if k not in timed} == \
        {k: v for k, v in again.items() if k not in timed}


def test_references_match_the_library():
    from dlab.rl import reinforce

    fns = catalog.get("reinforce").reference_functions()
    rewards = [1.0, 0.0, -1.0, 2.0]
    assert torch.allclose(fns["returns_to_go"](rewards, 0.9),
                          reinforce.returns_to_go(rewards, 0.9))
    log_probs, returns = torch.log(torch.tensor([0.3, 0.6, 0.9])), torch.tensor([1.0, 2.0, 3.0])
    values = torch.tensor([0.5, 2.5, 1.0])
    for v in (None, values):
        assert torch.allclose(fns["reinforce_loss"](log_probs, returns, v),
                              reinforce.reinforce_loss(log_probs, returns, v))


def test_policy_network_reference():
    torch.manual_seed(0)
    model = catalog.get("reinforce").reference_functions()["policy_network"](4, 2, 64)
    assert model(torch.zeros(7, 4)).shape == (7, 2)
    assert sum(p.numel() for p in model.parameters()) == 4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2
    probs = torch.softmax(model(torch.randn(5, 4)), dim=-1)
    assert np.allclose(probs.sum(-1).detach(), 1.0)
