"""The one error type loaders raise, so callers can report bad files without a traceback."""
from __future__ import annotations

from pathlib import Path


class LoadError(Exception):
    """A file could not be turned into a Document; `message` tells the user what to do."""

    def __init__(self, path: Path | str, message: str, detail: str | None = None) -> None:
        self.path = Path(path)
        self.message = message
        self.detail = detail  # for the operator only (CLI, server log): exception text
        super().__init__(f"{self.path.name}: {message}")

    def __str__(self) -> str:
        return f"{self.path.name}: {self.message}"
