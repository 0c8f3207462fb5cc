"""Turn an exercise's reference solution into what a notebook shows.

The solution's docstring holds the task in both languages, each part opened by its tag:

    def build_model(hidden):
        \"\"\"[en] Return an MLP ...
        [es] Devuelve un MLP ...
        \"\"\"

``localize`` keeps the part in one language; ``stub`` also replaces the body with
``raise NotImplementedError``: the student version.
"""
from __future__ import annotations

import ast
import re

_TAG = re.compile(r"\[(en|es)\]")
TODO = {"en": "Write your code here, then run the checks below.",
        "es": "Escribe tu código aquí y luego ejecuta las comprobaciones de abajo."}


def docstring_parts(doc: str) -> dict[str, str]:
    """{"en": ..., "es": ...} from a docstring with [en] / [es] tags."""
    pieces = _TAG.split(doc)
    parts = {pieces[i]: pieces[i + 1] for i in range(1, len(pieces) - 1, 2)}
    if set(parts) != {"en", "es"}:
        raise ValueError("an exercise docstring needs an [en] part and an [es] part")
    return {lang: _dedent(text) for lang, text in parts.items()}


def _dedent(text: str) -> str:
    lines = text.strip("\n").splitlines()
    first, rest = lines[0].strip(), lines[1:]
    indents = [len(s) - len(s.lstrip()) for s in rest if s.strip()]
    cut = min(indents, default=0)
    return "\n".join([first] + [s[cut:] for s in rest]).strip()


def _split(source: str) -> tuple[list[str], ast.FunctionDef, str]:
    lines = source.splitlines()
    fn = next(n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef))
    first = fn.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        raise ValueError(f"exercise '{fn.name}' needs a docstring with [en] and [es] parts")
    indent = " " * first.col_offset
    return lines, fn, indent


def _docstring(text: str, indent: str) -> list[str]:
    body = text.replace('"""', r'\"\"\"').splitlines()
    if len(body) == 1:
        return [f'{indent}"""{body[0]}"""']
    return [f'{indent}"""{body[0]}'] + [f"{indent}{s}" if s else "" for s in body[1:]] + \
        [f'{indent}"""']


def localize(source: str, lang: str) -> str:
    """The solution with its docstring in ``lang`` only."""
    lines, fn, indent = _split(source)
    doc = fn.body[0]
    text = docstring_parts(doc.value.value)[lang]
    out = lines[:doc.lineno - 1] + _docstring(text, indent) + lines[doc.end_lineno:]
    return "\n".join(out)


def stub(source: str, lang: str) -> str:
    """Signature and docstring in ``lang``; the body is left for the student."""
    lines, fn, indent = _split(source)
    doc = fn.body[0]
    text = docstring_parts(doc.value.value)[lang]
    head = lines[:doc.lineno - 1]
    return "\n".join(head + _docstring(text, indent)
                     + [f"{indent}# {TODO[lang]}", f"{indent}raise NotImplementedError"])
