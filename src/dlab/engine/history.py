"""What ``Trainer.fit`` returns: one dict of logged values per epoch."""
from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class History:
    epochs: list[dict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stopped_early: bool = False

    def __getitem__(self, key: str) -> list[float]:
        """``history["val_loss"]`` → the value of each epoch (NaN where it was not logged)."""
        return [row.get(key, math.nan) for row in self.epochs]

    def __len__(self) -> int:
        return len(self.epochs)

    def keys(self) -> list[str]:
        seen: dict[str, None] = {}
        for row in self.epochs:
            seen.update(dict.fromkeys(row))
        return list(seen)

    def best(self, key: str, mode: str = "min") -> tuple[int, float]:
        """(epoch, value) of the best logged value of ``key``."""
        values = [(row["epoch"], row[key]) for row in self.epochs if key in row]
        if not values:
            raise KeyError(f"'{key}' was never logged; logged keys: {', '.join(self.keys())}")
        pick = min if mode == "min" else max
        return pick(values, key=lambda ev: ev[1])

    def state_dict(self) -> dict:
        return {"epochs": self.epochs, "warnings": self.warnings,
                "stopped_early": self.stopped_early}

    def load_state_dict(self, state: dict) -> None:
        self.epochs = list(state["epochs"])
        self.warnings = list(state["warnings"])
        self.stopped_early = bool(state["stopped_early"])
