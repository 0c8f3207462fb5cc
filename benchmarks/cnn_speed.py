"""How fast does a small CNN train with each tool's defaults, on this machine's CPU?

Conv32-Pool-Conv64-Pool-Dense128 on 60 000 Fashion-MNIST images (batch 128, Adam 1e-3),
measured side by side in one process: a hand-written fp32 PyTorch loop (the baseline), the
dlab Trainer with its defaults (precision auto: bf16 autocast where the CPU has native bf16;
channels_last; fused Adam), Lightning with its defaults, Keras 3 (torch backend) with its
defaults (JAX/Flax is not installed here, so it has no contender). Prints s/epoch, the ratio to the baseline, and the share
of this machine's fp32 and bf16 matmul peak (measured in the same run) each one reaches; then
the test accuracy after a few epochs of the baseline and of dlab's defaults.

    python benchmarks/cnn_speed.py [--rounds 1] [--train-size 60000] [--accuracy-epochs 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 reads it at import time

import torch  # noqa: E402
from torch import nn  # noqa: E402

BATCH = 128
# Forward FLOPs per image (multiply-adds × 2): conv1, conv2, dense128, dense10; training
# (forward + backward) is about 3× that.
FLOPS_PER_IMAGE = 3 * 2 * (28 * 28 * 32 * 9 + 14 * 14 * 64 * 32 * 9 + 64 * 7 * 7 * 128 + 128 * 10)


def cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def fashion(train_size: int):
    """Training images (train + val splits, up to ``train_size``) and the 10k test images;
    random images of the same shape when the dataset is not available."""
    try:
        from dlab.data import load

        data = load("fashion_mnist", flatten=False)
        X = torch.cat([data.train[0], data.val[0]])[:train_size].contiguous()
        y = torch.cat([data.train[1], data.val[1]])[:train_size].contiguous()
        return (X, y), data.test, "Fashion-MNIST"
    except Exception:
        g = torch.Generator().manual_seed(0)
        fake = (torch.rand(train_size, 1, 28, 28, generator=g),
                torch.randint(0, 10, (train_size,), generator=g))
        return fake, (fake[0][:1000], fake[1][:1000]), "random"


def matmul_peak(dtype: torch.dtype, n: int = 1024, budget: float = 3.0) -> float:
    """GFLOP/s of an n×n matmul in ``dtype`` (a few repeats, bounded by ``budget`` seconds)."""
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    a @ b
    reps, start = 0, time.perf_counter()
    while reps < 10 and time.perf_counter() - start < budget:
        a @ b
        reps += 1
    return 2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9


def hand_fp32(train):
    X, y = train
    model = cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        model.train()
        perm = torch.randperm(len(y))
        for i in range(0, len(y), BATCH):
            idx = perm[i:i + BATCH]
            loss = loss_fn(model(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    return epoch, model


def dlab_defaults(train):
    from rich.console import Console

    from dlab.engine import Trainer

    model = cnn()
    trainer = Trainer(model, device="cpu", console=Console(file=open(os.devnull, "w")))
    seeds = iter(range(10**6))
    return (lambda: trainer.fit(train, epochs=1, batch_size=BATCH, seed=next(seeds))), trainer


def lightning_defaults(train):
    import logging
    import warnings

    import lightning as L
    from torch.utils.data import DataLoader, TensorDataset

    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = cnn()

        def training_step(self, batch, _):
            xb, yb = batch
            return nn.functional.cross_entropy(self.net(xb), yb)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=1e-3)

    module = Module()
    loader = DataLoader(TensorDataset(*train), batch_size=BATCH, shuffle=True)

    def epoch():
        L.Trainer(max_epochs=1, accelerator="cpu", devices=1, logger=False,
                  enable_checkpointing=False, enable_progress_bar=False,
                  enable_model_summary=False).fit(module, loader)
    return epoch, module


def keras_defaults(train):
    import keras

    layers = keras.layers
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    X = train[0].permute(0, 2, 3, 1).numpy()  # Keras is channels-last
    y = train[1].numpy()
    return (lambda: model.fit(X, y, batch_size=BATCH, epochs=1, verbose=0)), model


@torch.no_grad()
def test_accuracy(model: nn.Module, test) -> float:
    model.eval()
    X, y = test
    return float((model(X).argmax(1) == y).float().mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="timed epochs per contender")
    parser.add_argument("--train-size", type=int, default=60_000)
    parser.add_argument("--accuracy-epochs", type=int, default=3)
    args = parser.parse_args()

    from dlab.runtime import cpu_has_native_bf16, resolve_precision

    train, test, source = fashion(args.train_size)
    fp32_peak = matmul_peak(torch.float32)
    bf16_peak = matmul_peak(torch.bfloat16)
    precision = resolve_precision("auto", torch.device("cpu"))
    print(f"data: {source}, {len(train[1])} training images, batch {BATCH}; torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads; native bf16: "
          f"{cpu_has_native_bf16()} (dlab precision auto -> {precision})")
    print(f"matmul peak: fp32 {fp32_peak:.0f} GFLOP/s, bf16 {bf16_peak:.1f} GFLOP/s; one epoch "
          f"is {FLOPS_PER_IMAGE * len(train[1]) / 1e12:.2f} TFLOP")

    contenders = {"hand-written loop, fp32": hand_fp32, "dlab Trainer, defaults": dlab_defaults,
                  "Lightning, defaults": lightning_defaults,
                  "Keras 3 (torch backend), defaults": keras_defaults}
    epochs = {}
    for name, factory in contenders.items():
        try:
            epochs[name] = factory(train)[0]
        except ImportError as exc:
            print(f"({name}: skipped, {exc})")
    for fn in epochs.values():  # warm-up: first-call allocations, oneDNN kernel choice
        fn()
    times: dict[str, list[float]] = {name: [] for name in epochs}
    for _ in range(args.rounds):  # interleaved, so machine noise hits every contender alike
        for name, fn in epochs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)

    base = statistics.median(times["hand-written loop, fp32"])
    flops = FLOPS_PER_IMAGE * len(train[1])
    print(f"\n{'contender':36s} {'s/epoch':>8s} {'speed-up':>9s} {'% fp32 peak':>12s} "
          f"{'% bf16 peak':>12s}")
    for name, ts in times.items():
        s = statistics.median(ts)
        rate = flops / s / 1e9
        print(f"{name:36s} {s:8.2f} {base / s:8.2f}× {100 * rate / fp32_peak:11.1f}% "
              f"{100 * rate / bf16_peak:11.1f}%")

    if args.accuracy_epochs:
        print(f"\ntest accuracy after {args.accuracy_epochs} epochs (same init, same data):")
        torch.manual_seed(0)
        epoch, model = hand_fp32(train)
        for _ in range(args.accuracy_epochs):
            epoch()
        fp32_acc = test_accuracy(model, test)
        torch.manual_seed(0)
        epoch, trainer = dlab_defaults(train)
        for _ in range(args.accuracy_epochs):
            epoch()
        dlab_acc = float((trainer.predict(test[0]).argmax(1) == test[1]).float().mean())
        print(f"  hand-written fp32 loop {fp32_acc:.4f}   dlab defaults ({precision}) "
              f"{dlab_acc:.4f}   difference {100 * (dlab_acc - fp32_acc):+.2f} pp")


if __name__ == "__main__":
    main()
