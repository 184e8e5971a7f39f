"""What the app does before serving: build an empty index from the corpus, load the model."""
from __future__ import annotations

import sys
import time
from pathlib import Path

from ..api import TreatyQA


def _console(msg: str, done: int, total: int) -> None:
    """Ingestion progress is reported before each file (done = files finished so far)."""
    if done < total:
        print(f"  [{done + 1}/{total}] {msg}", file=sys.stderr, flush=True)


def ensure_index(qa: TreatyQA) -> None:
    """An empty index is built from settings.corpus_dir, with progress on the console."""
    if not qa.index.is_empty():
        return
    corpus = Path(qa.settings.corpus_dir)
    if not corpus.is_dir() or not any(corpus.iterdir()):
        print(f"The index at {qa.settings.index_dir} is empty and there is no corpus at {corpus}. "
              "Run `rag corpus download` or add documents in the app's 'Add documents' tab.",
              file=sys.stderr, flush=True)
        return
    print(f"The index is empty: building it from {corpus} (this takes a minute or two)…",
          file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    report = qa.ingest([corpus], progress=_console)
    print(report.summary(), file=sys.stderr, flush=True)
    print(f"Index ready in {time.perf_counter() - t0:.0f} s.", file=sys.stderr, flush=True)


def warm_up(qa: TreatyQA) -> None:
    """Load the lookups and the embedding model now, so the first question is not slow."""
    if qa.index.is_empty():
        return
    qa.index.refresh()
    qa.index.embedder.embed_query("warm up")
    _ = qa.index.lexical
