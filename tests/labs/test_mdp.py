"""mdp: quick mode runs end to end (the model-based results hold at any budget); the
exercise solutions match the library's reference and the definitions."""
import numpy as np
import pytest

pytest.importorskip("gymnasium")

from dlab.lab import catalog

METRICS = {"vi_success_rate", "vi_hole_rate", "vi_mean_episode_length", "vi_iterations",
           "pi_iterations", "vi_pi_value_gap", "vi_pi_agree", "vi_risky_states",
           "shortest_risky_states", "shortest_success_rate", "shortest_hole_rate",
           "vi_to_shortest_hole_rate", "taxi_optimal_return", "taxi_worst_return_gap",
           *(f"lake_{k}_{m}" for k in ("qlearning", "sarsa")
             for m in ("success_rate", "success_share", "optimal_share")),
           *(f"taxi_{k}_{m}" for k in ("qlearning", "sarsa") for m in ("return", "optimal_share"))}


def test_quick(run_lab_in, lab_figures):
    record = run_lab_in("mdp")
    m = record["metrics"]
    assert set(m) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"]), record["checks"]
    assert lab_figures("mdp") == {"value_and_policy.png", "learning_curves.png"}
    # Planning does not depend on the budget: these hold in quick mode already.
    assert m["vi_pi_agree"] is True and m["vi_risky_states"] == 0
    assert m["shortest_risky_states"] > 0 and m["vi_iterations"] > m["pi_iterations"]


def test_bellman_q_reference_matches_the_library():
    from dlab.rl.tabular import bellman_q

    fn = catalog.get("mdp").reference_functions()["bellman_q"]
    rng = np.random.default_rng(1)
    P = rng.random((6, 3, 6))
    P /= P.sum(axis=2, keepdims=True)
    R, V = rng.normal(size=(6, 3)), rng.normal(size=6)
    assert np.allclose(fn(P, R, V, 0.9), bellman_q(P, R, V, 0.9))


def test_q_learning_update_reference_matches_the_library():
    from dlab.rl.tabular import q_learning_update

    fn = catalog.get("mdp").reference_functions()["q_learning_update"]
    rng = np.random.default_rng(2)
    ours = rng.normal(size=(5, 3))
    theirs = ours.copy()
    for s, a, r, s2, a2, done in [(0, 1, 1.0, 2, 0, False), (2, 2, -1.0, 4, 1, True),
                                  (4, 0, 0.5, 4, 2, False)]:
        assert fn(ours, s, a, r, s2, a2, done, 0.3, 0.95) == pytest.approx(
            q_learning_update(theirs, s, a, r, s2, a2, done, 0.3, 0.95))
    assert np.allclose(ours, theirs)
