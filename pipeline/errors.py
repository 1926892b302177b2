"""The errors the pipeline raises for the user: each message is one line meant to be read, not a traceback.

TensorFlow-free, so every module (and the dashboard) can catch them without importing a framework.
"""

from __future__ import annotations


class PipelineError(ValueError):
    """Base class: something the user gave or has is not usable; ``str(exc)`` says what and how to fix it."""


class ConfigError(PipelineError):
    """An impossible configuration value. ``field`` names the ``RunConfig`` field (``None`` for a whole file)."""

    def __init__(self, field: str | None, message: str):
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class DataError(PipelineError):
    """Bad or unreachable data (missing columns, labels outside {0, 1}, unreadable files)."""


class ModelError(PipelineError):
    """A checkpoint that cannot be found or loaded."""


class RunError(PipelineError):
    """A run folder that is missing, incomplete or broken."""
