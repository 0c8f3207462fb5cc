"""dlab.rl.tabular: the model read from Gymnasium, value and policy iteration (checked against
a hand-solved MDP and against each other), Q-learning and SARSA (deterministic per seed,
and finding the path on the non-slippery lake)."""
import numpy as np
import pytest

pytest.importorskip("gymnasium")

from dlab.rl import evaluate, make_env
from dlab.rl.tabular import (TDConfig, bellman_q, epsilon_at, evaluate_policy, model_from_env,
                             optimal_actions, policy_iteration, q_learning_update,
                             sarsa_update, td_control, value_iteration)


def lake(slippery=True):
    return make_env("FrozenLake-v1", 0, is_slippery=slippery)


def test_model_leaves_out_the_end_of_episodes():
    P, R = model_from_env(lake())
    assert P.shape == (16, 4, 16) and R.shape == (16, 4)
    assert np.allclose(P[0].sum(axis=1), 1.0)  # the start cannot end the episode at once
    assert np.allclose(P[5].sum(axis=1), 0.0)  # a hole: nothing follows
    assert np.allclose(R[14, 2], 1 / 3)  # 'right' next to the goal: reached 1 time in 3
    assert P[14, 2].sum() == pytest.approx(2 / 3)


def test_value_iteration_solves_a_hand_made_mdp():
    # State 0: action 0 pays 1 and stays; action 1 pays 0 and moves to state 1, which pays 2
    # forever. With gamma 0.5: V(1) = 4, Q(0, 1) = 0.5 * 4 = 2 = Q(0, 0) = 1 + 0.5 * V(0)
    # with V(0) = 2: a tie, both optimal.
    P = np.array([[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 1.0]]])
    R = np.array([[1.0, 0.0], [2.0, 2.0]])
    plan = value_iteration(P, R, 0.5, tol=1e-10)
    assert np.allclose(plan.V, [2.0, 4.0], atol=1e-8)
    assert optimal_actions(plan.Q)[0].all()
    assert np.allclose(evaluate_policy(P, R, np.array([1, 0]), 0.5), [2.0, 4.0])


def test_value_iteration_refuses_gamma_one():
    P, R = model_from_env(lake())
    with pytest.raises(ValueError, match="gamma"):
        value_iteration(P, R, 1.0)


def test_value_and_policy_iteration_agree_on_frozenlake():
    P, R = model_from_env(lake())
    vi, pi = value_iteration(P, R, 0.99, tol=1e-10), policy_iteration(P, R, 0.99)
    assert np.allclose(vi.V, pi.V, atol=1e-7)
    optimal = optimal_actions(vi.Q)
    assert all(optimal[s, pi.policy[s]] for s in range(16))
    assert pi.iterations < 20 < vi.iterations


def test_bellman_q_is_the_one_step_lookahead():
    P, R = model_from_env(lake())
    V = np.arange(16.0)
    Q = bellman_q(P, R, V, 0.9)
    s, a = 6, 1
    expected = sum(p * (r + (0 if done else 0.9 * V[s2]))
                   for p, s2, r, done in lake().unwrapped.P[s][a])
    assert Q[s, a] == pytest.approx(expected)


def test_td_updates_differ_only_in_the_next_value():
    Q = np.array([[0.0, 0.0], [1.0, 3.0]])
    q_learning_error = q_learning_update(Q.copy(), 0, 0, 0.0, 1, 0, False, 1.0, 1.0)
    sarsa_error = sarsa_update(Q.copy(), 0, 0, 0.0, 1, 0, False, 1.0, 1.0)
    assert (q_learning_error, sarsa_error) == (3.0, 1.0)
    assert q_learning_update(Q.copy(), 0, 0, 5.0, 1, 0, True, 1.0, 1.0) == 5.0


def test_epsilon_decays_linearly_then_stays():
    cfg = TDConfig(episodes=100, epsilon_start=1.0, epsilon_end=0.1, decay_fraction=0.5)
    assert [round(epsilon_at(cfg, e), 6) for e in (0, 25, 50, 99)] == [1.0, 0.55, 0.1, 0.1]


def test_td_control_is_deterministic_and_learns_the_firm_lake():
    cfg = TDConfig(episodes=1000, alpha=0.5, gamma=0.9, decay_fraction=0.8)
    Q1, returns1 = td_control(lake(slippery=False), cfg, seed=3)
    Q2, returns2 = td_control(lake(slippery=False), cfg, seed=3)
    assert np.array_equal(Q1, Q2) and np.array_equal(returns1, returns2)
    policy = Q1.argmax(axis=1)
    assert evaluate(lake(slippery=False), lambda s: int(policy[s]), 5).tolist() == [1.0] * 5
    Q3, _ = td_control(lake(slippery=False), cfg, update=sarsa_update, seed=3)
    policy = Q3.argmax(axis=1)
    assert evaluate(lake(slippery=False), lambda s: int(policy[s]), 5).tolist() == [1.0] * 5
