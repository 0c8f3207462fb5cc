"""REINFORCE (Williams, 1992), with or without a learned value baseline, in one loop.

Each iteration plays one whole episode with the current stochastic policy, computes the
discounted return-to-go G_t of every step, and takes one gradient step on
``-mean_t log pi(a_t | s_t) * (G_t - b(s_t))``: actions followed by more return than
expected become likelier. With a baseline, b(s) = V(s) is a second network regressed on
G_t; without one, b = 0. The baseline does not change the expected gradient, only its
variance.

The two pieces the course writes by hand come in as functions: ``returns_fn`` (rewards,
gamma -> G_t) and ``loss_fn`` (log-probs, returns, values or None -> policy loss). A lab
passes the student's versions; the reference ones are below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from dlab.rl.env import torch_threads


@dataclass
class ReinforceConfig:
    episodes: int = 500
    gamma: float = 0.99
    lr: float = 1e-2            # Adam, policy network
    value_lr: float = 1e-2      # Adam, value network (baseline only)
    threads: int = 1            # tiny networks: one thread avoids hand-off costs


def returns_to_go(rewards: list, gamma: float) -> torch.Tensor:
    """G_t = r_t + gamma * G_{t+1} for every step of an episode (G after the end is 0)."""
    out, running = [], 0.0
    for reward in reversed(rewards):
        running = reward + gamma * running
        out.append(running)
    return torch.tensor(out[::-1], dtype=torch.float32)


def reinforce_loss(log_probs: torch.Tensor, returns: torch.Tensor,
                   values: torch.Tensor | None = None) -> torch.Tensor:
    """``-mean(log_probs * advantage)`` with advantage = returns - values (values detached:
    the baseline is trained by its own loss, not by the policy's), or returns alone."""
    advantage = returns if values is None else returns - values.detach()
    return -(log_probs * advantage).mean()


@dataclass
class ReinforceResult:
    returns: np.ndarray         # return of every training episode
    value_losses: np.ndarray    # mean squared error of the baseline per episode (0 without)


def train(env, policy: nn.Module, cfg: ReinforceConfig, value: nn.Module | None = None,
          returns_fn: Callable = returns_to_go, loss_fn: Callable = reinforce_loss,
          seed: int = 0) -> ReinforceResult:
    """Train ``policy`` (observation -> action logits) on ``env`` (from ``make_env``, so its
    episodes are seeded) for ``cfg.episodes`` episodes; with ``value`` (observation ->
    one number), use it as a learned baseline. Actions are sampled from a generator seeded
    with ``seed``, so two runs with the same networks and seed are identical."""
    sampler = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(policy.parameters(), lr=cfg.lr)
    value_optimizer = torch.optim.Adam(value.parameters(), lr=cfg.value_lr) if value else None
    episode_returns, value_losses = [], []
    with torch_threads(cfg.threads):
        for _ in range(cfg.episodes):
            # 1. Roll out one episode. No graph is kept here: the log-probs are recomputed
            #    for the whole episode in one batched pass below (same numbers, far cheaper).
            states, actions, rewards = [], [], []
            obs, _ = env.reset()
            done = False
            with torch.no_grad():
                while not done:
                    state = torch.as_tensor(obs, dtype=torch.float32)
                    probs = torch.softmax(policy(state), dim=-1)
                    action = int(torch.multinomial(probs, 1, generator=sampler))
                    obs, reward, terminated, truncated, _ = env.step(action)
                    states.append(state)
                    actions.append(action)
                    rewards.append(float(reward))
                    done = terminated or truncated
            # 2. Returns-to-go and the policy-gradient step.
            states = torch.stack(states)
            returns = returns_fn(rewards, cfg.gamma).to(torch.float32)
            log_probs = torch.log_softmax(policy(states), dim=-1)[
                torch.arange(len(actions)), torch.tensor(actions)]
            values = value(states).squeeze(-1) if value else None
            loss = loss_fn(log_probs, returns, values)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            # 3. The baseline learns to predict the return from the state.
            if value:
                value_loss = nn.functional.mse_loss(values, returns)
                value_optimizer.zero_grad()
                value_loss.backward()
                value_optimizer.step()
                value_losses.append(value_loss.item())
            else:
                value_losses.append(0.0)
            episode_returns.append(sum(rewards))
    return ReinforceResult(np.array(episode_returns), np.array(value_losses))
