"""What every RL lab shares: a seeded environment, episodes run with a policy, GIFs, and
moving averages of the returns.

Reproducibility in Gymnasium rests on three generators: the environment's own (seeded by
the first ``env.reset(seed=...)``; later resets without a seed continue its stream), the
action space's (``action_space.sample()``) and the agent's (numpy / torch). ``make_env``
seeds the first two; the lab seeds the third (``dlab.runtime.seed_everything``).
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

Policy = Callable[[np.ndarray], int]  # observation -> action


def make_env(env_id: str, seed: int, render_mode: str | None = None, **kwargs):
    """A Gymnasium environment whose episodes are a function of ``seed``: its generator is
    seeded by a first ``reset(seed=seed)`` (so every later ``reset()`` continues that
    stream) and its action and observation spaces are seeded too, so ``sample()`` repeats.
    ``kwargs`` go to ``gymnasium.make`` (e.g. ``is_slippery=True`` for FrozenLake-v1)."""
    import gymnasium as gym

    if render_mode and not os.environ.get("XDG_RUNTIME_DIR"):
        # pygame's SDL prints an alarming "error:" line without it; any writable folder does
        os.environ["XDG_RUNTIME_DIR"] = tempfile.gettempdir()
    env = gym.make(env_id, render_mode=render_mode, **kwargs)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    env.observation_space.seed(seed)
    return env


@dataclass
class Episode:
    """One episode: its return (sum of rewards), its length in steps, and the frames
    rendered along the way when asked for (``render=True``; the env must use
    ``render_mode="rgb_array"``)."""

    total_reward: float
    length: int
    frames: list = field(default_factory=list)


def run_episode(env, policy: Policy, render: bool = False, max_steps: int | None = None,
                seed: int | None = None) -> Episode:
    """Play one episode of ``env`` with ``policy`` (observation -> action) until the env
    terminates or truncates (CartPole-v1 truncates at 500 steps), or after ``max_steps``.
    ``seed`` re-seeds the env's reset (None continues its stream). With ``render=True``
    keeps one RGB frame per step, plus the first."""
    obs, _ = env.reset(seed=seed)
    frames = [env.render()] if render else []
    total, steps, done = 0.0, 0, False
    while not done and (max_steps is None or steps < max_steps):
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += float(reward)
        steps += 1
        done = terminated or truncated
        if render:
            frames.append(env.render())
    return Episode(total, steps, frames)


def evaluate(env, policy: Policy, episodes: int) -> np.ndarray:
    """The returns of ``episodes`` consecutive episodes of ``policy`` (a float array)."""
    return np.array([run_episode(env, policy).total_reward for _ in range(episodes)])


def save_gif(frames: Sequence[np.ndarray], path: str | Path, fps: int = 30,
             every: int = 1, scale: float = 1.0) -> Path:
    """Write RGB frames (H, W, 3 uint8 arrays, as ``env.render()`` gives with
    ``render_mode="rgb_array"``) as a looping animated GIF. ``every`` keeps one frame in
    ``every`` and ``scale`` resizes them, to keep the file small."""
    from PIL import Image

    from dlab.viz.gif import write_gif

    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames[::every]]
    if scale != 1.0:
        images = [im.resize((max(1, round(im.width * scale)), max(1, round(im.height * scale))))
                  for im in images]
    return write_gif(images, path, seconds_per_frame=every / fps)


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """Trailing mean of the last ``window`` values at each position (same length as
    ``values``; the first ``window - 1`` positions average the values seen so far). The
    usual way to read a noisy return-per-episode curve."""
    v = np.asarray(values, dtype=float)
    c = np.cumsum(np.insert(v, 0, 0.0))
    i = np.arange(1, len(v) + 1)
    low = np.maximum(i - window, 0)
    return (c[i] - c[low]) / (i - low)


def episodes_to_reach(values: Sequence[float], threshold: float, window: int) -> int | None:
    """The first episode (1-based) at which the mean of the last ``window`` returns is
    ``>= threshold``, counting only full windows (so never before episode ``window``);
    None if it never gets there. "Solved CartPole" is this with window 100."""
    v = np.asarray(values, dtype=float)
    if len(v) < window:
        return None
    full = moving_average(v, window)[window - 1:]
    hits = np.flatnonzero(full >= threshold)
    return int(hits[0]) + window if len(hits) else None


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with torch limited to ``n`` CPU threads, then restore the previous
    count. Tiny RL networks run faster on one thread (no thread hand-off per small op)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
