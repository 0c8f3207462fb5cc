"""The grading process: ``python -m dlab.grading.worker JOB.json``. Trusted code only.

It starts the student's process in a sandbox (:mod:`dlab.grading.sandbox`), then runs the
lab's check cells and code cells here, with each student function replaced by a stand-in
that computes in the sandbox (:mod:`dlab.grading.remote`). Every check verdict and every
criterion is computed here, from data the sandbox handed back; the sandbox never sees this
process's memory, the events file or the run folder.

Each step is one JSON line in the job's events file, written as it goes: a submission that
loops forever or eats all memory loses only what had not run yet.
"""
from __future__ import annotations

import ast
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from dlab.exercises.checks import is_out_of_memory, student_line


class Events:
    def __init__(self, path: Path):
        self.file = open(path, "a", encoding="utf-8")
        self.started = time.monotonic()

    def __call__(self, event: dict) -> None:
        event = {**event, "at": round(time.monotonic() - self.started, 3)}  # seconds in
        self.file.write(json.dumps(event, default=str, ensure_ascii=False) + "\n")
        self.file.flush()


def _error(emit, stage: str, exc: BaseException) -> None:
    """Report an exception outside any check: while loading, in a check cell, in the lab."""
    kind = "memory" if is_out_of_memory(exc) else "exception"
    message = f"{type(exc).__name__}: {exc}{student_line(exc)}"
    emit({"event": "error", "stage": stage, "kind": kind, "message": message,
          "traceback": "".join(traceback.format_exception(exc))[-4000:]})


def lab_classes(labfile) -> list[str]:
    """The classes the lab's code cells define (a student function may be handed one)."""
    return [ast.unparse(node) for c in labfile.cells if c.role == "code"
            for node in ast.parse(labfile.code_text(c)).body if isinstance(node, ast.ClassDef)]


def sandbox_job(labfile, script: str, jobdir: Path, inside: bool) -> None:
    imports = [node for c in labfile.cells if c.role in ("code", "check")
               for node in ast.parse(labfile.code_text(c)).body
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    (jobdir / "submission.py").write_text(script, encoding="utf-8")
    job = {"imports": ast.unparse(ast.Module(body=imports, type_ignores=[])),
           "classes": lab_classes(labfile), "exercises": labfile.exercises,
           "script": "/job/submission.py" if inside else str(jobdir / "submission.py")}
    (jobdir / "job.json").write_text(json.dumps(job), encoding="utf-8")


def grade(job: dict) -> None:
    # The sandbox starts before this process imports torch, so both imports run side by side.
    from dlab.grading import sandbox
    from dlab.lab import catalog

    emit = Events(Path(job["events"]))
    labfile = catalog.get(job["lab"])
    script = Path(job["script"]).read_text(encoding="utf-8")
    jobdir = Path(tempfile.mkdtemp(prefix="dlab-job-"))
    jobdir.chmod(0o755)
    inside = sandbox.bubblewrap() is not None
    sandbox_job(labfile, script, jobdir, inside)
    limits = sandbox.SandboxLimits(memory_mb=job["memory_mb"])
    started = sandbox.start(jobdir, limits, sys.stdout.buffer, job["name"],
                            hidden=[Path(p) for p in job.get("hidden", [])])
    emit({"event": "sandbox", "pid": started.proc.pid, "cgroup": str(started.cgroup or ""),
          **started.info()})
    from rich.console import Console

    from dlab.grading.channel import Peer
    from dlab.grading.remote import Remote
    from dlab.lab.runner import execute, record_failure, start
    from dlab.lab.source import declared_checks

    peer = Peer(started.sock, serve=None, deadline=time.monotonic() + job["seconds"])
    job = {**job, "jobdir": str(jobdir), "inside": inside}
    try:
        _grade_with(job, emit, labfile, peer, Remote, Console, execute, record_failure, start,
                    declared_checks)
    finally:
        emit({"event": "sandbox_end", **sandbox.stop(started)})
        shutil.rmtree(jobdir, ignore_errors=True)


def _grade_with(job, emit, labfile, peer, Remote, Console, execute, record_failure, start,
                declared_checks) -> None:
    from dlab.grading.wire import ChannelClosed

    lang = job["lang"]
    namespace: dict = {"__name__": "__lab__"}
    exec(labfile.imports(), namespace)  # imported while the sandbox loads the submission
    try:
        loaded, _ = peer.receive()
    except ChannelClosed:
        emit({"event": "error", "stage": "load", "kind": "exception",
              "message": "the submission's process ended while loading"})
        return
    if loaded.get("syntax_error"):
        emit({"event": "error", "stage": "load", "kind": "syntax_error",
              "message": str(loaded["syntax_error"])})
        return
    for error in loaded.get("errors", []):
        emit({"event": "error", "stage": "load", "kind": error.get("kind", "exception"),
              "message": f"{error.get('type')}: {error.get('message')}{error.get('line', '')}"})
    missing = [name for name in labfile.exercises if name in loaded.get("missing", {})]
    for name in missing:
        emit({"event": "missing", "exercise": name, "found": loaded["missing"][name]})

    console = Console(file=sys.stdout, width=120)
    ctx, cfg = start(labfile.id, quick=job["quick"], seed=job["seed"], lang=lang,
                     out=job["runs"], data_dir=job.get("data_dir"), device="cpu",
                     console=console, face="grade", listener=emit)
    namespace.update(ctx=ctx, cfg=cfg)
    spies = [node.name for c in labfile.cells if c.role == "check"
             for node in ast.parse(c.source).body if isinstance(node, ast.ClassDef)]
    remote = Remote(peer, namespace, mirror=(Path(job["jobdir"]), job["inside"], job["runs"]),
                    spies=spies)
    for name in labfile.exercises:
        if name not in missing:
            namespace[name] = remote.function(name)
    for cell in labfile.cells:
        if cell.role == "check":
            if {exercise for exercise, _ in declared_checks(cell)} & set(missing):
                continue
            try:
                exec(labfile.code(cell), namespace)
            except Exception as exc:  # a check cell's own code, outside any check
                _error(emit, "checks", exc)
    if missing:
        emit({"event": "skipped", "stage": "lab", "reason": "missing"})
        return
    emit({"event": "lab_started"})
    try:
        execute(ctx, cfg, namespace, roles=("code",))
    except Exception as exc:
        record_failure(ctx, exc)
        _error(emit, "lab", exc)
    emit({"event": "remote_calls", "count": remote.calls})


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text())
    grade(job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
