"""Treaty web pages must load to the same provisions as the Markdown source, minus the page chrome."""
from __future__ import annotations


import pytest

from rag.corpus import html as html_loader
from rag.corpus.errors import LoadError
from rag.corpus.loaders import load_document
from rag.model import DocumentMeta
from rag.settings import Settings
from rag.structure import parse_document
from support.compare import count, differences
from support.render import corpus_source, dev_corpus, render_html

CORPUS = dev_corpus()
CASES = [
    ("untoc", 41),
    ("budapest-convention", 48),
    ("lanzarote-convention", 50),
]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings()


_source = corpus_source


@pytest.mark.parametrize("doc_id,articles", CASES)
def test_html_matches_markdown_article_for_article(doc_id, articles, tmp_path, settings):
    src = _source(doc_id)
    page = tmp_path / f"{doc_id}.html"
    render_html(src, page)
    md = load_document(src, settings)
    doc = load_document(page, settings)
    assert count(doc, "article") == articles
    diffs = differences(md, doc)
    assert not diffs, "\n".join(diffs)
    # Scripts, styles, navigation and <noscript> never reach the text.
    for junk in ("SCRIPT-TEXT", "NAV-TEXT", "NOSCRIPT-TEXT", "font-family", "tracker", "Home"):
        assert junk not in doc.text
    assert doc.meta.title == md.meta.title  # from <title>, replacing the file-name guess
    assert doc.meta.id == doc_id


def test_script_only_page_is_empty(tmp_path):
    path = tmp_path / "app.html"
    path.write_text("<html><head><script>var x = 'Article 1';</script></head>"
                    "<body><script>document.write('Article 2')</script><nav>Menu</nav></body></html>",
                    encoding="utf-8")
    with pytest.raises(LoadError) as err:
        html_loader.load(path, DocumentMeta(id="app", title="app"))
    assert "no visible text" in str(err.value)


def test_ordered_lists_keep_their_visible_numbers(tmp_path):
    path = tmp_path / "lists.html"
    path.write_text(
        """<!doctype html><html lang="fr"><head><title>Convention test</title>
        <meta name="dc.identifier" content="A/RES/79/243"></head><body>
        <h2>Chapter I. General provisions</h2>
        <h3>Article 1. Purpose</h3>
        <ol>
          <li>Each State Party shall
              adopt measures.</li>
          <li>Each State Party may:
            <ol type="a"><li>cooperate;</li><li>assist <b>other</b> States.</li></ol>
          </li>
        </ol>
        <h3>Article 2<br>
            Scope of application</h3>
        <ol start="3"><li>Third paragraph.</li></ol>
        <p>Text with a line<br>break and <span hidden>hidden words</span>.</p>
        <div style="display: none">invisible</div>
        </body></html>""",
        encoding="utf-8",
    )
    doc = html_loader.load(path, DocumentMeta(id="lists", title="lists"))
    assert doc.text.split("\n\n")[:6] == [
        "## Chapter I. General provisions",
        "### Article 1. Purpose",
        "1. Each State Party shall adopt measures.",
        "2. Each State Party may:",
        "a. cooperate;",
        "b. assist other States.",
    ]
    assert "3. Third paragraph." in doc.text
    assert "Text with a line\nbreak and ." in doc.text
    assert "hidden words" not in doc.text and "invisible" not in doc.text
    assert (doc.meta.title, doc.meta.language, doc.meta.symbol) == ("Convention test", "fr", "A/RES/79/243")
    parsed = parse_document(doc)
    ids = {p.id for p in parsed.provisions}
    assert {"lists/art_1/para_1", "lists/art_1/para_2", "lists/art_2/para_3"} <= ids
    assert parsed.by_id()["lists/art_2"].title == "Scope of application"


def test_empty_and_binary_files_are_refused(tmp_path, settings):
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"   \n")
    with pytest.raises(LoadError, match="empty"):
        html_loader.load(empty, DocumentMeta(id="empty", title="empty"))
    binary = tmp_path / "image.html"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200))
    with pytest.raises(LoadError, match="binary"):
        load_document(binary, settings)
