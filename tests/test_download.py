"""`download_corpus` against a real HTTP server on 127.0.0.1.

Each test writes its own manifest pointing at the local server, exactly as a user's
manifest points at docs.un.org; nothing in the download code knows it is being tested.
"""
from __future__ import annotations

import hashlib
import json
import time
import zipfile
from io import BytesIO
from pathlib import Path

import httpx
import pytest

from rag.corpus.download import (
    CHECKSUMS_FILE,
    DownloadReport,
    FileFormat,
    Status,
    _Failure,
    check_content,
    download_corpus,
    format_manifest,
    format_report,
)
from rag.corpus.manifest import UnknownDocumentError, load_manifest
from rag.model import DocumentMeta
from rag.settings import Settings

try:  # tests/ is on sys.path when it has no __init__.py; the repo root otherwise
    from support.http_fixture import (
        LocalServer, closed_port, flaky, huge, make_pdf, redirect, serve, slow, static, truncated,
    )
except ImportError:  # pragma: no cover
    from tests.support.http_fixture import (
        LocalServer, closed_port, flaky, huge, make_pdf, redirect, serve, slow, static, truncated,
    )

FAST = dict(timeout=0.4, retries=2, backoff=0.01, progress=False)


@pytest.fixture
def server():
    with serve() as s:
        yield s


def write_manifest(tmp_path: Path, docs: list[dict]) -> Path:
    lines = []
    for d in docs:
        lines.append("[[document]]")
        full = {"title": f"Title of {d['id']}", "doc_type": "treaty", "language": "en", "format": "pdf", **d}
        for k, v in full.items():
            lines.append(f"{k} = {json.dumps(v)}")
        lines.append("")
    path = tmp_path / "manifest.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def make_settings(tmp_path: Path, docs: list[dict], max_file_mb: int = 1) -> Settings:
    return Settings(
        manifest=write_manifest(tmp_path, docs),
        corpus_dir=tmp_path / "corpus",
        max_file_mb=max_file_mb,
    )


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def corpus_files(settings: Settings) -> set[str]:
    return {p.name for p in Path(settings.corpus_dir).iterdir()}


def checksums(settings: Settings) -> dict:
    return json.loads((Path(settings.corpus_dir) / CHECKSUMS_FILE).read_text())


PDF = make_pdf("United Nations Convention against Cybercrime\nArticle 1. Statement of purpose")
PDF2 = make_pdf("United Nations Convention against Cybercrime\nArticle 1. Statement of purpose (corrected)")


def test_one_run_with_every_kind_of_source(tmp_path: Path, server: LocalServer) -> None:
    server.add("/files/convention.pdf", static(PDF))
    server.add("/docs/en/A/RES/79/243", redirect("/files/convention.pdf"))
    error_page = b"<!DOCTYPE html><html><body>Session expired" + b"<p>Please log in.</p>" * 1000 + b"</body></html>"
    server.add("/error-page.pdf", static(error_page, "text/html"))
    server.add("/flaky.pdf", flaky(2, PDF))
    server.add("/slow.pdf", slow(1.5, PDF))
    server.add("/huge-stream.pdf", huge(200 * 1024 * 1024, declare_length=False))
    server.add("/huge-declared.pdf", huge(200 * 1024 * 1024, declare_length=True))
    server.add("/truncated.pdf", truncated(PDF + b"\0" * 50_000, cut=3000))
    dead = f"http://127.0.0.1:{closed_port()}/docs/en/A/RES/79/243"
    docs = [
        {"id": "convention", "url": server.url("/docs/en/A/RES/79/243"), "symbol": "A/RES/79/243",
         "short_title": "UN Convention against Cybercrime", "date": "2024-12-24", "publisher": "United Nations"},
        {"id": "error-page", "url": server.url("/error-page.pdf")},
        {"id": "missing", "url": server.url("/nowhere.pdf")},
        {"id": "flaky", "url": server.url("/flaky.pdf"), "language": "fr", "doc_type": "submission"},
        {"id": "slow", "url": server.url("/slow.pdf")},
        {"id": "huge-stream", "url": server.url("/huge-stream.pdf")},
        {"id": "huge-declared", "url": server.url("/huge-declared.pdf")},
        {"id": "truncated", "url": server.url("/truncated.pdf")},
        {"id": "offline", "url": dead},
    ]
    settings = make_settings(tmp_path, docs)
    started = time.monotonic()
    report = download_corpus(settings, **FAST)
    elapsed = time.monotonic() - started
    results = report.by_id()
    corpus = Path(settings.corpus_dir)

    # Every document got a result, in manifest order, despite the failures in between.
    assert [r.id for r in report.results] == [d["id"] for d in docs]
    assert not report.ok
    assert report.counts() == {"downloaded": 2, "present": 0, "failed": 7, "changed": 0}

    ok = results["convention"]
    assert ok.status is Status.downloaded
    assert (corpus / "convention.pdf").read_bytes() == PDF
    assert ok.bytes == len(PDF) and ok.sha256 == sha(PDF)
    assert checksums(settings)["convention"]["sha256"] == sha(PDF)
    side = DocumentMeta.model_validate_json((corpus / "convention.meta.json").read_text())
    assert side.id == "convention" and side.symbol == "A/RES/79/243" and side.date == "2024-12-24"
    assert side.short_title == "UN Convention against Cybercrime" and side.publisher == "United Nations"
    assert side.source_url == docs[0]["url"]  # the official address, not where it redirected
    assert set(json.loads((corpus / "convention.meta.json").read_text())) == {
        "id", "title", "short_title", "symbol", "date", "publisher", "doc_type", "language", "source_url"}

    assert results["flaky"].status is Status.downloaded
    assert server.hits["/flaky.pdf"] == 3  # two 500s, then success
    flaky_meta = json.loads((corpus / "flaky.meta.json").read_text())
    assert flaky_meta["language"] == "fr" and flaky_meta["doc_type"] == "submission"

    assert "HTML page" in results["error-page"].error
    assert "HTTP 404" in results["missing"].error
    assert server.hits["/nowhere.pdf"] == 1  # a 404 is not retried
    assert "did not respond within 0.4s (3 attempts)" in results["slow"].error
    assert "exceeds the 1 MB limit" in results["huge-stream"].error
    assert "over the 1 MB limit" in results["huge-declared"].error
    # Aborted early: nowhere near the 200 MB the server would have sent.
    assert server.sent["/huge-stream.pdf"] < 50 * 1024 * 1024
    assert server.sent["/huge-declared.pdf"] < 50 * 1024 * 1024
    assert "broke off" in results["truncated"].error and server.hits["/truncated.pdf"] == 3
    offline = results["offline"].error
    assert offline.startswith("could not reach 127.0.0.1")
    assert "you appear to be offline" in offline
    assert f"place the file at {corpus / 'offline.pdf'} manually" in offline
    for r in report.results:
        if r.status is Status.failed:
            assert r.error and not r.sha256, r.id

    # Nothing partial anywhere: only the complete files, their sidecars and the checksums.
    assert corpus_files(settings) == {
        "convention.pdf", "convention.meta.json", "flaky.pdf", "flaky.meta.json", CHECKSUMS_FILE}
    assert set(checksums(settings)) == {"convention", "flaky"}
    assert elapsed < 20

    text = format_report(report)
    for d in docs:
        assert d["id"] in text
    assert "2 downloaded, 0 present, 7 failed, 0 changed" in text
    assert "you appear to be offline" in text


def test_rerun_downloads_nothing(tmp_path: Path, server: LocalServer) -> None:
    settings = make_settings(tmp_path, [{"id": "doc", "url": server.add("/doc.pdf", static(PDF))}])
    first = download_corpus(settings, **FAST)
    assert first.results[0].status is Status.downloaded and first.ok
    recorded = checksums(settings)
    second = download_corpus(settings, **FAST)
    assert second.results[0].status is Status.present and second.ok
    assert second.results[0].sha256 == sha(PDF)
    assert server.hits["/doc.pdf"] == 1
    assert checksums(settings) == recorded
    assert "1 present" in format_report(second)


def test_changed_source_is_detected_and_kept_only_with_force(tmp_path: Path, server: LocalServer) -> None:
    url = server.add("/doc.pdf", static(PDF))
    settings = make_settings(tmp_path, [{"id": "doc", "url": url}])
    target = Path(settings.corpus_dir) / "doc.pdf"
    assert download_corpus(settings, **FAST).ok

    server.add("/doc.pdf", static(PDF2))  # the publisher reissues the file
    forced = download_corpus(settings, force=True, **FAST).results[0]
    assert forced.status is Status.changed and forced.kept
    assert target.read_bytes() == PDF2
    assert checksums(settings)["doc"]["sha256"] == sha(PDF2)

    # Same content again under --force: an ordinary, unchanged re-download.
    again = download_corpus(settings, force=True, **FAST).results[0]
    assert again.status is Status.downloaded and "unchanged" in again.note

    # File lost locally and the source changed meanwhile: report it, keep nothing.
    target.unlink()
    server.add("/doc.pdf", static(PDF))
    report = download_corpus(settings, **FAST)
    res = report.results[0]
    assert res.status is Status.changed and not res.kept and not report.ok
    assert "--force" in res.error and sha(PDF)[:12] in res.error
    assert not target.exists()
    assert corpus_files(settings) == {"doc.meta.json", CHECKSUMS_FILE}
    assert checksums(settings)["doc"]["sha256"] == sha(PDF2)
    assert "changed (not kept)" in format_report(report)


def test_manifest_checksum_is_enforced(tmp_path: Path, server: LocalServer) -> None:
    url = server.add("/doc.pdf", static(PDF))
    wrong = make_settings(tmp_path, [{"id": "doc", "url": url, "sha256": sha(PDF2)}])
    res = download_corpus(wrong, **FAST).results[0]
    assert res.status is Status.changed and not res.kept and "manifest" in res.error
    assert not (Path(wrong.corpus_dir) / "doc.pdf").exists()

    right = make_settings(tmp_path, [{"id": "doc", "url": url, "sha256": sha(PDF).upper()}])
    assert download_corpus(right, **FAST).results[0].status is Status.downloaded


def test_manually_placed_file_is_accepted_offline(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{closed_port()}/x.pdf"
    settings = make_settings(tmp_path, [{"id": "placed", "url": dead, "language": "es"}])
    corpus = Path(settings.corpus_dir)
    failed = download_corpus(settings, **FAST).results[0]
    assert failed.status is Status.failed and str(corpus / "placed.pdf") in failed.error

    (corpus / "placed.pdf").write_bytes(PDF)  # what the message told the user to do
    res = download_corpus(settings, **FAST).results[0]
    assert res.status is Status.present and "recorded" in res.note
    assert checksums(settings)["placed"]["sha256"] == sha(PDF)
    assert json.loads((corpus / "placed.meta.json").read_text())["language"] == "es"


def test_interrupted_download_leaves_no_partial_file(tmp_path: Path, server: LocalServer) -> None:
    settings = make_settings(tmp_path, [{"id": "doc", "url": server.add("/doc.pdf", static(PDF))}])

    def interrupt(response: httpx.Response) -> None:
        raise KeyboardInterrupt  # the user presses Ctrl-C mid-download

    with httpx.Client(event_hooks={"response": [interrupt]}) as client:
        with pytest.raises(KeyboardInterrupt):
            download_corpus(settings, client=client, **FAST)
    assert corpus_files(settings) <= {CHECKSUMS_FILE}


def test_ids_and_groups_select_documents(tmp_path: Path, server: LocalServer) -> None:
    url = server.add("/doc.pdf", static(PDF))
    docs = [
        {"id": "a", "url": url, "group": "family"},
        {"id": "b", "url": url, "group": "family"},
        {"id": "c", "url": url},
    ]
    settings = make_settings(tmp_path, docs)
    report = download_corpus(settings, ["family"], **FAST)
    assert [r.id for r in report.results] == ["a", "b"]
    assert not (Path(settings.corpus_dir) / "c.pdf").exists()
    with pytest.raises(UnknownDocumentError, match="'d'"):
        download_corpus(settings, ["c", "d"], **FAST)
    assert server.hits["/doc.pdf"] == 2  # the unknown id was rejected before any request

    listing = format_manifest(load_manifest(settings.manifest), settings.corpus_dir)
    rows = {line.split()[0]: line.split() for line in listing.splitlines()[2:-1]}
    assert rows["a"][4] == "yes" and rows["c"][4] == "no"
    assert "2 of 3 documents present" in listing


def test_progress_bars_and_html_documents(tmp_path: Path, server: LocalServer, capsys) -> None:
    page = b"<!DOCTYPE html><html><body><h1>Article 1</h1></body></html>"
    docs = [
        {"id": "page", "url": server.add("/page", static(page, "text/html; charset=utf-8")), "format": "html"},
        {"id": "notes", "url": server.add("/notes", static(page, "text/html")), "format": "txt"},
    ]
    settings = make_settings(tmp_path, docs)
    report = download_corpus(settings, **{**FAST, "progress": True})
    assert report.by_id()["page"].status is Status.downloaded
    assert (Path(settings.corpus_dir) / "page.html").read_bytes() == page
    assert "HTML page" in report.by_id()["notes"].error
    assert "corpus" in capsys.readouterr().err  # the overall bar


def _docx_bytes() -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    "fmt, body, ctype, accepted",
    [
        (FileFormat.pdf, PDF, "application/pdf", True),
        (FileFormat.pdf, PDF, "application/octet-stream", True),
        (FileFormat.pdf, b"<html><body>Error</body></html>", "application/pdf", False),
        (FileFormat.pdf, b"plain text", "text/plain", False),
        (FileFormat.docx, _docx_bytes(), "application/vnd.openxmlformats", True),
        (FileFormat.docx, PDF, "application/pdf", False),
        (FileFormat.md, "# Título\n\nArtículo 1".encode(), "text/markdown", True),
        (FileFormat.txt, PDF, "application/pdf", False),
        (FileFormat.txt, b"\xff\xfe\x00a" * 100, "text/plain", False),
        (FileFormat.html, b"<!doctype html><html></html>", "text/html", True),
        (FileFormat.html, PDF, "application/pdf", False),
    ],
)
def test_content_checks(fmt: FileFormat, body: bytes, ctype: str, accepted: bool) -> None:
    if accepted:
        check_content(fmt, body[:2048], ctype)
    else:
        with pytest.raises(_Failure):
            check_content(fmt, body[:2048], ctype)


def test_report_ok_semantics(tmp_path: Path) -> None:
    assert DownloadReport(corpus_dir=tmp_path).ok  # nothing requested, nothing missing
