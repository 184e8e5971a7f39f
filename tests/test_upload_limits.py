"""Bounded ingestion: ZIP bombs, page floods, huge texts and provision floods are refused.

Why: one upload must not hold the index (and every other user's questions) for minutes or
grow the process by gigabytes; a file over a limit is refused with a message naming the
limit, and nothing of it reaches the registry or Chroma.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from rag.corpus.errors import LoadError
from rag.corpus.loaders import load_document
from rag.index.service import Index

CONTENT_TYPES = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')


def docx_bomb(path: Path, xml_mb: int, random_bytes: bool = False) -> Path:
    """A .docx whose document.xml is `xml_mb` MB: repetitive (tiny when zipped) or random."""
    body = os.urandom(xml_mb * 1024 * 1024).hex()[: xml_mb * 1024 * 1024] if random_bytes else None
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        para = "<w:p><w:r><w:t>Article 1. Everyone has rights.</w:t></w:r></w:p>"
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>')
            if body is not None:
                fh.write(f"<w:p><w:r><w:t>{body}</w:t></w:r></w:p>".encode())
            else:
                block = (para * 1000).encode()
                for _ in range(xml_mb * 1024 * 1024 // len(block) + 1):
                    fh.write(block)
            fh.write(b"</w:body></w:document>")
    return path


def assert_nothing_indexed(ix: Index) -> None:
    assert ix.registry.documents() == [] and ix.store.count() == 0


def test_a_docx_zip_bomb_is_refused_before_parsing(settings_factory, tmp_path):
    settings = settings_factory()
    bomb = docx_bomb(tmp_path / "bomb.docx", xml_mb=60)
    assert bomb.stat().st_size < 2 * 1024 * 1024  # small on disk, under every upload limit
    with pytest.raises(LoadError, match=r"expands to .* MB, over the limit of 50 MB"):
        load_document(bomb, settings)
    ratio = docx_bomb(tmp_path / "ratio.docx", xml_mb=20)
    with pytest.raises(LoadError, match=r"expands .* times \(a ZIP bomb\?\)"):
        load_document(ratio, settings)
    ix = Index(settings)
    report = ix.ingest([bomb, ratio], progress=False)
    assert [r.status for r in report.results] == ["failed", "failed"]
    assert_nothing_indexed(ix)


def test_a_large_incompressible_docx_is_bounded_by_size(settings_factory, tmp_path):
    settings = settings_factory(limits={"max_unzipped_mb": 1})
    big = docx_bomb(tmp_path / "big.docx", xml_mb=2, random_bytes=True)
    with pytest.raises(LoadError, match="over the limit of 1 MB"):
        load_document(big, settings)


def test_a_pdf_with_too_many_pages_is_refused(settings_factory, tmp_path):
    from reportlab.pdfgen import canvas

    path = tmp_path / "pages.pdf"
    c = canvas.Canvas(str(path))
    for n in range(5):
        c.drawString(72, 720, f"Article {n + 1}. Page {n + 1} of a long document.")
        c.showPage()
    c.save()
    with pytest.raises(LoadError, match="has 5 pages, over the limit of 3"):
        load_document(path, settings_factory(limits={"max_pdf_pages": 3}))


def test_huge_text_is_refused_and_nothing_is_indexed(settings_factory, tmp_path):
    settings = settings_factory(limits={"max_text_chars": 100_000})
    huge = tmp_path / "huge.md"
    huge.write_text("### Article 1. Everything\n\n" + "All work and no play. " * 20_000, encoding="utf-8")
    ix = Index(settings)
    (res,) = ix.ingest([huge], progress=False).results
    assert res.status == "failed" and "over the limit of 100,000" in res.error
    assert_nothing_indexed(ix)


@pytest.mark.parametrize("limit", [{"max_provisions": 30}, {"max_chunks": 10}])
def test_too_many_provisions_or_chunks_are_refused_before_embedding(settings_factory, tmp_path, limit):
    settings = settings_factory(limits=limit)
    many = tmp_path / "many.md"
    many.write_text("".join(f"### Article {n}. Topic {n}\n\nThe parties shall do thing number {n}.\n\n"
                            for n in range(1, 41)), encoding="utf-8")
    ix = Index(settings)
    (res,) = ix.ingest([many], progress=False).results
    assert res.status == "failed" and "over the limit of" in res.error and res.embedded == 0
    assert_nothing_indexed(ix)


def test_an_upload_over_a_limit_is_refused_in_the_app(settings_factory, tmp_path):
    from rag.api import TreatyQA
    from rag.ui.handlers import Handlers

    qa = TreatyQA(settings_factory())
    bomb = docx_bomb(tmp_path / "bomb.docx", xml_mb=60)
    html, *_ = Handlers(qa).upload([str(bomb)], progress=lambda *a, **k: None)
    assert "over the limit of 50 MB" in html and "failed" in html
    assert_nothing_indexed(qa.index)
    assert not any(Path(qa.settings.app.upload_dir).rglob("*.docx"))  # the refused file is not kept


def test_limits_are_documented_settings():
    from rag.settings import LimitSettings

    assert all(f.description for f in LimitSettings.model_fields.values())


def test_a_document_over_its_time_budget_is_refused_and_the_others_still_ingest(settings_factory, copy_corpus,
                                                                                 tmp_path):
    """A small file can still be slow; the budget stops it between two slices of work, before its
    commit point, and the next document gets a budget of its own."""
    docs = copy_corpus({"lanzarote.md": "lanzarote-convention"})
    small = docs / "small.md"
    small.write_text("### Article 1. Scope\n\nThe parties shall protect children.\n", encoding="utf-8")
    ix = Index(settings_factory(limits={"max_ingest_seconds": 0.5}))
    ix.embedder.embed(["load the model outside any document's budget"])
    report = ix.ingest([docs / "lanzarote.md", small], progress=False)
    slow, fast = report.results
    assert slow.status == "failed" and "longer than the limit of 0.5 s" in slow.error
    assert fast.status == "ingested"
    assert [d["doc_id"] for d in ix.registry.documents()] == [fast.doc_id]
    assert set(ix.store.ids_for("lanzarote-convention")) == set()
    assert ix.store.count() == fast.chunks


def test_the_time_budget_is_free_when_unset_and_strict_when_spent(tmp_path):
    import time

    from rag.corpus.budget import BudgetExceeded, check_time, time_budget

    check_time()  # no budget: never raises
    with time_budget(tmp_path / "a.md", 0):
        time.sleep(0.01)
        check_time()
    with time_budget(tmp_path / "a.md", 0.01), pytest.raises(BudgetExceeded, match="a.md: ingesting it took"):
        time.sleep(0.02)
        check_time()
    check_time()  # the budget ends with its document


def test_a_text_file_with_a_nul_byte_after_its_first_pages_is_refused(settings_factory, tmp_path):
    path = tmp_path / "padded.txt"
    path.write_bytes(b"Article 1. Scope\n\n" + b"The parties shall cooperate. " * 1000 + b"\x00\x01binary tail")
    with pytest.raises(LoadError, match=r"binary file, not text \(a NUL byte at byte 29,018\)"):
        load_document(path, settings_factory())
