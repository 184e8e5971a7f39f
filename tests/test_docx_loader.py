"""Word renderings of the corpus (with Word-generated paragraph numbers) load to the same provisions."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from rag.corpus import docx as docx_loader
from rag.corpus.errors import LoadError
from rag.corpus.loaders import load_document
from rag.model import DocumentMeta
from rag.settings import Settings
from rag.structure import parse_document
from support.compare import count, differences
from support.render import corpus_source, dev_corpus, render_docx

CORPUS = dev_corpus()
CASES = [
    ("untoc", 41, True),
    ("budapest-convention", 48, True),
    ("lanzarote-convention", 50, True),
    ("untoc", 41, False),  # numbers typed into the text instead
]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


_source = corpus_source


@pytest.mark.parametrize("doc_id,articles,auto_numbering", CASES)
def test_docx_matches_markdown_article_for_article(doc_id, articles, auto_numbering, tmp_path, settings):
    import docx

    src = _source(doc_id)
    path = tmp_path / f"{doc_id}.docx"
    render_docx(src, path, auto_numbering=auto_numbering)
    if auto_numbering:  # the numbers really are Word's, not typed text
        typed = [p.text for p in docx.Document(str(path)).paragraphs if p.style.name == "List Number"]
        assert len(typed) > 40 and not any(re.match(r"\d+\.\s", t) for t in typed)
    md = load_document(src, settings)
    doc = load_document(path, settings)
    assert count(doc, "article") == articles
    assert count(doc, "paragraph") == count(md, "paragraph")
    diffs = differences(md, doc)
    assert not diffs, "\n".join(diffs)
    assert doc.meta.title == md.meta.title and doc.meta.id == doc_id


def test_core_properties_fill_metadata(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "Draft convention"
    d.core_properties.subject = "A/AC.291/L.15"
    d.core_properties.language = "fr-FR"
    d.add_heading("Chapter I. General provisions", level=1)
    d.add_heading("Article 1. Statement of purpose", level=2)
    d.add_paragraph("The purposes of this Convention are to promote cooperation.")
    heading = d.add_heading("Article 2", level=2)  # number and title on two lines
    heading.add_run().add_break()
    heading.add_run("Scope of application")
    d.add_paragraph("This Convention shall apply.")
    path = tmp_path / "draft_v2.docx"
    d.save(str(path))
    doc = docx_loader.load(path, DocumentMeta(id="draft-v2", title="draft v2"))
    assert (doc.meta.id, doc.meta.title, doc.meta.symbol, doc.meta.language) == (
        "draft-v2", "Draft convention", "A/AC.291/L.15", "fr")
    assert doc.text.startswith("## Chapter I. General provisions\n\n### Article 1. Statement of purpose\n\n")
    art2 = parse_document(doc).by_id()["draft-v2/art_2"]
    assert art2.title == "Scope of application" and art2.text.endswith("This Convention shall apply.")


def test_tables_and_restarted_letter_lists(tmp_path):
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    d = docx.Document()
    numbering = d.part.numbering_part.element
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), "77")
    lvl = OxmlElement("w:lvl")
    lvl.set(qn("w:ilvl"), "0")
    for tag, val in (("w:start", "1"), ("w:numFmt", "lowerLetter"), ("w:lvlText", "(%1)")):
        e = OxmlElement(tag)
        e.set(qn("w:val"), val)
        lvl.append(e)
    abstract.append(lvl)
    numbering.insert(0, abstract)

    def new_num(num_id: int, restart: bool) -> None:
        num = OxmlElement("w:num")
        num.set(qn("w:numId"), str(num_id))
        a = OxmlElement("w:abstractNumId")
        a.set(qn("w:val"), "77")
        num.append(a)
        if restart:
            ov = OxmlElement("w:lvlOverride")
            ov.set(qn("w:ilvl"), "0")
            so = OxmlElement("w:startOverride")
            so.set(qn("w:val"), "1")
            ov.append(so)
            num.append(ov)
        numbering.append(num)

    def item(text: str, num_id: int) -> None:
        p = d.add_paragraph(text)
        numpr = p._p.get_or_add_pPr().get_or_add_numPr()
        numpr.get_or_add_ilvl().val = 0
        numpr.get_or_add_numId().val = num_id

    new_num(501, restart=True)
    new_num(502, restart=True)
    item("first;", 501)
    item("second.", 501)
    table = d.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Cell one"
    table.cell(0, 1).text = "Cell two"
    item("again first.", 502)
    path = tmp_path / "lists.docx"
    d.save(str(path))
    text = docx_loader.load(path, DocumentMeta(id="lists", title="lists")).text
    assert text.split("\n\n") == ["(a) first;", "(b) second.", "Cell one", "Cell two", "(a) again first.\n"]


# --- bad input ---------------------------------------------------------------------------


def _load_error(path: Path) -> str:
    with pytest.raises(LoadError) as err:
        docx_loader.load(path, DocumentMeta(id=path.stem, title=path.stem))
    assert str(err.value).startswith(f"{path.name}: ")
    return str(err.value)


def test_text_file_named_docx(tmp_path, settings):
    path = tmp_path / "notes.docx"
    path.write_text("Article 1. This is plain text, not Word.", encoding="utf-8")
    assert "not a DOCX file (not a zip archive)" in _load_error(path)
    with pytest.raises(LoadError, match="not a zip archive"):
        load_document(path, settings)


def test_zero_byte_legacy_doc_and_foreign_zip(tmp_path):
    empty = tmp_path / "empty.docx"
    empty.write_bytes(b"")
    assert "empty file" in _load_error(empty)
    legacy = tmp_path / "old.docx"
    legacy.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    assert "old Word .doc format" in _load_error(legacy)
    foreign = tmp_path / "archive.docx"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("readme.txt", "not a word document")
    assert "without word/document.xml" in _load_error(foreign)


def test_truncated_and_empty_docx(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Some text " * 200)
    good = tmp_path / "good.docx"
    d.save(str(good))
    cut = tmp_path / "cut.docx"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) - 300])
    assert "DOCX" in _load_error(cut)
    blank = tmp_path / "blank.docx"
    docx.Document().save(str(blank))
    assert "empty document" in _load_error(blank)
