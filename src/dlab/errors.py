"""User-facing errors.

Every problem a student can fix (bad input, missing data, wrong config, a broken checkpoint)
is raised as a ``DlabError``: one paragraph that names what was wrong and how to fix it.
The CLI prints it without a traceback and exits with code 2.
"""


class DlabError(Exception):
    """A problem with the user's input or environment, explained in plain words."""


class DataError(DlabError):
    """A dataset is missing, corrupt, or could not be downloaded."""


class ConfigError(DlabError):
    """A lab or trainer setting has a wrong name, type or value."""


class CheckpointError(DlabError):
    """A checkpoint is unreadable, corrupt, or belongs to another model."""


class TrainingError(DlabError):
    """Training hit a classic mistake that the training doctor recognises."""
