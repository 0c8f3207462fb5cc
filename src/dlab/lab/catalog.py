"""Find labs: every percent-format file in ``dlab/labs/<block>/`` (one folder per course block,
named like the block with underscores). Only each file's ``spec`` cell is
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
from dlab.lab.spec import BLOCKS, Lab

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
    module = types.ModuleType(f"dlab.labs.{path.parent.name}.{path.stem}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module
    exec(compile("\n" * (specs[0].line - 1) + specs[0].source, str(path), "exec"),
         module.__dict__)
    lab = getattr(module, "LAB", None)
    if not isinstance(lab, Lab):
        raise LabSourceError(f"{path}: the spec cell must define LAB = Lab(...).")
    if path.parent.parent == LABS_DIR and path.parent.name != lab.block.replace("-", "_"):
        raise LabSourceError(f"{path}: lab {lab.id} declares block {lab.block!r}; move it to "
                             f"labs/{lab.block.replace('-', '_')}/.")
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
    """Every lab by id, in course order (block, then session or class)."""
    found = [load_file(path) for path in LABS_DIR.glob("*/*.py") if not path.name.startswith("_")]
    return {f.id: f for f in sorted(found, key=lambda f: f.lab.course_position)}


def select(names: list[str]) -> list[str]:
    """Lab ids from a mix of lab ids and block names (a block means all of its labs), in the
    order given, without repeats. An unknown name fails before anything runs."""
    every, chosen = labs(), []
    for name in names:
        ids = [i for i, f in every.items() if f.lab.block == name] if name in BLOCKS else \
            [get(name).id]
        chosen += [i for i in ids if i not in chosen]
    return chosen


def get(lab_id: str) -> LabFile:
    every = labs()
    if lab_id not in every:
        # Compared in lower case, so MOONS-MLP or Moons_MLP still finds moons-mlp.
        by_key = {i.lower(): i for i in every}
        key = lab_id.lower().replace("_", "-")
        close = [by_key[k] for k in difflib.get_close_matches(key, by_key, n=3, cutoff=0.5)]
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise DlabError(f"Unknown lab '{lab_id}'.{hint} Run `dlab list` to see every lab id "
                        f"(course blocks: {', '.join(BLOCKS)}).")
    return every[lab_id]


def runs_of(out: str | Path, lab_id: str, quick: bool | None = None):
    """(run folder, record) of each readable run of ``lab_id`` under ``out``, newest first;
    ``quick`` keeps only quick (True) or full (False) runs."""
    lab_dir = Path(out) / lab_id
    if not lab_dir.is_dir():
        return
    for run_dir in sorted((p for p in lab_dir.iterdir() if p.is_dir()), reverse=True):
        try:
            record = json.loads((run_dir / "metrics.json").read_text())
        except (OSError, ValueError):
            continue
        if quick is None or bool(record.get("quick")) == quick:
            yield run_dir, record


def last_result(out: str | Path, lab_id: str, quick: bool | None = None) -> dict | None:
    """The metrics.json of the most recent run of ``lab_id`` under ``out``, if any."""
    return next((record for _, record in runs_of(out, lab_id, quick)), None)


def last_result_dir(out: str | Path, lab_id: str, quick: bool | None = None) -> Path | None:
    return next((run_dir for run_dir, _ in runs_of(out, lab_id, quick)), None)
