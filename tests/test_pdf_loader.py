"""UN-style PDFs rendered from the development corpus must load back to the same provisions.

The official UN PDFs cannot be fetched here, so the tests render corpus treaties in UN
layout (running header with the symbol, footer with job number and page/total, barcode,
hyphenation across line ends, footnotes) and compare the loaded text with the Markdown
source article for article, paragraph for paragraph.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rag.corpus import pdf as pdf_loader
from rag.corpus.errors import LoadError
from rag.corpus.loaders import load_document
from rag.model import Document, DocumentMeta
from rag.settings import Settings
from rag.structure import parse_document
from support.compare import count, differences
from support.render import corpus_source, dev_corpus, render_encrypted_pdf, render_image_only_pdf, render_un_pdf

CORPUS = dev_corpus()

# (corpus id, symbol, job number, articles the README lists)
CASES = [
    ("untoc", "A/AC.291/L.15", "V.24-14054 (E)", 41),
    ("budapest-convention", "A/RES/79/243", "24-14054", 48),
    ("lanzarote-convention", "A/AC.291/L.15", "V.24-14054 (E)", 50),
]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, settings):
    """Render and load each case once per module: (pdf path, renderer facts, Document)."""
    out_dir = tmp_path_factory.mktemp("un_pdf")
    cache: dict[str, tuple] = {}

    def get(doc_id: str, symbol: str, job: str) -> tuple[Path, dict, Document]:
        if doc_id not in cache:
            out = out_dir / f"{doc_id}.pdf"  # named like the source so ids match
            info = render_un_pdf(CORPUS / f"{doc_id}.md", out, symbol=symbol, job=job,
                                 hyphenate_every=1, long_word=7)
            cache[doc_id] = (out, info, load_document(out, settings))  # through the dispatcher
        return cache[doc_id]

    return get


_require_corpus = corpus_source


@pytest.mark.parametrize("doc_id,symbol,job,articles", CASES)
def test_pdf_matches_markdown_article_for_article(doc_id, symbol, job, articles, rendered, settings):
    md = load_document(_require_corpus(doc_id), settings)
    _, info, doc = rendered(doc_id, symbol, job)
    assert info["pages"] > 10 and len(info["hyphenated"]) > 40 and len(info["footnotes"]) > 10

    assert count(md, "article") == articles
    assert count(doc, "article") == articles
    assert count(doc, "paragraph") == count(md, "paragraph")
    diffs = differences(md, doc)
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("doc_id,symbol,job,articles", CASES[:2])
def test_no_page_furniture_or_footnotes_inside_provisions(doc_id, symbol, job, articles, rendered, settings):
    _require_corpus(doc_id)
    _, info, doc = rendered(doc_id, symbol, job)
    parsed = parse_document(doc)
    total = info["pages"]
    furniture = [symbol, job.split(" ")[0], re.sub(r"\D", "", job)]
    for p in parsed.provisions:
        if p.kind in ("document", "heading") or p.kind == "preamble":
            continue
        for needle in furniture:
            assert needle not in p.text, f"{needle!r} inside {p.id}"
        assert not re.search(rf"\b\d{{1,2}}/{total}\b", p.text), f"page number inside {p.id}"
        assert "Official Records" not in p.text and "/Add." not in p.text, f"footnote inside {p.id}"
        assert not re.search(r"[a-z]- [a-z]", p.text), f"hyphenation break left in {p.id}"
    # Footnotes are kept, at the end, numbered as printed.
    notes = doc.text.split("\n## Notes\n", 1)
    assert len(notes) == 2
    for n, text in info["footnotes"].items():
        assert f"[{n}] {text}" in notes[1]
    # The header's symbol and the PDF's title fill the metadata a bare file name lacks.
    assert doc.meta.id == doc_id
    assert doc.meta.symbol == symbol
    md_title = load_document(CORPUS / f"{doc_id}.md", settings).meta.title
    assert doc.meta.title == md_title
    # The masthead ("General Assembly", "Distr.: Limited", date) stays out of the text; its
    # date fills the metadata; the title line is marked as the document title.
    assert doc.text.startswith(f"# {md_title}\n")
    assert "Distr." not in doc.text and "General Assembly\n" not in doc.text
    assert doc.meta.date == str(load_document(CORPUS / f"{doc_id}.md", settings).meta.date)


def test_sidecar_metadata_wins_over_the_running_header(tmp_path, rendered, settings):
    _require_corpus("untoc")
    src, _, _ = rendered("untoc", "A/AC.291/L.15", "V.24-14054 (E)")
    pdf = tmp_path / "convention-final.pdf"
    pdf.write_bytes(src.read_bytes())
    (tmp_path / "convention-final.meta.json").write_text(json.dumps(
        {"id": "untoc", "title": "UNTOC", "symbol": "A/RES/55/25"}), encoding="utf-8")
    doc = load_document(pdf, settings)
    assert (doc.meta.id, doc.meta.title, doc.meta.symbol) == ("untoc", "UNTOC", "A/RES/55/25")


def _md(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "hyph.md"
    path.write_text('---\nid: "hyph"\ntitle: "Hyphenation test"\n---\n# Hyphenation test\n\n' + body,
                    encoding="utf-8")
    return path


def test_line_end_hyphens_are_undone_but_real_hyphens_kept(tmp_path):
    # The same sentence shifted word by word, so the line ends fall on every word of it.
    sentence = ("on cyber-dependent crime the telecommunications authority and the "
                "non-governmental organizations shall cooperate notwithstanding jurisdictional limits.")
    lines = [f"{i + 1}. " + " ".join(["States"] * i) + " " + sentence for i in range(40)]
    md = _md(tmp_path, "### Article 1. Terms\n\n" + "\n\n".join(lines) + "\n")
    out = tmp_path / "hyph.pdf"
    info = render_un_pdf(md, out, hyphenate_every=1, long_word=7, footnote_every=0)
    broken = set(info["hyphenated"])
    assert {"cyber-dependent", "telecommunications", "non-governmental"} <= broken

    doc = pdf_loader.load(out, DocumentMeta(id="hyph", title="hyph"))
    paras = [b.strip() for b in doc.text.split("\n\n") if re.match(r"\d+\. ", b)]
    assert len(paras) == 40
    for para, line in zip(paras, lines):
        assert para == re.sub(r"\s+", " ", line)


def test_owner_password_only_pdf_still_loads(tmp_path):
    """Many official PDFs restrict printing/copying but open without a password."""
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "restricted.pdf"
    c = Canvas(str(path), encrypt=StandardEncryption("", ownerPassword="owner", canCopy=0))
    c.drawString(72, 700, "Article 1. Each State Party shall cooperate.")
    c.save()
    doc = pdf_loader.load(path, DocumentMeta(id="restricted", title="restricted"))
    assert "Each State Party shall cooperate." in doc.text


# --- bad input ------------------------------------------------------------------------------


def _load_error(path: Path) -> str:
    with pytest.raises(LoadError) as err:
        pdf_loader.load(path, DocumentMeta(id=path.stem, title=path.stem))
    assert err.value.path == path
    assert str(err.value).startswith(f"{path.name}: ")
    return str(err.value)


def test_encrypted_pdf_is_refused_with_advice(tmp_path):
    path = tmp_path / "locked.pdf"
    render_encrypted_pdf(path)
    assert "encrypted PDF: remove the password and try again" in _load_error(path)


def test_image_only_pdf_asks_for_ocr(tmp_path):
    path = tmp_path / "scan.pdf"
    render_image_only_pdf(path)
    assert "scanned PDF without a text layer: OCR it first" in _load_error(path)


def test_truncated_pdf(tmp_path, rendered):
    _require_corpus("untoc")
    src, _, _ = rendered("untoc", "A/AC.291/L.15", "V.24-14054 (E)")
    path = tmp_path / "cut.pdf"
    data = src.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "truncated" in _load_error(path)


def test_zero_byte_and_non_pdf_files(tmp_path, settings):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    assert "empty file" in _load_error(empty)
    with pytest.raises(LoadError):
        load_document(empty, settings)
    fake = tmp_path / "fake.pdf"
    fake.write_text("<html><body>Not a PDF</body></html>", encoding="utf-8")
    assert "not a PDF file" in _load_error(fake)


def test_pdf_with_garbage_body_is_reported_as_damaged(tmp_path):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    message = _load_error(path)
    assert "damaged PDF" in message or "no text" in message or "empty document" in message
