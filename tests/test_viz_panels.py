"""dlab.viz.panels: capacity sweep, marked minimum, compact confusion matrix."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlab.viz.panels import capacity_sweep, confusion_panel, mark_minimum  # noqa: E402


def test_capacity_sweep_draws_both_lines_and_stars_the_best():
    fig, ax = plt.subplots()
    capacity_sweep(ax, ["a", "b", "c"], [0.5, 0.2, 0.1], [0.6, 0.3, 0.9], best=1, logy=True)
    lines = ax.get_lines()
    assert len(lines) == 3  # train, validation, star
    assert np.allclose(lines[2].get_xydata(), [[1, 0.3]])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_mark_minimum_returns_and_marks_the_argmin():
    fig, ax = plt.subplots()
    x, y = [1, 2, 3, 4], [0.9, 0.4, 0.6, np.nan]
    assert mark_minimum(ax, x, y, "min") == (2, 0.4)
    assert ax.texts[0].get_text() == "min"
    plt.close(fig)


def test_confusion_panel_shows_counts_and_row_recall():
    fig, ax = plt.subplots()
    confusion_panel(ax, np.array([[90, 10], [6, 4]]), ["maj", "min"], "t")
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["90", "10", "90%", "6", "4", "40%"]
    plt.close(fig)
