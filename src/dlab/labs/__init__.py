"""The labs: one percent-format script per lab (see ``dlab.lab.source`` and
docs/ARCHITECTURE.md). These files are not imported as modules: ``dlab run`` executes their
cells in order, ``dlab notebook`` turns them into notebooks, ``dlab grade`` swaps in a
student's exercise functions."""
