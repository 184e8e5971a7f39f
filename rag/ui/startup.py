"""What the app does beside serving: build (or rebuild) the index, then load the models.

Both run in a background thread, so the page is served at once and shows the build's
progress instead of a frozen browser tab.
"""
from __future__ import annotations

import logging
import sys
import threading
import time

from ..api import TreatyQA

log = logging.getLogger("rag.ui")


def _console(msg: str, done: int, total: int) -> None:
    """Ingestion progress is reported before each file (done = files finished so far)."""
    if done < total:
        print(f"  [{done + 1}/{total}] {msg}", file=sys.stderr, flush=True)


def prepare(qa: TreatyQA) -> None:
    """Build the index when needed, then warm the model and lookups; never raises."""
    t0 = time.perf_counter()
    try:
        report = qa.ensure_index(progress=_console)
        if report is not None:
            print(report.summary(), file=sys.stderr, flush=True)
            print(f"Index ready in {time.perf_counter() - t0:.0f} s.", file=sys.stderr, flush=True)
        if qa.index.is_empty():
            print(f"The index is empty and the corpus folder ({qa.settings.corpus_dir}) holds no documents. "
                  "Run `rag corpus download` or add documents in the app's 'Add documents' tab.",
                  file=sys.stderr, flush=True)
            return
        for problem in qa.index.check():  # operators read the log; users get a banner without details
            log.warning("index damaged: %s", problem.line())
        # Not the batch model (sentence-transformers, for uploads): its import holds the interpreter
        # for seconds, which delayed the first answer in a browser from 10 s to 17-23 s (measured,
        # scripts/cold_start.py); the first upload loads it.
        warm_up(qa)
    except Exception:  # noqa: BLE001 - the app stays up and says the index is unavailable
        log.exception("preparing the index failed")


def prepare_in_background(qa: TreatyQA) -> threading.Thread:
    thread = threading.Thread(target=prepare, args=(qa,), name="rag-prepare", daemon=True)
    thread.start()
    return thread


def warm_up(qa: TreatyQA) -> None:
    """Load the lookups and the question encoder now, so the first question is not slow."""
    if qa.index.is_empty():
        return
    qa.index.refresh()
    qa.index.embedder.embed_query("warm up")
    _ = qa.index.lexical
    qa.index.article_search("warm up", 1)  # opens Chroma and stacks the article vectors
