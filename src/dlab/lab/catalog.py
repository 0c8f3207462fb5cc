"""Find labs: every percent-format file in ``dlab/labs/``. Only each file's ``spec`` cell is
run here (it declares ``Config`` and ``LAB`` and imports nothing heavy), so listing is fast."""
from __future__ import annotations

import difflib
import json
import sys
import types
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

from dlab.errors import DlabError
from dlab.lab import source
from dlab.lab.source import Cell, LabSourceError
from dlab.lab.spec import Lab

LABS_DIR = Path(__file__).resolve().parent.parent / "labs"


@dataclass(frozen=True)
class LabFile:
    """A lab's source file, its cells and its declaration."""

    path: Path
    cells: tuple[Cell, ...]
    lab: Lab

    @property
    def id(self) -> str:
        return self.lab.id

    @cached_property
    def exercises(self) -> list[str]:
        return [c.exercise for c in self.cells if c.role == "exercise"]

    @cached_property
    def checks(self) -> list[tuple[str, str]]:
        """(exercise, check) pairs, in the order the lab runs them."""
        return [pair for c in self.cells if c.role == "check" for pair in source.declared_checks(c)]

    def summary(self, lang: str) -> str:
        """The lab's first markdown cell in ``lang``: what the lab is about."""
        return next((c.source for c in self.cells if c.kind == "markdown" and c.lang == lang), "")

    def imports(self):
        """The top-level import statements of the lab's code cells, compiled: what exercise
        functions may rely on, whoever wrote them."""
        import ast

        nodes = [node for c in self.cells if c.role in ("code", "check")
                 for node in ast.parse(self.code_text(c)).body
                 if isinstance(node, (ast.Import, ast.ImportFrom))]
        return compile(ast.Module(body=nodes, type_ignores=[]), str(self.path), "exec")

    def reference_functions(self) -> dict:
        """The lab's own solution of each exercise, by name (for tests and graders)."""
        namespace: dict = {"__name__": "__lab__"}
        exec(self.imports(), namespace)
        for cell in self.cells:
            if cell.role == "exercise":
                exec(self.code(cell), namespace)
        return {name: namespace[name] for name in self.exercises}

    def code_text(self, cell: Cell) -> str:
        """A cell's source, padded so its line numbers are the file's."""
        return "\n" * (cell.line - 1) + cell.source

    def code(self, cell: Cell):
        """Compile a cell with the file's own name and line numbers (for clear tracebacks)."""
        return compile(self.code_text(cell), str(self.path), "exec")


def load_file(path: Path) -> LabFile:
    cells = tuple(source.read(path))
    specs = [c for c in cells if c.role == "spec"]
    if len(specs) != 1:
        raise LabSourceError(f"{path}: a lab has exactly one '# %% spec' cell, found {len(specs)}.")
    # The spec runs as a module of its own, so its dataclasses behave like ordinary ones.
    module = types.ModuleType(f"dlab.labs.{path.stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    exec(compile("\n" * (specs[0].line - 1) + specs[0].source, str(path), "exec"),
         module.__dict__)
    lab = getattr(module, "LAB", None)
    if not isinstance(lab, Lab):
        raise LabSourceError(f"{path}: the spec cell must define LAB = Lab(...).")
    labfile = LabFile(path, cells, lab)
    for cell in cells:
        if cell.role == "exercise":
            source.exercise_function(cell, str(path))
    unknown = {ex for ex, _ in labfile.checks} - set(labfile.exercises)
    if unknown:
        raise LabSourceError(f"{path}: checks for unknown exercise(s) {sorted(unknown)}.")
    return labfile


@lru_cache(maxsize=1)
def labs() -> dict[str, LabFile]:
    found = {}
    for path in sorted(LABS_DIR.glob("*.py")):
        if path.name.startswith("_"):
            continue
        labfile = load_file(path)
        found[labfile.id] = labfile
    return found


def get(lab_id: str) -> LabFile:
    every = labs()
    if lab_id not in every:
        # Compared in lower case, so MOONS-MLP or Moons_MLP still finds moons-mlp.
        by_key = {i.lower(): i for i in every}
        key = lab_id.lower().replace("_", "-")
        close = [by_key[k] for k in difflib.get_close_matches(key, by_key, n=3, cutoff=0.5)]
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise DlabError(f"Unknown lab '{lab_id}'.{hint} Run `dlab list` to see every lab id.")
    return every[lab_id]


def last_result(out: Path, lab_id: str) -> dict | None:
    """The metrics.json of the most recent run of ``lab_id`` under ``out``, if any."""
    lab_dir = out / lab_id
    if not lab_dir.is_dir():
        return None
    for run_dir in sorted((p for p in lab_dir.iterdir() if p.is_dir()), reverse=True):
        try:
            return json.loads((run_dir / "metrics.json").read_text())
        except (OSError, ValueError):
            continue
    return None
