"""Run several labs in a row (`dlab run ID ID.. | BLOCK | --all`): one overall progress line,
each lab's output kept in its run folder (console.txt), a summary table at the end. A lab that
stops with an error is recorded and the batch goes on; Ctrl-C stops the batch."""
from __future__ import annotations

import io
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dlab.io import write_text
from dlab.lab import catalog
from dlab.lab.runner import run_lab


def overall_progress(console: Console) -> Progress:
    """One line for a whole batch (labs run, submissions graded): what now, k/n, time."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console)


def run_many(ids: list[str], console: Console | None = None, **options) -> list[dict]:
    console = console or Console()
    records = []
    with overall_progress(console) as progress:
        task = progress.add_task("", total=len(ids))
        for lab_id in ids:
            progress.update(task, description=f"[bold]{lab_id}[/bold]")
            records.append(_run_one(lab_id, options))
            record = records[-1]
            color = {"passed": "green", "failed": "red"}.get(record["status"], "yellow")
            progress.console.print(f"[{color}]{record['status']:>7}[/] {lab_id} "
                                   f"({record['seconds']:.1f} s)", highlight=False)
            progress.advance(task)
    console.print(summary(records))
    return records


def _run_one(lab_id: str, options: dict) -> dict:
    buffer = io.StringIO()
    lab_console = Console(file=buffer, width=120, force_terminal=False)
    started = time.perf_counter()
    try:
        record = run_lab(lab_id, console=lab_console, **options)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # recorded in the lab's own metrics.json too; the batch goes on
        record = {"lab": lab_id, "status": "error", "criteria": [],
                  "seconds": time.perf_counter() - started, "error": f"{type(exc).__name__}: {exc}"}
    last = catalog.last_result_dir(options.get("out", "runs"), lab_id, options.get("quick"))
    if last is not None:
        write_text(last / "console.txt", buffer.getvalue())
        record["run_dir"] = str(last)
    return record


def summary(records: list[dict]) -> Table:
    table = Table(title=f"{sum(r['status'] == 'passed' for r in records)} / {len(records)} "
                        "labs pass")
    for column in ("lab", "status", "criteria", "seconds", "report / error"):
        table.add_column(column, overflow="fold")
    for r in records:
        held = sum(c["passed"] for c in r["criteria"])
        color = {"passed": "green", "failed": "red"}.get(r["status"], "yellow")
        where = r.get("error") or (f"{r['run_dir']}/report.html" if r.get("run_dir") else "")
        table.add_row(r["lab"], f"[{color}]{r['status']}[/]", f"{held}/{len(r['criteria'])}",
                      f"{r['seconds']:.1f}", where)
    return table
