"""The ``dlab`` command.

    dlab list                     every lab with its criteria and last result
    dlab run ID [options]         run a lab; exit 0 if every criterion holds, 1 if not
    dlab report RUN_DIR           re-render and show a finished run

Exit code 2 means bad usage or input (unknown lab, bad setting, missing data...): the message
says what to fix. ``--debug`` shows the full traceback as well.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dlab", description="dlab: deep-learning labs that check "
                                "their own acceptance criteria.")
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = p.add_subparsers(dest="command", required=True)

    ls = sub.add_parser("list", help="list every lab")
    ls.add_argument("--out", default=os.environ.get("DLAB_RUNS", "runs"),
                    help="runs folder to read last results from (default: runs)")
    ls.add_argument("--lang", choices=("en", "es"), default=os.environ.get("DLAB_LANG", "en"))

    run = sub.add_parser("run", help="run a lab and check its criteria")
    run.add_argument("lab", help="lab id, see `dlab list`")
    run.add_argument("--quick", action="store_true", help="tiny budget (smoke test)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, mps")
    run.add_argument("--data-dir", default=None,
                     help="folder with the datasets (<dir>/<dataset>/<file>); else $DLAB_DATA, "
                          "the cache (~/.cache/dlab) or a download")
    run.add_argument("--lang", choices=("en", "es"), default=os.environ.get("DLAB_LANG", "en"))
    run.add_argument("--out", default=os.environ.get("DLAB_RUNS", "runs"),
                     help="where run folders go (default: runs)")
    run.add_argument("--resume", metavar="RUN_DIR", default=None,
                     help="continue an interrupted run in its folder, from its last epoch")
    run.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                     help="override a lab setting, e.g. --set epochs=5 (repeatable)")

    rep = sub.add_parser("report", help="re-render and show a finished run")
    rep.add_argument("run_dir")
    return p


def _list(args) -> int:
    # Reads lab declarations only: no torch import, so this answers instantly.
    from rich.console import Console
    from rich.table import Table

    from dlab.lab import catalog

    table = Table(title="dlab labs")
    for col in ("id", "title", "source", "criteria", "last result"):
        table.add_column(col, overflow="fold")
    out = Path(args.out)
    for lab_id, labfile in catalog.labs().items():
        lab = labfile.lab
        criteria = "\n".join(f"• {c.text(args.lang)}" for c in lab.criteria)
        last = catalog.last_result(out, lab_id)
        if last is None:
            shown = "—"
        else:
            color = {"passed": "green", "failed": "red"}.get(last["status"], "yellow")
            mode = " quick" if last.get("quick") else ""
            shown = f"[{color}]{last['status']}[/]{mode}\n{last.get('started', '')}"
        table.add_row(lab_id, lab.title(args.lang), lab.source, criteria, shown)
    Console().print(table)
    return 0


def _run(args) -> int:
    from dlab.lab.config import parse_assignments
    from dlab.lab.runner import run_lab

    record = run_lab(args.lab, quick=args.quick, seed=args.seed, device=args.device,
                     data_dir=args.data_dir, lang=args.lang, out=args.out,
                     overrides=parse_assignments(args.overrides), resume=args.resume)
    return 0 if record["status"] == "passed" else 1


def _report(args) -> int:
    from rich.console import Console

    from dlab.lab import report

    report.render(args.run_dir)
    record = report.load_run(args.run_dir)
    report.print_table(record, Console())
    print(f"report: {Path(args.run_dir) / 'report.html'}")
    return 0 if record["status"] == "passed" else 1


def _terminate(signum, frame):
    # SIGTERM (a closed terminal, a killed job) becomes an exception, so the runner can
    # record the run as interrupted and keep what it wrote.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from dlab.errors import DlabError

    # Only the main thread may set signal handlers; the caller's handler is put back after
    # (main() is also called from notebooks and tests, not only as the `dlab` process).
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:
        previous = None
    try:
        return {"list": _list, "run": _run, "report": _report}[args.command](args)
    except DlabError as exc:
        if args.debug:
            raise
        print(f"dlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dlab: interrupted; the run folder keeps what was written so far "
              "(continue with `dlab run ID --resume RUN_DIR`).", file=sys.stderr)
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
