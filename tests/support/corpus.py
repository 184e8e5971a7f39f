"""Where the tests find the corpus: the product's own copy, unless RAG_CORPUS_DIR says otherwise.

The texts ship in the repository (corpus/documents), so a fresh clone tests itself with
nothing beside it.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CORPUS = REPO / "corpus" / "documents"


def dev_corpus() -> Path:
    env = os.environ.get("RAG_CORPUS_DIR")
    return Path(env).expanduser() if env else SHIPPED_CORPUS
