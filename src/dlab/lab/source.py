"""Read a lab file: a Python script in jupytext's percent format, split into cells.

    # %% [markdown] lang="en"          narrative, one cell per language
    # %% spec                          Config + LAB: read by `dlab list` (no torch here)
    # %%                               lab code, run by `dlab run` and by the notebook
    # %% exercise="build_model"        one function a student writes (the lab holds the solution)
    # %% check                         that exercise's checks (`@ctx.check("build_model")`)

Every header is valid jupytext (`key="value"` metadata, a bare word is a flag), so the file also
opens in editors and tools that know the format. Nothing here imports torch.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from dlab.errors import DlabError

ROLES = ("spec", "code", "exercise", "check")
_HEADER = re.compile(r"^# %%(?P<rest>.*)$")
_TOKEN = re.compile(r'(\w+)(?:=("(?:[^"\\]|\\.)*"|\S+))?')


class LabSourceError(DlabError):
    """A lab file does not follow the lab format (a mistake of the lab's author)."""


@dataclass(frozen=True)
class Cell:
    kind: str  # "markdown" or "code"
    source: str
    line: int  # 1-based line of the first source line in the file
    meta: dict = field(default_factory=dict)

    @property
    def lang(self) -> str | None:
        return self.meta.get("lang")

    @property
    def role(self) -> str:
        """markdown, or for code cells: spec, exercise, check or code."""
        if self.kind == "markdown":
            return "markdown"
        for role in ("spec", "exercise", "check"):
            if role in self.meta:
                return role
        return "code"

    @property
    def exercise(self) -> str | None:
        return self.meta.get("exercise")


def _parse_header(rest: str, where: str) -> tuple[str, dict]:
    rest = rest.strip()
    kind = "code"
    if rest.startswith("[markdown]"):
        kind, rest = "markdown", rest[len("[markdown]"):]
    meta = {}
    for key, value in _TOKEN.findall(rest):
        if not value:
            meta[key] = True
            continue
        try:
            meta[key] = json.loads(value)
        except ValueError:
            raise LabSourceError(f"{where}: cell header value {key}={value} is not valid JSON "
                                 f'(write {key}="...").') from None
    return kind, meta


def _markdown_text(lines: list[str], where: str) -> str:
    out = []
    for text in lines:
        if text.startswith("# "):
            out.append(text[2:])
        elif text.rstrip() == "#" or not text.strip():
            out.append("")
        else:
            raise LabSourceError(f"{where}: a markdown cell line must start with '# ': {text!r}")
    return "\n".join(out).strip("\n")


def parse(text: str, path: str = "<lab>") -> list[Cell]:
    """Split a percent-format script into cells, with file line numbers kept."""
    cells: list[Cell] = []
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if _HEADER.match(line)]
    if not starts:
        raise LabSourceError(f"{path}: no '# %%' cell header; a lab file is a list of cells.")
    if any(line.strip() for line in lines[:starts[0]]):
        raise LabSourceError(f"{path}: text before the first '# %%' header would be lost; "
                             "put it in a cell.")
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        where = f"{path}:{start + 1}"
        kind, meta = _parse_header(_HEADER.match(lines[start])["rest"], where)
        body = lines[start + 1:end]
        if kind == "markdown":
            if meta.get("lang") not in ("en", "es"):
                raise LabSourceError(f'{where}: a markdown cell needs lang="en" or lang="es".')
            cells.append(Cell("markdown", _markdown_text(body, where), start + 2, meta))
            continue
        unknown = set(meta) - {"spec", "exercise", "check"}
        if unknown:
            raise LabSourceError(f"{where}: unknown cell setting(s) {sorted(unknown)}; code "
                                 "cells take spec, exercise=\"name\" or check.")
        while body and not body[-1].strip():
            body.pop()
        cells.append(Cell("code", "\n".join(body), start + 2, meta))
    return cells


def exercise_function(cell: Cell, path: str = "<lab>") -> ast.FunctionDef:
    """The one top-level function an exercise cell defines; its name is the exercise's."""
    tree = ast.parse(cell.source)
    defs = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    if len(tree.body) != 1 or len(defs) != 1 or defs[0].name != cell.exercise:
        raise LabSourceError(f"{path}:{cell.line}: an exercise cell holds exactly one function, "
                             f"named like the exercise ('{cell.exercise}').")
    return defs[0]


def declared_checks(cell: Cell) -> list[tuple[str, str]]:
    """(exercise, check name) of every ``@ctx.check("exercise")`` function in a check cell,
    found without running anything, so a grader knows every check even when a run stops."""
    found = []
    for node in ast.parse(cell.source).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                    and deco.func.attr == "check" and deco.args
                    and isinstance(deco.args[0], ast.Constant)):
                found.append((deco.args[0].value, node.name))
    return found


def read(path: Path) -> list[Cell]:
    return parse(path.read_text(encoding="utf-8"), str(path))
