"""What isolation costs per graded submission: the lab's reference solution graded in quick
mode (student code in the sandbox, checks and lab in the trusted grader, every call over the
channel) against the same lab run the way the grader used to (`dlab run ID --quick` in one
process: the exercises, checks and lab together), and against the channel without
bubblewrap (DLAB_SANDBOX=none). With ``--before SRC`` (the ``src`` folder of an older
checkout, e.g. ``git worktree add /tmp/old dfa70bd``) the grader of that checkout is timed too.
Rounds are interleaved; medians are printed.

    python benchmarks/grading_isolation.py [--before SRC] [lab ...]
                                                       (default: moons-mlp perceptron-xor)
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = 3


def _graded(lab: str, folder: Path, sandbox: str, src: str | None = None) -> float:
    script = folder / "solution.py"
    code = ("import sys\nfrom dlab.grading.grade import Limits, grade_submission\n"
            f"r = grade_submission({lab!r}, {str(script)!r}, {str(folder / sandbox)!r}, "
            "quick=True, scored=set(), limits=Limits(600, 4096))\n"
            "assert r['score'] == r['max_score'], r['message']\n")
    if src is None:
        code += f"assert r['sandbox']['sandbox'] == {sandbox!r}, r['sandbox']\n"
    env = {**os.environ, "DLAB_SANDBOX": sandbox}
    if src is not None:  # the older grader: its own package first on the path
        env["PYTHONPATH"] = src
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return time.perf_counter() - start


def _in_one_process(lab: str, folder: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dlab.cli", "run", lab, "--quick", "--device",
                           "cpu", "--out", str(folder / "runs")], stdout=subprocess.DEVNULL)
    assert done.returncode in (0, 1), f"dlab run {lab} failed"  # 1: a quick criterion fails
    return time.perf_counter() - start


def main(labs: list[str], before: str | None) -> None:
    from dlab.grading.sandbox import bubblewrap
    from dlab.lab import catalog

    # The first column is the baseline: the older grader when given, else one plain run.
    modes = {"older grader": "older"} if before else {}
    modes.update({"one process": None, "channel, no sandbox": "none"})
    if bubblewrap():
        modes["channel + bubblewrap"] = "bubblewrap"
    else:
        print("bubblewrap cannot create namespaces here: measuring without it only")
    print(f"{'lab':<16}" + "".join(f"{m:>24}" for m in modes) + f"{'isolation cost':>18}")
    for lab in labs:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            sources = [c.source for c in catalog.get(lab).cells if c.role == "exercise"]
            (folder / "solution.py").write_text("\n\n\n".join(sources))
            times: dict = {m: [] for m in modes}
            for _ in range(ROUNDS):
                for mode, sandbox in modes.items():
                    if sandbox is None:
                        seconds = _in_one_process(lab, folder)
                    elif sandbox == "older":
                        seconds = _graded(lab, folder, "none", src=before)
                    else:
                        seconds = _graded(lab, folder, sandbox)
                    times[mode].append(seconds)
            med = {m: statistics.median(t) for m, t in times.items()}
            first, last = list(modes)[0], list(modes)[-1]
            print(f"{lab:<16}" + "".join(f"{med[m]:>22.2f} s" for m in modes)
                  + f"{med[last] - med[first]:>+16.2f} s")


if __name__ == "__main__":
    os.environ.setdefault("DLAB_PRECISION", "fp32")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    args = sys.argv[1:]
    before = None
    if args[:1] == ["--before"]:
        if len(args) < 2 or not Path(args[1], "dlab").is_dir():
            sys.exit("--before needs the src folder of an older checkout (it holds dlab/)")
        before, args = str(Path(args[1]).resolve()), args[2:]
    main(args or ["moons-mlp", "perceptron-xor"], before)
