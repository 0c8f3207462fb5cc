"""Model definitions shared by the labs."""
from dlab.models.mlp import MLP

__all__ = ["MLP"]
