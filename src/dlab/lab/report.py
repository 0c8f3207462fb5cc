"""Render a finished run (its metrics.json) as report.md and a self-contained report.html,
and as a PASS/FAIL table in the terminal."""
from __future__ import annotations

import base64
import html
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from dlab.errors import DlabError
from dlab.io import write_text

LABELS = {
    "en": {"criterion": "Criterion", "value": "Measured", "expected": "Expected",
           "result": "Result", "source": "Course source", "config": "Configuration",
           "metrics": "Metrics", "env": "Environment", "criteria": "Acceptance criteria",
           "evidence": "Evidence", "error": "The run stopped with an error",
           "out_of_reach": "course criteria out of reach here (see the evidence)",
           "quick": "quick mode", "full": "full mode", "checks": "Exercise checks",
           "exercise": "Exercise", "check": "Check", "message": "Message"},
    "es": {"criterion": "Criterio", "value": "Medido", "expected": "Esperado",
           "result": "Resultado", "source": "Fuente del curso", "config": "Configuración",
           "metrics": "Métricas", "env": "Entorno", "criteria": "Criterios de aceptación",
           "evidence": "Evidencia", "error": "La ejecución terminó con un error",
           "out_of_reach": "criterios del curso fuera de alcance aquí (ver la evidencia)",
           "quick": "modo rápido", "full": "modo completo",
           "checks": "Comprobaciones de los ejercicios", "exercise": "Ejercicio",
           "check": "Comprobación", "message": "Mensaje"},
}


def load_run(run_dir: str | Path) -> dict:
    run_dir = Path(run_dir)
    path = run_dir / "metrics.json"
    if not run_dir.is_dir() or not path.exists():
        raise DlabError(f"'{run_dir}' is not a dlab run directory (no metrics.json inside). "
                        "Pass a folder like runs/<lab>/<timestamp>/ written by `dlab run`.")
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise DlabError(f"'{path}' is not valid JSON ({exc}); the run record is damaged.") from None


def _fmt(value) -> str:
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _engine(record: dict) -> str:
    """Precision and memory layout the run's trainers used, e.g. "bf16, channels_last"."""
    trainers = record.get("trainers") or []
    if not trainers:
        return record.get("precision", {}).get("used", "fp32")
    seen = sorted({f"{t['precision']}, {t['memory_format']}" for t in trainers})
    return " / ".join(seen)


def _verdict(row: dict) -> str:
    return "PASS" if row["passed"] else "FAIL"


def print_table(record: dict, console: Console) -> None:
    lang = record.get("lang", "en")
    L = LABELS[lang]
    table = Table(title=f"{record['lab']} — {record['title']}")
    for col in ("criterion", "value", "expected", "result"):
        table.add_column(L[col])
    for row in record["criteria"]:
        color = "green" if row["passed"] else "red"
        table.add_row(row["text"], _fmt(row["value"]), row["expected"],
                      f"[bold {color}]{_verdict(row)}[/]")
    console.print(table)
    if record.get("error"):
        console.print(f"[red]{L['error']}: {record['error']}[/red]")


def render(run_dir: str | Path) -> None:
    run_dir = Path(run_dir)
    record = load_run(run_dir)
    write_text(run_dir / "report.md", to_markdown(record))
    write_text(run_dir / "report.html", to_html(record, run_dir))


def _gaps(record: dict) -> str:
    """' (2 course criteria out of reach here...)' when the run has such criteria failing."""
    n = record.get("out_of_reach", 0)
    return f" ({n} {LABELS[record.get('lang', 'en')]['out_of_reach']})" if n else ""


def to_markdown(record: dict) -> str:
    L = LABELS[record.get("lang", "en")]
    out = [f"# {record['lab']} — {record['title']}", "",
           f"**{L['source']}:** {record['source']}  ",
           f"**{record['status'].upper()}**{_gaps(record)} · "
           f"{record['seconds']:.1f} s · seed {record['seed']} · {_engine(record)} · "
           f"{L['quick'] if record['quick'] else L['full']}", "", record["summary"], "",
           f"## {L['criteria']}", "",
           f"| {L['criterion']} | {L['value']} | {L['expected']} | {L['result']} |",
           "|---|---|---|---|"]
    for row in record["criteria"]:
        out.append(f"| {row['text']} | {_fmt(row['value'])} | {row['expected']} | "
                   f"{_verdict(row)} |")
        if row.get("evidence"):
            out.append(f"| ↳ {L['evidence']}: {row['evidence']} | | | |")
    if record.get("error"):
        out += ["", f"**{L['error']}:** {record['error']}"]
    if record.get("checks"):
        out += ["", f"## {L['checks']}", "",
                f"| {L['exercise']} | {L['check']} | {L['result']} | {L['message']} |",
                "|---|---|---|---|"]
        out += [f"| {c['exercise']} | {c['name']} | {'PASS' if c['passed'] else 'FAIL'} | "
                f"{c['message']} |" for c in record["checks"]]
    out.append("")
    for item in record.get("story", []):
        if item["kind"] == "text":
            out += [item["text"], ""]
        elif item["kind"] == "figure":
            out += [f"![{item['path']}]({item['path']})", ""]
        elif item["kind"] == "table":
            out += [f"**{item['title']}**" if item["title"] else "", "",
                    "| " + " | ".join(item["headers"]) + " |",
                    "|" + "---|" * len(item["headers"])]
            out += ["| " + " | ".join(r) + " |" for r in item["rows"]]
            out.append("")
    out += [f"## {L['metrics']}", "", "```json", json.dumps(record["metrics"], indent=2), "```",
            "", f"## {L['config']}", "", "```json", json.dumps(record["config"], indent=2), "```",
            "", f"## {L['env']}", "", "```json", json.dumps(record["environment"], indent=2),
            "```", ""]
    return "\n".join(out)


def to_html(record: dict, run_dir: Path) -> str:
    L = LABELS[record.get("lang", "en")]
    e = html.escape
    parts = [f"<h1>{e(record['lab'])} — {e(record['title'])}</h1>",
             f"<p><b>{L['source']}:</b> {e(record['source'])}<br>"
             f"<b class='{record['status']}'>{record['status'].upper()}</b>"
             f"{e(_gaps(record))} · "
             f"{record['seconds']:.1f} s · seed {record['seed']} · {e(_engine(record))} · "
             f"{L['quick'] if record['quick'] else L['full']}</p>",
             markdown_html(record["summary"]), criteria_html(record)]
    if record.get("error"):
        parts.append(f"<p class='fail'><b>{L['error']}:</b> {e(record['error'])}</p>")
    if record.get("checks"):
        rows = [[c["exercise"], c["name"], "PASS" if c["passed"] else "FAIL", c["message"]]
                for c in record["checks"]]
        parts.append(html_table(L["checks"], [L["exercise"], L["check"], L["result"],
                                              L["message"]], rows))
    for item in record.get("story", []):
        if item["kind"] == "text":
            parts.append(markdown_html(item["text"]))
        elif item["kind"] == "figure":
            png = run_dir / item["path"]
            if png.exists():  # embedded, so the HTML file can be mailed or moved on its own
                data = base64.b64encode(png.read_bytes()).decode()
                parts.append(f"<figure><img src='data:image/png;base64,{data}'></figure>")
        elif item["kind"] == "table":
            parts.append(html_table(item["title"], item["headers"], item["rows"]))
    for key in ("metrics", "config", "environment"):
        label = L["env"] if key == "environment" else L[key]
        parts.append(f"<h2>{label}</h2><pre>{e(json.dumps(record[key], indent=2))}</pre>")
    return page(record["lab"], record.get("lang", "en"), "\n".join(parts))


STYLE = ("body{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
             "padding:4px 8px;text-align:left}.pass,.passed{color:#080;font-weight:bold}"
             ".fail,.failed,.error{color:#b00;font-weight:bold}img{max-width:100%}"
         "pre{background:#f6f6f6;padding:1em;overflow:auto}")


def page(title: str, lang: str, body: str) -> str:
    """A self-contained HTML page (style inline, no external file)."""
    return (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>"
            + body + "</body></html>\n")


def markdown_html(text: str) -> str:
    from markdown_it import MarkdownIt  # rich's own markdown parser

    return MarkdownIt("commonmark").enable("table").render(text)


def html_table(title: str, headers: list[str], rows: list[list]) -> str:
    """A plain HTML table; cells reading PASS or FAIL are coloured."""
    e = html.escape
    head = f"<h3>{e(title)}</h3>" if title else ""

    def td(value) -> str:
        text = str(value)
        cls = f" class='{text.lower()}'" if text in ("PASS", "FAIL") else ""
        return f"<td{cls}>{e(text)}</td>"

    return (head + "<table><tr>" + "".join(f"<th>{e(str(h))}</th>" for h in headers) + "</tr>"
            + "".join("<tr>" + "".join(td(c) for c in r) + "</tr>" for r in rows) + "</table>")


def criteria_html(record: dict) -> str:
    """The PASS/FAIL table of a run, as HTML (the report's and the notebook's last cell)."""
    L = LABELS[record.get("lang", "en")]
    e = html.escape
    rows = []
    for row in record["criteria"]:
        ev = (f"<br><small>{L['evidence']}: {e(row['evidence'])}</small>"
              if row.get("evidence") else "")
        rows.append(f"<tr><td>{e(row['text'])}{ev}</td><td>{e(_fmt(row['value']))}</td>"
                    f"<td>{e(row['expected'])}</td><td class='{_verdict(row).lower()}'>"
                    f"{_verdict(row)}</td></tr>")
    return (f"<h2>{L['criteria']}</h2><table><tr>"
            + "".join(f"<th>{L[c]}</th>" for c in ("criterion", "value", "expected", "result"))
            + "</tr>" + "".join(rows) + "</table>")
