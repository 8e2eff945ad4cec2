"""The one exception family that pages turn into st.error and the CLI into exit code 2."""


class VitrineError(Exception):
    """A user-facing error whose message says what went wrong and what to do."""


class ConfigError(VitrineError):
    """Missing key, unknown provider, bad workspace: fixable by the user, never retried."""


class EvaluationError(VitrineError):
    """An evaluation input is unusable; the message names the file, column or representation at fault."""
