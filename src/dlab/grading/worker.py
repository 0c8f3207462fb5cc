"""The grading process: ``python -m dlab.grading.worker JOB.json``.

It runs under the limits the grader set (wall time, memory) and reports each step as one JSON
line in the job's events file, written as it goes: a submission that loops forever or eats
all memory loses only what had not run yet. Nothing is unpickled; student code runs here only.

Steps: load the submission's functions over the lab's imports; run every exercise check; run
the lab's code cells with the student's functions in place of the reference ones.
"""
from __future__ import annotations

import difflib
import json
import sys
import traceback
from pathlib import Path

from dlab.exercises.checks import SUBMISSION, is_out_of_memory, student_line


class Events:
    def __init__(self, path: Path):
        self.file = open(path, "a", encoding="utf-8")

    def __call__(self, event: dict) -> None:
        self.file.write(json.dumps(event, default=str, ensure_ascii=False) + "\n")
        self.file.flush()


def _error(emit, stage: str, exc: BaseException) -> None:
    """Report an exception outside any check: while loading, in a check cell, in the lab."""
    kind = "memory" if is_out_of_memory(exc) else "exception"
    message = f"{type(exc).__name__}: {exc}{student_line(exc)}"
    emit({"event": "error", "stage": stage, "kind": kind, "message": message,
          "traceback": "".join(traceback.format_exception(exc))[-4000:]})


def grade(job: dict) -> None:
    from rich.console import Console

    from dlab.grading.submission import definitions
    from dlab.lab import catalog
    from dlab.lab.runner import execute, record_failure, start
    from dlab.lab.source import declared_checks

    emit = Events(Path(job["events"]))
    lang = job["lang"]
    labfile = catalog.get(job["lab"])
    script = Path(job["script"]).read_text(encoding="utf-8")
    try:
        codes, defined = definitions(script, SUBMISSION)
    except SyntaxError as exc:
        emit({"event": "error", "stage": "load", "kind": "syntax_error",
              "message": f"line {exc.lineno}: {exc.msg}"})
        return

    namespace: dict = {"__name__": "__submission__"}
    exec(labfile.imports(), namespace)
    for code in codes:
        try:
            exec(code, namespace)
        except Exception as exc:  # e.g. an import of a module that does not exist
            _error(emit, "load", exc)
    missing = [name for name in labfile.exercises if not callable(namespace.get(name))]
    for name in missing:
        close = difflib.get_close_matches(name, defined, n=1, cutoff=0.6)
        emit({"event": "missing", "exercise": name, "found": close[0] if close else None})

    console = Console(file=sys.stdout, width=120)
    ctx, cfg = start(labfile.id, quick=job["quick"], seed=job["seed"], lang=lang,
                     out=job["runs"], data_dir=job.get("data_dir"), device="cpu",
                     console=console, face="grade", listener=emit)
    namespace.update(ctx=ctx, cfg=cfg)
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


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text())
    grade(job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
