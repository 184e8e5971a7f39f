"""Typed index failures with one-line messages a person can act on (file and command named)."""
from __future__ import annotations

from pathlib import Path

REPAIR = "rag index repair"


class IndexDamaged(RuntimeError):
    """An index file cannot be read (corrupt, truncated, wrong format). The message names the
    file and the command that repairs it; callers print it instead of a traceback."""

    def __init__(self, path: Path | str, problem: str, fix: str = REPAIR) -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"{self.path}: {problem}. Fix: {fix}")
