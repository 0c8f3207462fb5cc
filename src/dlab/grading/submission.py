"""Read a student's submission (.py, or .ipynb with its code cells in order) and keep what the
grader loads from it: the top-level imports, functions and classes. Anything else at top level
(training the whole lab again, printing, plotting) is left out, so grading runs the lab once,
under the grader's control."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from dlab.errors import DlabError

KEEP = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_MAGIC = re.compile(r"^(\s*)([%!])")


class SubmissionError(DlabError):
    """The submission file cannot be read as Python code."""


def read_script(path: Path) -> str:
    """The submission as one Python script (a notebook's code cells, magics commented out)."""
    if path.suffix not in (".py", ".ipynb"):
        raise SubmissionError(f"'{path.name}' is neither a .py file nor a notebook (.ipynb).")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SubmissionError(f"'{path.name}' could not be read: {exc}.") from None
    if path.suffix == ".py":
        return text
    try:
        cells = json.loads(text)["cells"]
        sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                   for c in cells if c.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError):
        raise SubmissionError(f"'{path.name}' is not a valid notebook (its JSON has no list of "
                              "cells); save it again from Jupyter.") from None
    # IPython magics (%matplotlib, !pip) are not Python: keep them visible, as comments.
    return "\n\n".join("\n".join(_MAGIC.sub(r"\1# \2", line) for line in src.splitlines())
                       for src in sources) + "\n"


def _is_lab_check(node) -> bool:
    """A ``@ctx.check(...)`` function: part of the lab's notebook, not the student's work."""
    return any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
               and d.func.attr == "check" for d in getattr(node, "decorator_list", []))


def definitions(script: str, filename: str) -> tuple[list, list[str]]:
    """Compile each top-level import, function and class of ``script`` on its own (line
    numbers kept), so one that fails to load does not take the others with it. Returns the
    code objects and the names of the functions defined. Raises SyntaxError."""
    tree = ast.parse(script, filename)
    kept = [node for node in tree.body if isinstance(node, KEEP) and not _is_lab_check(node)]
    names = [n.name for n in kept if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    codes = [compile(ast.Module(body=[node], type_ignores=[]), filename, "exec") for node in kept]
    return codes, names
