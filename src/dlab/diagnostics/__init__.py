"""The training doctor: recognises classic training mistakes and explains the fix."""
from dlab.diagnostics.doctor import Doctor

__all__ = ["Doctor"]
