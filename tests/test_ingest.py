"""Incremental, idempotent ingestion into a real Chroma directory, including a killed run.

Why: users re-run `rag ingest` after every change; it must cost nothing when nothing
changed, re-embed only what changed, never leave stale or duplicate vectors behind, and
survive being killed half-way without a reader ever seeing a half-written document.
Each test builds its own small index (2-3 corpus files copied into tmp_path).
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from rag.api import TreatyQA
from rag.cli import main as cli_main
from rag.index.service import Index
from rag.model import Chunk

REPO = Path(__file__).resolve().parent.parent
SMALL = {"a.md": "eff-2024-01-ngo-redlines", "b.md": "iccpr-op1"}


def chroma_ids(ix: Index, doc_id: str | None = None) -> list[str]:
    where = {"doc_id": doc_id} if doc_id else None
    return ix.store.collection.get(where=where, include=[])["ids"]


def registry_ids(ix: Index, doc_id: str | None = None) -> list[str]:
    return [c.id for c in ix.registry.chunks(doc_id)]


def assert_consistent(ix: Index) -> None:
    """Chroma holds exactly the committed chunks: no stale, missing or duplicate ids. (Another
    process's commit reaches a reader within its version check interval: look now.)"""
    ix.refresh(force=True)
    ids = chroma_ids(ix)
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(registry_ids(ix))
    assert ix.store.count() == len(ix.registry.chunks()) == len(ix.chunks)
    for doc_id in ix.documents:
        assert sorted(ix.store.ids_for(doc_id)) == sorted(registry_ids(ix, doc_id)), doc_id


def statuses(report) -> dict[str, str]:
    return {Path(r.path).name: r.status for r in report.results}


@pytest.fixture(scope="module")
def small_template(corpus_files, tmp_path_factory):
    """SMALL ingested once: the docs folder (at a fixed path, which the registry records)
    and the pristine docs and index to restore before every test that starts from it."""
    from tests.conftest import make_settings

    base = tmp_path_factory.mktemp("ingest-small")
    docs, pristine = base / "docs", base / "pristine-docs"
    pristine.mkdir()
    for name, doc_id in SMALL.items():
        shutil.copyfile(corpus_files[doc_id], pristine / name)
    shutil.copytree(pristine, docs)
    settings = make_settings(base, index_dir=base / "template-index")
    calls: list[tuple[str, int, int]] = []
    ix = Index(settings)
    report = ix.ingest([docs], progress=lambda msg, done, total: calls.append((msg, done, total)))
    assert report.ok, report.summary()
    assert calls[0][1:] == (0, 2) and calls[-1][1:] == (2, 2)  # progress reaches the end
    assert_consistent(ix)
    return base, report


@pytest.fixture
def small(small_template):
    """A private copy of the small index over a pristine docs folder (cheaper than re-embedding)."""
    base, report = small_template
    docs = base / "docs"
    shutil.rmtree(docs)
    shutil.copytree(base / "pristine-docs", docs)
    index_dir = base / f"index-{uuid.uuid4().hex[:8]}"
    shutil.copytree(base / "template-index", index_dir)
    from tests.conftest import make_settings

    ix = Index(make_settings(base, index_dir=index_dir))
    assert_consistent(ix)
    return docs, ix, report


def test_first_run_ingests_and_rerun_embeds_nothing(small):
    docs, ix, first = small
    assert statuses(first) == {"a.md": "ingested", "b.md": "ingested"}
    assert first.embedded == sum(r.chunks for r in first.results) > 0
    assert set(ix.documents) == set(SMALL.values())
    assert_consistent(ix)
    version = ix.registry.version()
    again = ix.ingest([docs], progress=False)
    assert again.embedded == 0
    assert statuses(again) == {"a.md": "unchanged", "b.md": "unchanged"}
    assert "2 unchanged" in again.summary() and "0 embedded" in again.summary()
    assert ix.registry.version() == version  # nothing committed
    assert_consistent(ix)


def test_editing_one_document_re_embeds_only_its_changed_chunks(small):
    docs, ix, _ = small
    before = ix.registry.chunk_hashes("iccpr-op1")
    other_before = ix.registry.chunk_hashes("eff-2024-01-ngo-redlines")
    path = docs / "b.md"
    text = path.read_text(encoding="utf-8")
    old = "The Committee shall hold closed meetings"
    assert text.count(old) == 1
    path.write_text(text.replace(old, "The Committee shall hold public meetings"), encoding="utf-8")
    report = ix.ingest([docs], progress=False)
    assert statuses(report) == {"a.md": "unchanged", "b.md": "updated"}
    after = ix.registry.chunk_hashes("iccpr-op1")
    changed = [cid for cid, h in after.items() if before.get(cid) != h]
    assert len(changed) == 1 and changed[0].startswith("iccpr-op1/art_5")
    assert report.embedded == 1
    assert ix.registry.chunk_hashes("eff-2024-01-ngo-redlines") == other_before
    stored = ix.store.collection.get(ids=changed, include=["documents"])["documents"][0]
    assert "public meetings" in stored and "closed meetings" not in stored
    assert "public meetings" in ix.chunks[changed[0]].text
    assert_consistent(ix)


def test_removing_an_article_drops_its_vectors_and_embeds_nothing(small):
    docs, ix, _ = small
    path = docs / "b.md"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("### Article 13\n"), text.index("### Article 14\n")
    art13 = [cid for cid in registry_ids(ix, "iccpr-op1") if cid.startswith("iccpr-op1/art_13")]
    art14 = {cid: h for cid, h in ix.registry.chunk_hashes("iccpr-op1").items() if cid.startswith("iccpr-op1/art_14")}
    assert art13 and art14
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    report = ix.ingest([docs], progress=False)
    assert statuses(report)["b.md"] == "updated"
    assert report.embedded == 0  # every remaining chunk is unchanged
    assert not set(art13) & set(chroma_ids(ix, "iccpr-op1"))
    assert ix.provision("iccpr-op1/art_13") is None and ix.provision("iccpr-op1/art_14") is not None
    assert {cid: h for cid, h in ix.registry.chunk_hashes("iccpr-op1").items() if cid.startswith("iccpr-op1/art_14")} \
        == art14
    assert_consistent(ix)


def test_deleting_a_file_removes_its_document(small):
    docs, ix, _ = small
    (docs / "b.md").unlink()
    kept = ix.ingest([docs], progress=False, prune=False)
    assert "removed" not in statuses(kept).values() and "iccpr-op1" in ix.documents  # without prune
    report = ix.ingest([docs], progress=False)
    removed = [r for r in report.results if r.status == "removed"]
    assert [(r.doc_id, Path(r.path).name) for r in removed] == [("iccpr-op1", "b.md")]
    assert "1 removed" in report.summary()
    assert set(ix.documents) == {"eff-2024-01-ngo-redlines"}
    assert chroma_ids(ix, "iccpr-op1") == [] and registry_ids(ix, "iccpr-op1") == []
    assert ix.provision("iccpr-op1/art_1") is None
    assert_consistent(ix)


def test_renaming_a_file_keeps_its_document(small):
    docs, ix, _ = small
    (docs / "a.md").rename(docs / "renamed.md")
    report = ix.ingest([docs], progress=False)
    assert "removed" not in statuses(report).values()
    assert "eff-2024-01-ngo-redlines" in ix.documents
    assert_consistent(ix)


def test_changing_a_documents_id_replaces_the_old_one(small):
    docs, ix, _ = small
    path = docs / "b.md"
    path.write_text(path.read_text(encoding="utf-8").replace('id: "iccpr-op1"', 'id: "iccpr-op1-renamed"', 1),
                    encoding="utf-8")
    report = ix.ingest([docs], progress=False)
    assert report.ok
    assert set(ix.documents) == {"eff-2024-01-ngo-redlines", "iccpr-op1-renamed"}
    assert_consistent(ix)


def test_bad_files_fail_alone_and_the_cli_exits_non_zero(small, capsys):
    docs, ix, _ = small
    (docs / "empty.md").write_bytes(b"")
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (docs / "broken.md").write_text("---\ntitle: [oops\n---\n### Article 1. X\n\nText.\n", encoding="utf-8")
    (docs / "c.md").write_text("---\nid: extra\ntitle: Extra treaty\n---\n### Article 1. Purpose\n\n"
                               "The purpose of this extra treaty is to be ingested.\n", encoding="utf-8")
    index_dir = str(ix.settings.index_dir)
    rc = cli_main(["--index-dir", index_dir, "ingest", "--quiet", str(docs)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "1 new" in out and "2 unchanged" in out and "3 failed" in out
    for name, reason in (("empty.md", "empty"), ("binary.txt", "binary"), ("broken.md", "YAML")):
        line = next(ln for ln in out.splitlines() if ln.startswith("FAILED") and name in ln)
        assert reason in line, line
    ix.refresh(force=True)  # the CLI committed in its own Index; see the new state now, not within 0.25 s
    assert set(ix.documents) == set(SMALL.values()) | {"extra"}
    assert_consistent(ix)
    for name in ("empty.md", "binary.txt", "broken.md"):
        (docs / name).unlink()
    rc = cli_main(["--index-dir", index_dir, "ingest", "--quiet", str(docs)])
    out = capsys.readouterr().out
    assert rc == 0 and "0 failed" in out and "0 embedded" in out


def test_duplicate_ids_in_one_run(copy_corpus, settings_factory):
    docs = copy_corpus({"a.md": "eff-2024-01-ngo-redlines", "b.md": "eff-2024-01-ngo-redlines"})
    ix = Index(settings_factory())
    report = ix.ingest([docs], progress=False)
    by_name = {Path(r.path).name: r for r in report.results}
    assert by_name["a.md"].status == "ingested"
    assert by_name["b.md"].status == "failed"
    assert "eff-2024-01-ngo-redlines" in by_name["b.md"].error and "a.md" in by_name["b.md"].error
    assert not report.ok
    assert_consistent(ix)


def test_duplicate_id_from_another_file_in_a_later_run(copy_corpus, settings_factory, tmp_path):
    docs = copy_corpus({"a.md": "eff-2024-01-ngo-redlines"})
    other = copy_corpus({"copy.md": "eff-2024-01-ngo-redlines"}, folder="other")
    ix = Index(settings_factory())
    assert ix.ingest([docs], progress=False).ok
    report = ix.ingest([other / "copy.md"], progress=False)
    (res,) = report.results
    assert res.status == "failed" and "already used by another indexed document" in res.error
    assert str(docs) not in res.error and "a.md" in res.detail  # the path is for the operator only
    assert ix.registry.doc_path("eff-2024-01-ngo-redlines") == str(docs / "a.md")


def test_missing_path_is_reported(settings_factory, tmp_path):
    ix = Index(settings_factory())
    report = ix.ingest([tmp_path / "nowhere"], progress=False)
    assert [(r.status, r.error) for r in report.results] == [("failed", "path not found")]


def test_uncommitted_vectors_are_never_visible(small, settings_factory):
    """What a killed ingestion leaves in Chroma (vectors without a registry commit) must not
    reach readers: not in Index.chunks, not from dense_search, not in retrieval."""
    docs, ix, _ = small
    real = ix.chunks["iccpr-op1/art_5#1"] if "iccpr-op1/art_5#1" in ix.chunks else next(
        c for c in ix.chunks.values() if c.doc_id == "iccpr-op1")
    text = "Zanzibar flamingo quarantine protocol for migratory pelicans"
    fakes = [
        real.model_copy(update={"id": "iccpr-op1/art_99#1", "provision_id": "iccpr-op1/art_99",
                                "text": text, "embed_text": text, "hash": ""}),
        real.model_copy(update={"id": real.provision_id + "#7", "text": text, "embed_text": text + ".", "hash": ""}),
    ]
    fakes = [Chunk.model_validate(f.model_dump()) for f in fakes]
    ix.store.upsert(fakes, ix.embedder.embed([f.embed_text for f in fakes]))
    fake_ids = {f.id for f in fakes}
    raw = {cid for cid, _ in ix.store.query(ix.embedder.embed_query(text), 5)}
    assert fake_ids <= raw  # the simulation is real: Chroma itself returns them
    assert not fake_ids & set(ix.chunks)
    for where in (None, {"doc_id": "iccpr-op1"}):
        assert not fake_ids & {cid for cid, _ in ix.dense_search(text, 20, where)}
    qa = TreatyQA(ix.settings, index=ix)
    _, passages = qa.retrieve(text)
    assert not fake_ids & {p.chunk.id for p in passages}
    # and the next ingestion of the (unchanged) files leaves them alone but harmless
    assert ix.ingest([docs], progress=False).embedded == 0


def _committed(registry: Path) -> int:
    try:
        con = sqlite3.connect(str(registry), timeout=1)
        try:
            return con.execute("SELECT count(*) FROM documents").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def test_killed_ingestion_recovers(copy_corpus, settings_factory):
    docs = copy_corpus({"01.md": "eff-2024-01-ngo-redlines", "02.md": "budapest-protocol-1", "03.md": "iccpr-op1"})
    settings = settings_factory()
    registry = Path(settings.index_dir) / "registry.sqlite"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag.cli", "--index-dir", str(settings.index_dir), "ingest", "--quiet", str(docs)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while _committed(registry) < 1:
            assert proc.poll() is None, "rag ingest ended before the first commit:\n" + proc.stdout.read().decode()
            assert time.monotonic() < deadline, "no document committed within 180 s"
            time.sleep(0.02)
        assert proc.poll() is None, "rag ingest finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    # What a reader sees after the crash: only committed documents, complete.
    ix = Index(settings)
    committed = set(ix.documents)
    assert "eff-2024-01-ngo-redlines" in committed and len(committed) < 3
    assert {c.doc_id for c in ix.chunks.values()} == committed
    assert all(cid in ix.chunks for cid, _ in ix.dense_search("racist and xenophobic material", 10))

    report = ix.ingest([docs], progress=False)
    assert report.ok, report.summary()
    assert statuses(report)["01.md"] == "unchanged"
    assert set(ix.documents) == {"eff-2024-01-ngo-redlines", "budapest-protocol-1", "iccpr-op1"}
    assert_consistent(ix)
    top = [cid for cid, _ in ix.dense_search("distributing racist and xenophobic material through computer systems", 3)]
    assert any(cid.startswith("budapest-protocol-1/art_3") for cid in top), top
    assert [cid for cid, _ in ix.lexical.search("xenophobic", 3)]


def test_skipped_files_are_reported_and_links_out_are_never_ingested(small, capsys, tmp_path):
    docs, ix, _ = small
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text("### Article 1. Secret\n\nThe password is swordfish.\n", encoding="utf-8")
    (docs / "leak.md").symlink_to(outside / "secret.md")
    (docs / "loop.md").symlink_to(docs / "loop.md")
    os.mkfifo(docs / "pipe.md")
    (docs / "notes.rtf").write_text("x", encoding="utf-8")
    rc = cli_main(["--index-dir", str(ix.settings.index_dir), "ingest", "--quiet", str(docs)])
    out = capsys.readouterr().out
    assert rc == 0 and "4 files skipped" in out
    skipped = {ln.split(":", 1)[0].split("/")[-1]: ln for ln in out.splitlines() if ln.startswith("SKIPPED")}
    assert set(skipped) == {"leak.md", "loop.md", "pipe.md", "notes.rtf"}
    assert "outside" in skipped["leak.md"] and "FIFO" in skipped["pipe.md"] and "loop" in skipped["loop.md"]
    assert set(ix.documents) == set(SMALL.values())
    assert not any("swordfish" in c.text for c in ix.chunks.values())


def test_a_file_name_that_is_not_utf8_ingests_once_and_leaves_no_orphans(small, capsys):
    docs, ix, _ = small
    name = os.fsencode(docs) + b"/caf\xe9-treaty.md"
    with open(name, "wb") as fh:
        fh.write(b"### Article 1. Purpose\n\nThe purpose of this treaty is to be read from a Latin-1 name.\n")
    index_dir = str(ix.settings.index_dir)
    for expected in ("1 new", "3 unchanged"):
        rc = cli_main(["--index-dir", index_dir, "ingest", "--quiet", str(docs)])
        out = capsys.readouterr().out
        assert rc == 0 and expected in out and "0 failed" in out, out
        assert_consistent(ix)
    (doc,) = [d for d in ix.registry.documents() if d["doc_id"] not in SMALL.values()]
    assert doc["path"].endswith("caf\\xe9-treaty.md")  # valid text, the same on every run
    os.unlink(name)
    rc = cli_main(["--index-dir", index_dir, "ingest", "--quiet", str(docs)])
    assert rc == 0 and "1 removed" in capsys.readouterr().out
    assert_consistent(ix)


def test_article_vectors_follow_an_edit_and_keep_unchanged_documents(small):
    """The article-level search reads a changed document's new vectors after the commit and
    reuses the unchanged document's rows (built once, not per refresh)."""
    docs, ix, _ = small
    before = ix.article_search("closed meetings of the Committee", 50)
    assert before
    kept = ix._snap.docs["eff-2024-01-ngo-redlines"].articles
    path = docs / "b.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("The Committee shall hold closed meetings",
                                 "The Committee shall hold public meetings"), encoding="utf-8")
    assert ix.ingest([docs], progress=False).embedded == 1
    ix.refresh(force=True)
    after = ix.article_search("closed meetings of the Committee", 50)
    assert ix._snap.docs["eff-2024-01-ngo-redlines"].articles is kept
    changed = {tuple(ids): s for ids, s in after}
    art5 = [ids for ids, _ in before if ids[0].startswith("iccpr-op1/art_5")][0]
    assert changed[tuple(art5)] != dict((tuple(i), s) for i, s in before)[tuple(art5)]
    assert all(ids[0] in ix.chunks for ids, _ in after)
