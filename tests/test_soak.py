"""The reliability suite (issue 10), small: concurrent sessions during an upload, kill -9 during
ingestion, hostile uploads, damaged indexes. `make soak` runs the same scenarios at full size
(20 sessions × 20 questions, a 200-page upload) and writes artifacts/soak/report.md.

Why: a shared deployment must stay up, private and truthful under many users, hostile files,
crashes and damaged files; these are measured against the real app, real Chroma and the real
upload path, never mocks. All but the first test are `slow` (they start the app or ingest)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from soak import concurrency, damage, hostile, killing
from soak.common import built_index, launch_app, percentile

SMALL = ["untoc", "lanzarote-convention", "eff-2024-01-ngo-redlines", "iccpr-op1"]


def test_hostile_file_names_stay_in_the_upload_folder_and_out_of_messages(tmp_path):
    """Fast and real: check_upload/store_upload/user_text on names a browser can send."""
    from rag.ui.uploads import UploadError, check_upload, store_upload, user_text

    folder = tmp_path / "uploads" / "owner"
    names = ["../../../../etc/passwd.md", "..\\..\\windows\\win.ini.md", "/etc/shadow.txt",
             os.fsdecode(b"\xff\xfe-r\xe9sum\xe9.md"), "a\u202egnp.md\n<script>x</script>.md", "x" * 400 + ".md",
             ".md", "CON.md", "report.md.exe", "notes", "evil.PDF", "\x00.md", "%2e%2e%2fescape.md"]
    src = tmp_path / "src.md"
    src.write_text("### Article 1. Test\n\n1. The parties shall test.\n", encoding="utf-8")
    stored, refused = [], []
    for name in names:
        shown = user_text(name)
        shown.encode("utf-8")  # never a lone surrogate (it breaks Gradio's event stream)
        try:
            check_upload(src, shown, max_mb=1)
            path = store_upload(src, shown, folder)
        except UploadError as exc:
            refused.append(name)
            assert str(tmp_path) not in str(exc) and not hostile.leaks(str(exc), [str(tmp_path)])
            continue
        assert path.resolve().parent.parent == folder.resolve(), name
        stored.append(path)
    assert set(refused) >= {"report.md.exe", "notes"}
    assert "evil.PDF" in refused  # a .pdf name whose content is not a PDF
    assert len(stored) == len(names) - len(refused) and not any(tmp_path.glob("**/etc/*"))
    assert len({p.parent for p in stored}) == 1  # the same bytes are one stored folder


def test_a_pdf_content_stream_bomb_is_refused_before_parsing(tmp_path):
    """A 1-page PDF whose content stream inflates from ~100 KB to 40 MB held ingestion for minutes
    and grew the process past 3.7 GB (found by the soak); it is refused from its size alone."""
    import time

    from rag.corpus.errors import LoadError
    from rag.corpus.loaders import load_document
    from rag.settings import Settings

    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(hostile._pdf_stream_bomb(40))
    assert bomb.stat().st_size < 1024 * 1024
    t0 = time.monotonic()
    with pytest.raises(LoadError, match="over the limit of 20 MB"):
        load_document(bomb, Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path))
    assert time.monotonic() - t0 < 10


def test_a_yaml_alias_bomb_in_front_matter_is_refused_at_once(tmp_path):
    """Front matter `title: *i` over nine levels of aliases: str() of it ran for minutes and grew
    the process past 3.7 GB (found by the soak); a field must be one value."""
    import time

    from rag.corpus.errors import LoadError
    from rag.corpus.loaders import load_document
    from rag.settings import Settings

    bomb = tmp_path / "laughs.md"
    bomb.write_text(hostile.yaml_bomb_md(), encoding="utf-8")
    t0 = time.monotonic()
    with pytest.raises(LoadError, match="'title' must be a single value"):
        load_document(bomb, Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path))
    assert time.monotonic() - t0 < 5


def test_latency_percentiles_are_nearest_rank():
    xs = [float(i) for i in range(1, 101)]
    assert percentile(xs, 50) == 50.0 and percentile(xs, 95) == 95.0 and percentile([], 50) is None


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> tuple[Path, Path]:
    """(pristine index of SMALL, its corpus folder), built once with `rag ingest` and cached."""
    root = tmp_path_factory.mktemp("soak")
    docs = built_index(root / "pristine" / "index", SMALL, root / "docs")
    return root / "pristine" / "index", docs


def _copy(small_index, tmp_path: Path) -> Path:
    import shutil

    dest = tmp_path / "index"
    shutil.copytree(small_index[0], dest)
    (tmp_path / "none.toml").write_text("")
    return dest


@pytest.mark.slow
@pytest.mark.soak
@pytest.mark.timeout(900)
def test_concurrent_sessions_during_a_large_upload(small_index, tmp_path):
    index = _copy(small_index, tmp_path)
    app = launch_app(tmp_path / "app", index, RAG_CORPUS_DIR=str(small_index[1]))
    try:
        killing.wait_answering(app.url)
        pdf = concurrency.large_pdf(tmp_path / "large.pdf", [p.read_text() for p in small_index[1].glob("*.md")],
                                    pages=30)
        res = concurrency.run(app.url, sessions=4, questions=3, upload=pdf, deadline_s=600)
    finally:
        app.stop()
    f = res["figures"]
    assert f["asked"] == 12 and f["errors"] == 0, res["records"]
    assert f["mismatched"] == 0, [r for r in res["records"] if not r.get("matched")]
    assert f["upload_ok"], f["upload_result"]
    assert f["n_before"] >= 4 and f["p95_before_s"] is not None


def _kill_ingest(small_index, tmp_path, delays):
    index = _copy(small_index, tmp_path)
    docs = [p.read_text() for p in small_index[1].glob("*.md")]

    def make(path: Path, i: int) -> Path:
        return concurrency.large_pdf(path, [f"Kill round {i}"] + docs, pages=30)

    return killing.kill_ingest_rounds(tmp_path, index, small_index[1], make, delays)


@pytest.mark.slow
@pytest.mark.soak
@pytest.mark.timeout(1200)
def test_kill_9_during_ingestion_leaves_no_partial_document(small_index, tmp_path):
    """Five kills of `rag ingest`, the last the moment its vectors reach Chroma: every committed
    document stays whole (registry n_chunks = chunk rows = vectors), vectors of the killed
    document are never searched, and ingesting again completes it and checks clean."""
    res = _kill_ingest(small_index, tmp_path, [3, 8, 14, 20, -1])
    f = res["figures"]
    assert f["kills"] == 5 and f["partial_documents"] == 0, res
    assert res["rounds"][-1]["caught_vector_write"], res["rounds"][-1]
    for r in res["rounds"]:  # orphans only ever belong to documents the registry never committed
        assert not set(r["orphan_docs"]) & set(r["committed_new"]), r
    final = res["final"]
    assert final["reingest_rc"] == 0 and final["check_rc"] == 0 and final["partial"] == [] and final["orphans"] == 0


@pytest.mark.slow
@pytest.mark.soak
@pytest.mark.timeout(900)
@pytest.mark.xfail(strict=True, reason="known bug (soak): a kill -9 between Chroma's upsert and the registry commit "
                   "leaves orphan vectors; `rag index check` exits 1 until `rag index repair` or a re-ingest")
def test_after_a_kill_9_at_the_vector_write_the_index_checks_clean(small_index, tmp_path):
    res = _kill_ingest(small_index, tmp_path, [-1])
    (r,) = res["rounds"]
    assert r["caught_vector_write"] and r["check_rc"] == 0 and r["orphans"] == 0, r


@pytest.mark.slow
@pytest.mark.soak
@pytest.mark.timeout(1200)
def test_hostile_uploads_never_crash_impersonate_leak_or_leave_partial_documents(small_index, tmp_path):
    index = _copy(small_index, tmp_path)
    res = hostile.run(index, small_index[1], tmp_path / "work")
    t = res["totals"]
    bad = [r for r in res["cases"] if r["crash"] or r["partial"] or r["impersonations"] or r["leaks"]
           or r.get("escaped") or r.get("duplicate") or r.get("server_file_read")]
    assert t["kinds"] >= 30
    assert bad == [], bad
    forged = next(r for r in res["cases"] if r["kind"].startswith("forged front matter: existing id"))
    assert forged["new_documents"] and all(d.startswith("upload-") for d in forged["new_documents"])


@pytest.mark.slow
@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_damaged_indexes_are_detected_repaired_and_answer_as_before(small_index, tmp_path):
    questions = [q for q in damage.QUESTIONS if "Budapest" not in q and "CRC" not in q]
    res = damage.run(small_index[0], tmp_path, small_index[1], questions=questions)
    bad = [r for r in res["rows"] if not (r["detected"] and r["fix_rc"] == 0 and r["check_after_rc"] == 0
                                          and r["answers_identical"])]
    assert bad == [], bad
    assert any(a["citations"] for a in res["before"])  # the comparison compared real answers
