"""Run a lab end to end: seed, time, train, check criteria, write the run directory.

    runs/<lab>/<timestamp>/metrics.json   everything measured + config + environment
    runs/<lab>/<timestamp>/report.md      the same, readable; report.html with figures inside
    runs/<lab>/<timestamp>/figures/*.png
    runs/<lab>/<timestamp>/best.safetensors (+ .json) when the lab keeps a checkpoint

metrics.json is written before training ("running") and rewritten at the end, so a crashed or
interrupted run still leaves a record of what it was doing and why it stopped.
"""
from __future__ import annotations

import dataclasses
import os
import platform
import time
from datetime import datetime
from pathlib import Path

from rich.console import Console

from dlab.errors import DlabError
from dlab.io import write_json
from dlab.lab import catalog, report
from dlab.lab.config import build_config
from dlab.lab.context import Context


def environment(device: str) -> dict:
    import numpy
    import sklearn
    import torch

    return {
        "python": platform.python_version(), "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(), "device": device,
        "torch": torch.__version__, "numpy": numpy.__version__, "sklearn": sklearn.__version__,
    }


def _unwritable(out: Path, exc: OSError) -> DlabError:
    reason = exc.strerror or str(exc)
    if out.exists() and not out.is_dir():
        reason = "it is a file, not a folder"
    return DlabError(f"Cannot write a run folder under --out '{out}': {reason}. Point --out at "
                     "a folder you can write to (it is created if missing), e.g. --out runs.")


def new_run_dir(out: Path, lab_id: str, quick: bool) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    base = out / lab_id / (stamp + ("-quick" if quick else ""))
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):  # two runs started in the same second must not share a folder
            run_dir = base if n == 1 else base.with_name(f"{base.name}-{n}")
            try:
                run_dir.mkdir()
                return run_dir
            except FileExistsError:
                continue
    except OSError as exc:  # a file in the way, no permission, a read-only disk...
        raise _unwritable(out, exc) from None
    raise DlabError(f"Could not create a new run folder under {base.parent}.")


def _resumable(run_dir: Path, lab_id: str) -> dict:
    """The record of an interrupted run of ``lab_id`` that can be continued."""
    record = report.load_run(run_dir)
    if record["lab"] != lab_id:
        raise DlabError(f"--resume {run_dir} is a run of '{record['lab']}', not '{lab_id}'.")
    if not (run_dir / "train_state.pt").exists():
        raise DlabError(f"--resume {run_dir}: this run saved no training state "
                        "(train_state.pt), so it cannot be continued; start a new run.")
    return record


def start(lab_id: str, *, quick: bool = False, seed: int = 0, device: str = "auto",
          data_dir: str | None = None, lang: str = "en", out: str | Path = "runs",
          overrides: dict[str, str] | None = None, console: Console | None = None,
          resume: str | Path | None = None, notebook: bool = False, face: str = "cli",
          listener=None, precision: str | None = None) -> tuple[Context, object]:
    """Everything before a lab's first cell: its config, a run folder with a "running"
    record, the device, the seed. Returns ``(ctx, cfg)``, what the lab's cells receive.

    ``resume``: the folder of an interrupted run; it continues there with the settings it
    was started with (its config, seed and mode), from its last finished epoch."""
    labfile = catalog.get(lab_id)
    lab = labfile.lab
    missing = lab.missing_packages()
    if missing:
        raise DlabError(f"{lab.id} needs {', '.join(lab.requires)}: {'; '.join(missing)} / "
                        f"{lab.id} necesita {', '.join(lab.requires)}: {'; '.join(missing)}")
    previous = _resumable(Path(resume), lab.id) if resume is not None else None
    if previous is not None:
        if overrides:
            raise DlabError("--set cannot be combined with --resume: a resumed run keeps the "
                            "settings it was started with.")
        quick, seed = previous["quick"], previous["seed"]
        precision = previous.get("precision", {}).get("asked", precision)
        cfg = lab.config(**previous["config"])
    else:
        cfg = build_config(lab.config, lab.quick if quick else None, overrides or {})
    if data_dir is not None:
        if not Path(data_dir).is_dir():
            raise DlabError(f"--data-dir '{data_dir}' is not a directory. Point it at the folder "
                            "that holds one sub-folder per dataset (e.g. fashion-mnist/).")
        os.environ["DLAB_DATA"] = str(Path(data_dir).resolve())

    from dlab.runtime import default_precision, resolve_precision, seed_everything, select_device

    precision = precision or default_precision()
    torch_device = select_device(device)
    resolved = resolve_precision(precision, torch_device)
    console = console or Console()
    run_dir = Path(resume) if previous is not None else new_run_dir(Path(out), lab.id, quick)
    record = {
        "lab": lab.id, "title": lab.title(lang), "source": lab.source,
        "summary": labfile.summary(lang), "lang": lang, "quick": quick, "seed": seed,
        "face": face, "precision": {"asked": precision, "used": resolved}, "status": "running",
        "started": datetime.now().isoformat(timespec="seconds"), "seconds": 0.0,
        "config": dataclasses.asdict(cfg), "environment": environment(str(torch_device)),
        "metrics": {}, "criteria": [], "checks": [], "story": [], "error": None,
    }
    try:
        write_json(run_dir / "metrics.json", record)
    except OSError as exc:
        raise _unwritable(Path(out), exc) from None
    ctx = Context(lab=labfile, out=run_dir, record=record, lang=lang, quick=quick, seed=seed,
                  device=str(torch_device), precision=precision, console=console,
                  resuming=previous is not None,
                  notebook=notebook, listener=listener)
    try:  # from here on, whatever stops the run (even a signal) is recorded
        console.rule(f"[bold]{lab.id}[/bold] — {lab.title(lang)}")
        mode = ctx.t("quick mode", "modo rápido") if quick else ctx.t("full mode", "modo completo")
        console.print(f"[dim]{lab.source} · {mode} · seed {seed} · {torch_device} {resolved} · "
                      f"{run_dir}[/dim]")
        seed_everything(seed)
    except BaseException as exc:
        record_failure(ctx, exc)
        raise
    return ctx, cfg


def record_failure(ctx: Context, exc: BaseException) -> None:
    """Write down why a run stopped (an error, Ctrl-C, a signal), keeping what it made."""
    interrupted = isinstance(exc, (KeyboardInterrupt, SystemExit))
    ctx.record.update(status="interrupted" if interrupted else "error",
                      seconds=time.perf_counter() - ctx.started,
                      error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    write_json(ctx.out / "metrics.json", ctx.record)
    report.render(ctx.out)


def execute(ctx: Context, cfg, namespace: dict | None = None,
            roles: tuple[str, ...] = ("code", "exercise", "check")) -> dict:
    """Run the lab's cells in order, as a notebook would: markdown in the run's language is
    narrated, code cells of the given roles run in one namespace."""
    namespace = {"__name__": "__lab__", "ctx": ctx, "cfg": cfg} if namespace is None else namespace
    labfile = ctx.lab
    for cell in labfile.cells:
        if cell.kind == "markdown":
            if cell.lang == ctx.lang:
                ctx.narrate(cell.source)
        elif cell.role in roles:
            exec(labfile.code(cell), namespace)
    return namespace


def run_lab(lab_id: str, **options) -> dict:
    """Run one lab from the command line; returns the record written to metrics.json
    (``record["status"]``). Options: those of ``start``."""
    ctx, cfg = start(lab_id, **options)
    try:
        execute(ctx, cfg)
    except BaseException as exc:
        record_failure(ctx, exc)
        raise
    if ctx.record["status"] == "running":
        raise DlabError(f"Lab '{lab_id}' ended without calling ctx.finish(metrics) in its last "
                        "cell.")
    return ctx.record
