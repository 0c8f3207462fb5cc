"""Write a lab as a Jupyter notebook: its markdown in one language, its code cells as they
are, its exercises as stubs (student version) or solved (solution version)."""
from __future__ import annotations

from pathlib import Path

from dlab.errors import DlabError
from dlab.exercises import stub
from dlab.io import write_text
from dlab.lab import catalog

TEXT = {
    "en": {"student": "student version", "solution": "solution",
           "criteria": "What this lab must achieve",
           "howto": "Run the cells from top to bottom. Each ✏️ exercise is a function for you "
                    "to write; the cell after it checks it and stops here until it passes. "
                    "The last cell trains nothing new: it checks the lab's criteria and writes "
                    "the report. Set `quick=True` below for a fast trial run.",
           "exercise": "✏️ Exercise {n}: `{name}`",
           "settings": "the lab's settings; change one (e.g. cfg.epochs = 10) to experiment"},
    "es": {"student": "versión del estudiante", "solution": "solución",
           "criteria": "Qué debe lograr este laboratorio",
           "howto": "Ejecuta las celdas de arriba abajo. Cada ejercicio ✏️ es una función que "
                    "escribes tú; la celda siguiente la comprueba y se detiene ahí hasta que "
                    "pase. La última celda no entrena nada nuevo: comprueba los criterios del "
                    "laboratorio y escribe el informe. Pon `quick=True` abajo para una prueba "
                    "rápida.",
           "exercise": "✏️ Ejercicio {n}: `{name}`",
           "settings": "la configuración del laboratorio; cambia un campo (p. ej. "
                       "cfg.epochs = 10) para experimentar"},
}


def _nbformat():
    try:
        import nbformat
    except ImportError:
        raise DlabError("Notebooks need the nbformat package: pip install 'dlab[notebooks]'."
                        ) from None
    return nbformat


def build(lab_id: str, *, lang: str = "en", solution: bool = False, quick: bool = False,
          seed: int = 0):
    """The notebook (an nbformat v4 object) of ``lab_id``."""
    nbf = _nbformat().v4
    labfile = catalog.get(lab_id)
    lab, T = labfile.lab, TEXT[lang]
    version = T["solution"] if solution else T["student"]
    criteria = "\n".join(f"- {c.text(lang)}" for c in lab.criteria)
    cells = [
        nbf.new_markdown_cell(f"# {lab.title(lang)}\n\n*{lab.source}* · `{lab.id}` · "
                              f"{version}\n\n**{T['criteria']}**\n\n{criteria}\n\n{T['howto']}"),
        nbf.new_code_cell(f"from dlab.notebook import open_lab\n\n"
                          f"ctx, cfg = open_lab({lab.id!r}, lang={lang!r}, quick={quick}, "
                          f"seed={seed})\ncfg  # {T['settings']}"),
    ]
    number = 0
    for cell in labfile.cells:
        if cell.kind == "markdown":
            if cell.lang == lang:
                cells.append(nbf.new_markdown_cell(cell.source))
        elif cell.role == "exercise":
            number += 1
            cells.append(nbf.new_markdown_cell(T["exercise"].format(n=number,
                                                                    name=cell.exercise)))
            code = (stub.localize if solution else stub.stub)(cell.source, lang)
            cells.append(nbf.new_code_cell(code, metadata={"dlab": {"exercise": cell.exercise}}))
        elif cell.role in ("code", "check"):
            cells.append(nbf.new_code_cell(cell.source, metadata={"dlab": {"role": cell.role}}))
    notebook = nbf.new_notebook(cells=cells)
    notebook.metadata.update({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "dlab": {"lab": lab.id, "lang": lang, "solution": solution, "quick": quick,
                 "seed": seed},
    })
    return notebook


def default_name(lab_id: str, lang: str, solution: bool) -> str:
    return f"{lab_id}{'-solution' if solution else ''}{'' if lang == 'en' else '.' + lang}.ipynb"


def write(lab_id: str, path: str | Path, force: bool = True, **options) -> Path | None:
    """Write the notebook to ``path`` (a file, or a folder for the default name). With
    ``force=False`` an existing file is kept (it may hold a student's work): returns None."""
    path = Path(path)
    if path.is_dir() or not path.suffix:
        path = path / default_name(lab_id, options.get("lang", "en"),
                                   options.get("solution", False))
    if path.exists() and not force:
        return None
    notebook = build(lab_id, **options)
    nbformat = _nbformat()
    nbformat.validate(notebook)
    try:
        write_text(path, nbformat.writes(notebook))
    except OSError as exc:
        raise DlabError(f"Could not write the notebook to '{path}': {exc.strerror}. Pass "
                        "--out with a folder you can write to.") from None
    return path
