"""Which memory layout should a convolutional model train in on this CPU?

Times one training step (forward + backward) of a small conv block with BatchNorm and the same
block with GroupNorm (as in the diffusion U-Net), in the contiguous (NCHW) and channels_last
(NHWC) layouts, in fp32 and under bf16 autocast, side by side in one process. Prints ms/step
and each layout's ratio to contiguous. The Trainer picks channels_last for conv models except
GroupNorm models on CPU; this is the measurement behind that rule.

    python benchmarks/memory_format.py [--batch 128] [--repeats 7]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn


NORMS = {"none": lambda c: nn.Identity(), "BatchNorm": nn.BatchNorm2d,
         "GroupNorm": lambda c: nn.GroupNorm(8, c)}


def block(norm: str, activation: type[nn.Module]) -> nn.Module:
    torch.manual_seed(0)
    make = NORMS[norm]
    return nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), make(32), activation(),
                         nn.Conv2d(32, 32, 3, padding=1), make(32), activation())


def step_ms(model: nn.Module, x: torch.Tensor, bf16: bool, repeats: int) -> float:
    times = []
    for _ in range(repeats + 1):  # the first step warms the kernels up and is not counted
        start = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(x).float().square().mean()
        loss.backward()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    x = torch.randn(args.batch, 16, 28, 28)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
          "16→32→32 channels, 28×28")
    print(f"{'block':<16} {'precision':<10} {'contiguous':>12} {'channels_last':>14} "
          f"{'ratio':>7}")
    for norm in NORMS:
        for activation in (nn.ReLU, nn.SiLU):
            for bf16 in (False, True):
                row = []
                for layout in (torch.contiguous_format, torch.channels_last):
                    model = block(norm, activation).to(memory_format=layout)
                    row.append(step_ms(model, x.contiguous(memory_format=layout), bf16,
                                       args.repeats))
                name = f"{norm}+{activation.__name__}"
                print(f"{name:<16} {'bf16' if bf16 else 'fp32':<10} {row[0]:>9.1f} ms "
                      f"{row[1]:>11.1f} ms {row[1] / row[0]:>6.2f}×")


if __name__ == "__main__":
    main()
