"""The hand-written parts the course teaches: autograd, perceptron, backprop by hand.

These are for understanding, not speed; the tests check them against torch.
"""

from dlab.scratch.autograd import Tensor, topo_sort
from dlab.scratch.backprop import forward, init_params, loss
from dlab.scratch.graph import draw_graph
from dlab.scratch.perceptron import Perceptron, truth_table

__all__ = [
    "Perceptron",
    "Tensor",
    "draw_graph",
    "forward",
    "init_params",
    "loss",
    "topo_sort",
    "truth_table",
]
