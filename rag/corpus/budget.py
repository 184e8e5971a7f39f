"""A time budget for ingesting one document, checked where the work loops.

Limits on size catch most hostile files before any work starts, but a file can be small and still
slow (a PDF whose pages each take seconds to lay out, a document that makes thousands of chunks
on a loaded machine). Ingestion therefore runs each document under a budget
(`limits.max_ingest_seconds`); the loops that do the work (PDF pages, DOCX blocks, provisions,
chunks, embedding batches) call `check_time()`, which raises a LoadError once the budget is spent.
The error is raised before the document's commit point, so nothing of it is indexed.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from .errors import LoadError


@dataclass(frozen=True)
class _Budget:
    path: Path
    seconds: float
    deadline: float


_current: ContextVar[_Budget | None] = ContextVar("ingest_budget", default=None)


class BudgetExceeded(LoadError):
    """The document took longer than its ingestion budget; nothing of it was written."""


@contextmanager
def time_budget(path: Path | str, seconds: float | None) -> Iterator[None]:
    """Run the body under a budget of `seconds` (None or <= 0: no limit). Nested budgets keep
    the tighter deadline."""
    outer = _current.get()
    if not seconds or seconds <= 0:
        yield
        return
    mine = _Budget(Path(path), float(seconds), time.monotonic() + float(seconds))
    if outer is not None and outer.deadline < mine.deadline:
        mine = outer
    token = _current.set(mine)
    try:
        yield
    finally:
        _current.reset(token)


def check_time() -> None:
    """Raise BudgetExceeded when the current document's budget is spent; free when none is set."""
    b = _current.get()
    if b is not None and time.monotonic() > b.deadline:
        raise BudgetExceeded(b.path, f"ingesting it took longer than the limit of {b.seconds:g} s "
                                     "(limits.max_ingest_seconds); nothing of it was indexed")
