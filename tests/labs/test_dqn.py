"""dqn: quick mode end to end with every reference check passing; the lab's exercise solutions
agree with the library's reference pieces; the DQN loop is a function of its seed."""
import numpy as np
import pytest
import torch

from dlab.lab import catalog
from dlab.rl import dqn

pytest.importorskip("gymnasium")

METRICS = {"episodes_to_solved", "episodes_to_475", "best_mean_return", "last_mean_return",
           "episodes_trained", "env_steps", "gradient_steps", "kept_episode",
           "kept_validation_return", "test_kept_mean_return", "test_kept_std_return",
           "test_final_mean_return", "test_final_std_return", "max_mean_q",
           "ablation_mean_return", "ablation_max_mean_q", "train_seconds", "steps_per_second",
           "ablation_seconds"}


def test_quick(run_lab_in, lab_figures):
    record = run_lab_in("dqn")
    assert record["status"] in ("passed", "failed")
    assert set(record["metrics"]) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("dqn") == {"learning_curve.png"}
    assert record["metrics"]["episodes_trained"] <= record["config"]["max_episodes"]
    assert record["metrics"]["gradient_steps"] > 0


def test_linear_epsilon_reference():
    fn = catalog.get("dqn").reference_functions()["linear_epsilon"]
    for step in (0, 1, 999, 5_000, 9_999, 10_000, 10_001, 50_000):
        assert fn(step, 1.0, 0.05, 10_000) == pytest.approx(
            dqn.linear_epsilon(step, 1.0, 0.05, 10_000))
    assert isinstance(fn(3, 1.0, 0.1, 10), float)


def test_td_target_reference():
    fn = catalog.get("dqn").reference_functions()["td_target"]
    g = torch.Generator().manual_seed(0)
    rewards, next_q = torch.randn(32, generator=g), torch.randn(32, 3, generator=g)
    terminated = (torch.rand(32, generator=g) < 0.3).float()
    expected = dqn.td_target(rewards, next_q, terminated, 0.97)
    torch.testing.assert_close(fn(rewards, next_q, terminated, 0.97), expected)
    done = terminated.bool()
    torch.testing.assert_close(expected[done], rewards[done])


def test_q_loss_reference_is_mse_of_the_taken_actions():
    fn = catalog.get("dqn").reference_functions()["q_loss"]
    g = torch.Generator().manual_seed(1)
    q, targets = torch.randn(16, 2, generator=g), torch.randn(16, generator=g)
    actions = torch.randint(0, 2, (16,), generator=g)
    expected = torch.nn.functional.mse_loss(q[torch.arange(16), actions], targets)
    torch.testing.assert_close(fn(q, actions, targets), expected)
    torch.testing.assert_close(dqn.q_loss(q, actions, targets), expected)


def test_replay_buffer_overwrites_the_oldest_and_samples_what_it_holds():
    buffer = dqn.ReplayBuffer(3, 2, np.random.default_rng(0))
    for i in range(5):
        buffer.add([i, i], i % 2, float(i), [i + 1, i + 1], i == 4)
    assert buffer.size == 3
    assert sorted(buffer.rewards.tolist()) == [2.0, 3.0, 4.0]
    obs, actions, rewards, next_obs, terminated = buffer.sample(50)
    assert obs.shape == (50, 2) and actions.dtype == torch.int64
    assert set(rewards.tolist()) <= {2.0, 3.0, 4.0}
    torch.testing.assert_close(next_obs, obs + 1)
    torch.testing.assert_close(terminated, (rewards == 4.0).float())


TINY = dqn.DQNConfig(buffer_size=500, epsilon_decay_steps=300, learning_starts=100,
                     max_episodes=60, max_steps=600)


def test_same_seed_same_returns():
    first, second = dqn.train_dqn(TINY, seed=3), dqn.train_dqn(TINY, seed=3)
    assert first.updates > 0
    assert first.returns == second.returns
    assert np.array_equal(first.losses, second.losses, equal_nan=True)
    assert dqn.train_dqn(TINY, seed=4).returns != first.returns


def test_the_student_pieces_are_what_trains():
    calls = {"epsilon": 0, "target": 0, "loss": 0}

    def counted(name, fn):
        def wrapper(*args):
            calls[name] += 1
            return fn(*args)
        return wrapper

    dqn.train_dqn(TINY, seed=0, epsilon_fn=counted("epsilon", dqn.linear_epsilon),
                  target_fn=counted("target", dqn.td_target),
                  loss_fn=counted("loss", dqn.q_loss))
    assert calls["epsilon"] >= TINY.max_steps
    assert calls["target"] == calls["loss"] > 0


def test_greedy_policy_takes_the_highest_q():
    network = torch.nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        network.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]]))
    act = dqn.greedy_policy(network)
    assert [act(np.array(o, dtype=np.float32)) for o in ([2, 1], [0, 3], [-2, -2])] == [0, 1, 2]
