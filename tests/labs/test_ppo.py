"""ppo: quick mode end to end (figures, GIF, TensorBoard logs, every reference check passing);
the lab's GAE and clipped objective against independent formulas and the library; the PPO
loop is a function of its seed and values a truncated episode's last state."""
import numpy as np
import pytest
import torch

from dlab.lab import catalog
from dlab.rl import ppo

pytest.importorskip("gymnasium")

METRICS = {"lander_eval_mean", "lander_eval_std", "lander_eval_share_200", "lander_return_gain",
           "lander_first_mean_return", "lander_last_mean_return", "lander_training_episodes",
           "lander_env_steps", "cartpole_eval_mean", "cartpole_eval_std",
           "cartpole_last_mean_return", "cartpole_env_steps", "cartpole_seconds",
           "cartpole_steps_per_second", "lander_seconds", "lander_steps_per_second"}


def test_quick(run_lab_in, lab_figures, quick_runs):
    record = run_lab_in("ppo")
    assert record["status"] in ("passed", "failed")
    assert set(record["metrics"]) == METRICS
    assert record["checks"] and all(c["passed"] for c in record["checks"])
    assert lab_figures("ppo") == {"learning_curves.png", "update_statistics.png"}
    assert lab_figures("ppo", ext="gif") == {"lunarlander.gif"}
    logs = {p.parent.name for p in quick_runs.out.glob("ppo/*/tensorboard/*/events.out.*")}
    assert logs == {"CartPole-v1", "LunarLander-v3"}
    assert record["metrics"]["lander_env_steps"] >= record["config"]["lander_steps"]


def _gae_by_definition(rewards, values, dones, last_value, gamma, lam):
    """A_t = Σ_k (γλ)^k δ_{t+k}, summed up to the end of the episode or of the rollout."""
    T, N = rewards.shape
    nexts = torch.cat([values[1:], last_value[None]])
    deltas = rewards + gamma * nexts * (1 - dones) - values
    out = torch.zeros(T, N)
    for n in range(N):
        for t in range(T):
            for k in range(T - t):
                out[t, n] += (gamma * lam) ** k * deltas[t + k, n]
                if dones[t + k, n]:
                    break
    return out


def _rollout(seed=0, T=12, N=3):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(T, N, generator=g), torch.randn(T, N, generator=g),
            (torch.rand(T, N, generator=g) < 0.2).float(), torch.randn(N, generator=g))


@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.9, 0.0), (0.8, 1.0)])
def test_compute_gae_reference(gamma, lam):
    fn = catalog.get("ppo").reference_functions()["compute_gae"]
    rewards, values, dones, last = _rollout()
    expected = _gae_by_definition(rewards, values, dones, last, gamma, lam)
    torch.testing.assert_close(fn(rewards, values, dones, last, gamma, lam), expected)
    torch.testing.assert_close(ppo.compute_gae(rewards, values, dones, last, gamma, lam),
                               expected)


def test_clipped_surrogate_loss_reference():
    fn = catalog.get("ppo").reference_functions()["clipped_surrogate_loss"]
    g = torch.Generator().manual_seed(0)
    old = torch.randn(64, generator=g)
    new = (old + 0.4 * torch.randn(64, generator=g)).requires_grad_()
    advantages = torch.randn(64, generator=g)
    ratio = (new - old).exp()
    expected = -torch.where(advantages >= 0, torch.clamp(ratio, max=1.2),
                            torch.clamp(ratio, min=0.8)) * advantages
    torch.testing.assert_close(fn(new, old, advantages, 0.2), expected.mean())
    torch.testing.assert_close(ppo.clipped_surrogate_loss(new, old, advantages, 0.2),
                               expected.mean())
    (grad,) = torch.autograd.grad(fn(new, old, advantages, 0.2), new)
    active = ((advantages >= 0) & (ratio > 1.2)) | ((advantages < 0) & (ratio < 0.8))
    assert active.any() and (grad[active] == 0).all() and (grad[~active] != 0).all()


TINY = ppo.PPOConfig(env_id="CartPole-v1", total_steps=512, num_envs=4, num_steps=32,
                     num_minibatches=2, update_epochs=2)


def test_same_seed_same_returns():
    first, second = ppo.train_ppo(TINY, seed=5), ppo.train_ppo(TINY, seed=5)
    assert len(first.returns) > 5
    assert first.returns == second.returns
    assert [s["policy_loss"] for s in first.log] == [s["policy_loss"] for s in second.log]
    assert ppo.train_ppo(TINY, seed=6).returns != first.returns


def test_a_truncated_episode_is_valued_not_ended():
    """CartPole pays 1 per step; with a 10-step limit, the last reward of a truncated episode
    becomes 1 + γ·V(last state), and only there."""
    seen = []

    def spy(rewards, values, dones, last_value, gamma, lam):
        seen.append((rewards.clone(), dones.clone()))
        return ppo.compute_gae(rewards, values, dones, last_value, gamma, lam)

    config = ppo.PPOConfig(env_id="CartPole-v1", total_steps=256, num_envs=2, num_steps=64,
                           num_minibatches=1, update_epochs=1,
                           env_kwargs={"max_episode_steps": 10})
    result = ppo.train_ppo(config, seed=0, gae_fn=spy)
    assert max(result.returns) <= 10
    rewards = torch.cat([r for r, _ in seen])
    dones = torch.cat([d for _, d in seen])
    valued = rewards != 1.0
    assert valued.any()
    assert dones[valued].all()
    assert 10.0 in result.returns  # the episode's return is the plain sum of its rewards


def test_steps_per_second_and_log():
    result = ppo.train_ppo(TINY, seed=0)
    assert result.steps == 512 and result.steps_per_second > 0
    assert {"policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction",
            "explained_variance", "step", "seconds", "lr"} <= set(result.log[-1])
    assert np.isclose(result.log[0]["lr"], TINY.lr)
