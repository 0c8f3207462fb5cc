"""The ``dlab`` command.

    dlab list                     every lab with its criteria and last result
    dlab run ID [options]         run a lab; exit 0 if every criterion holds, 1 if not
    dlab run ID ID.. | BLOCK | --all   run several labs, one progress line, a summary
    dlab dashboard                runs/index.html: every lab's last results, by course block
    dlab report RUN_DIR           re-render and show a finished run
    dlab notebook ID [--all]      write a lab as a notebook (student or --solution)
    dlab grade ID SUBMISSION      grade a .py / .ipynb, or every one in a folder

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

    run = sub.add_parser("run", help="run labs and check their criteria")
    run.add_argument("labs", nargs="*", metavar="ID",
                     help="lab id(s) or course block(s), see `dlab list`")
    run.add_argument("--all", action="store_true", help="every lab, in course order")
    run.add_argument("--quick", action="store_true", help="tiny budget (smoke test)")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--device", default="auto", help="auto (cuda > mps > cpu), cpu, cuda, mps")
    run.add_argument("--precision", default=os.environ.get("DLAB_PRECISION", "auto"),
                     choices=("auto", "fp32", "bf16", "fp16"),
                     help="auto: bf16 autocast on CUDA and on CPUs with native bf16 (AMX, "
                          "AVX512-BF16), fp32 elsewhere")
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

    dash = sub.add_parser("dashboard", help="write the course dashboard (runs/index.html)")
    dash.add_argument("--out", default=os.environ.get("DLAB_RUNS", "runs"),
                      help="the runs folder to summarize; index.html is written there")
    dash.add_argument("--lang", choices=("en", "es"), default=os.environ.get("DLAB_LANG", "en"))

    rep = sub.add_parser("report", help="re-render and show a finished run")
    rep.add_argument("run_dir")

    nb = sub.add_parser("notebook", help="write a lab as a Jupyter notebook")
    nb.add_argument("labs", nargs="*", metavar="ID", help="lab id(s), see `dlab list`")
    nb.add_argument("--all", action="store_true", help="one notebook per lab")
    nb.add_argument("--solution", action="store_true",
                    help="instructor version: the exercises solved")
    nb.add_argument("--lang", choices=("en", "es"), default=os.environ.get("DLAB_LANG", "en"))
    nb.add_argument("--quick", action="store_true", help="the notebook runs in quick mode")
    nb.add_argument("--seed", type=int, default=0)
    nb.add_argument("--out", default="notebooks",
                    help="a folder (default: notebooks) or, for one lab, a .ipynb path")
    nb.add_argument("--force", action="store_true",
                    help="overwrite existing notebooks (they may hold a student's work)")

    gr = sub.add_parser("grade", help="grade a submission (.py, .ipynb) or a folder of them")
    gr.add_argument("lab", help="lab id, see `dlab list`")
    gr.add_argument("submission", help="a .py or .ipynb file, or a folder of them")
    gr.add_argument("--quick", action="store_true", help="run the lab in quick mode")
    gr.add_argument("--seed", type=int, default=0)
    gr.add_argument("--lang", choices=("en", "es"), default=os.environ.get("DLAB_LANG", "en"))
    gr.add_argument("--out", default=None,
                    help="where grades go (default: grades/<lab>)")
    gr.add_argument("--time-limit", type=float, default=600.0, metavar="SECONDS",
                    help="wall time per submission (default: 600)")
    gr.add_argument("--memory-limit", type=int, default=4096, metavar="MB",
                    help="memory per submission (default: 4096)")
    gr.add_argument("--data-dir", default=None, help="folder with the datasets")
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
    from dlab.errors import DlabError
    from dlab.lab import catalog
    from dlab.lab.config import parse_assignments
    from dlab.lab.runner import run_lab

    if not args.labs and not args.all:
        raise DlabError("Name a lab (`dlab run moons-mlp`), several, a course block "
                        "(`dlab run stage2`) or pass --all.")
    ids = list(catalog.labs()) if args.all else catalog.select(args.labs)
    single = len(ids) == 1 and not args.all and args.labs[0] not in catalog.BLOCKS
    if not single:
        if args.resume or args.overrides:
            raise DlabError("--resume and --set apply to one lab at a time; run that lab alone.")
        from dlab.lab.batch import run_many

        records = run_many(ids, quick=args.quick, seed=args.seed, device=args.device,
                           precision=args.precision, data_dir=args.data_dir, lang=args.lang,
                           out=args.out)
        return 0 if all(r["status"] == "passed" for r in records) else 1
    record = run_lab(ids[0], quick=args.quick, seed=args.seed, device=args.device,
                     precision=args.precision,
                     data_dir=args.data_dir, lang=args.lang, out=args.out,
                     overrides=parse_assignments(args.overrides), resume=args.resume)
    return 0 if record["status"] == "passed" else 1


def _dashboard(args) -> int:
    from dlab.lab.dashboard import write_dashboard

    print(write_dashboard(Path(args.out), args.lang))
    return 0


def _report(args) -> int:
    from rich.console import Console

    from dlab.lab import report

    report.render(args.run_dir)
    record = report.load_run(args.run_dir)
    report.print_table(record, Console())
    print(f"report: {Path(args.run_dir) / 'report.html'}")
    return 0 if record["status"] == "passed" else 1


def _notebook(args) -> int:
    from dlab.errors import DlabError
    from dlab.lab import catalog
    from dlab.notebook.build import write

    ids = list(catalog.labs()) if args.all else args.labs
    if not ids:
        raise DlabError("Name a lab (`dlab notebook moons-mlp`) or pass --all.")
    for lab_id in ids:
        catalog.get(lab_id)  # unknown ids fail before anything is written
    out = Path(args.out)
    if len(ids) > 1 and out.suffix == ".ipynb":
        raise DlabError(f"--out {out} is one file, but {len(ids)} notebooks are asked for: "
                        "pass a folder.")
    for lab_id in ids:
        path = write(lab_id, out, force=args.force, lang=args.lang, solution=args.solution,
                     quick=args.quick, seed=args.seed)
        if path is None:
            print(f"{lab_id}: the notebook already exists in {out}; kept it (--force to "
                  "overwrite)")
        else:
            print(path)
    return 0


def _grade(args) -> int:
    from rich.console import Console

    from dlab.errors import DlabError
    from dlab.grading.grade import Limits, grade_submission
    from dlab.grading.gradebook import grade_folder
    from dlab.lab import catalog

    catalog.get(args.lab)
    target = Path(args.submission)
    if not target.exists():
        raise DlabError(f"'{target}' does not exist: pass a .py or .ipynb file, or a folder.")
    if args.time_limit <= 0 or args.memory_limit < 256:
        raise DlabError("--time-limit must be > 0 seconds and --memory-limit at least 256 MB.")
    out = Path(args.out or Path("grades") / args.lab)
    options = {"quick": args.quick, "seed": args.seed, "lang": args.lang,
               "limits": Limits(args.time_limit, args.memory_limit), "data_dir": args.data_dir}
    console = Console()
    if target.is_dir():
        results = grade_folder(args.lab, target, out, console=console, **options)
        console.print(f"gradebook: {out / 'gradebook.html'} · {out / 'gradebook.csv'}")
        return 0 if all(r["score"] == r["max_score"] for r in results) else 1
    grade_dir = out / target.name.replace(".", "_")
    result = grade_submission(args.lab, target, grade_dir, **options)
    _print_grade(result, console)
    console.print(f"grade: {grade_dir / 'grade.html'}")
    return 0 if result["score"] == result["max_score"] else 1


def _print_grade(result: dict, console) -> None:
    from rich.table import Table

    from dlab.grading.grade import verdict

    table = Table(title=f"{result['lab']} — {result['submission']}: {result['score']:g} / "
                        f"{result['max_score']:g} ({result['problem_text']})")
    for col in ("item", "result", "detail", "points"):
        table.add_column(col, overflow="fold")
    for row in result["rows"]:
        item = f"{row['exercise']} · {row['name']}" if row["kind"] == "check" else row["text"]
        value = "" if row["value"] is None else f" ({row['value']:.4g})" \
            if isinstance(row["value"], float) else f" ({row['value']})"
        mark = {"PASS": "[green]PASS[/]", "FAIL": "[red]FAIL[/]"}.get(verdict(row), "—")
        table.add_row(item, mark, row["message"] + value, f"{row['points']:g}/{row['max']:g}")
    console.print(table)


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
        commands = {"list": _list, "run": _run, "report": _report, "notebook": _notebook,
                    "grade": _grade, "dashboard": _dashboard}
        return commands[args.command](args)
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
