"""What a lab declares, as plain data: who it is, where it comes from, what it must achieve.

Nothing here imports torch, so ``dlab list`` can read every lab instantly.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

OPS = (">=", "<=", ">", "<", "between", "is")

# The course's blocks, in course order (the dashboard and `dlab run BLOCK` use them).
BLOCKS = {
    "stage2": ("Stage 2 · deep-learning fundamentals with PyTorch",
               "Stage 2 · fundamentos de deep learning con PyTorch"),
    "pytorch-module": ("PyTorch module · guided practices", "Módulo PyTorch · prácticas guiadas"),
    "part2-foundations": ("Part 2 · perceptron, MLPs, regression and classification",
                          "Parte 2 · perceptrón, MLP, regresión y clasificación"),
    "part2-frameworks": ("Part 2 · frameworks: Keras, TensorFlow, Lightning, JAX",
                         "Parte 2 · frameworks: Keras, TensorFlow, Lightning, JAX"),
    "part2-training": ("Part 2 · training deep networks: callbacks, tuning, init, optimizers",
                       "Parte 2 · entrenar redes profundas: callbacks, ajuste, inicialización, "
                       "optimizadores"),
    "part2-vision": ("Part 2 · computer vision with CNNs",
                     "Parte 2 · visión por computador con CNN"),
    "part2-sequences": ("Part 2 · sequences, text and Transformers",
                        "Parte 2 · secuencias, texto y Transformers"),
    "part2-generative": ("Part 2 · generative models", "Parte 2 · modelos generativos"),
    "part2-rl": ("Part 2 · reinforcement learning", "Parte 2 · aprendizaje por refuerzo"),
}


@dataclass(frozen=True)
class Criterion:
    """An acceptance criterion: ``metrics[metric] <op> threshold``.

    ``between`` takes a ``(low, high)`` pair (both inclusive); ``is`` compares to a boolean.
    ``evidence`` is for a course criterion that was measured to be out of reach: it stays
    visible and checked, and the report shows why it fails."""

    metric: str
    op: str
    threshold: Any
    en: str
    es: str
    evidence: str | None = None

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"Criterion op must be one of {OPS}, got {self.op!r}")

    def holds(self, value) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if self.op == "is":
            return bool(value) is bool(self.threshold)
        if self.op == "between":
            low, high = self.threshold
            return low <= value <= high
        return {">=": value >= self.threshold, "<=": value <= self.threshold,
                ">": value > self.threshold, "<": value < self.threshold}[self.op]

    def expected(self) -> str:
        if self.op == "between":
            return f"in [{self.threshold[0]}, {self.threshold[1]}]"
        if self.op == "is":
            return str(bool(self.threshold)).lower()
        return f"{self.op} {self.threshold}"

    def text(self, lang: str) -> str:
        return self.es if lang == "es" else self.en


@dataclass(frozen=True)
class Lab:
    """A lab's identity card. ``config`` is a dataclass type with the full-mode defaults;
    ``quick`` overrides some of its fields for a tiny budget (smoke tests). ``points`` gives
    a grading weight to a check (by its function name) or a criterion (by its metric);
    everything else is worth 1 point. ``timed`` names metrics measured in wall-clock time,
    which differ from one run to the next (every other metric is a function of the seed).
    ``requires`` maps a package the lab imports to the pip extra of dlab that installs it."""

    id: str
    title_en: str
    title_es: str
    source: str
    block: str
    dataset: str
    criteria: tuple[Criterion, ...]
    config: type
    quick: dict = field(default_factory=dict)
    points: dict = field(default_factory=dict)
    timed: tuple = ()
    requires: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.block not in BLOCKS:
            raise ValueError(f"Lab {self.id}: block must be one of {list(BLOCKS)}, "
                             f"got {self.block!r}")

    def missing_packages(self) -> list[str]:
        """The ``pip install`` lines for the packages of ``requires`` that are not installed."""
        import importlib.util

        return [f"pip install 'dlab[{extra}]'" for package, extra in self.requires.items()
                if importlib.util.find_spec(package) is None]

    def title(self, lang: str) -> str:
        return self.title_es if lang == "es" else self.title_en

    @property
    def course_position(self) -> tuple:
        """(block, session or class number, id): the order labs appear in the course."""
        number = re.search(r"(?:session|class|practices?|exercise)\s+(\d+)", self.source)
        return list(BLOCKS).index(self.block), int(number[1]) if number else 0, self.id

    def weight(self, name: str) -> float:
        return float(self.points.get(name, 1.0))
