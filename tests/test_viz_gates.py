"""dlab.viz.gates: the four corners of a logic gate, big and labelled."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from dlab.scratch import truth_table
from dlab.viz.gates import gate_regions


def test_gate_regions_labels_every_corner():
    X, y = truth_table("xor")
    fig, ax = plt.subplots()
    gate_regions(ax, lambda grid: (grid[:, 0] > 0.5).astype(int), X, y, "xor")
    assert [t.get_text() for t in ax.texts] == ["0", "1", "1", "0"]
    assert ax.get_title() == "xor"
    big = ax.collections[-1]
    assert np.allclose(big.get_offsets(), X) and big.get_sizes()[0] > 100
    plt.close(fig)
