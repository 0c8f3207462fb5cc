"""Side-by-side timing shared by the benchmarks (run as scripts, so they import it as a
sibling module)."""
from __future__ import annotations

import statistics
import time


def interleaved_ms(functions: dict, rounds: int, repeats: int) -> dict:
    """Median ms per call of each function after one warm-up call, rounds interleaved so that
    machine noise hits every contender alike."""
    for fn in functions.values():
        fn()
    times: dict = {name: [] for name in functions}
    for _ in range(rounds):
        for name, fn in functions.items():
            start = time.perf_counter()
            for _ in range(repeats):
                fn()
            times[name].append((time.perf_counter() - start) / repeats * 1000)
    return {name: statistics.median(ts) for name, ts in times.items()}
