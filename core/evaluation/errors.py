"""The evaluation package's user-facing error (bad interaction files, unknown representations, ...)."""

from core.errors import VitrineError


class EvaluationError(VitrineError):
    """An evaluation input is unusable; the message names the file, column or representation at fault."""
