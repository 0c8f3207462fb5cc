"""Grade one submission: run the worker under limits, then score what it reported.

    <out>/grade.json       every check and criterion: pass/fail, value or message, points
    <out>/grade.html       the same, self-contained
    <out>/submission.py    the code that was graded (a notebook's code cells), for line numbers
    <out>/log.txt          what the student's code and the lab printed
    <out>/runs/<lab>/...   the lab's own run folder and report, when the lab ran
"""
from __future__ import annotations

import html
import itertools
import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from dlab.errors import DlabError
from dlab.grading.submission import SubmissionError, read_script
from dlab.io import write_json, write_text
from dlab.lab import catalog
from dlab.lab.report import html_table, page


@dataclass(frozen=True)
class Limits:
    seconds: float = 600.0
    memory_mb: int = 4096


PROBLEMS = {  # what a gradebook row says about a submission, worst first
    "unreadable": ("the file cannot be read", "no se puede leer el archivo"),
    "syntax_error": ("syntax error", "error de sintaxis"),
    "missing_function": ("missing or misnamed function", "función faltante o mal nombrada"),
    "timeout": ("time limit exceeded", "se excedió el tiempo límite"),
    "memory": ("memory limit exceeded", "se excedió el límite de memoria"),
    "crashed": ("the grading process crashed", "el proceso de corrección terminó abruptamente"),
    "not_written": ("exercise not written", "ejercicio sin escribir"),
    "wrong_type": ("wrong return type", "tipo de retorno incorrecto"),
    "exception": ("exception", "excepción"),
    "wrong_shape": ("wrong shape", "forma incorrecta"),
    "wrong_value": ("wrong value", "valor incorrecto"),
    "criteria": ("a lab criterion fails", "un criterio del laboratorio no se cumple"),
    "ok": ("all checks and criteria pass", "pasan todas las comprobaciones y criterios"),
}


def _limit_resources(memory_mb: int):
    def apply():  # runs in the child, before the worker starts
        size = memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return apply


_RUNS = itertools.count()


def run_worker(job: dict, out: Path, limits: Limits) -> tuple[str | None, float]:
    """Run the worker; returns (how it ended abnormally or None, seconds). When it returns,
    every process of the submission's sandbox is gone."""
    job_path = out / "job.json"
    job = {**job, "seconds": limits.seconds, "memory_mb": limits.memory_mb,
           "name": f"dlab-{os.getpid()}-{next(_RUNS)}"}
    write_json(job_path, job)
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    ended = None
    with open(out / "log.txt", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dlab.grading.worker", str(job_path)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True,
                                preexec_fn=_limit_resources(limits.memory_mb))
        try:
            code = proc.wait(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            ended = "timeout"
        else:
            # Killed by a signal (the kernel's OOM killer sends SIGKILL) or died on its own.
            ended = None if code == 0 else ("memory" if code == -signal.SIGKILL else "crashed")
    _end_sandbox(_events(Path(job["events"])), job["name"])
    return ended, time.perf_counter() - started


def _end_sandbox(events: list[dict], name: str) -> None:
    """Kill what is left of the sandbox if the worker could not (it was killed itself)."""
    from dlab.grading.sandbox import PIDS_ROOT, kill_cgroup

    kill_cgroup(PIDS_ROOT / name)
    for event in events:
        if event.get("event") == "sandbox" and isinstance(event.get("pid"), int):
            try:
                os.killpg(event["pid"], signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    events = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:  # a line cut short when the process was killed
            continue
    return events


def isolation(events: list[dict]) -> dict:
    """How the submission was isolated, and what its process printed and left behind."""
    started = next((e for e in events if e["event"] == "sandbox"), {})
    ended = next((e for e in events if e["event"] == "sandbox_end"), {})
    return {"sandbox": started.get("sandbox", "not started"),
            "not_isolated": started.get("not_isolated", []),
            "process_cap": started.get("process_cap"),
            "output_kept_bytes": ended.get("output_kept_bytes"),
            "output_dropped_bytes": ended.get("output_dropped_bytes")}


def score(labfile, events: list[dict], ended: str | None, lang: str,
          scored: set[str] | None = None) -> dict:
    """Rows for every declared check and criterion, with points, from the worker's events.
    ``scored``: the criteria that count (in quick mode, those the reference solution meets
    with the same budget); None means all of them."""
    lab = labfile.lab
    es = lang == "es"
    checks = {(e["exercise"], e["name"]): e for e in events if e["event"] == "check"}
    missing = {e["exercise"]: e.get("found") for e in events if e["event"] == "missing"}
    errors = [e for e in events if e["event"] == "error"]
    finished = next((e["record"] for e in events if e["event"] == "finished"), None)
    load_error = next((e for e in errors if e["stage"] == "load"), None)

    def not_run(exercise: str | None) -> tuple[str, str]:
        if load_error and load_error["kind"] == "syntax_error":
            return "syntax_error", ("no se ejecutó: error de sintaxis" if es
                                    else "not run: syntax error")
        if exercise in missing:
            found = missing[exercise]
            hint = ((f" (se encontró `{found}`: renómbrala `{exercise}`)" if es else
                     f" (found `{found}`: rename it `{exercise}`)") if found else "")
            return "missing_function", (f"falta la función `{exercise}`{hint}" if es else
                                        f"function `{exercise}` is missing{hint}")
        if exercise is None and missing:
            return "missing_function", ("no se ejecutó: faltan funciones" if es
                                        else "not run: functions are missing")
        if ended:
            label = PROBLEMS[ended][1 if es else 0]
            return ended, f"no se ejecutó: {label}" if es else f"not run: {label}"
        lab_error = next((e for e in errors if e["stage"] == "lab"), None)
        if lab_error:
            return lab_error["kind"], (f"el laboratorio se detuvo: {lab_error['message']}" if es
                                       else f"the lab stopped: {lab_error['message']}")
        return "exception", "no se ejecutó" if es else "not run"

    rows = []
    for exercise, name in labfile.checks:
        event = checks.get((exercise, name))
        if event is not None:
            passed, kind, message = event["passed"], event["kind"], event["message"]
        else:
            passed = False
            kind, message = not_run(exercise)
        rows.append({"kind": "check", "exercise": exercise, "name": name, "passed": passed,
                     "problem": kind, "value": None, "message": message,
                     "max": lab.weight(name)})
    measured = {c["metric"]: c for c in (finished or {}).get("criteria", [])}
    for criterion in lab.criteria:
        row = measured.get(criterion.metric)
        if row is not None:
            passed, value, message = row["passed"], row["value"], row["expected"]
            kind = "ok" if passed else "criteria"
        else:
            passed, value = False, None
            kind, message = not_run(None)
        weight, met = lab.weight(criterion.metric), passed
        if criterion.metric in lab.timed:
            weight, passed, kind = 0.0, True, "ok"
            message = ("sin puntaje al corregir: mide tiempos, y cada llamada a tus funciones "
                       "cruza el canal del sandbox" if es else "not scored when grading: it "
                       "measures time, and every call to your functions crosses the sandbox's "
                       "channel")
        elif scored is not None and criterion.metric not in scored:
            weight, passed, kind = 0.0, True, "ok"
            message = ("sin puntaje en modo rápido: la solución de referencia tampoco lo "
                       "alcanza con este presupuesto" if es else "not scored in quick mode: "
                       "the reference solution does not reach it on this budget either")
        rows.append({"kind": "criterion", "exercise": None, "name": criterion.metric,
                     "text": criterion.text(lang), "passed": passed, "met": met,
                     "problem": kind, "value": value, "message": message, "max": weight})
    for row in rows:
        row["points"] = row["max"] if row["passed"] else 0.0
    problems = [r["problem"] for r in rows if not r["passed"]]
    if load_error and load_error["kind"] == "syntax_error":
        problems.insert(0, "syntax_error")
    if ended:
        problems.insert(0, ended)
    problem = min(problems, key=list(PROBLEMS).index) if problems else "ok"
    detail = next((r["message"] for r in rows if not r["passed"] and r["problem"] == problem),
                  "")
    if load_error and (problem == "syntax_error" or not detail):
        detail = load_error["message"]
    total, best = sum(r["points"] for r in rows), sum(r["max"] for r in rows)
    return {"score": total, "max_score": best, "percent": round(100 * total / best, 1) if best
            else 0.0, "problem": problem, "problem_text": PROBLEMS[problem][1 if es else 0],
            "message": detail, "rows": rows,
            "lab_status": (finished or {}).get("status"),
            "errors": [{k: e[k] for k in ("stage", "kind", "message")} for e in errors]}


def quick_reference(lab_id: str, out: Path, **options) -> set[str]:
    """The criteria the lab's own solution meets in quick mode (graded like a submission)."""
    labfile = catalog.get(lab_id)
    script = out / "reference.py"
    out.mkdir(parents=True, exist_ok=True)
    write_text(script, "\n\n\n".join(c.source for c in labfile.cells if c.role == "exercise"))
    result = grade_submission(lab_id, script, out / "grade", quick=True, scored=set(), **options)
    return {r["name"] for r in result["rows"] if r["kind"] == "criterion" and r["met"]}


def grade_submission(lab_id: str, submission: str | Path, out: str | Path, *,
                     quick: bool = False, seed: int = 0, lang: str = "en",
                     limits: Limits = Limits(), data_dir: str | None = None,
                     scored: set[str] | None = None) -> dict:
    """Grade one .py or .ipynb into the folder ``out``; returns what grade.json holds.

    In quick mode only the criteria in ``scored`` count; by default, those the reference
    solution meets in quick mode (found by grading it first, in ``out/reference``)."""
    labfile = catalog.get(lab_id)
    if quick and scored is None:
        scored = quick_reference(lab_id, Path(out) / "reference", seed=seed, lang=lang,
                                 limits=limits, data_dir=data_dir)
    submission, out = Path(submission), Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DlabError(f"Cannot create the grade folder '{out}': {exc.strerror}. Pass --out "
                        "with a folder you can write to.") from None
    started = time.perf_counter()
    try:
        script = read_script(submission)
    except SubmissionError as exc:
        result = score(labfile, [], "unreadable", lang, scored)
        result["message"] = str(exc)
        ended = "unreadable"
    else:
        write_text(out / "submission.py", script)
        events_path = out / "events.jsonl"
        events_path.unlink(missing_ok=True)
        job = {"lab": lab_id, "script": str((out / "submission.py").resolve()),
               "events": str(events_path.resolve()), "runs": str((out / "runs").resolve()),
               "quick": quick, "seed": seed, "lang": lang, "data_dir": data_dir,
               "hidden": [str(submission.resolve().parent), str(out.resolve())]}
        ended, _ = run_worker(job, out, limits)
        events = _events(events_path)
        result = score(labfile, events, ended, lang, scored)
        result["sandbox"] = isolation(events)
    reports = sorted((out / "runs").glob(f"{lab_id}/*/report.html"))
    result.setdefault("sandbox", {"sandbox": "not started", "not_isolated": []})
    result.update({
        "lab": lab_id, "title": labfile.lab.title(lang), "submission": submission.name,
        "quick": quick, "seed": seed, "lang": lang,
        "limits": {"seconds": limits.seconds, "memory_mb": limits.memory_mb},
        "seconds": round(time.perf_counter() - started, 2), "ended": ended,
        "report": str(reports[-1].relative_to(out)) if reports else None,
    })
    write_json(out / "grade.json", result)
    write_text(out / "grade.html", to_html(result))
    return result


LABELS = {
    "en": {"score": "Score", "kind": "Kind", "item": "Check or criterion", "result": "Result",
           "value": "Measured", "detail": "Detail", "points": "Points", "check": "check",
           "criterion": "criterion", "report": "The lab's report", "mode": ("full", "quick")},
    "es": {"score": "Puntaje", "kind": "Tipo", "item": "Comprobación o criterio",
           "result": "Resultado", "value": "Medido", "detail": "Detalle", "points": "Puntos",
           "check": "comprobación", "criterion": "criterio", "report": "Informe del laboratorio",
           "mode": ("completo", "rápido")},
}


def verdict(row: dict) -> str:
    """PASS, FAIL, or a dash for a criterion that is not scored (quick mode)."""
    if row["max"] == 0:
        return "—"
    return "PASS" if row["passed"] else "FAIL"


def _item(row: dict) -> str:
    return f"{row['exercise']} · {row['name']}" if row["kind"] == "check" else row["text"]


def _number(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else ("" if value is None else str(value))


def to_html(result: dict) -> str:
    L = LABELS[result["lang"]]
    e = html.escape
    rows = [[L[r["kind"]], _item(r), verdict(r), _number(r["value"]),
             r["message"], f"{r['points']:g} / {r['max']:g}"] for r in result["rows"]]
    link = (f"<p><a href='{e(result['report'])}'>{L['report']}</a></p>"
            if result.get("report") else "")
    body = (f"<h1>{e(result['lab'])} — {e(result['submission'])}</h1>"
            f"<p><b>{L['score']}: {result['score']:g} / {result['max_score']:g} "
            f"({result['percent']:g} %)</b> · {e(result['problem_text'])} · "
            f"{result['seconds']:.1f} s · {L['mode'][result['quick']]} · seed {result['seed']}"
            f"</p><p>{e(result['message'])}</p>"
            + html_table("", [L["kind"], L["item"], L["result"], L["value"], L["detail"],
                              L["points"]], rows) + link)
    return page(f"{result['lab']} — {result['submission']}", result["lang"], body)
