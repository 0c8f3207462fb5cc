"""Draw the computational graph behind a ``Tensor`` with plain matplotlib (no graphviz).

Boxes are values (data and grad), circles are the operations that produced them.
Inputs sit on the left and each result one column further right than its deepest input,
so the forward pass reads left to right and backprop right to left.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text

from dlab.scratch.autograd import Tensor, topo_sort


def _preview(values: np.ndarray, n: int = 3) -> str:
    """A scalar as one number, an array as its first ``n`` entries."""
    if values.size == 1:
        return f"{values.item():.4g}"
    shown = " ".join(f"{v:.3g}" for v in values.ravel()[:n])
    return f"[{shown}{' …' if values.size > n else ''}]"


def _value_text(node: Tensor) -> str:
    lines = [node.label] if node.label else []
    if node.data.size > 1:
        lines.append(f"shape {node.shape}")
    lines += [f"data {_preview(node.data)}", f"grad {_preview(node.grad)}"]
    return "\n".join(lines)


def draw_graph(root: Tensor, ax: Axes | None = None) -> Figure:
    """Draw every value and operation ``root`` depends on; return the Figure.

    One text artist per node (``gid`` "value" or "op"), so ``len(ax.texts)`` counts nodes.
    """
    order = topo_sort(root)
    # Depth = longest path from an input. A value of depth d sits in column 2d and the op
    # that made it in column 2d - 1, between its inputs and itself.
    depth: dict[int, int] = {}
    for node in order:
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
    n_columns = 2 * max(depth.values()) + 1

    # Stack the nodes of each column top to bottom, in topological order.
    rows_used = [0] * n_columns
    position: dict[tuple[int, str], tuple[float, float]] = {}
    for node in order:
        kinds = [("value", 2 * depth[id(node)])]
        if node._prev:
            kinds.append(("op", 2 * depth[id(node)] - 1))
        for kind, column in kinds:
            position[(id(node), kind)] = (float(column), -float(rows_used[column]))
            rows_used[column] += 1
    n_rows = max(rows_used)

    if ax is None:
        fig, ax = plt.subplots(figsize=(1.2 * n_columns + 0.6, 0.9 * n_rows + 0.3))
        fig.subplots_adjust(left=0, right=1, bottom=0, top=1)
    fig = ax.figure
    ax.set_xlim(-0.75, n_columns - 0.25)
    ax.set_ylim(-n_rows + 0.5, 0.5)
    ax.axis("off")

    texts: dict[tuple[int, str], Text] = {}
    for node in order:
        x, y = position[(id(node), "value")]
        texts[(id(node), "value")] = ax.text(
            x, y, _value_text(node), ha="center", va="center", fontsize=8, gid="value",
            bbox={"boxstyle": "round", "facecolor": "#dbeafe", "edgecolor": "#1e3a8a"},
        )
        if node._prev:
            x, y = position[(id(node), "op")]
            texts[(id(node), "op")] = ax.text(
                x, y, node._op, ha="center", va="center", fontsize=9, gid="op",
                bbox={"boxstyle": "circle", "facecolor": "#fde68a", "edgecolor": "#92400e"},
            )

    # Arrows must start and end on the box borders, whose size is only known once the
    # text has been laid out: draw once, then measure each box in data coordinates.
    fig.canvas.draw()
    to_data = ax.transData.inverted()

    def border(key: tuple[int, str], side: int) -> tuple[float, float]:
        corners = to_data.transform(texts[key].get_bbox_patch().get_window_extent().get_points())
        return corners[side][0], position[key][1]  # side 0: left edge, 1: right edge

    def arrow(start: tuple[int, str], end: tuple[int, str]) -> None:
        ax.add_patch(FancyArrowPatch(
            border(start, 1), border(end, 0), arrowstyle="-|>", mutation_scale=10,
            shrinkA=0, shrinkB=0, color="#555555",
        ))

    for node in order:
        if node._prev:
            for child in node._prev:
                arrow((id(child), "value"), (id(node), "op"))
            arrow((id(node), "op"), (id(node), "value"))
    return fig
