"""What a running lab can use: its settings, a place for figures and tables, and narration
that ends up in the console and in the report."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown


@dataclass
class Context:
    lab_id: str
    out: Path
    lang: str = "en"
    quick: bool = False
    seed: int = 0
    device: str = "auto"
    data_dir: str | None = None
    console: Console = field(default_factory=Console)
    resuming: bool = False
    story: list[dict] = field(default_factory=list)  # narration, figures, tables, in order

    def t(self, en: str, es: str) -> str:
        """Pick the text in the run's language."""
        return es if self.lang == "es" else en

    def say(self, en: str, es: str) -> None:
        """A paragraph of explanation (markdown), shown now and kept for the report."""
        text = self.t(en, es)
        self.story.append({"kind": "text", "text": text})
        self.console.print(Markdown(text))

    def figure(self, name: str, fig, en: str, es: str) -> Path:
        """Save a matplotlib figure as ``figures/<name>.png`` with a caption."""
        import matplotlib.pyplot as plt

        path = self.out / "figures" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        caption = self.t(en, es)
        self.story.append({"kind": "figure", "path": f"figures/{name}.png", "caption": caption})
        self.console.print(f"[dim]figure: {path}[/dim]")
        return path

    def table(self, headers: list[str], rows: list[list], en: str, es: str) -> None:
        """A small table (list of rows), printed now and included in the report."""
        from rich.table import Table

        title = self.t(en, es)
        rows = [[_cell(v) for v in row] for row in rows]
        self.story.append({"kind": "table", "title": title, "headers": headers, "rows": rows})
        table = Table(title=title)
        for h in headers:
            table.add_column(h)
        for row in rows:
            table.add_row(*row)
        self.console.print(table)

    @property
    def checkpoint_path(self) -> Path:
        return self.out / "best.safetensors"

    @property
    def state_path(self) -> Path:
        return self.out / "train_state.pt"

    def fit_options(self) -> dict:
        """Keyword arguments for the lab's main ``Trainer.fit``: save the training state every
        epoch, and pick it up again when the run is resumed (``dlab run ID --resume DIR``)."""
        return {"state_path": self.state_path,
                "resume": self.state_path if self.resuming else None}

    def trainer_options(self) -> dict:
        """Keyword arguments every lab passes to ``Trainer`` (device, console)."""
        return {"device": self.device, "console": self.console}


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
