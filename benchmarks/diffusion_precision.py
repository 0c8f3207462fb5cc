"""How much does bf16 autocast speed up the diffusion lab's U-Net on this machine's CPU?

The lab's noise predictor (``SmallUNet``, width 16, one edge-map channel, GroupNorm + SiLU) at
its full-mode sizes: one training step (forward under autocast, float32 MSE, backward, Adam)
on a batch of 128, and one guided sampling call (the conditional and "no class" halves of 200
images in one forward pass of 400, no gradients), in fp32 and under bf16 autocast, in the
contiguous and the channels_last layouts, measured side by side in one process with the
rounds interleaved. Prints ms per training step and per sampling call and bf16's speed-up.

    python benchmarks/diffusion_precision.py [--rounds 5] [--repeats 3]
"""
from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from timing import interleaved_ms

from dlab.generative import diffusion
from dlab.generative.unet import SmallUNet

LAYOUTS = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}


def unet(layout) -> SmallUNet:
    torch.manual_seed(0)
    return SmallUNet(16, num_classes=10, cond_channels=1).to(memory_format=layout)


def training_step(layout, bf16: bool):
    model, g = unet(layout), torch.Generator().manual_seed(0)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    x = torch.randn(128, 1, 28, 28, generator=g).contiguous(memory_format=layout)
    cond = torch.rand(128, 1, 28, 28, generator=g).contiguous(memory_format=layout)
    t, labels, noise = torch.randint(0, 100, (128,), generator=g), torch.arange(128) % 11, x * 0.5

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            predicted = model(x, t, labels, cond)
        loss = F.mse_loss(predicted.float(), noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step


def sampling_call(layout, bf16: bool):
    model = unet(layout).eval()
    x = torch.randn(200, 1, 28, 28).contiguous(memory_format=layout)
    labels = torch.arange(200) % 10

    @torch.no_grad()
    def call():
        diffusion.predict_noise(model, x, 50, labels, guidance=3.0,
                                precision="bf16" if bf16 else "fp32")
    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    for what, make in (("training step, batch 128", training_step),
                       ("guided sampling call, 2×200 images", sampling_call)):
        ms = interleaved_ms({(name, bf16): make(layout, bf16) for name, layout in LAYOUTS.items()
                             for bf16 in (False, True)}, args.rounds, args.repeats)
        print(f"\n{what}:\n{'layout':<14} {'fp32 ms':>8} {'bf16 ms':>8} {'bf16 speed-up':>14}")
        for name in LAYOUTS:
            fp32, bf16 = ms[(name, False)], ms[(name, True)]
            print(f"{name:<14} {fp32:8.0f} {bf16:8.0f} {fp32 / bf16:13.2f}×")


if __name__ == "__main__":
    main()
