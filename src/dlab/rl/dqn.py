"""Deep Q-Network (Mnih et al. 2015) for environments with a vector observation and a few
discrete actions (CartPole), in one file: a dataclass of hyperparameters and one training loop.

The two tricks that make Q-learning with a neural network stable are both here:

* a **replay buffer**: transitions are stored and trained on in random batches, so one
  gradient step does not see 64 consecutive, strongly correlated moments of one episode;
* a **target network**: a frozen copy of the Q-network computes the TD target
  ``r + γ · max_a' Q_target(s', a')``; it is refreshed every ``target_sync_steps`` steps, so
  the target does not move with every update of the network it is teaching.

The pieces the course asks students to write (the ε schedule, the TD target, the loss) are
arguments of ``train_dqn``; the defaults below are the reference versions.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from dlab.rl.env import make_env, torch_threads


@dataclass
class DQNConfig:
    env_id: str = "CartPole-v1"
    hidden: tuple = (64, 64)
    buffer_size: int = 50_000
    batch_size: int = 64
    gamma: float = 0.99
    lr: float = 1e-3
    target_sync_steps: int = 100     # copy the online weights into the target network
    epsilon_start: float = 1.0
    epsilon_end: float = 0.05
    epsilon_decay_steps: int = 10_000  # linear decay from start to end over these steps
    learning_starts: int = 1_000     # random-ish steps stored before the first update
    train_every: int = 1             # environment steps per gradient step
    max_episodes: int = 500
    max_steps: int | None = None     # a budget of environment steps (checked between episodes)
    stop_threshold: float | None = None  # stop once the moving average reaches it
    window: int = 100                # episodes in that moving average


def linear_epsilon(step: int, start: float, end: float, decay_steps: int) -> float:
    """ε after ``step`` environment steps: a straight line from ``start`` to ``end`` over
    ``decay_steps`` steps, then flat at ``end``."""
    return end + (start - end) * max(0.0, 1.0 - step / decay_steps)


def td_target(rewards: torch.Tensor, next_q_values: torch.Tensor, terminated: torch.Tensor,
              gamma: float) -> torch.Tensor:
    """``r + γ · max_a' Q(s', a')``, without the bootstrap term where the episode
    terminated (a truncated episode did not end: its next state still has a value)."""
    return rewards + gamma * next_q_values.max(dim=1).values * (1.0 - terminated)


def q_loss(q_values: torch.Tensor, actions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error between Q(s, a) of the actions taken and their TD targets."""
    taken = q_values.gather(1, actions.long().unsqueeze(1)).squeeze(1)
    return ((taken - targets) ** 2).mean()


def q_network(n_inputs: int, n_actions: int, hidden: tuple) -> nn.Sequential:
    """state → one Q-value per action: Linear + ReLU per hidden width, then a linear head."""
    layers, width = [], n_inputs
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, n_actions))


class ReplayBuffer:
    """A ring buffer of transitions in preallocated numpy arrays: once full, each new
    transition overwrites the oldest. ``sample`` draws a batch uniformly (with ``rng``)."""

    def __init__(self, capacity: int, obs_dim: int, rng: np.random.Generator):
        self.capacity, self.rng, self.size, self.next = capacity, rng, 0, 0
        self.obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)

    def add(self, obs, action: int, reward: float, next_obs, terminated: bool) -> None:
        i = self.next
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, terminated
        self.next = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        idx = self.rng.integers(0, self.size, batch_size)
        return tuple(torch.from_numpy(a[idx]) for a in
                     (self.obs, self.actions, self.rewards, self.next_obs, self.terminated))


@dataclass
class DQNResult:
    returns: list = field(default_factory=list)    # one per episode
    lengths: list = field(default_factory=list)    # steps per episode
    epsilons: list = field(default_factory=list)   # ε at the end of each episode
    mean_q: list = field(default_factory=list)     # mean max-Q of the batches of each episode
    losses: list = field(default_factory=list)     # mean loss of the batches of each episode
    steps: int = 0
    updates: int = 0
    seconds: float = 0.0
    network: nn.Module | None = None


def greedy_policy(network: nn.Module) -> Callable[[np.ndarray], int]:
    """The greedy policy of a Q-network (ε = 0): observation → argmax_a Q(s, a)."""
    def act(obs) -> int:
        with torch.no_grad():
            return int(network(torch.as_tensor(obs, dtype=torch.float32)).argmax())
    return act


def train_dqn(config: DQNConfig, seed: int = 0, epsilon_fn=linear_epsilon, target_fn=td_target,
              loss_fn=q_loss, on_episode: Callable[[int, DQNResult], None] | None = None,
              threads: int = 1) -> DQNResult:
    """Train a DQN on ``config.env_id`` for ``config.max_episodes`` episodes (or until the
    moving average of ``config.window`` returns reaches ``config.stop_threshold``). Same
    seed, same returns. ``on_episode(episode, result)`` is called after each episode."""
    c = config
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = make_env(c.env_id, seed)
    obs_dim, n_actions = env.observation_space.shape[0], int(env.action_space.n)
    online = q_network(obs_dim, n_actions, tuple(c.hidden))
    target = copy.deepcopy(online)  # frozen copy: only load_state_dict changes it
    optimizer = torch.optim.Adam(online.parameters(), lr=c.lr, fused=True)
    buffer = ReplayBuffer(c.buffer_size, obs_dim, rng)
    result, started = DQNResult(network=online), time.perf_counter()
    step = 0
    with torch_threads(threads):
        for episode in range(1, c.max_episodes + 1):
            obs, _ = env.reset()
            total, length, done, losses, qs = 0.0, 0, False, [], []
            while not done:
                epsilon = epsilon_fn(step, c.epsilon_start, c.epsilon_end, c.epsilon_decay_steps)
                if rng.random() < epsilon:
                    action = int(env.action_space.sample())
                else:
                    with torch.no_grad():
                        action = int(online(torch.from_numpy(obs)).argmax())
                next_obs, reward, terminated, truncated, _ = env.step(action)
                # Store `terminated`, not `terminated or truncated`: CartPole-v1 cuts episodes
                # at 500 steps, and the state it cuts in is not an end of the game.
                buffer.add(obs, action, reward, next_obs, terminated)
                obs, done = next_obs, terminated or truncated
                total, length, step = total + float(reward), length + 1, step + 1
                if step >= c.learning_starts and step % c.train_every == 0:
                    states, actions, rewards, next_states, ends = buffer.sample(c.batch_size)
                    with torch.no_grad():
                        targets = target_fn(rewards, target(next_states), ends, c.gamma)
                    q_values = online(states)
                    loss = loss_fn(q_values, actions, targets)
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    losses.append(loss.item())
                    qs.append(float(q_values.detach().max(dim=1).values.mean()))
                    result.updates += 1
                if step % c.target_sync_steps == 0:
                    target.load_state_dict(online.state_dict())
            result.returns.append(total)
            result.lengths.append(length)
            result.epsilons.append(float(epsilon))
            result.losses.append(float(np.mean(losses)) if losses else float("nan"))
            result.mean_q.append(float(np.mean(qs)) if qs else float("nan"))
            result.steps = step
            if on_episode is not None:
                on_episode(episode, result)
            if (c.stop_threshold is not None and episode >= c.window
                    and np.mean(result.returns[-c.window:]) >= c.stop_threshold):
                break
            if c.max_steps is not None and step >= c.max_steps:
                break
    env.close()
    result.seconds = time.perf_counter() - started
    return result
