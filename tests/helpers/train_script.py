"""A small training run for the kill-and-resume test (``tests/test_resume.py``).

    python -m tests.helpers.train_script OUT --state P [--resume] [--sleep S] [--epochs N]

Trains an MLP with dropout (so the RNG matters) with Adam, a StepLR schedule and
EarlyStopping, writing the training state to P after every epoch; ``--resume`` continues from
P. Writes OUT/result.json (history, final RNG draws) and OUT/final.safetensors (weights after
fit, i.e. the best epoch's) and OUT/last.safetensors (weights at the end of the last epoch).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from dlab.engine import Callback, EarlyStopping, LRScheduler, Trainer, save_weights
from dlab.models import MLP
from dlab.runtime import seed_everything


class Sleep(Callback):
    """Slow each epoch down so the test can kill the process in the middle of the run."""

    def __init__(self, seconds: float):
        self.seconds = seconds

    def on_epoch_end(self, trainer, epoch, logs):
        time.sleep(self.seconds)


class KeepLast(Callback):
    """The weights at the end of the most recent epoch (before EarlyStopping restores)."""

    def __init__(self):
        self.weights = None

    def on_epoch_end(self, trainer, epoch, logs):
        self.weights = {k: v.clone() for k, v in trainer.model.state_dict().items()}


def data(n: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 2, generator=g)
    y = ((X[:, 0] ** 2 + X[:, 1] ** 2) < 1.2).long()  # a circle: needs the hidden layer
    return X, y


def main(argv=None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--state", required=True)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--sleep", type=float, default=0.0)
    p.add_argument("--hidden", type=int, default=32)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    torch.set_num_threads(1)
    seed_everything(0)
    model = MLP(2, [args.hidden, args.hidden], 2, dropout=0.3)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    keep = KeepLast()
    early = EarlyStopping(patience=100)
    trainer = Trainer(model, opt, metrics=["accuracy"], device="cpu", progress=False,
                      callbacks=[LRScheduler(sched), early, keep, Sleep(args.sleep)])
    history = trainer.fit(data(256, 1), data(128, 2), epochs=args.epochs, batch_size=32, seed=3,
                          state_path=args.state, resume=args.state if args.resume else None)

    save_weights(model, out / "final.safetensors")
    if keep.weights is not None:
        torch.save(keep.weights, out / "last.pt")
    (out / "result.json").write_text(json.dumps({
        "history": history.epochs,
        "best_epoch": early.best_epoch,
        "lr": opt.param_groups[0]["lr"],
        "global_step": trainer.global_step,
        "rng_after": torch.rand(3).tolist(),  # the global RNG continues where it would have
    }))


if __name__ == "__main__":
    main()
