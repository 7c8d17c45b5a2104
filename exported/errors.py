"""The one error of reading an exported version."""

from __future__ import annotations

__all__ = ["ExportedError"]


class ExportedError(ValueError):
    """An exported model, version or file in it is missing, corrupt or not what export writes.

    The message names the folder or file.
    """
