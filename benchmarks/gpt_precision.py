"""How much does bf16 autocast speed up the classic and the modern GPT on this machine's CPU?

One training step (forward, backward, gradient clipping, AdamW) of the two models of the
modern-gpt lab at its full-mode sizes (4 blocks, d_model 128, 64 characters of context, batch
16; classic: 4 heads, LayerNorm, learned positions; modern: 8 query heads sharing 4 key/value
heads, RMSNorm, RoPE, SwiGLU, ``F.scaled_dot_product_attention``), in fp32 and under bf16
autocast (what dlab's precision "auto" picks on CPUs with native bf16), measured side by side
in one process. Prints ms/step, the bf16 speed-up of each model and the modern/classic ratio;
then forward + backward of ``F.scaled_dot_product_attention`` alone, fp32 against bf16, at
the modern model's shape with a few head sizes and at one longer context: the kernel whose
slow bf16 backward made the modern model slower in bf16 than in fp32 until
``dlab.models.gpt.attention_fused`` started running it in fp32 on CPUs.

    python benchmarks/gpt_precision.py [--rounds 5] [--steps 5] [--module path/to/gpt.py]

``--module`` times another version of ``dlab/models/gpt.py`` (e.g. an older one saved to a
file) instead of the installed one.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys

import torch
import torch.nn.functional as F
from timing import interleaved_ms

VOCAB, BLOCK, BATCH = 65, 64, 16  # Tiny Shakespeare's characters, the lab's context and batch


def gpt_module(path: str | None):
    if path is None:
        import dlab.models.gpt as module

        return module
    spec = importlib.util.spec_from_file_location("gpt_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def build(gpt, modern: bool):
    torch.manual_seed(0)
    heads = 8 if modern else 4
    return gpt.GPT(gpt.GPTConfig(vocab=VOCAB, block_size=BLOCK, n_layer=4, d_model=128,
                                 n_head=heads, n_kv_head=4 if modern else heads, modern=modern))


def training_step(model, bf16: bool):
    """A function running one training step of ``model`` on a fixed random batch."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    x, y = (torch.randint(0, VOCAB, (BATCH, BLOCK), generator=g) for _ in range(2))

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return step


def attention_step(batch: int, tokens: int, head_size: int, dtype: torch.dtype):
    """Forward + backward of the fused causal attention alone, 8 heads."""
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(batch, 8, tokens, head_size, generator=g).to(dtype).requires_grad_()
               for _ in range(3))

    def step():
        out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        out.backward(torch.ones_like(out))
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per contender")
    parser.add_argument("--steps", type=int, default=5, help="training steps per round")
    parser.add_argument("--module", default=None,
                        help="a gpt.py file to time instead of dlab.models.gpt")
    args = parser.parse_args()

    from dlab.runtime import cpu_has_native_bf16, resolve_precision

    gpt = gpt_module(args.module)
    precision = resolve_precision("auto", torch.device("cpu"))
    print(f"models: {args.module or 'dlab.models.gpt'}; batch {BATCH} × {BLOCK} tokens; torch "
          f"{torch.__version__}, {torch.get_num_threads()} threads; native bf16: "
          f"{cpu_has_native_bf16()} (dlab precision auto -> {precision})")

    steps = {(name, bf16): training_step(build(gpt, name == "modern"), bf16)
             for name in ("classic", "modern") for bf16 in (False, True)}
    ms = interleaved_ms(steps, args.rounds, args.steps)
    print(f"\n{'model':8s} {'fp32 ms/step':>13s} {'bf16 ms/step':>13s} {'bf16 speed-up':>14s} "
          f"{'bf16 tokens/s':>14s}")
    for name in ("classic", "modern"):
        fp32, bf16 = ms[(name, False)], ms[(name, True)]
        print(f"{name:8s} {fp32:13.1f} {bf16:13.1f} {fp32 / bf16:13.2f}× "
              f"{BATCH * BLOCK / bf16 * 1000:14.0f}")
    print(f"modern / classic time: fp32 {ms[('modern', False)] / ms[('classic', False)]:.2f}×, "
          f"bf16 {ms[('modern', True)] / ms[('classic', True)]:.2f}×")

    shapes = [(BATCH, BLOCK, 16), (BATCH, BLOCK, 32), (BATCH, BLOCK, 64), (4, 256, 64)]
    kernels = {(shape, dtype): attention_step(*shape, dtype)
               for shape in shapes for dtype in (torch.float32, torch.bfloat16)}
    kms = interleaved_ms(kernels, args.rounds, args.steps)
    print("\nF.scaled_dot_product_attention alone, forward + backward, 8 heads, causal:")
    print(f"{'batch':>5s} {'tokens':>6s} {'head size':>9s} {'fp32 ms':>8s} {'bf16 ms':>8s} "
          f"{'bf16 / fp32':>12s}")
    for shape in shapes:
        fp32, bf16 = kms[(shape, torch.float32)], kms[(shape, torch.bfloat16)]
        print(f"{shape[0]:5d} {shape[1]:6d} {shape[2]:9d} {fp32:8.2f} {bf16:8.2f} "
              f"{bf16 / fp32:11.2f}×")

if __name__ == "__main__":
    main()
