"""The lab framework: a lab declares what it is (``Lab``, ``Criterion``) and a ``run(ctx, cfg)``
function; the runner (``dlab.lab.runner``) does the rest: seeding, timing, criteria, reports."""
from dlab.lab.spec import Criterion, Lab

__all__ = ["Criterion", "Lab"]
