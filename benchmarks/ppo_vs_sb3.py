"""Our PPO (dlab.rl.ppo) against Stable-Baselines3's PPO on LunarLander-v3, on the same step
budget, side by side in one process: wall time, steps per second, and the mean return of
each one's greedy policy over the same evaluation episodes.

    python benchmarks/ppo_vs_sb3.py [--steps 100000] [--seed 0] [--eval-episodes 100]

Ours runs with the `ppo` lab's LunarLander settings, ``dlab.rl.ppo.PRESETS`` (16 envs, 10
epochs of minibatches of 64, constant lr 3e-4, γ = 0.999, λ = 0.98, entropy 0.01); SB3's
with its defaults, as the course's homework writes it: `PPO("MlpPolicy", "LunarLander-v3")`
(1 env, n_steps 2048, batch 64, 10 epochs, lr 3e-4, γ = 0.99, λ = 0.95, no entropy bonus).
Both use the same network shape (two tanh MLPs of 64, 64) and one torch thread. The course's budget is 500,000 steps; running both that long takes the
better part of an hour on a laptop, so the default here is 100,000.
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace


def run_ours(steps: int, seed: int):
    from dlab.rl.ppo import PRESETS, train_ppo

    result = train_ppo(replace(PRESETS["LunarLander-v3"], total_steps=steps), seed=seed)
    return result.agent.greedy, result.steps, result.seconds


def run_sb3(steps: int, seed: int):
    from stable_baselines3 import PPO

    from dlab.rl import torch_threads

    with torch_threads(1):
        model = PPO("MlpPolicy", "LunarLander-v3", seed=seed, device="cpu")
        started = time.perf_counter()
        model.learn(total_timesteps=steps)
        seconds = time.perf_counter() - started

    def greedy(obs) -> int:
        return int(model.predict(obs, deterministic=True)[0])

    return greedy, model.num_timesteps, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-episodes", type=int, default=100)
    args = parser.parse_args()

    from dlab.rl import evaluate, make_env, torch_threads

    rows = []
    for name, run in (("dlab PPO (lab settings)", run_ours), ("SB3 PPO (defaults)", run_sb3)):
        print(f"training {name} for {args.steps} steps...", flush=True)
        greedy, steps, seconds = run(args.steps, args.seed)
        with torch_threads(1):  # the same evaluation episodes for both
            returns = evaluate(make_env("LunarLander-v3", args.seed + 10_000), greedy,
                               args.eval_episodes)
        rows.append((name, steps, seconds, steps / seconds, returns.mean(), returns.std()))

    print(f"\nLunarLander-v3 · seed {args.seed} · greedy policy over {args.eval_episodes} "
          "evaluation episodes")
    print(f"{'':26}{'steps':>9}{'wall s':>9}{'steps/s':>9}{'mean return':>13}{'std':>8}")
    for name, steps, seconds, rate, mean, std in rows:
        print(f"{name:26}{steps:9d}{seconds:9.1f}{rate:9.0f}{mean:13.1f}{std:8.1f}")
    print(f"\nwall time ratio SB3 / dlab: {rows[1][2] / rows[0][2]:.2f}")


if __name__ == "__main__":
    main()
