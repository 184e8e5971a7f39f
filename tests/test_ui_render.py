"""The app's pure renderers: hostile text stays text, sentences are marked, types differ,
the Markdown export carries every citation."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rag.model import Answer, Citation, DocType, DocumentMeta, Provision
from rag.ui import render
from rag.ui.uploads import UploadError, check_upload, discard, safe_stem, store_upload

HOSTILE = ('<script>alert("x")</script><img src=x onerror="alert(1)"> '
           '${constructor.constructor("alert(2)")()} {{7*7}} `tick` \\u003c')


class _Tags(HTMLParser):
    """Collects start tags and attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html_text: str) -> list[tuple[str, dict]]:
    p = _Tags()
    p.feed(html_text)
    return p.tags


def assert_inert(html_text: str) -> None:
    found = tags(html_text)
    assert not [t for t, _ in found if t in ("script", "img", "iframe", "object", "embed")], found
    assert not [a for _, attrs in found for a in attrs if a.startswith("on")], found
    for marker in ("${", "{{", "`"):
        assert marker not in html_text


def cit(**kw) -> Citation:
    base = dict(provision_id="untoc/art_24/para_1", doc_id="untoc", article="24", paragraph="1",
                label="UNTOC, Art. 24(1)", doc_title="United Nations Convention against Transnational Organized Crime",
                source_type=DocType.treaty,
                text="1.   Each State Party shall take appropriate measures.  It shall protect witnesses.\n"
                     "Other text follows.",
                sentences=["It shall protect witnesses."], key="1")
    base.update(kw)
    return Citation(**base)


def hostile_citation() -> Citation:
    return cit(provision_id='evil/art_1"><script>x</script>', doc_id="evil", label=f"Evil, Art. 1 {HOSTILE}",
               doc_title=f"Evil treaty {HOSTILE}", text=f"Before. {HOSTILE} After.",
               sentences=[HOSTILE], source_type=DocType.submission)


def test_escape_neutralises_markup_and_template_syntax():
    out = render.esc(HOSTILE)
    assert "<" not in out and ">" not in out
    assert_inert(out)
    assert "&lt;script&gt;" in out


def test_citation_card_escapes_hostile_provision_text_title_and_label():
    html_text = render.citation_card(hostile_citation())
    assert_inert(html_text)
    # The hostile sentence is still highlighted, as escaped text.
    assert "<mark>" in html_text and "&lt;img src=x onerror=" in html_text
    # The provision id is confined to its attribute.
    attrs = [a for t, a in tags(html_text) if t == "button"]
    assert attrs and attrs[0]["data-pid"] == 'evil/art_1"><script>x</script>'


def test_answer_evidence_article_toc_and_upload_rows_are_inert():
    c = hostile_citation()
    answer = Answer(question=HOSTILE, answer=f"{HOSTILE} [{c.label}]\n- more {HOSTILE}", citations=[c],
                    related=[c], notices=[HOSTILE], mode=HOSTILE)
    meta = DocumentMeta(id="evil", title=HOSTILE, doc_type=DocType.commentary)
    prov = Provision(id="evil/art_1", doc_id="evil", kind="article", number="1", title=HOSTILE,
                     label=HOSTILE, start=0, end=len(HOSTILE), text=HOSTILE, chapter=HOSTILE)
    for out in (render.answer_html(answer), render.evidence_html(answer), render.streaming_html(HOSTILE),
                render.message_html(HOSTILE), render.question_html(HOSTILE), render.article_html(prov, meta, prov),
                render.toc_html(meta, [prov]),
                render.ingest_results_html([{"name": HOSTILE, "status": HOSTILE, "doc_id": HOSTILE,
                                             "error": HOSTILE}])):
        assert_inert(out)


def test_highlight_marks_supporting_sentence_despite_whitespace_differences():
    c = cit(text="1.   Each State Party shall take\nappropriate   measures. It shall protect witnesses.",
            sentences=["Each State Party shall take appropriate measures."])
    out = render.highlight(c.text, c.sentences)
    marked = re.findall(r"<mark>(.*?)</mark>", out, re.S)
    assert len(marked) == 1
    assert " ".join(marked[0].split()) == "Each State Party shall take appropriate measures."
    assert out.startswith("1.   ") and "It shall protect witnesses." in out.split("</mark>")[1]


def test_highlight_leaves_text_unmarked_when_sentence_absent_and_merges_overlaps():
    assert "<mark>" not in render.highlight("Some text.", ["Not in the text."])
    text = "Alpha beta gamma. Delta epsilon."
    out = render.highlight(text, ["Alpha beta gamma.", "beta gamma. Delta", "Delta epsilon."])
    assert out.count("<mark>") == 1 and re.sub("</?mark>", "", out) == text


def test_source_types_have_distinct_badges_and_card_classes():
    outs = {t: render.citation_card(cit(source_type=t)) for t in DocType}
    for t, out in outs.items():
        assert f"badge-{t.value}" in out and f"card-{t.value}" in out
    assert len({re.search(r'badge-(\w+)', o).group(1) for o in outs.values()}) == 3
    # and the CSS really colours them differently
    from rag.ui.layout import CSS

    colours = {t.value: re.search(rf"\.badge-{t.value} \{{([^}}]*)\}}", CSS).group(1) for t in DocType}
    assert len(set(colours.values())) == 3


def test_answer_html_turns_markers_into_chips_and_marks_refusals():
    c1, c2 = cit(), cit(provision_id="untoc/art_24/para_2", label="UNTOC, Art. 24(2)", key="2")
    a = Answer(question="q", answer=f"In UNTOC:\n- One. [{c1.label}]\n- Two. [{c2.label}] [not a citation]",
               citations=[c1, c2], mode="extractive", timings={"total": 1.25})
    out = render.answer_html(a)
    assert out.count('class="cite-chip"') == 2
    assert "[not a citation]" in out and "[UNTOC" not in out
    assert "<li>" in out and "mode: extractive" in out
    refused = render.answer_html(Answer(question="q", answer="The texts do not address this.", refused=True,
                                        related=[c1]))
    assert "Not answered from the texts" in refused and 'class="answer refused"' in refused


def test_evidence_shows_related_apart_and_refusal_with_related():
    c1 = cit()
    rel = cit(provision_id="untoc/art_25/para_1", label="UNTOC, Art. 25(1)", key="")
    a = Answer(question="q", answer="x", citations=[c1], related=[rel], notices=["Assumed document: UNTOC."])
    out = render.evidence_html(a)
    cited_part, related_part = out.split("Related, not cited")
    assert "UNTOC, Art. 24(1)" in cited_part and "UNTOC, Art. 25(1)" in related_part
    assert "UNTOC, Art. 25(1)" not in cited_part
    assert "Assumed document: UNTOC." in out
    refused = render.evidence_html(Answer(question="q", answer="no", refused=True, related=[rel]))
    assert "do not answer" in refused and "Cited provisions" not in refused and "UNTOC, Art. 25(1)" in refused


def test_markdown_export_contains_every_citation_with_text_and_related():
    cits = [cit(provision_id=f"untoc/art_{i}/para_1", label=f"UNTOC, Art. {i}(1)", key=str(i),
                text=f"Text of article {i}.", sentences=[f"Text of article {i}."]) for i in range(1, 5)]
    rel = cit(provision_id="crc/art_3", label="CRC, Art. 3", key="", doc_title="Convention on the Rights of the Child")
    a = Answer(question="What?", answer="Answer text [UNTOC, Art. 1(1)]", citations=cits, related=[rel])
    md = render.markdown_export(a)
    assert md.startswith("# What?")
    for c in cits:
        assert f"**{c.label}**" in md and f"> {c.text}" in md and c.provision_id in md
    assert "## Related, not cited" in md and "CRC, Art. 3" in md.split("## Related, not cited")[1]
    assert "CRC, Art. 3" not in md.split("## Related, not cited")[0]


def test_example_questions_come_from_indexed_articles_only():
    metas = {"t1": DocumentMeta(id="t1", title="Treaty One", short_title="T1", doc_type=DocType.treaty),
             "c1": DocumentMeta(id="c1", title="Comment", doc_type=DocType.commentary)}
    arts = [Provision(id=f"t1/art_{i}", doc_id="t1", kind="article", number=str(i), title=f"Topic {i}",
                      label=f"T1, Art. {i}", start=0, end=1, text="x") for i in range(1, 13)]
    qs = render.example_questions(metas, {"t1": arts, "c1": []})
    assert qs and all("T1" in q for q in qs)
    titles = {a.title for a in arts} | {a.title.lower() for a in arts}
    for q in qs:
        m = re.search(r"Article (\d+) \(([^)]+)\)", q)
        if m:
            assert f"t1/art_{m.group(1)}" in {a.id for a in arts} and m.group(2) == f"Topic {m.group(1)}"
        else:
            assert any(t in q for t in titles)
    assert render.example_questions({}, {}) == []


def test_doc_choices_list_every_document():
    metas = {d: DocumentMeta(id=d, title=d.upper(), doc_type=t) for d, t in
             [("a", DocType.commentary), ("b", DocType.treaty), ("c", DocType.submission)]}
    choices = render.doc_choices(metas)
    assert sorted(v for _, v in choices) == ["a", "b", "c"] and choices[0][1] == "b"


# -- uploads ---------------------------------------------------------------------------
def test_upload_checks_type_size_and_content(tmp_path: Path):
    good = tmp_path / "x"
    good.write_text("---\nid: t\n---\n# T\n", encoding="utf-8")
    assert check_upload(good, "My Treaty.MD", 1) == ".md"
    with pytest.raises(UploadError, match="not supported"):
        check_upload(good, "evil.exe", 1)
    fake_pdf = tmp_path / "y"
    fake_pdf.write_bytes(b"\x89\x00garbage" * 100)
    with pytest.raises(UploadError, match="not a PDF"):
        check_upload(fake_pdf, "report.pdf", 1)
    with pytest.raises(UploadError, match="not a Word"):
        check_upload(fake_pdf, "report.docx", 1)
    with pytest.raises(UploadError, match="binary"):
        check_upload(fake_pdf, "notes.txt", 1)
    big = tmp_path / "big"
    big.write_bytes(b"a" * (1024 * 1024 + 1))
    with pytest.raises(UploadError, match="limit is 1 MB"):
        check_upload(big, "big.txt", 1)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(UploadError, match="empty"):
        check_upload(empty, "e.md", 1)


def test_store_upload_never_uses_the_uploaded_name_as_a_path(tmp_path: Path):
    src = tmp_path / "src"
    src.write_text("hello", encoding="utf-8")
    up = tmp_path / "uploads"
    for name in ("../../etc/passwd.md", "..\\..\\win.md", "/abs/path/x.md", "<script>.md", ".md"):
        target = store_upload(src, name, up)
        assert target.resolve().parent.parent == up.resolve()
        assert re.fullmatch(r"[a-z0-9-]+\.md", target.name), target.name
    assert safe_stem("../../etc/passwd.md") == "passwd"
    # same content and name -> same path (re-upload is recognised as unchanged)
    assert store_upload(src, "a.md", up) == store_upload(src, "a.md", up)
    t = store_upload(src, "gone.md", up)
    discard(t, up)
    assert not t.exists()


def test_launch_settings_bind_locally_limit_uploads_and_add_auth_only_when_set(tmp_path: Path):
    from rag.settings import Settings
    from rag.ui.layout import launch_kwargs

    s = Settings(index_dir=tmp_path / "idx", app={"upload_dir": tmp_path / "up", "max_upload_mb": 3})
    kw = launch_kwargs(s)
    assert (kw["server_name"], kw["server_port"]) == ("127.0.0.1", 7860)
    assert kw["max_file_size"] == "3mb" and kw["allowed_paths"] == [] and "auth" not in kw
    assert str((tmp_path / "idx").resolve()) in kw["blocked_paths"]
    s2 = s.with_overrides(app={"username": "ann", "password": "pw", "port": 9000})
    kw2 = launch_kwargs(s2)
    assert kw2["auth"] == ("ann", "pw") and kw2["server_port"] == 9000


def test_the_verdict_is_a_badge_at_the_top_of_the_answer_and_in_the_export():
    from rag.model import Verdict

    verdict = Verdict(kind="partly", subject="compensation of witnesses", provision="UNTOC, Art. 24",
                      carried=["witnesses"], missing=["compensation"],
                      reason="UNTOC, Art. 24 carries witnesses, not compensation <script>")
    answer = Answer(question="Does Article 24 of UNTOC cover compensation of witnesses?",
                    answer="Partly. UNTOC, Art. 24 mentions witnesses but does not expressly address compensation:",
                    verdict=verdict)
    html_text = render.answer_html(answer)
    assert html_text.index('class="verdict verdict-partly"') < html_text.index("<p>")
    assert "Partly</span> — UNTOC, Art. 24" in html_text
    assert_inert(html_text)
    assert "**Verdict: Partly** (UNTOC, Art. 24)" in render.markdown_export(answer)
    assert render.verdict_badge(answer.model_copy(update={"verdict": None})) == ""


def test_uploaded_documents_are_marked_uploaded_everywhere():
    card = render.citation_card(cit(doc_id="upload-abc-123", provision_id="upload-abc-123/art_1"))
    assert "badge-uploaded" in card and "badge-uploaded" not in render.citation_card(cit())
    meta = DocumentMeta(id="upload-abc-123", title="Mine", doc_type=DocType.commentary, owner="abc")
    assert "badge-uploaded" in render.toc_html(meta, [])
    assert render.doc_choices({meta.id: meta}) == [("Mine (commentary, uploaded)", meta.id)]
    answer = Answer(question="q", answer="a [1]", citations=[cit(doc_id="upload-abc-123", key="1")])
    assert "uploaded;" in render.markdown_export(answer)


def test_user_text_cuts_server_paths_and_surrogates():
    from rag.ui.uploads import user_text

    shown = user_text("cannot read /srv/app/data/uploads/ab12/x.md: denied \ud800")
    assert "/srv" not in shown and "x.md" in shown and "\ud800" not in shown
    shown.encode("utf-8")
