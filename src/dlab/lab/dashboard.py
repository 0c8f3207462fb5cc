"""The course dashboard: one self-contained page, ``<runs>/index.html``, with every lab in course
order grouped by block: its source, the status of its last full and last quick run, its criteria
with the measured values, the time it took, and a link to its report. Reads metrics.json files
only (no torch), so it is instant."""
from __future__ import annotations

import html
from pathlib import Path

from dlab.io import write_text
from dlab.lab import catalog
from dlab.lab.report import page
from dlab.lab.spec import BLOCKS

TEXT = {
    "en": {"title": "dlab — course dashboard", "lab": "Lab", "source": "Course source",
           "full": "Last full run", "quick": "Last quick run", "criteria": "Criteria (last run)",
           "never": "not run yet", "passing": "{n} of {total} labs pass in full mode",
           "report": "report", "seconds": "s"},
    "es": {"title": "dlab — tablero del curso", "lab": "Laboratorio", "source": "Fuente del curso",
           "full": "Última ejecución completa", "quick": "Última ejecución rápida",
           "criteria": "Criterios (última ejecución)", "never": "sin ejecutar",
           "passing": "{n} de {total} laboratorios pasan en modo completo",
           "report": "informe", "seconds": "s"},
}
STYLE = ("body{max-width:1280px}table{width:100%}.passed{color:#080}.failed,.error{color:#b00}"
         ".interrupted,.running{color:#a60}"
         ".never{color:#888}td{vertical-align:top}ul{margin:0;padding-left:1.1em}"
         "h2 small{font-weight:normal;color:#555}")


def _status(run: tuple | None, out: Path, T: dict) -> str:
    if run is None:
        return f"<span class='never'>{T['never']}</span>"
    run_dir, record = run
    link = (run_dir / "report.html").relative_to(out).as_posix()
    return (f"<b class='{record['status']}'>{record['status'].upper()}</b><br>"
            f"{record['seconds']:.1f} {T['seconds']} · {html.escape(record.get('started', ''))}"
            f"<br><a href='{html.escape(link)}'>{T['report']}</a>")


def _criteria(record: dict | None) -> str:
    if not record or not record.get("criteria"):
        return ""
    items = []
    for c in record["criteria"]:
        value = c["value"]
        shown = f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))
        # A course criterion out of reach here (declared with evidence) is amber, not red.
        state = "passed" if c["passed"] else "interrupted" if c.get("evidence") else "failed"
        mark = {"passed": "✓", "interrupted": "◌", "failed": "✗"}[state]
        items.append(f"<li class='{state}'>{mark} "
                     f"{html.escape(c['text'])}: <b>{shown}</b> ({html.escape(c['expected'])})"
                     "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def build(out: Path, lang: str = "en") -> str:
    T = TEXT[lang]
    labs = catalog.labs()
    sections, passing = [], 0
    for block, names in BLOCKS.items():
        members = [f for f in labs.values() if f.lab.block == block]
        if not members:
            continue
        rows, block_passing = [], 0
        for labfile in members:
            lab = labfile.lab
            full = next(catalog.runs_of(out, lab.id, quick=False), None)
            quick = next(catalog.runs_of(out, lab.id, quick=True), None)
            block_passing += bool(full and full[1]["status"] == "passed")
            latest = (full or quick or (None, None))[1]
            rows.append(f"<tr><td><b>{html.escape(lab.id)}</b><br>"
                        f"{html.escape(lab.title(lang))}</td><td>{html.escape(lab.source)}</td>"
                        f"<td>{_status(full, out, T)}</td><td>{_status(quick, out, T)}</td>"
                        f"<td>{_criteria(latest)}</td></tr>")
        passing += block_passing
        total = T["passing"].format(n=block_passing, total=len(members))
        sections.append(
            f"<h2>{html.escape(names[1] if lang == 'es' else names[0])} <small>· {total}</small>"
            f"</h2><table><tr><th>{T['lab']}</th><th>{T['source']}</th><th>{T['full']}</th>"
            f"<th>{T['quick']}</th><th>{T['criteria']}</th></tr>{''.join(rows)}</table>")
    head = (f"<style>{STYLE}</style><h1>{T['title']}</h1>"
            f"<p><b>{T['passing'].format(n=passing, total=len(labs))}</b></p>")
    return page(T["title"], lang, head + "".join(sections))


def write_dashboard(out: Path, lang: str = "en") -> Path:
    path = out / "index.html"
    write_text(path, build(out, lang))
    return path
