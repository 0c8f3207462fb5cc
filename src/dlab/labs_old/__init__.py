"""One module per lab. Each defines ``LAB`` (a dlab.lab.Lab), a ``Config`` dataclass and
``run(ctx, cfg) -> dict`` of metrics. Heavy imports (torch...) live inside ``run`` so that
``dlab list`` can read every lab without loading them."""
