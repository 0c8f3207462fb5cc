"""dlab.rl.env: seeded environments repeat their episodes, episodes and GIFs come out right,
moving averages and "episodes to reach" count as documented."""
import numpy as np
import pytest

pytest.importorskip("gymnasium")

from dlab.rl import (episodes_to_reach, evaluate, make_env, moving_average, run_episode,
                     save_gif, torch_threads)


def random_returns(seed, episodes=5):
    env = make_env("CartPole-v1", seed)
    return evaluate(env, lambda obs: int(env.action_space.sample()), episodes)


def test_same_seed_same_episodes_other_seed_other_episodes():
    assert np.array_equal(random_returns(0), random_returns(0))
    assert not np.array_equal(random_returns(0), random_returns(1))


def test_run_episode_counts_steps_and_stops_at_truncation():
    env = make_env("CartPole-v1", 0)
    always_right = run_episode(env, lambda obs: 1)
    assert always_right.total_reward == always_right.length < 20  # 1 per step, falls fast
    balanced = run_episode(env, lambda obs: int(obs[2] + 0.5 * obs[3] > 0))
    assert balanced.length == 500  # CartPole-v1's time limit
    assert run_episode(env, lambda obs: 1, max_steps=3).length == 3


def test_rendered_episode_becomes_a_gif(tmp_path):
    from PIL import Image

    env = make_env("CartPole-v1", 0, render_mode="rgb_array")
    episode = run_episode(env, lambda obs: 1, render=True)
    assert len(episode.frames) == episode.length + 1
    assert episode.frames[0].shape == (400, 600, 3)
    path = save_gif(episode.frames, tmp_path / "sub" / "e.gif", every=2, scale=0.5)
    with Image.open(path) as gif:
        assert gif.size == (300, 200)
        assert gif.n_frames == len(episode.frames[::2])


def test_moving_average_is_a_trailing_mean():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert np.allclose(moving_average(values, 2), [1.0, 1.5, 2.5, 3.5, 4.5])
    full = np.convolve(values, np.ones(3) / 3, mode="valid")
    assert np.allclose(moving_average(values, 3)[2:], full)


def test_episodes_to_reach_needs_a_full_window():
    assert episodes_to_reach([200.0] * 5, 195, 10) is None  # fewer episodes than the window
    assert episodes_to_reach([200.0] * 10, 195, 10) == 10
    returns = [0.0] * 10 + [400.0] * 10
    assert episodes_to_reach(returns, 195, 10) == 15  # mean of episodes 6..15 = 200
    assert episodes_to_reach([10.0] * 50, 195, 10) is None


def test_torch_threads_restores_the_count():
    import torch

    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
