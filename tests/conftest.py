"""Shared fixtures: the development corpus, per-test settings, and one index per session.

Why: building an index of the whole corpus takes over a minute on a small machine, so it
is built once per session (into a temporary directory) and shared read-only by every test
that only asks questions. Tests that change an index build their own small one in tmp_path.
The corpus is test data that lives beside the repository; a missing corpus is a failure,
never a skip, because a green run without it would have tested nothing.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent


def find_corpus_dir() -> Path:
    """RAG_CORPUS_DIR, else ../shared/corpus beside the repository."""
    env = os.environ.get("RAG_CORPUS_DIR")
    path = Path(env).expanduser() if env else REPO.parent / "shared" / "corpus"
    if not path.is_dir() or not any(p.name.lower() != "readme.md" for p in path.glob("*.md")):
        pytest.fail(
            f"development corpus not found at {path} (no *.md files). Set RAG_CORPUS_DIR to the "
            "folder holding the corpus Markdown files (normally ../shared/corpus beside the repo).",
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


@pytest.fixture(scope="session")
def corpus_index(corpus_dir: Path, corpus_files: dict[str, Path],
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A TreatyQA over the whole development corpus, built once per session. Read-only:
    tests must not ingest into it or remove from it."""
    from rag.api import TreatyQA

    settings = make_settings(tmp_path_factory.mktemp("corpus-index"))
    qa = TreatyQA(settings)
    report = qa.ingest([corpus_dir], progress=False)
    if not report.ok or set(qa.index.documents) != set(corpus_files):
        pytest.fail("could not index the development corpus:\n" + report.summary(), pytrace=False)
    yield qa
