"""How much does the dlab Trainer cost over a hand-written PyTorch loop?

One epoch of a Fashion-MNIST-shaped MLP (784-300-100-10, batch 128, Adam, 60k samples),
measured side by side in one process, rounds interleaved so machine noise hits every
contender alike; we print medians and ratios to the hand-written loop.

    python benchmarks/engine_overhead.py [--rounds 5] [--skip-frameworks]

Lightning and Keras 3 (torch backend) are timed when installed (`pip install 'dlab[bench]'`).
Import times are reported separately, they are not in the per-epoch numbers.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 reads it at import time

import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

N, D, C, BATCH = 60_000, 784, 10, 128


def make_data():
    """Real Fashion-MNIST when DLAB_DATA points at it, else random data of the same shape
    (the cost per epoch depends on shapes, not on pixel values)."""
    try:
        from dlab.data import load

        data = load("fashion_mnist")
        X, y = data.train
        X = torch.cat([X, data.val[0]])[:N]
        y = torch.cat([y, data.val[1]])[:N]
        return X.contiguous(), y.contiguous(), "Fashion-MNIST"
    except Exception:
        g = torch.Generator().manual_seed(0)
        return torch.rand(N, D, generator=g), torch.randint(0, C, (N,), generator=g), "random"


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(D, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                         nn.Linear(100, C))


def hand_loop(X, y, fused=False):
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        model.train()
        perm = torch.randperm(N)
        for i in range(0, N, BATCH):
            idx = perm[i:i + BATCH]
            loss = loss_fn(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return epoch


def dataloader_loop(X, y):
    model = mlp()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    loader = DataLoader(TensorDataset(X, y), batch_size=BATCH, shuffle=True)

    def epoch():
        model.train()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return epoch


def dlab_trainer(X, y, fused=False):
    from rich.console import Console

    from dlab.engine import Trainer

    model = mlp()
    trainer = Trainer(model, torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused),
                      device="cpu", console=Console(file=open(os.devnull, "w")))
    return lambda: trainer.fit((X, y), epochs=1, batch_size=BATCH)


def lightning_fit(X, y):
    import logging
    import warnings

    import lightning as L

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)  # no banner per fit
    warnings.filterwarnings("ignore", module="lightning")

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = mlp()
            self.loss_fn = nn.CrossEntropyLoss()

        def training_step(self, batch, _):
            xb, yb = batch
            return self.loss_fn(self.net(xb), yb)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    module = Module()
    loader = DataLoader(TensorDataset(X, y), batch_size=BATCH, shuffle=True)

    def epoch():
        trainer = L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False,
                            enable_checkpointing=False, enable_progress_bar=False,
                            enable_model_summary=False)
        trainer.fit(module, loader)
    return epoch


def keras_fit(X, y):
    import keras

    model = keras.Sequential([keras.Input((D,)), keras.layers.Dense(300, activation="relu"),
                              keras.layers.Dense(100, activation="relu"), keras.layers.Dense(C)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    Xn, yn = X.numpy(), y.numpy()
    return lambda: model.fit(Xn, yn, batch_size=BATCH, epochs=1, verbose=0)


def import_seconds(module: str) -> float | None:
    import subprocess
    import sys

    code = f"import os,time; os.environ['KERAS_BACKEND']='torch'; t=time.perf_counter(); " \
           f"import {module}; print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(out.stdout) if out.returncode == 0 else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-frameworks", action="store_true")
    args = parser.parse_args()

    X, y, source = make_data()
    contenders = {
        "hand-written loop": hand_loop(X, y),
        "dlab Trainer": dlab_trainer(X, y),
        "DataLoader(TensorDataset) loop": dataloader_loop(X, y),
        "hand-written loop, fused Adam": hand_loop(X, y, fused=True),
        "dlab Trainer, fused Adam": dlab_trainer(X, y, fused=True),
    }
    if not args.skip_frameworks:
        for name, factory in (("Lightning", lightning_fit), ("Keras 3 (torch backend)", keras_fit)):
            try:
                contenders[name] = factory(X, y)
            except ImportError:
                print(f"({name} not installed: pip install 'dlab[bench]')")

    print(f"data: {source} {tuple(X.shape)}, batch {BATCH}, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; {args.rounds} rounds, one epoch each")
    for fn in contenders.values():  # warm-up: first-call allocations, lazy imports
        fn()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)

    base = statistics.median(times["hand-written loop"])
    print(f"\n{'contender':34s} {'median s/epoch':>15s} {'× hand loop':>12s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:34s} {med:15.3f} {med / base:12.2f}")
    print("\nimport time (fresh interpreter):")
    for module in ("dlab.engine", "lightning", "keras"):
        s = import_seconds(module)
        print(f"  {module:12s} {'not installed' if s is None else f'{s:.2f} s'}")


if __name__ == "__main__":
    main()
