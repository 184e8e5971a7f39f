"""The index checks itself and repairs itself: real Chroma and registry files, really damaged.

Why: a vector store lost or truncated under a deployment silently turns every answer into a
keyword search; a corrupt file must give one line naming the file and the repair command,
and a repaired index must answer exactly as before the damage.
"""
from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from rag.api import TreatyQA
from rag.cli import main as cli_main
from rag.index.errors import IndexDamaged
from rag.index.service import Index

SMALL = {"a.md": "eff-2024-01-ngo-redlines", "b.md": "iccpr-op1"}
QUESTIONS = [
    "What may the Committee do with a communication?",
    "Who can submit a communication to the Human Rights Committee?",
    "What do the NGO red lines say about human rights safeguards?",
]


def forget_chroma_clients() -> None:
    """Chroma caches one client per directory in a process; a new process would not have it."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def retrieval_ids(settings) -> list[list[str]]:
    qa = TreatyQA(settings)
    return [[p.chunk.id for p in qa.retrieve(q)[1]] for q in QUESTIONS]


@pytest.fixture(scope="module")
def template(corpus_files, tmp_path_factory):
    from tests.conftest import make_settings

    base = tmp_path_factory.mktemp("check-small")
    docs = base / "docs"
    docs.mkdir()
    for name, doc_id in SMALL.items():
        shutil.copyfile(corpus_files[doc_id], docs / name)
    settings = make_settings(base, index_dir=base / "template", corpus_dir=docs)
    assert Index(settings).ingest([docs], progress=False).ok
    return base, docs, retrieval_ids(settings)


@pytest.fixture
def small(template, tmp_path):
    """(settings, the retrieval ids of QUESTIONS before any damage) on a private index copy."""
    from tests.conftest import make_settings

    base, docs, before = template
    shutil.copytree(base / "template", tmp_path / "index")
    forget_chroma_clients()
    return make_settings(tmp_path, corpus_dir=docs), before


def run(capsys, settings, *args: str) -> tuple[int, str, str]:
    forget_chroma_clients()
    rc = cli_main(["--index-dir", str(settings.index_dir), "--corpus-dir", str(settings.corpus_dir), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_a_healthy_index_checks_clean(small, capsys):
    settings, _ = small
    assert Index(settings).check() == []
    rc, out, _ = run(capsys, settings, "index", "check")
    assert rc == 0 and out.startswith("ok: 2 documents")


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_lost_vectors_are_detected_and_repaired_to_identical_answers(small, capsys, damage):
    settings, before = small
    chroma_file = Path(settings.index_dir) / "chroma" / "chroma.sqlite3"
    if damage == "truncate":
        os.truncate(chroma_file, 0)
    else:
        chroma_file.unlink()
    forget_chroma_clients()
    problems = Index(settings).check()
    assert problems and "have no vector in Chroma" in problems[0].what
    rc, out, _ = run(capsys, settings, "index", "check")
    assert rc == 1 and "no vector" in out and "Fix: rag index repair" in out
    assert len(out.strip().splitlines()) == len(problems)  # one line per problem
    rc, out, err = run(capsys, settings, "ask", "What may the Committee do with a communication?")
    assert rc == 1 and "rag index repair" in err and "keyword search only" in err
    rc, out, _ = run(capsys, settings, "index", "repair")
    assert rc == 0 and "vectors re-embedded" in out
    forget_chroma_clients()
    assert Index(settings).check() == []
    assert retrieval_ids(settings) == before


def test_ingest_of_an_unchanged_corpus_repairs_lost_vectors(small, capsys):
    settings, before = small
    ix = Index(settings)
    some = ix.store.ids_for("iccpr-op1")[:3]
    ix.store.delete(some)
    ix.store.collection.add(ids=["orphan#1"], embeddings=[[0.1] * 384], metadatas=[{"doc_id": "iccpr-op1"}])
    rc, out, _ = run(capsys, settings, "ingest", "--quiet", str(settings.corpus_dir))
    assert rc == 0 and "1 repaired" in out and "3 embedded" in out, out
    forget_chroma_clients()
    assert Index(settings).check() == []
    assert retrieval_ids(settings) == before


def test_orphan_vectors_are_reported_and_dropped(small, capsys):
    settings, _ = small
    ix = Index(settings)
    ix.store.collection.add(ids=["ghost#1", "ghost#2"], embeddings=[[0.2] * 384] * 2,
                            metadatas=[{"doc_id": "ghost"}] * 2)
    (problem,) = ix.check()
    assert "2 vectors that are not in the registry" in problem.what
    rc, out, _ = run(capsys, settings, "index", "repair")
    assert rc == 0 and "2 orphan vectors dropped" in out


def test_a_corrupt_chroma_file_gives_one_line_and_is_repaired(small, capsys):
    settings, before = small
    chroma_file = Path(settings.index_dir) / "chroma" / "chroma.sqlite3"
    chroma_file.write_bytes(b"this is not a database " * 200)
    forget_chroma_clients()
    with pytest.raises(IndexDamaged) as err:
        Index(settings).store
    assert str(chroma_file) in str(err.value) and "rag index repair" in str(err.value)
    rc, out, err_text = run(capsys, settings, "index", "check")
    assert rc == 1 and "Traceback" not in err_text and len(err_text.strip().splitlines()) == 1
    assert "chroma.sqlite3" in err_text and "rag index repair" in err_text
    rc, out, _ = run(capsys, settings, "index", "repair")
    assert rc == 0 and "moved the unreadable" in out
    forget_chroma_clients()
    assert retrieval_ids(settings) == before


@pytest.mark.parametrize("damage", ["garbage", "delete"])
def test_a_lost_or_corrupt_registry_is_detected_and_rebuilt_from_the_corpus(small, capsys, damage):
    settings, before = small
    registry = Path(settings.index_dir) / "registry.sqlite"
    for suffix in ("-wal", "-shm"):
        registry.with_name(registry.name + suffix).unlink(missing_ok=True)
    if damage == "garbage":
        registry.write_bytes(b"\x00garbage" * 500)
        rc, _, err = run(capsys, settings, "index", "status")
        assert rc == 1 and str(registry) in err and "rag index repair" in err and "Traceback" not in err
        rc, _, err = run(capsys, settings, "ask", "What may the Committee do?")
        assert rc == 1 and str(registry) in err and len(err.strip().splitlines()) == 1
    else:
        registry.unlink()
        (problem,) = Index(settings).check()
        assert "registry holds no documents" in problem.what
    rc, out, _ = run(capsys, settings, "index", "repair")
    assert rc == 0 and "documents indexed again" in out, out
    forget_chroma_clients()
    assert Index(settings).check() == []
    assert retrieval_ids(settings) == before


def test_a_build_mismatch_is_reported_with_the_rebuild_command(small, capsys):
    settings, _ = small
    other = settings.with_overrides(chunking={"max_tokens": 150})
    (problem,) = Index(other).check()
    assert "chunk_max_tokens" in problem.what and problem.fix == "rag index rebuild"


def test_a_read_only_index_opens_read_only(small):
    settings, before = small
    root = Path(settings.index_dir)
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(stat.S_IMODE(mode) & ~0o222)
    try:
        ix = Index(settings)
        assert ix.registry.read_only
        assert set(ix.documents) == set(SMALL.values())
        import sqlite3

        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ix.registry.db.execute("DELETE FROM documents")
        with pytest.raises(IndexDamaged, match="read-only"):
            ix.ingest([settings.corpus_dir], progress=False)
    finally:
        for path in [root, *root.rglob("*")]:
            path.chmod(stat.S_IMODE(path.stat().st_mode) | 0o200)


def test_read_commands_name_a_missing_index(capsys, tmp_path):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, index_dir=tmp_path / "nowhere")
    rc, _, err = run(capsys, settings, "index", "check")
    assert rc == 1 and f"No index at {tmp_path / 'nowhere'}" in err
    assert not (tmp_path / "nowhere").exists()


def test_orphans_of_a_killed_ingestion_are_dropped_on_open_unless_a_writer_is_running(settings_factory,
                                                                                       copy_corpus):
    """kill -9 between the Chroma write and the registry commit leaves vectors nobody committed;
    the next start drops them (registry = Chroma again), but never while another process writes."""
    import fcntl

    from rag.api import TreatyQA

    settings = settings_factory(corpus_dir=copy_corpus({"iccpr-op1.md": "iccpr-op1"}))
    qa = TreatyQA(settings)
    qa.ensure_index()
    committed = qa.index.registry.chunks()
    ghost = committed[0].model_copy(update={"id": "ghost/art_1#1", "doc_id": "ghost"})
    qa.index.store.upsert([ghost], [qa.index.embedder.embed([ghost.embed_text])[0]])
    assert "ghost/art_1#1" in qa.index.store.all_ids()

    with open(settings.index_dir / "write.lock", "a+") as fh:  # another process is ingesting
        fcntl.flock(fh, fcntl.LOCK_EX)
        assert TreatyQA(settings).index.drop_orphans() == 0
        fcntl.flock(fh, fcntl.LOCK_UN)
    assert "ghost/art_1#1" in qa.index.store.all_ids()

    restarted = TreatyQA(settings)
    restarted.ensure_index()  # what the app and `rag ask` do on start
    assert sorted(restarted.index.store.all_ids()) == sorted(c.id for c in committed)
