"""Helpers for the labs that teach other frameworks (Keras, TensorFlow, Lightning, JAX): each
module imports its framework when it is imported, never before, so `dlab list` stays fast."""
