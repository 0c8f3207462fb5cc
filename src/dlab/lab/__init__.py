"""The lab framework. A lab is one percent-format file in ``dlab/labs/`` (see
``dlab.lab.source``); its ``spec`` cell declares what it is (``Lab``, ``Criterion``, a
``Config``), its other cells run in order under ``dlab run`` and as a notebook."""
from dlab.lab.spec import Criterion, Lab

__all__ = ["Criterion", "Lab"]
