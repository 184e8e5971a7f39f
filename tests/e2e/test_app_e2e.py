"""What a user does in the browser: ask, read the evidence, open the source, follow up, get
refused, add documents (good, corrupt, hostile), and use the app at phone width.

Expectations come from the corpus and the uploaded test documents (e.g. the article named in
an example question must be the one cited), not from the app's own output.
"""
from __future__ import annotations

import json
import os
import time
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .conftest import LAPTOP, PHONE, launch_app, stop_app

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

ANSWER_DONE = "#chat .answer:not(.streaming), #chat .app-message"

KELP_TREATY = """---
id: "kelp-accord"
title: "Accord on the Sustainable Harvesting of Kelp Forests"
short_title: "Kelp Accord"
doc_type: "treaty"
date: "2031-04-01"
language: "en"
---
# Accord on the Sustainable Harvesting of Kelp Forests

### Article 1. Purpose

The purpose of this Accord is to protect kelp forests from overharvesting.

### Article 2. Harvesting quota

1. Each Party shall limit commercial kelp harvesting to forty tonnes per licensed vessel per calendar year.

2. Each Party shall publish the kelp harvesting quota of every licensed vessel.

### Article 3. Seaweed inspectors

Each Party shall appoint seaweed inspectors who may board any licensed vessel to verify the kelp harvesting quota.
"""

HOSTILE_TREATY = """---
id: "hostile-doc"
title: "Quokka Treaty <script>window.__xss = 'title'</script><img src=x onerror=\\"window.__xss='title-img'\\">"
short_title: "Quokka Treaty <b onmouseover=alert(1)>"
doc_type: "treaty"
---
# Quokka Treaty

### Article 1. Quokka sanctuaries <img src=x onerror="window.__xss='heading'">

1. Each Party shall designate quokka sanctuaries on offshore islands. <script>window.__xss = 'body'; alert('xss')</script>

2. Each Party shall protect quokka sanctuaries <img src=x onerror="window.__xss='img'; alert('img')"> from feral cats ${alert('tpl')} {{constructor.constructor('alert(2)')()}}.
"""


# -- helpers -----------------------------------------------------------------------------
def finished(page) -> int:
    return page.locator(ANSWER_DONE).count()


def ask(page, question: str, timeout: float = 90_000) -> None:
    """Type a question, send it, and wait until its final answer (or message) is shown."""
    before = finished(page)
    page.fill("#question textarea", question)
    page.click("#ask-btn")
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length > n", arg=[ANSWER_DONE, before], timeout=timeout)


def last_answer(page):
    return page.locator(ANSWER_DONE).last


def cited_labels(page) -> list[str]:
    return page.locator("#evidence .card:not(.related) .card-label").all_inner_texts()


def related_labels(page) -> list[str]:
    return page.locator("#evidence .card.related .card-label").all_inner_texts()


def side_tab(page, tab_id: str) -> None:
    page.click(f"button[role=tab][data-tab-id={tab_id}]")


def main_tab(page, tab_id: str) -> None:
    page.click(f"button[role=tab][data-tab-id={tab_id}]")


def reader_title(page) -> str:
    return page.locator("#reader .reader-title").inner_text()


def wait_reader(page, pattern: str) -> str:
    page.wait_for_function(
        "(p) => { const t = document.querySelector('#reader .reader-title'); return t && new RegExp(p).test(t.textContent); }",
        arg=pattern, timeout=20_000)
    return reader_title(page)


def shot(page, screenshots: Path, name: str, full_page: bool = False) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=full_page)


def upload(page, files: list[dict], expected_rows: int) -> list[dict]:
    """Upload files on the 'Add documents' tab; returns the result rows shown."""
    main_tab(page, "add")
    page.set_input_files("#upload-files input[type=file]", files)
    # Gradio shows the chosen files once they are uploaded to its cache.
    page.wait_for_function(
        "(n) => document.querySelectorAll('#upload-files tr.file').length >= n",
        arg=len(files), timeout=30_000)
    page.click("#upload-btn")
    page.wait_for_function(
        "(n) => document.querySelectorAll('#upload-results tbody tr').length >= n", arg=expected_rows,
        timeout=120_000)
    rows = []
    for tr in page.locator("#upload-results tbody tr").all():
        cells = tr.locator("td").all_inner_texts()
        rows.append(dict(zip(["name", "status", "doc_id", "detail"], cells)))
    return rows


def assert_no_script_ran(page) -> None:
    assert page.dialogs == [], f"a dialog was opened by page content: {page.dialogs}"
    assert page.evaluate("() => window.__xss === undefined"), page.evaluate("() => String(window.__xss)")
    for area in ("#chat", "#evidence", "#reader", "#toc", "#upload-results"):
        assert page.locator(f"{area} img, {area} script, {area} b[onmouseover]").count() == 0, area


# -- tests -------------------------------------------------------------------------------
def test_page_loads_nothing_from_other_hosts(browser, app):
    ctx = browser.new_context(viewport=LAPTOP)
    urls: list[str] = []
    ctx.on("request", lambda r: urls.append(r.url))
    page = ctx.new_page()
    page.goto(app.url)
    page.wait_for_selector("#question textarea")
    page.wait_for_timeout(2000)  # Gradio keeps a stream open, so "networkidle" never comes
    ctx.close()
    local = urllib.parse.urlsplit(app.url).netloc
    foreign = [u for u in urls if not u.startswith(("data:", "blob:")) and urllib.parse.urlsplit(u).netloc != local]
    assert not foreign, foreign


def test_start_screen_examples_come_from_the_corpus_and_answer(page, screenshots):
    shot(page, screenshots, "01-start-laptop")
    examples = page.locator("#chat button.example").all_inner_texts()
    assert len(examples) >= 3, examples
    loaded = ("UNTOC", "Lanzarote Convention", "Budapest Convention")
    assert all(any(name in e for name in loaded) for e in examples), examples
    specific = [e for e in examples if re.search(r"Article \d+ \(", e)]
    assert specific, examples
    m = re.search(r"What does (.+?) Article (\d+) \(", specific[0])
    page.locator("#chat button.example", has_text=specific[0]).click()
    page.wait_for_selector(ANSWER_DONE, timeout=90_000)
    labels = cited_labels(page)
    assert labels, page.locator("#chat").inner_text()
    assert any(lab.startswith(f"{m.group(1)}, Art. {m.group(2)}") for lab in labels), (specific[0], labels)


def test_cited_answer_evidence_reader_follow_up_and_export(page, screenshots):
    ask(page, "What does UNTOC Article 25 say about the protection of victims?")
    answer = last_answer(page)
    chips = answer.locator(".cite-chip").all_inner_texts()
    assert chips, answer.inner_html()
    labels = cited_labels(page)
    assert labels and all(lab.startswith("UNTOC, Art. 25") for lab in labels), labels
    # every chip in the answer has its evidence card
    assert {re.sub(r"^\d+", "", c).strip() for c in chips} <= set(labels)
    first = page.locator("#evidence .card:not(.related)").first
    assert "United Nations Convention against Transnational Organized Crime" in first.locator(".card-doc").inner_text()
    assert first.locator(".badge-treaty").count() == 1
    marked = first.locator(".card-text mark").all_inner_texts()
    assert marked and all(" ".join(t.split()) in " ".join(first.locator(".card-text").inner_text().split())
                          for t in marked)
    assert "victims" in " ".join(marked).lower()
    shot(page, screenshots, "02-answer-laptop")

    # Copy / export: the Markdown carries every cited provision.
    page.click("#export button.label-wrap")
    md = page.locator("#export-md textarea").input_value()
    for lab in labels:
        assert f"**{lab}**" in md, (lab, md[:500])
    with page.expect_download() as dl:
        page.click("#download-btn")
    assert dl.value.suggested_filename.endswith(".md")
    assert Path(dl.value.path()).read_text(encoding="utf-8") == md

    # Read the whole article, then the next and previous one.
    first.locator("button.open-article").click()
    title = wait_reader(page, r"UNTOC, Art\. 25\b")
    assert "Assistance to and protection of victims" in title
    assert page.locator("#reader mark.cited").count() == 1
    shot(page, screenshots, "03-reader-laptop")
    page.click("#next-btn")
    wait_reader(page, r"UNTOC, Art\. 26\b")
    page.click("#prev-btn")
    page.click("#prev-btn")  # second click may race the first update; wait for the result
    wait_reader(page, r"UNTOC, Art\. 2[45]\b")

    # A follow-up keeps the conversation: "witnesses" resolves to UNTOC.
    side_tab(page, "evidence")
    ask(page, "and what about witnesses?")
    labels = cited_labels(page)
    assert any(lab.startswith("UNTOC, Art. 24") for lab in labels), labels
    assert page.locator("#chat .question").count() == 2

    # New conversation clears the chat and evidence, and the examples return.
    page.click("#clear-btn")
    page.wait_for_function("() => document.querySelectorAll('#chat .question').length === 0")
    assert page.locator("#evidence .card").count() == 0
    assert page.locator("#chat button.example").count() > 0


def test_table_of_contents_opens_articles(page, corpus_files, screenshots):
    side_tab(page, "source")
    page.click("#toc-doc input")
    page.click("#toc-doc li[role=option][aria-label='Lanzarote Convention (treaty)']")
    page.wait_for_selector("#toc button.toc-item")
    items = page.locator("#toc button.toc-item").all_inner_texts()
    assert len(items) >= 40, items[:5]
    assert any(re.match(r"Art\. 14\b", i) for i in items), items[:20]
    page.locator("#toc button.toc-item", has_text=re.compile(r"^Art\. 14\b")).first.click()
    title = wait_reader(page, r"Lanzarote Convention, Art\. 14\b")
    front = corpus_files["lanzarote-convention"].read_text(encoding="utf-8")
    doc_title = re.search(r'^title:\s*"?(.+?)"?\s*$', front, re.M).group(1)
    assert doc_title in page.locator("#reader .reader-doc").inner_text(), title
    assert page.locator("#toc .toc-head").count() >= 1  # chapters shown as headings
    shot(page, screenshots, "03b-contents-laptop", full_page=True)


def test_llm_mode_shows_which_model_answered(page, llm_server):
    page.click("#scope button.label-wrap")
    page.get_by_label("LLM: test-model").check()
    before = len(llm_server.chat_requests())
    ask(page, "What does UNTOC Article 24 say about the protection of witnesses?")
    answer = last_answer(page)
    assert "mode: llm:test-model" in answer.inner_text(), answer.inner_text()
    assert len(llm_server.chat_requests()) == before + 1
    labels = cited_labels(page)
    assert labels and answer.locator(".cite-chip").count() >= 1
    assert "[P1]" not in answer.inner_text()  # keys were turned into provision labels
    # switching back answers extractively again
    page.get_by_label("Extractive: quotes the provisions").check()
    ask(page, "What does UNTOC Article 24 say about the protection of witnesses?")
    assert "mode: extractive" in last_answer(page).inner_text()
    assert len(llm_server.chat_requests()) == before + 1


def test_scope_limits_documents_and_types(page):
    page.click("#scope button.label-wrap")
    page.click("#scope-docs input")
    page.click("#scope-docs li[role=option][aria-label='Lanzarote Convention (treaty)']")
    page.keyboard.press("Escape")
    ask(page, "How shall witnesses be protected?")
    labels = cited_labels(page) + related_labels(page)
    assert labels and all(lab.startswith("Lanzarote Convention") for lab in labels), labels
    page.click("#clear-btn")
    # clear the document choice, then restrict by type instead
    page.locator("#scope-docs .token-remove, #scope-docs [aria-label^='Remove']").first.click()
    page.get_by_label("Commentaries").check()
    ask(page, "What are the concerns about human rights safeguards?")
    cards = page.locator("#evidence .card")
    assert cards.count() > 0
    assert cards.locator(".badge-commentary").count() == cards.count(), page.locator("#evidence").inner_text()[:500]


def test_assumed_document_notice_is_shown(page):
    ask(page, "What does Article 14 say?")
    notice = last_answer(page).locator(".notice")
    assert notice.count() == 1 and "Article 14" in notice.inner_text(), last_answer(page).inner_html()[:500]
    assert page.locator("#evidence .notice").inner_text() == notice.inner_text()
    # the notice names the document it assumed, and the citations are from that document
    assumed = re.search(r"Assumed Article 14 of (?:the )?(.+?);", notice.inner_text())
    assert assumed, notice.inner_text()
    assert all(lab.startswith(assumed.group(1)) for lab in cited_labels(page)), cited_labels(page)


def test_off_topic_question_is_refused_with_related_provisions(page, screenshots):
    ask(page, "What is the best recipe for a chocolate cake?")
    answer = last_answer(page)
    assert "Not answered from the texts" in answer.inner_text()
    assert page.locator("#evidence .refusal-note").count() == 1
    assert cited_labels(page) == []
    related = related_labels(page)
    assert related, "a refusal should list the closest provisions as related"
    shot(page, screenshots, "04-refusal-laptop")


def test_empty_and_too_long_questions_get_clear_messages(page):
    ask(page, "   ")
    assert "Please type a question" in last_answer(page).inner_text()
    ask(page, "Why " * 600)
    msg = last_answer(page).inner_text()
    assert "limit is" in msg and "characters" in msg, msg
    assert page.errors == []


def test_uploaded_document_is_searchable_at_once(page, screenshots, tmp_path):
    path = tmp_path / "kelp accord (final).md"
    path.write_text(KELP_TREATY, encoding="utf-8")
    rows = upload(page, [str(path)], 1)
    assert rows[0]["status"] == "ingested", rows
    # an upload lives in its uploader's namespace, whatever id its front matter claims
    assert rows[0]["doc_id"].startswith("upload-") and rows[0]["name"] == path.name
    shot(page, screenshots, "05-upload-laptop")
    main_tab(page, "ask")
    ask(page, "What is the annual kelp harvesting quota per licensed vessel?")
    labels = cited_labels(page)
    assert any(lab.startswith("Kelp Accord, Art. 2") for lab in labels), labels
    card = page.locator("#evidence .card:not(.related)", has_text="Kelp Accord, Art. 2").first
    assert "forty tonnes" in card.inner_text()
    assert "Accord on the Sustainable Harvesting of Kelp Forests" in card.locator(".card-doc").inner_text()
    # it is in the document lists too
    side_tab(page, "source")
    page.click("#toc-doc input")
    # it claimed doc_type: treaty; an upload is never shown as a treaty
    assert page.locator("#toc-doc li[role=option][aria-label='Kelp Accord (commentary, uploaded)']").count() == 1


def test_corrupt_and_mislabelled_uploads_show_their_errors(page, screenshots):
    random_pdf = {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": os.urandom(4096)}
    broken_pdf = {"name": "broken.pdf", "mimeType": "application/pdf",
                  "buffer": b"%PDF-1.7\n" + os.urandom(2048)}
    fake_docx = {"name": "letter.docx", "mimeType": "application/octet-stream", "buffer": b"not a zip at all"}
    rows = upload(page, [random_pdf, broken_pdf, fake_docx], 3)
    by_name = {r["name"]: r for r in rows}
    assert by_name["scan.pdf"]["status"] == "rejected" and "not a PDF" in by_name["scan.pdf"]["detail"]
    assert by_name["letter.docx"]["status"] == "rejected" and ".docx" in by_name["letter.docx"]["detail"]
    assert by_name["broken.pdf"]["status"] in ("failed", "rejected") and by_name["broken.pdf"]["detail"], rows
    assert page.locator("#upload-results tr.bad").count() == 3
    shot(page, screenshots, "06-upload-errors-laptop")


def test_hostile_document_content_is_shown_as_text(page, screenshots, app):
    hostile = {"name": "<img src=x onerror=alert(1)>.md", "mimeType": "text/markdown",
               "buffer": HOSTILE_TREATY.encode("utf-8")}
    rows = upload(page, [hostile], 1)
    assert rows[0]["status"] == "ingested", rows
    assert "onerror=alert(1)" in rows[0]["name"]  # shown as text, not as an element
    assert_no_script_ran(page)
    main_tab(page, "ask")
    ask(page, "Where shall each Party designate quokka sanctuaries?")
    labels = cited_labels(page)
    assert any("Quokka" in lab for lab in labels), labels
    evidence = page.locator("#evidence").inner_text()
    assert "<script>window.__xss = 'body'" in evidence or "<img src=x onerror" in evidence, evidence[:800]
    card = page.locator("#evidence .card:not(.related)", has_text="Quokka").first
    assert "<script>window.__xss = 'title'</script>" in card.locator(".card-doc").inner_text()
    card.locator("button.open-article").click()
    wait_reader(page, "Quokka")
    reader = page.locator("#reader").inner_text()
    assert "${alert('tpl')}" in reader and "{{constructor" in reader, reader
    page.wait_for_timeout(500)
    assert_no_script_ran(page)
    shot(page, screenshots, "07-hostile-escaped-laptop")


def test_sessions_keep_separate_conversations(page_factory):
    a, b = page_factory(LAPTOP), page_factory(LAPTOP)
    ask(a, "What does the Lanzarote Convention say about helplines?")
    ask(b, "What does UNTOC Article 24 say?")
    assert a.locator("#chat .question").count() == 1 and b.locator("#chat .question").count() == 1
    assert "helplines" not in b.locator("#chat").inner_text().lower()
    # Each follow-up is resolved against its own session's conversation.
    ask(a, "and what about victims?")
    ask(b, "and what about victims?")
    assert cited_labels(a) and all(lab.startswith("Lanzarote Convention") for lab in cited_labels(a)), cited_labels(a)
    assert cited_labels(b) and all(lab.startswith("UNTOC") for lab in cited_labels(b)), cited_labels(b)


def test_phone_width_stacks_columns(page_factory, screenshots):
    page = page_factory(PHONE)
    shot(page, screenshots, "08-start-phone")
    ask(page, "What does the Budapest Convention say about illegal access?")
    chat, side = page.locator("#chat-col").bounding_box(), page.locator("#side-col").bounding_box()
    assert side["y"] >= chat["y"] + chat["height"] - 1, (chat, side)
    assert chat["width"] <= PHONE["width"] and side["width"] <= PHONE["width"]
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"] + 1
    shot(page, screenshots, "09-answer-phone")
    page.locator("#evidence").scroll_into_view_if_needed()
    shot(page, screenshots, "10-evidence-phone")
    page.locator("#evidence button.open-article").first.click()
    wait_reader(page, "Budapest Convention")
    page.locator("#reader").scroll_into_view_if_needed()
    shot(page, screenshots, "11-reader-phone")


def test_no_files_are_served_outside_the_app(app):
    repo_file = Path(__file__).resolve().parents[2] / "pyproject.toml"
    index_file = app.root / "index" / "registry.sqlite"
    for target in ("/etc/passwd", str(repo_file), str(index_file)):
        for prefix in ("gradio_api/file=", "file="):
            url = app.url + prefix + urllib.parse.quote(target)
            try:
                with urllib.request.urlopen(url, timeout=10) as r:
                    body = r.read(200)
                    status = r.status
            except urllib.error.HTTPError as exc:
                status, body = exc.code, b""
            assert status >= 400 or b"root:" not in body and b"[project]" not in body and status != 200, (url, status)


def test_analytics_off_and_bound_to_localhost(app):
    with urllib.request.urlopen(app.url + "config", timeout=10) as r:
        config = json.loads(r.read())
    assert config.get("analytics_enabled") is False
    assert app.url.startswith("http://127.0.0.1:")


def test_empty_index_is_built_from_the_corpus_at_start(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kelp.md").write_text(KELP_TREATY, encoding="utf-8")
    started = launch_app(tmp_path, RAG_INDEX_DIR=str(tmp_path / "index"), RAG_CORPUS_DIR=str(corpus),
                         RAG_APP__UPLOAD_DIR=str(tmp_path / "uploads"))
    try:
        # The page is served at once; the index is built behind it, with progress on the console.
        deadline = time.monotonic() + 240
        while "Index ready" not in started.log.read_text(errors="replace") and time.monotonic() < deadline:
            time.sleep(1)
        log = started.log.read_text(errors="replace")
        assert "[1/1] kelp.md" in log, log[-2000:]
        assert "1 documents indexed (1 new" in log and "Index ready" in log, log[-2000:]
        assert (tmp_path / "index" / "registry.sqlite").exists()
    finally:
        stop_app(started)
