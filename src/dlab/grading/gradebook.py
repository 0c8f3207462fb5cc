"""Grade a folder of submissions: one grade folder each, then gradebook.csv and gradebook.html
with a row per submission. A submission that fails in any way gets its row; it never stops
the batch."""
from __future__ import annotations

import csv
import html
import io
import shutil
from pathlib import Path

from rich.console import Console

from dlab.errors import DlabError
from dlab.grading.grade import LABELS, Limits, grade_submission, quick_reference, verdict
from dlab.io import write_text
from dlab.lab.batch import overall_progress
from dlab.lab.report import page

MARKS = {"PASS": "<td class='pass'>✓</td>", "FAIL": "<td class='fail'>✗</td>", "—": "<td>—</td>"}
HEADERS = {"en": ["submission", "score", "max_score", "percent", "problem", "message",
                  "seconds", "sandbox"],
           "es": ["entrega", "puntaje", "puntaje_max", "porcentaje", "problema", "mensaje",
                  "segundos", "aislamiento"]}


def sandbox_text(result: dict) -> str:
    """'bubblewrap', or 'none' and what was not isolated."""
    box = result.get("sandbox") or {}
    missing = box.get("not_isolated") or []
    return box.get("sandbox", "none") + (f" (not isolated: {'; '.join(missing)})"
                                         if missing else "")


def submissions(folder: Path) -> list[Path]:
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".py", ".ipynb")
                   and not p.name.startswith("."))
    if not found:
        raise DlabError(f"'{folder}' holds no submission (.py or .ipynb files).")
    return found


def stage(files: list[Path], into: Path) -> list[Path]:
    """Copy every submission before any is graded: the grades come from these copies, so
    nothing a submission does to the folder changes what another is graded on."""
    into.mkdir(parents=True, exist_ok=True)
    staged = []
    for path in files:
        copy = into / path.name
        shutil.copyfile(path, copy)
        staged.append(copy)
    return staged


def grade_folder(lab_id: str, folder: str | Path, out: str | Path, *, lang: str = "en",
                 console: Console | None = None, **options) -> list[dict]:
    folder, out = Path(folder), Path(out)
    files = stage(submissions(folder), out / "_submissions")
    console = console or Console()
    if options.get("quick") and options.get("scored") is None:
        options["scored"] = quick_reference(
            lab_id, out / "_reference", seed=options.get("seed", 0), lang=lang,
            limits=options.get("limits", Limits()), data_dir=options.get("data_dir"))
    results = []
    with overall_progress(console) as progress:
        task = progress.add_task("", total=len(files))
        for path in files:
            progress.update(task, description=f"{lab_id} · {path.name}")
            result = grade_submission(lab_id, path, out / path.name.replace(".", "_"),
                                      lang=lang, **options)
            results.append(result)
            progress.console.print(f"{path.name}: {result['score']:g}/{result['max_score']:g} · "
                                   f"{result['problem_text']} · {result['seconds']:.1f} s",
                                   highlight=False)
            progress.advance(task)
    write_text(out / "gradebook.csv", to_csv(results, lang))
    write_text(out / "gradebook.html", to_html(results, lab_id, lang))
    return results


def _columns(results: list[dict]) -> list[str]:
    return [r["name"] for r in results[0]["rows"]] if results else []


def to_csv(results: list[dict], lang: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS[lang] + _columns(results))
    for r in results:
        writer.writerow([r["submission"], f"{r['score']:g}", f"{r['max_score']:g}", r["percent"],
                         r["problem"], r["message"], r["seconds"], sandbox_text(r)]
                        + [f"{row['points']:g}" for row in r["rows"]])
    return buffer.getvalue()


def to_html(results: list[dict], lab_id: str, lang: str) -> str:
    e = html.escape
    L = LABELS[lang]
    head = "".join(f"<th>{e(h)}</th>" for h in HEADERS[lang][:6])
    head += "".join(f"<th title='{e(c)}'>{i + 1}</th>" for i, c in enumerate(_columns(results)))
    body = []
    for r in results:
        link = f"{r['submission'].replace('.', '_')}/grade.html"
        cells = [f"<a href='{e(link)}'>{e(r['submission'])}</a>",
                 f"{r['score']:g}", f"{r['max_score']:g}", f"{r['percent']:g} %",
                 e(r["problem_text"]), e(r["message"][:200])]
        marks = [MARKS[verdict(row)] for row in r["rows"]]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "".join(marks) + "</tr>")
    legend = "".join(f"<li>{e(c)}</li>" for c in _columns(results))
    return page(f"{lab_id} gradebook", lang,
                f"<h1>{e(lab_id)} — gradebook</h1><table><tr>{head}</tr>{''.join(body)}</table>"
                f"<p>{L['item']}:</p><ol>{legend}</ol>")
