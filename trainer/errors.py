"""The trainer's user errors: what `emotion-train` prints in one line and exits 1 for.

`TrainerError` is the one kind the command line catches (with OSError, for a folder it
cannot write); its message says what was wrong and how to fix it.
"""

from __future__ import annotations


class TrainerError(ValueError):
    """A problem the user can fix: a bad option, a missing file, a model not to trust."""


class DataError(TrainerError):
    """The dataset is missing, malformed or not FER2013-shaped; the message says where."""


class ExportError(TrainerError):
    """The model cannot be loaded, converted or trusted; the message says what to change."""
