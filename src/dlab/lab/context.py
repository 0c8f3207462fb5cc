"""What a running lab's cells can use (as ``ctx``): its settings, a place for figures and
tables, exercise checks, and ``finish`` to check the criteria and write the run's record.

The same object serves both faces of a lab: under ``dlab run`` it prints to the console; in a
notebook (``notebook=True``) figures and tables show inline under their cell.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rich.console import Console
from rich.markdown import Markdown

from dlab.exercises.checks import CheckResult, ExerciseNotPassing, run_check
from dlab.io import write_json


@dataclass
class Context:
    lab: object  # dlab.lab.catalog.LabFile
    out: Path
    record: dict  # what metrics.json holds; ``finish`` completes it
    lang: str = "en"
    quick: bool = False
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # as asked (auto, fp32, bf16, fp16); each Trainer resolves it
    console: Console = field(default_factory=Console)
    resuming: bool = False
    notebook: bool = False
    listener: Callable[[dict], None] | None = None  # told of each check and of the end
    checks: list[CheckResult] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @property
    def story(self) -> list[dict]:  # narration, figures, tables, in order (for the report)
        return self.record["story"]

    def t(self, en: str, es: str) -> str:
        """Pick a short label (axis, column, legend) in the run's language."""
        return es if self.lang == "es" else en

    def narrate(self, text: str) -> None:
        """A markdown cell under `dlab run`: shown in the console, kept for the report."""
        self.story.append({"kind": "text", "text": text})
        self.console.print(Markdown(text))

    def figure(self, name: str, fig) -> Path:
        """Save a matplotlib figure as ``figures/<name>.png`` (and show it in a notebook)."""
        import matplotlib.pyplot as plt

        path = self.out / "figures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        self.story.append({"kind": "figure", "path": f"figures/{name}.png"})
        if self.notebook:
            from IPython.display import Image, display

            display(Image(filename=str(path)))
        else:
            self.console.print(f"[dim]figure: {path}[/dim]")
        return path

    def table(self, headers: list[str], rows: list[list], title: str = "") -> None:
        """A small table, shown now and kept for the report."""
        rows = [[_cell(v) for v in row] for row in rows]
        self.story.append({"kind": "table", "title": title, "headers": list(headers),
                           "rows": rows})
        if self.notebook:
            from IPython.display import HTML, display

            from dlab.lab.report import html_table

            display(HTML(html_table(title, headers, rows)))
            return
        from rich.table import Table

        table = Table(title=title or None)
        for h in headers:
            table.add_column(h)
        for row in rows:
            table.add_row(*row)
        self.console.print(table)

    def check(self, exercise: str):
        """Decorator for a check of ``exercise``: runs it at once and reports the outcome."""
        def decorate(fn):
            result = run_check(fn, exercise, self.lang)
            self.checks.append(result)
            self.record["checks"] = [c.to_dict() for c in self.checks]
            if self.listener:
                self.listener({"event": "check", **result.to_dict()})
            mark = "[green]✓[/]" if result.passed else "[red]✗[/]"
            self.console.print(f"{mark} {exercise} · {fn.__name__}"
                               + (f" — {result.message}" if result.message else ""),
                               highlight=False)
            if self.notebook and not result.passed:
                raise ExerciseNotPassing(self.t(
                    f"✗ {exercise}: {result.message}\nFix it and run this cell again before "
                    "going on.",
                    f"✗ {exercise}: {result.message}\nCorrígelo y vuelve a ejecutar esta celda "
                    "antes de seguir."))
            return fn
        return decorate

    def finish(self, metrics: dict) -> dict:
        """Check the criteria on ``metrics``, write metrics.json and the report, show the
        PASS/FAIL table. The last cell of every lab calls it."""
        from dlab.lab import report

        lab = self.lab.lab
        self.record["seconds"] = time.perf_counter() - self.started
        self.record["metrics"] = metrics
        self.record["criteria"] = [
            {"metric": c.metric, "text": c.text(self.lang), "value": metrics.get(c.metric),
             "expected": c.expected(), "passed": c.holds(metrics.get(c.metric)),
             "evidence": c.evidence}
            for c in lab.criteria
        ]
        # A course criterion declared out of reach (with measured evidence) is still checked
        # and shown, but does not fail the run: the lab's own defensible criteria decide.
        self.record["status"] = ("passed" if all(r["passed"] or r["evidence"]
                                                 for r in self.record["criteria"]) else "failed")
        self.record["out_of_reach"] = sum(not r["passed"] and bool(r["evidence"])
                                          for r in self.record["criteria"])
        write_json(self.out / "metrics.json", self.record)
        report.render(self.out)
        if self.listener:
            self.listener({"event": "finished", "record": self.record})
        if self.notebook:
            from IPython.display import HTML, display

            display(HTML(report.criteria_html(self.record)))
        else:
            report.print_table(self.record, self.console)
            self.console.print(f"[dim]{self.record['seconds']:.1f} s · report: "
                               f"{self.out / 'report.html'}[/dim]")
        return self.record

    @property
    def checkpoint_path(self) -> Path:
        return self.out / "best.safetensors"

    @property
    def state_path(self) -> Path:
        return self.out / "train_state.pt"

    def shared_model(self, model, name: str, settings: dict, train) -> dict:
        """Load the weights of a model several labs reuse (see :mod:`dlab.lab.shared_models`),
        or train it with ``train(model) -> metrics`` and save it for the next lab. ``settings``
        is everything that shapes the weights; quick mode and the seed are added here."""
        from dlab.lab.shared_models import load_or_train, shared_path
        key = {**settings, "quick": self.quick, "seed": self.seed}
        path = shared_path(self.out.parent.parent, name, key)
        return load_or_train(model, path, train, warn=self.console.print)

    def fit_options(self) -> dict:
        """Keyword arguments for the lab's main ``Trainer.fit``: save the training state every
        epoch, and pick it up again when the run is resumed (``dlab run ID --resume DIR``)."""
        return {"state_path": self.state_path,
                "resume": self.state_path if self.resuming else None}

    def trainer_options(self, precision: str | None = None) -> dict:
        """Keyword arguments every lab passes to ``Trainer``: device, console, language (of
        the training doctor's messages), the run's precision (``precision="fp32"`` pins it,
        for a lab that needs exact arithmetic), and a log of what each trainer chose, kept in
        metrics.json."""
        return {"device": self.device, "console": self.console, "lang": self.lang,
                "precision": precision or self.precision,
                "setup_log": self.record.setdefault("trainers", [])}


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
