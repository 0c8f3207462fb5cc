"""Proximal Policy Optimization (Schulman et al. 2017) for discrete actions, in one file: a
dataclass of hyperparameters and one training loop, in the manner of CleanRL's ppo.py.

Each iteration

1. plays ``num_steps`` steps in each of ``num_envs`` copies of the environment
   (a gymnasium ``SyncVectorEnv``: one process, the copies stepped one after the other);
2. estimates every step's advantage with GAE (λ-weighted TD errors of the critic);
3. runs ``update_epochs`` passes of minibatch Adam steps on the clipped surrogate objective,
   plus a value loss and an entropy bonus, all from the same fixed batch of experience.

The clip keeps each update close to the policy that collected the batch: once a probability
ratio leaves [1 − ε, 1 + ε] in the direction the advantage favours, its gradient is zero.

The pieces the course asks students to write (GAE, the clipped objective) are arguments of
``train_ppo``; the defaults below are the reference versions.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from dlab.rl.env import torch_threads


@dataclass
class PPOConfig:
    env_id: str = "LunarLander-v3"
    total_steps: int = 500_000
    num_envs: int = 8
    num_steps: int = 256             # steps per environment per rollout
    num_minibatches: int = 4
    update_epochs: int = 4
    lr: float = 3e-4
    anneal_lr: bool = True           # linearly to 0 over the run
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: tuple = (64, 64)
    env_kwargs: dict = field(default_factory=dict)  # for gymnasium.make, e.g. max_episode_steps

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches


# Settings that solve each environment within the course's budget on a laptop CPU (the ppo
# lab and benchmarks/ppo_vs_sb3.py start from them; change a field with dataclasses.replace).
PRESETS = {
    # Short rollouts, many epochs per batch, a decaying rate: solved within 50,000 steps.
    "CartPole-v1": PPOConfig(env_id="CartPole-v1", total_steps=50_000, num_envs=8,
                             num_steps=32, num_minibatches=1, update_epochs=20, lr=1e-3,
                             gamma=0.98, gae_lambda=0.8, ent_coef=0.0),
    # Stable-Baselines3's minibatches of 64 and 10 epochs over 16 copies; a long horizon
    # (γ = 0.999), because landing pays off long after the engines fire; a constant rate.
    "LunarLander-v3": PPOConfig(env_id="LunarLander-v3", total_steps=500_000, num_envs=16,
                                num_steps=128, num_minibatches=32, update_epochs=10, lr=3e-4,
                                anneal_lr=False, gamma=0.999, gae_lambda=0.98, ent_coef=0.01),
}


def compute_gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor,
                last_value: torch.Tensor, gamma: float, lam: float) -> torch.Tensor:
    """Advantages (T, N) by Generalized Advantage Estimation, walking back in time:
    δ_t = r_t + γ V(s_{t+1}) (1 − done_t) − V(s_t) and A_t = δ_t + γ λ (1 − done_t) A_{t+1}.
    ``dones[t]`` says the episode ended with step t; ``last_value`` is V of the state after
    the last step."""
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    for t in reversed(range(rewards.shape[0])):
        next_value = last_value if t == rewards.shape[0] - 1 else values[t + 1]
        alive = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        advantages[t] = running
    return advantages


def clipped_surrogate_loss(new_log_prob: torch.Tensor, old_log_prob: torch.Tensor,
                           advantages: torch.Tensor, clip_coef: float) -> torch.Tensor:
    """−mean(min(ρ A, clip(ρ, 1 − ε, 1 + ε) A)) with ρ = π_new(a|s) / π_old(a|s)."""
    ratio = (new_log_prob - old_log_prob).exp()
    clipped = ratio.clamp(1 - clip_coef, 1 + clip_coef)
    return -torch.min(ratio * advantages, clipped * advantages).mean()


def _layer(n_in: int, n_out: int, gain: float) -> nn.Linear:
    # Orthogonal weights and zero biases, as in the PPO implementations that work well; the
    # small gain of the policy head starts with nearly uniform action probabilities.
    layer = nn.Linear(n_in, n_out)
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def _mlp(n_in: int, hidden: tuple, n_out: int, head_gain: float) -> nn.Sequential:
    layers, width = [], n_in
    for size in hidden:
        layers += [_layer(width, size, np.sqrt(2)), nn.Tanh()]
        width = size
    return nn.Sequential(*layers, _layer(width, n_out, head_gain))


class ActorCritic(nn.Module):
    """Two separate tanh MLPs: the actor gives action logits, the critic V(s)."""

    def __init__(self, n_inputs: int, n_actions: int, hidden: tuple = (64, 64)):
        super().__init__()
        self.actor = _mlp(n_inputs, hidden, n_actions, head_gain=0.01)
        self.critic = _mlp(n_inputs, hidden, 1, head_gain=1.0)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def act(self, obs: torch.Tensor, action: torch.Tensor | None = None):
        """(action, its log-probability, the policy's entropy, V(s)); samples the action
        unless one is given."""
        dist = Categorical(logits=self.actor(obs), validate_args=False)
        if action is None:
            action = dist.sample()
        return action, dist.log_prob(action), dist.entropy(), self.value(obs)

    def greedy(self, obs) -> int:
        """The most likely action (for evaluation)."""
        with torch.no_grad():
            return int(self.actor(torch.as_tensor(obs, dtype=torch.float32)).argmax())


@dataclass
class PPOResult:
    returns: list = field(default_factory=list)        # every finished training episode
    return_steps: list = field(default_factory=list)   # the global step it finished at
    log: list = field(default_factory=list)            # one dict of statistics per iteration
    steps: int = 0
    seconds: float = 0.0
    agent: ActorCritic | None = None

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds else float("nan")


def make_vector_env(env_id: str, num_envs: int, **kwargs):
    """``num_envs`` copies of ``env_id`` in one process (``kwargs`` go to each
    ``gymnasium.make``); a first ``reset(seed=s)`` seeds them ``s, s + 1, ...``.
    Same-step autoreset: when a copy's episode ends, the observation returned is already the
    first of its next episode, and the last one of the old episode is in
    ``info["final_obs"]`` (needed to value a truncated episode's last state)."""
    import gymnasium as gym

    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
                        **kwargs)


def train_ppo(config: PPOConfig, seed: int = 0, gae_fn=compute_gae,
              loss_fn=clipped_surrogate_loss, log_dir=None,
              on_iteration: Callable[[PPOResult], None] | None = None,
              threads: int = 1) -> PPOResult:
    """Train PPO on ``config.env_id`` for ``config.total_steps`` environment steps (rounded
    up to whole rollouts). Same seed, same returns. ``log_dir``: write TensorBoard scalars
    there. ``on_iteration(result)`` is called after each update."""
    c = config
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    envs = make_vector_env(c.env_id, c.num_envs, **c.env_kwargs)
    n_obs = envs.single_observation_space.shape[0]
    agent = ActorCritic(n_obs, int(envs.single_action_space.n), tuple(c.hidden))
    optimizer = torch.optim.Adam(agent.parameters(), lr=c.lr, eps=1e-5, fused=True)
    writer = _writer(log_dir)
    T, N = c.num_steps, c.num_envs
    obs_buf = torch.zeros(T, N, n_obs)
    actions, log_probs = torch.zeros(T, N, dtype=torch.long), torch.zeros(T, N)
    rewards, dones, values = torch.zeros(T, N), torch.zeros(T, N), torch.zeros(T, N)
    iterations = -(-c.total_steps // c.batch_size)
    result, started = PPOResult(agent=agent), time.perf_counter()
    obs, _ = envs.reset(seed=seed)
    obs = torch.as_tensor(obs)
    episode_return = np.zeros(N)
    with torch_threads(threads):
        for iteration in range(1, iterations + 1):
            if c.anneal_lr:
                optimizer.param_groups[0]["lr"] = c.lr * (1 - (iteration - 1) / iterations)
            for t in range(T):  # 1. the rollout
                obs_buf[t] = obs
                with torch.no_grad():
                    action, log_prob, _, value = agent.act(obs)
                next_obs, reward, terminated, truncated, info = envs.step(action.numpy())
                done = np.logical_or(terminated, truncated)
                episode_return += reward
                for i in np.flatnonzero(done):
                    result.returns.append(float(episode_return[i]))
                    result.return_steps.append(result.steps + N)
                    episode_return[i] = 0.0
                reward = torch.as_tensor(reward, dtype=torch.float32)
                cut = np.flatnonzero(truncated & ~terminated)
                if len(cut):
                    # A time limit is not a real end: the state it cut in still had a future,
                    # worth about V(final state). Fold it into the reward, so GAE can treat
                    # every end the same way (as Stable-Baselines3 does).
                    final = torch.as_tensor(np.stack([info["final_obs"][i] for i in cut]))
                    with torch.no_grad():
                        reward[torch.from_numpy(cut)] += c.gamma * agent.value(final)
                actions[t], log_probs[t], values[t], rewards[t] = action, log_prob, value, reward
                dones[t] = torch.as_tensor(done, dtype=torch.float32)
                obs = torch.as_tensor(next_obs)
                result.steps += N
            with torch.no_grad():  # 2. advantages, and the returns the critic learns
                advantages = gae_fn(rewards, values, dones, agent.value(obs), c.gamma,
                                    c.gae_lambda)
            stats = _update(agent, optimizer, c, rng, loss_fn,  # 3. the update
                            obs_buf.reshape(T * N, n_obs), actions.reshape(-1),
                            log_probs.reshape(-1), advantages.reshape(-1),
                            (advantages + values).reshape(-1), values.reshape(-1))
            stats.update(step=result.steps, seconds=time.perf_counter() - started,
                         lr=optimizer.param_groups[0]["lr"])
            result.log.append(stats)
            result.seconds = stats["seconds"]
            _write(writer, stats, result)
            if on_iteration is not None:
                on_iteration(result)
    envs.close()
    if writer is not None:
        writer.close()
    return result


def _update(agent, optimizer, c: PPOConfig, rng, loss_fn, obs, actions, old_log_probs,
            advantages, returns, old_values) -> dict:
    """``update_epochs`` passes over the batch in shuffled minibatches; returns the mean of
    each statistic over the last pass."""
    for _ in range(c.update_epochs):
        order = torch.as_tensor(rng.permutation(len(actions)))
        seen = {"policy_loss": [], "value_loss": [], "entropy": [], "approx_kl": [],
                "clip_fraction": []}
        for start in range(0, len(actions), c.minibatch_size):
            mb = order[start:start + c.minibatch_size]
            _, new_log_prob, entropy, value = agent.act(obs[mb], actions[mb])
            adv = advantages[mb]
            # Advantages normalized per minibatch: the step size no longer depends on the
            # scale of the rewards (LunarLander's go from −100 to +100 in one step).
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            policy_loss = loss_fn(new_log_prob, old_log_probs[mb], adv, c.clip_coef)
            value_loss = 0.5 * ((value - returns[mb]) ** 2).mean()
            loss = policy_loss + c.vf_coef * value_loss - c.ent_coef * entropy.mean()
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), c.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                log_ratio = new_log_prob - old_log_probs[mb]
                seen["approx_kl"].append(float(((log_ratio.exp() - 1) - log_ratio).mean()))
                seen["clip_fraction"].append(
                    float(((log_ratio.exp() - 1).abs() > c.clip_coef).float().mean()))
            seen["policy_loss"].append(policy_loss.item())
            seen["value_loss"].append(value_loss.item())
            seen["entropy"].append(entropy.mean().item())
    variance = float(returns.var())
    explained = 1 - float((returns - old_values).var()) / variance if variance else float("nan")
    return {**{k: float(np.mean(v)) for k, v in seen.items()}, "explained_variance": explained}


def _writer(log_dir):
    if log_dir is None:
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(log_dir=str(log_dir))


def _write(writer, stats: dict, result: PPOResult) -> None:
    """TensorBoard scalars, against the number of environment steps (as SB3 and CleanRL)."""
    if writer is None:
        return
    step = stats["step"]
    for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction",
                "explained_variance", "lr"):
        writer.add_scalar(f"train/{key}", stats[key], step)
    writer.add_scalar("time/steps_per_second", step / stats["seconds"], step)
    recent = result.returns[-100:]
    if recent:
        writer.add_scalar("rollout/mean_return_100", float(np.mean(recent)), step)
    writer.flush()
