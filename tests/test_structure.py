"""The parser against the real corpus and against the layouts other sources produce.

Why: every citation the product shows is a provision id and label from this parser; a
missed article or a paragraph attached to the wrong number turns a correct answer into a
wrong citation. Expected values come from the corpus README and from regex scans of the
Markdown here, not from the parser.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag.model import Document, DocumentMeta, ParsedDocument
from rag.structure import parse_document

ARTICLE_HEADING = re.compile(r"^###[ \t]+Article[ \t]+(\d+\w*)\.?(?:[ \t]+(.*?))?[ \t]*$", re.M)
NUMBERED_LINE = re.compile(r"^([ \t]*)(\d{1,3})\.", re.M)


def parse(text: str, doc_id: str = "t", short: str = "T") -> ParsedDocument:
    return parse_document(Document(meta=DocumentMeta(id=doc_id, title="Test treaty", short_title=short), text=text))


def readme_table(corpus_dir: Path) -> dict[str, str]:
    """id -> the README's "articles" column ("48", or "–" for documents without articles)."""
    out = {}
    readme = Path(__file__).resolve().parents[1] / "corpus" / "README.md"  # beside corpus/documents
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", cells[0]) and cells[0] != "id":
            out[cells[0]] = cells[3]
    return out


# -- the development corpus ------------------------------------------------------------

def test_readme_table_lists_every_corpus_document(corpus_dir, corpus_files):
    assert set(readme_table(corpus_dir)) == set(corpus_files)


def test_article_counts_match_the_readme(corpus_dir, parsed_corpus):
    table = readme_table(corpus_dir)
    for doc_id, expected in table.items():
        articles = parsed_corpus[doc_id].articles()
        if expected.isdigit():
            assert len(articles) == int(expected), doc_id
            numbers = [a.number for a in articles]
            assert numbers == [str(n) for n in range(1, int(expected) + 1)], doc_id
        else:
            assert articles == [], f"{doc_id} has no articles but got {len(articles)}"


def test_every_article_has_the_title_of_its_heading(parsed_corpus):
    checked = 0
    for doc_id, parsed in parsed_corpus.items():
        by_number = {a.number: a for a in parsed.articles()}
        for number, title in ARTICLE_HEADING.findall(parsed.document.text):
            article = by_number.get(number)
            assert article is not None, f"{doc_id}: Article {number} not parsed"
            assert article.id == f"{doc_id}/art_{number}"
            if title.strip():
                assert article.title == title.strip(), f"{doc_id} Art. {number}"
                checked += 1
            else:  # untitled: the first body line must not be taken for a title
                assert article.title is None, f"{doc_id} Art. {number}: {article.title!r}"
    assert checked > 200


def test_every_numbered_line_is_that_paragraph(parsed_corpus):
    """A line "N." inside an article is paragraph N of that article."""
    checked = 0
    for doc_id, parsed in parsed_corpus.items():
        text = parsed.document.text
        articles = parsed.articles()
        for m in NUMBERED_LINE.finditer(text):
            start = m.start(2)
            art = next((a for a in articles if a.start <= start < a.end), None)
            if art is None:
                continue  # preamble / commentary text
            prov = parsed.deepest_at(start, m.end())
            assert prov is not None and prov.kind == "paragraph", (doc_id, text[start:start + 60])
            assert prov.number == m.group(2), (doc_id, text[start:start + 60])
            assert prov.id == f"{art.id}/para_{m.group(2)}"
            assert prov.article == art.number
            checked += 1
    assert checked > 700


def test_provision_offsets_are_slices_of_the_text(parsed_corpus):
    for parsed in parsed_corpus.values():
        text = parsed.document.text
        ids = [p.id for p in parsed.provisions]
        assert len(ids) == len(set(ids))
        idx = parsed.by_id()
        for p in parsed.provisions:
            assert p.text == text[p.start:p.end]
            if p.parent_id:
                parent = idx[p.parent_id]
                assert parent.start <= p.start and p.end <= parent.end, p.id
                assert p.id in parent.children


@pytest.mark.parametrize("pid, label, kind", [
    ("untoc/art_25/para_2", "UNTOC, Art. 25(2)", "paragraph"),
    ("budapest-convention/art_1/para_1/point_d", "Budapest Convention, Art. 1(d)", "point"),
    ("budapest-convention/art_1/para_1/point_c/sub_ii", "Budapest Convention, Art. 1(c)(ii)", "subpoint"),
    ("lanzarote-convention/art_23", "Lanzarote Convention, Art. 23", "article"),
    ("uncac/art_33", "UNCAC, Art. 33", "article"),
])
def test_ids_and_labels(parsed_corpus, pid, label, kind):
    prov = parsed_corpus[pid.split("/")[0]].by_id().get(pid)
    assert prov is not None, pid
    assert prov.label == label
    assert prov.kind == kind


def test_definition_points_carry_their_text(parsed_corpus):
    idx = parsed_corpus["budapest-convention"].by_id()
    d = idx["budapest-convention/art_1/para_1/point_d"]
    assert "traffic data" in d.text and d.point == "d" and d.paragraph is None
    c_ii = idx["budapest-convention/art_1/para_1/point_c/sub_ii"]
    assert c_ii.text.lstrip().startswith("(ii)")
    assert "on behalf of" in c_ii.text
    # the implicit paragraph of an unnumbered article
    assert idx["budapest-convention/art_1/para_1"].paragraph is None


def test_untoc_article_3_cross_references(parsed_corpus):
    idx = parsed_corpus["untoc"].by_id()
    refs = set(idx["untoc/art_3/para_1"].refs)
    assert {f"untoc/art_{n}" for n in (2, 5, 6, 8, 23)} <= refs
    assert "untoc/art_3/para_1" in idx["untoc/art_3/para_2"].refs  # "paragraph 1 of this article"


def test_articles_know_their_chapter(parsed_corpus):
    art = parsed_corpus["budapest-convention"].by_id()["budapest-convention/art_2"]
    assert art.chapter and art.chapter.startswith("Chapter II")


def test_commentaries_split_into_sections_and_paragraphs(parsed_corpus):
    for doc_id in ("knowmad-2024-08-commentary", "eff-2024-01-ngo-redlines"):
        parsed = parsed_corpus[doc_id]
        kinds = {p.kind for p in parsed.provisions}
        assert "section" in kinds and "text" in kinds and "article" not in kinds
        text = parsed.document.text
        body_paras = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        texts = [p for p in parsed.provisions if p.kind == "text"]
        assert len(texts) >= len(body_paras) - 15  # headings without hashes are sections
        for p in texts:
            assert re.fullmatch(rf"{re.escape(doc_id)}/sec_\d+/para_\d+", p.id)
    knowmad = parsed_corpus["knowmad-2024-08-commentary"]
    titled = [p.title for p in knowmad.provisions if p.kind == "section" and p.title]
    assert "Human Rights at Risk" in titled


# -- synthetic layouts ---------------------------------------------------------------

def test_title_on_the_next_line():
    p = parse("Article 14\nAssistance to victims\n1. Each Party shall assist victims.\n"
              "2. Each Party shall inform them.\n")
    art = p.by_id()["t/art_14"]
    assert art.title == "Assistance to victims"
    assert [c for c in art.children] == ["t/art_14/para_1", "t/art_14/para_2"]
    assert p.by_id()["t/art_14/para_2"].label == "T, Art. 14(2)"


def test_upper_case_article_headings():
    p = parse("ARTICLE 14\n\nEach Party shall do things.\n\nARTICLE 15\n\nOther things.\n")
    arts = p.articles()
    assert [a.number for a in arts] == ["14", "15"]
    assert arts[0].title is None  # the body sentence is not a title
    assert "Each Party shall do things." in arts[0].text and "Other things" not in arts[0].text


def test_paragraphs_run_together_on_one_line():
    p = parse("### Article 3. Scope\n\n1. This applies to offences. 2. It also applies to others. "
              "3. Finally, it applies here.\n")
    idx = p.by_id()
    assert idx["t/art_3/para_2"].text == "2. It also applies to others."
    assert idx["t/art_3/para_3"].text.startswith("3. Finally")
    assert idx["t/art_3/para_1"].text == "1. This applies to offences."


def test_numbers_inside_a_sentence_are_not_paragraphs():
    p = parse("### Article 3. Scope\n\n1. This applies to the offences in article 2. 5. Other text "
              "follows here.\n")
    assert [c.split("/")[-1] for c in p.by_id()["t/art_3"].children] == ["para_1"]


def test_letter_i_after_h_is_a_letter():
    points = "".join(f"({c}) Term {c} means {c};\n" for c in "abcdefghij")
    p = parse("### Article 2. Use of terms\n\nFor the purposes of this Convention:\n\n" + points)
    idx = p.by_id()
    assert idx["t/art_2/para_1/point_i"].kind == "point"
    assert idx["t/art_2/para_1/point_i"].label == "T, Art. 2(i)"
    assert "t/art_2/para_1/point_j" in idx
    assert not any("/sub_" in pid for pid in idx)


def test_roman_subpoints_under_a_letter():
    p = parse("### Article 2. Use of terms\n\n1. For the purposes:\n\n(a) Alpha means:\n(i) first sense;\n"
              "(ii) second sense;\n(b) Bravo.\n")
    idx = p.by_id()
    sub = idx["t/art_2/para_1/point_a/sub_ii"]
    assert sub.kind == "subpoint" and sub.label == "T, Art. 2(1)(a)(ii)" and sub.text == "(ii) second sense;"
    assert "t/art_2/para_1/point_b" in idx and "t/art_2/para_1/point_a/sub_b" not in idx


def test_dash_items():
    p = parse("### Article 5. Offences\n\n1. Each Party shall criminalise:\n– the first act;\n– the second act.\n")
    idx = p.by_id()
    para = idx["t/art_5/para_1"]
    assert len(para.children) == 2
    second = idx[para.children[1]]
    assert second.text == "– the second act." and second.paragraph == "1"


def test_plain_text_chapter_with_title_line():
    p = parse("CHAPTER II\nMEASURES TO BE TAKEN\n\nArticle 2\nCriminalisation\n\nEach Party shall act.\n")
    idx = p.by_id()
    chapter = idx["t/chapter_II"]
    assert chapter.kind == "chapter" and chapter.title == "MEASURES TO BE TAKEN"
    art = idx["t/art_2"]
    assert art.title == "Criminalisation" and art.parent_id == "t/chapter_II"
    assert art.chapter == "Chapter II. MEASURES TO BE TAKEN"


def test_text_without_structure():
    p = parse("This is just some text.\n\nAnd another paragraph of text here.\n")
    kinds = [x.kind for x in p.provisions]
    assert "article" not in kinds
    texts = [x for x in p.provisions if x.kind == "text"]
    assert [t.text for t in texts] == ["This is just some text.", "And another paragraph of text here."]


def test_empty_text_gives_only_the_document():
    p = parse("")
    assert [x.kind for x in p.provisions] == ["document"]
