"""Tabular reinforcement learning on small discrete environments (FrozenLake, Taxi):
planning with a known model (value iteration, policy iteration) and learning without one
(Q-learning, SARSA), each as one short loop.

The model is two arrays read from ``env.unwrapped.P``:

* ``P[s, a, s']``: probability of moving from ``s`` to ``s'`` with action ``a`` *and going
  on from there*. Transitions that end the episode (into a hole, into the goal, a
  successful drop-off) are left out, so the rows of a state-action that may end the episode
  add up to less than one and nothing is bootstrapped past the end;
* ``R[s, a]``: the expected immediate reward of ``a`` in ``s`` (the reward of each
  outcome weighed by its probability: that is all the Bellman equations need).

The one formula everything here shares is the Bellman backup
``Q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] * V[s']``: ``bellman_q``. A lab may pass its
own version (``backup=``) to the planners, and its own TD update (``update=``) to
``td_control``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

import numpy as np

Backup = Callable[[np.ndarray, np.ndarray, np.ndarray, float], np.ndarray]
# update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma) -> TD error; changes Q[s, a]
Update = Callable[..., float]


def model_from_env(env) -> tuple[np.ndarray, np.ndarray]:
    """``(P, R)`` of a Gymnasium toy-text environment, from its table
    ``env.unwrapped.P[s][a] = [(probability, next_state, reward, terminated), ...]``
    (``env.P`` fails: the wrappers that ``gym.make`` adds hide it)."""
    table = env.unwrapped.P
    n_states, n_actions = len(table), len(table[0])
    P = np.zeros((n_states, n_actions, n_states))
    R = np.zeros((n_states, n_actions))
    for s, actions in table.items():
        for a, outcomes in actions.items():
            for prob, s_next, reward, terminated in outcomes:
                R[s, a] += prob * reward
                if not terminated:
                    P[s, a, s_next] += prob
    return P, R


def bellman_q(P: np.ndarray, R: np.ndarray, V: np.ndarray, gamma: float) -> np.ndarray:
    """One Bellman backup: ``Q[s, a] = R[s, a] + gamma * sum_s' P[s, a, s'] V[s']``."""
    return R + gamma * P @ V


def greedy(Q: np.ndarray) -> np.ndarray:
    """The greedy policy of ``Q`` (ties go to the lowest action index)."""
    return np.argmax(Q, axis=1)


@dataclass
class Plan:
    """What a planner returns: state values, Q values, greedy policy, iterations used."""

    V: np.ndarray
    Q: np.ndarray
    policy: np.ndarray
    iterations: int


def value_iteration(P: np.ndarray, R: np.ndarray, gamma: float, tol: float = 1e-6,
                    max_iterations: int = 100_000, backup: Backup = bellman_q) -> Plan:
    """Apply the Bellman optimality backup ``V <- max_a Q(V)`` to all states at once until
    no value moves by more than ``tol``. Converges for ``gamma < 1``: each sweep shrinks
    the distance to V* by a factor gamma."""
    if not 0 <= gamma < 1:
        raise ValueError(f"value iteration needs 0 <= gamma < 1 to converge, got {gamma}")
    V = np.zeros(P.shape[0])
    for iteration in range(1, max_iterations + 1):
        Q = backup(P, R, V, gamma)
        V_new = Q.max(axis=1)
        change = np.abs(V_new - V).max()
        V = V_new
        if change < tol:
            break
    Q = backup(P, R, V, gamma)
    return Plan(V, Q, greedy(Q), iteration)


def evaluate_policy(P: np.ndarray, R: np.ndarray, policy: np.ndarray,
                    gamma: float) -> np.ndarray:
    """V of a deterministic ``policy``, exactly: solve ``(I - gamma P_pi) V = R_pi``."""
    states = np.arange(P.shape[0])
    P_pi, R_pi = P[states, policy], R[states, policy]
    return np.linalg.solve(np.eye(len(states)) - gamma * P_pi, R_pi)


def policy_iteration(P: np.ndarray, R: np.ndarray, gamma: float, max_iterations: int = 1000,
                     backup: Backup = bellman_q, tol: float = 1e-9) -> Plan:
    """Alternate exact evaluation of the current policy and greedy improvement, starting
    from "always action 0", until the policy stops changing. An action is only replaced
    by one better by more than ``tol``: with exact ties (or round-off) a naive argmax can
    swap between equally good actions forever."""
    states = np.arange(P.shape[0])
    policy = np.zeros(P.shape[0], dtype=int)
    for iteration in range(1, max_iterations + 1):
        V = evaluate_policy(P, R, policy, gamma)
        Q = backup(P, R, V, gamma)
        better = Q.max(axis=1) > Q[states, policy] + tol
        if not better.any():
            break
        policy = np.where(better, greedy(Q), policy)
    return Plan(V, Q, policy, iteration)


def optimal_actions(Q: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Boolean (states, actions): the actions within ``tol`` of the best in each state."""
    return Q >= Q.max(axis=1, keepdims=True) - tol


def q_learning_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma) -> float:
    """Q-learning: move Q[s, a] toward r + gamma * max_a' Q[s', a'] (no bootstrap when the
    episode terminated). ``a_next`` is ignored: the target follows the greedy policy
    whatever the agent does next (off-policy). Returns the TD error."""
    target = r if terminated else r + gamma * Q[s_next].max()
    error = target - Q[s, a]
    Q[s, a] += alpha * error
    return float(error)


def sarsa_update(Q, s, a, r, s_next, a_next, terminated, alpha, gamma) -> float:
    """SARSA: move Q[s, a] toward r + gamma * Q[s', a'] with ``a'`` the action the agent
    will really take next (on-policy: exploration is part of what it evaluates)."""
    target = r if terminated else r + gamma * Q[s_next, a_next]
    error = target - Q[s, a]
    Q[s, a] += alpha * error
    return float(error)


@dataclass
class TDConfig:
    """Hyperparameters of tabular TD control with an epsilon-greedy behaviour policy."""

    episodes: int = 10_000
    alpha: float = 0.1            # step size of each update
    gamma: float = 0.99
    epsilon_start: float = 1.0    # explore everything at first
    epsilon_end: float = 0.05
    decay_fraction: float = 0.5   # epsilon falls linearly over this share of the episodes


def epsilon_at(cfg: TDConfig, episode: int) -> float:
    """The linear epsilon schedule: epsilon_start at episode 0, epsilon_end after
    ``decay_fraction * episodes`` episodes, flat afterwards."""
    progress = min(1.0, episode / max(1.0, cfg.decay_fraction * cfg.episodes))
    return cfg.epsilon_start + progress * (cfg.epsilon_end - cfg.epsilon_start)


def td_control(env, cfg: TDConfig, update: Update = q_learning_update,
               seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Learn Q for a discrete env by playing ``cfg.episodes`` episodes epsilon-greedily and
    applying ``update`` after every step (``q_learning_update`` or ``sarsa_update``).
    Returns ``(Q, returns)``, the return of every training episode. The env should come
    from ``dlab.rl.make_env`` (seeded); ``seed`` drives the exploration."""
    rng = random.Random(seed)  # Python's generator: ~20× cheaper per call than numpy's
    Q = np.zeros((env.observation_space.n, env.action_space.n))

    def act(s, epsilon):
        if rng.random() < epsilon:
            return rng.randrange(Q.shape[1])
        return int(Q[s].argmax())  # ties go to the lowest action; epsilon breaks them early

    returns = np.zeros(cfg.episodes)
    for episode in range(cfg.episodes):
        epsilon = epsilon_at(cfg, episode)
        s, _ = env.reset()
        a = act(s, epsilon)
        done = False
        while not done:
            s_next, r, terminated, truncated, _ = env.step(a)
            a_next = act(s_next, epsilon)
            # Truncation (a time limit) is not the end of the task: keep bootstrapping.
            update(Q, s, a, float(r), s_next, a_next, terminated, cfg.alpha, cfg.gamma)
            returns[episode] += r
            s, a = s_next, a_next
            done = terminated or truncated
    return Q, returns
