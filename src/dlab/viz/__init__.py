"""Plots the labs share: decision boundaries, training curves, confusion matrices."""
import sys

import matplotlib

if "ipykernel" not in sys.modules:  # headless by default; notebooks keep their inline backend
    matplotlib.use("Agg")

from dlab.viz.plots import (confusion_matrix_figure, decision_boundary,  # noqa: E402
                            training_curves)

__all__ = ["confusion_matrix_figure", "decision_boundary", "training_curves"]
