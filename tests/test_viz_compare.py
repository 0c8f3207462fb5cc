"""Comparison plots: smoothing maths, and every helper draws without error."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from dlab.viz.compare import curves, grouped_bars, predicted_vs_true, smooth  # noqa: E402


def test_smooth_is_a_trailing_mean_of_the_same_length():
    v = [1.0, 3.0, 5.0, 7.0]
    assert smooth(v, 2).tolist() == [1.0, 2.0, 4.0, 6.0]
    assert smooth(v, 1).tolist() == v
    assert smooth([], 5).tolist() == []


def test_helpers_draw():
    fig, axes = plt.subplots(1, 3)
    curves(axes[0], {"a": [3, 2, 1], "b": ([0.5, 1.0, 1.5], [2, 1, 0.5])}, logy=True,
           hlines={"target": 1.0})
    assert len(axes[0].get_lines()) == 3
    grouped_bars(axes[1], ["x", "y"], {"m1": [0.9, 1.0], "m2": [0.95, 0.97]}, ylim=(0.8, 1.05))
    assert len(axes[1].patches) == 4
    y = np.linspace(0, 5, 5000)
    predicted_vs_true(axes[2], y, y + 0.1, max_points=100)
    assert len(axes[2].collections[0].get_offsets()) == 100
    plt.close(fig)


def test_grouped_bars_needs_one_value_per_group():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError):
        grouped_bars(ax, ["x", "y"], {"m": [1.0]})
    plt.close(fig)
