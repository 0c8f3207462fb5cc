"""Datasets by name: ``dlab.data.load("moons")``; fast in-memory batches: ``Batches``."""
from dlab.data.batches import Batches
from dlab.data.registry import Dataset, load, names, register

__all__ = ["Batches", "Dataset", "load", "names", "register"]
