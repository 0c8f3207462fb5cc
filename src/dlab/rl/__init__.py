"""Reinforcement learning: Gymnasium environments made reproducible, and the course's
algorithms, each readable as one file (CleanRL style: a dataclass of hyperparameters and
one training loop).

``dlab.rl.env`` holds what every RL lab shares: seeded environment creation, running an
episode with a policy, rendering an episode to a GIF, moving averages of returns and the
episode at which a moving average first reaches a threshold.
"""
from dlab.rl.env import (
    Episode,
    episodes_to_reach,
    evaluate,
    make_env,
    moving_average,
    run_episode,
    save_gif,
    torch_threads,
)

__all__ = ["Episode", "episodes_to_reach", "evaluate", "make_env", "moving_average",
           "run_episode", "save_gif", "torch_threads"]
