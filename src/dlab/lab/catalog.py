"""Find labs: every module in ``dlab.labs`` that defines ``LAB`` and ``run``."""
from __future__ import annotations

import difflib
import importlib
import json
import pkgutil
from functools import lru_cache
from pathlib import Path
from types import ModuleType

from dlab.errors import DlabError


@lru_cache(maxsize=1)
def lab_modules() -> dict[str, ModuleType]:
    import dlab.labs

    found = {}
    for info in sorted(pkgutil.iter_modules(dlab.labs.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"dlab.labs.{info.name}")
        if hasattr(module, "LAB") and hasattr(module, "run"):
            found[module.LAB.id] = module
    return found


def get(lab_id: str) -> ModuleType:
    labs = lab_modules()
    if lab_id not in labs:
        close = difflib.get_close_matches(lab_id, labs, n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise DlabError(f"Unknown lab '{lab_id}'.{hint} Run `dlab list` to see every lab id.")
    return labs[lab_id]


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
