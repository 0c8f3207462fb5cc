"""A lab's notebook face. ``dlab notebook ID`` writes the .ipynb (``dlab.notebook.build``);
its first code cell calls ``open_lab``, which does what ``dlab run`` does before the lab's
first cell and returns ``ctx, cfg``."""
from __future__ import annotations


def open_lab(lab_id: str, *, lang: str = "en", quick: bool = False, seed: int = 0,
             device: str = "auto", precision: str | None = None, data_dir: str | None = None,
             out: str = "runs"):
    """Start a run of ``lab_id`` from a notebook: seeded, with a run folder under ``out``;
    figures and tables show inline and the last cell (``ctx.finish``) writes the report."""
    from dlab.lab.runner import start

    return start(lab_id, quick=quick, seed=seed, device=device, data_dir=data_dir, lang=lang,
                 out=out, precision=precision, notebook=True, face="notebook")
