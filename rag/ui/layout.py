"""The gr.Blocks layout: chat on the left, evidence and source reader on the right.

Columns stack below ~700 px (phone width). Gradio 6 takes theme/css/js at launch, so they
are returned by `launch_kwargs` together with host, port, auth and upload limits.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from ..api import TreatyQA
from ..settings import Settings
from . import render
from .handlers import EVIDENCE_TAB, SOURCE_TAB, Handlers

CSS = """
.gradio-container { max-width: 1400px !important; }
#app-header h1 { font-size: 1.35rem; margin: 0 0 .15rem 0; }
#app-header p { margin: 0; color: var(--body-text-color-subdued); font-size: .92rem; }
.cite-chip { display: inline-block; padding: 0 .45em; margin: 0 .1em; border-radius: 999px;
  background: #e0ecff; color: #1d3f8a; border: 1px solid #9db8f0; font-size: .82em; white-space: nowrap; }
.chip-key { display: inline-block; min-width: 1.2em; margin-right: .3em; padding: 0 .3em; border-radius: 999px;
  background: #1d3f8a; color: #fff; font-size: .8em; text-align: center; }
.answer ul { margin: .3em 0 .3em 1.1em; padding: 0; }
.answer li { margin: .25em 0; }
.answer-meta { margin-top: .4em; font-size: .78em; color: #666; }
.answer.refused { border-left: 4px solid #b45309; padding-left: .6em; }
.verdict { display: inline-block; margin-bottom: .35em; padding: .1em .55em; border-radius: 999px; font-size: .85em; }
.verdict-kind { font-weight: 700; }
.verdict-yes { background: #dcfce7; color: #14532d; border: 1px solid #86efac; }
.verdict-partly { background: #fef9c3; color: #713f12; border: 1px solid #fde047; }
.verdict-no { background: #fee2e2; color: #7f1d1d; border: 1px solid #fca5a5; }
.verdict-not_addressed { background: #f3f4f6; color: #374151; border: 1px solid #d1d5db; }
.refusal-title { font-weight: 600; color: #b45309; }
.notice { margin: .35em 0; padding: .35em .6em; border-radius: 6px; background: #fff7e0; color: #5c4400;
  border: 1px solid #f0d58a; font-size: .88em; }
.app-message { padding: .4em .6em; border-radius: 6px; background: #fdecec; color: #8a1c1c; border: 1px solid #f3b5b5; }
.app-message.app-info { background: #eef4ff; color: #1e3a8a; border-color: #bfd3fb; }
.evidence-empty, .reader-empty { color: #666; font-size: .92em; padding: .6em; }
.evidence-h { font-size: 1rem; margin: .6em 0 .3em; }
.related-h { color: #666; }
.refusal-note { margin: .3em 0; padding: .5em .7em; border-radius: 6px; background: #fff1e6; border: 1px solid #f3c08d;
  color: #7a3a00; }
.card { border: 1px solid #d6dbe4; border-left: 5px solid #2563eb; border-radius: 8px; padding: .55em .7em;
  margin: .5em 0; background: var(--background-fill-primary); }
.card-submission { border-left-color: #7c3aed; }
.card-commentary { border-left-color: #0f766e; }
.card.related { opacity: .9; border-style: dashed; border-left-style: solid; }
.card-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: .2em .4em; }
.card-label { font-weight: 600; }
.card-doc { font-size: .82em; color: #555; margin: .15em 0 .3em; }
.card-text { margin: .3em 0; padding: .1em .6em; border-left: 2px solid #e3e6ec; font-size: .9em;
  max-height: 16em; overflow-y: auto; }
.card-text p { margin: .3em 0; }
.card mark, .reader mark { background: #fff3a3; color: inherit; padding: 0 .1em; border-radius: 2px; }
.reader mark.cited { background: #fff3a3; }
.badge { display: inline-block; padding: .05em .55em; border-radius: 999px; font-size: .72em; font-weight: 600;
  text-transform: uppercase; letter-spacing: .03em; }
.badge-treaty { background: #dbeafe; color: #1e40af; }
.badge-submission { background: #ede9fe; color: #5b21b6; }
.badge-commentary { background: #ccfbf1; color: #115e59; }
.badge-other { background: #eee; color: #333; }
.badge-uploaded { background: #fef3c7; color: #92400e; margin-left: .25em; }
button.open-article, button.toc-item { cursor: pointer; font: inherit; box-shadow: none !important; }
button.open-article { margin-top: .2em; font-size: .82em; padding: .2em .7em; border-radius: 6px;
  border: 1px solid #9db8f0; background: #f1f6ff; color: #1d3f8a; }
button.open-article:hover { background: #e0ecff; }
.reader-doc { font-size: .85em; color: #555; }
.reader-chapter { font-size: .85em; color: #333; margin-top: .2em; }
.reader-title { margin: .3em 0 .4em; font-size: 1.05rem; }
.reader-text { font-size: .93em; line-height: 1.5; }
.toc { display: flex; flex-direction: column; gap: .1em; max-height: 420px; overflow-y: auto; }
.toc-doc { font-weight: 600; margin-bottom: .3em; }
.toc-head { font-weight: 600; font-size: .88em; margin: .5em 0 .1em; color: #333; }
button.toc-item { text-align: left; border: 0; background: none; padding: .2em .3em; border-radius: 4px;
  font-size: .88em; color: #1d3f8a; }
button.toc-item:hover { background: #eef3ff; }
.toc-num { font-weight: 600; margin-right: .4em; }
.upload-results { width: 100%; border-collapse: collapse; font-size: .9em; border: 0 !important; }
.upload-results td, .upload-results th { border: 0 !important; border-bottom: 1px solid #e3e6ec !important;
  padding: .35em .5em; text-align: left; vertical-align: top; }
.upload-results th { background: #f3f5f9; }
.upload-results tr.bad td.up-status { color: #b91c1c; font-weight: 600; }
.upload-results tr.ok td.up-status { color: #15803d; font-weight: 600; }
@media (max-width: 700px) {
  #main-row { flex-direction: column !important; }
  #main-row > div { width: 100% !important; min-width: 0 !important; }
  #app-header h1 { font-size: 1.1rem; }
  .card-text { max-height: none; }
}
"""

# Clicks on [data-pid] elements (evidence cards, table of contents) become a Gradio
# "click" event carrying the provision id; nothing else in the HTML is interactive.
PID_CLICK_JS = (
    "element.addEventListener('click', (e) => {"
    " const b = e.target.closest('[data-pid]');"
    " if (b && element.contains(b)) { trigger('click', {pid: b.getAttribute('data-pid')}); }"
    "});"
)

HEADER = (
    "<h1>Treaty Q&amp;A</h1><p>Answers quote the treaty texts; every sentence cites its provision. "
    "Open any citation to read the whole article.</p>"
)


def build_app(qa: TreatyQA) -> gr.Blocks:
    h = Handlers(qa)
    # Served to every session before its own list loads: never anyone's private uploads.
    choices = render.doc_choices({d: m for d, m in qa.index.documents.items()
                                  if not m.uploaded or qa.settings.app.publish_uploads})
    examples = [{"text": q} for q in h.examples()]
    # delete_cache: uploads and exports in Gradio's cache are removed after a day.
    with gr.Blocks(title="Treaty Q&A", fill_width=False, delete_cache=(3600, 86400)) as demo:
        conversation = gr.State([])
        current_article = gr.State(None)
        gr.HTML(HEADER, elem_id="app-header")
        index_status = gr.HTML(h.index_status_html(), elem_id="index-status")
        status_timer = gr.Timer(2.0, active=True)
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(elem_id="main-row", equal_height=False):
                    with gr.Column(scale=3, min_width=300, elem_id="chat-col"):
                        chatbot = gr.Chatbot(
                            label="Conversation", show_label=False, elem_id="chat", height=480, examples=examples or None,
                            placeholder="Ask about the indexed treaties, submissions and commentaries. "
                                        "Every answer cites the provisions it relies on.",
                            sanitize_html=True, render_markdown=True, feedback_options=None,
                            latex_delimiters=[], buttons=["copy"],
                        )
                        with gr.Row(equal_height=True):
                            question = gr.Textbox(placeholder="Ask a question, e.g. What does Article 14 say?",
                                                  show_label=False, lines=1, max_lines=4, scale=5,
                                                  elem_id="question", autofocus=True, submit_btn=False)
                            send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask-btn")
                        with gr.Row():
                            clear = gr.Button("New conversation", size="sm", elem_id="clear-btn")
                            download = gr.DownloadButton("Download answer (.md)", size="sm", value=None,
                                                         elem_id="download-btn")
                        with gr.Accordion("Scope and answer mode", open=False, elem_id="scope"):
                            docs = gr.Dropdown(choices=choices, multiselect=True, value=[],
                                               label="Documents (none chosen = all)", elem_id="scope-docs")
                            types = gr.CheckboxGroup(
                                choices=[("Treaties", "treaty"), ("Submissions", "submission"),
                                         ("Commentaries", "commentary")],
                                value=[], label="Document types (none chosen = all)", elem_id="scope-types")
                            mode = gr.Radio(choices=h.mode_choices(), value=h.default_mode(), label="Answer mode",
                                            elem_id="mode",
                                            info=None if qa.settings.llm.configured else
                                            "LLM mode appears when an LLM endpoint is configured "
                                            "(RAG_LLM__BASE_URL).")
                        with gr.Accordion("Copy the answer as Markdown", open=False, elem_id="export"):
                            export_md = gr.Textbox(label="Answer with citations (Markdown)", lines=8,
                                                   max_lines=20, buttons=["copy"], interactive=False,
                                                   elem_id="export-md")
                    with gr.Column(scale=2, min_width=300, elem_id="side-col"):
                        with gr.Tabs(selected=EVIDENCE_TAB) as side_tabs:
                            with gr.Tab("Evidence", id=EVIDENCE_TAB):
                                evidence = gr.HTML(render.evidence_html(None), elem_id="evidence",
                                                   js_on_load=PID_CLICK_JS)
                            with gr.Tab("Source text", id=SOURCE_TAB):
                                reader = gr.HTML(render.article_html(None), elem_id="reader")
                                with gr.Row():
                                    prev_btn = gr.Button("◀ Previous article", size="sm", interactive=False,
                                                         elem_id="prev-btn")
                                    next_btn = gr.Button("Next article ▶", size="sm", interactive=False,
                                                         elem_id="next-btn")
                                with gr.Accordion("Table of contents", open=True, elem_id="toc-acc"):
                                    toc_doc = gr.Dropdown(choices=choices, value=None, label="Document",
                                                          elem_id="toc-doc")
                                    toc = gr.HTML(render.toc_html(None, []), elem_id="toc",
                                                  js_on_load=PID_CLICK_JS)
            with gr.Tab("Add documents", id="add"):
                gr.Markdown(
                    f"Upload PDF, Word (.docx), HTML, plain text or Markdown files, up to "
                    f"{qa.settings.app.max_upload_mb} MB each. Markdown files may start with YAML front matter "
                    "(title, short_title, doc_type: submission / commentary); uploads are marked "
                    "'uploaded' wherever they are cited and are never listed as treaties. "
                    "New documents are searchable as soon as they are indexed."
                )
                files = gr.File(file_count="multiple", type="filepath", label="Files",
                                file_types=sorted(_upload_types()), elem_id="upload-files")
                add = gr.Button("Add to the index", variant="primary", elem_id="upload-btn")
                results = gr.HTML("", elem_id="upload-results")
                with gr.Row(equal_height=True):
                    mine = gr.Dropdown(choices=[], multiselect=True, value=[], scale=4,
                                       label="Your uploaded documents" + (
                                           "" if qa.settings.app.publish_uploads else
                                           " (only you can see and search them)"),
                                       elem_id="my-uploads")
                    remove = gr.Button("Remove selected", variant="stop", scale=1, elem_id="remove-uploads-btn")

        ask_outputs = [chatbot, question, conversation, evidence, download, export_md, side_tabs]
        ask_inputs = [question, chatbot, conversation, docs, types, mode]
        send.click(h.ask, ask_inputs, ask_outputs)
        question.submit(h.ask, ask_inputs, ask_outputs)
        chatbot.example_select(h.example, None, question).then(h.ask, ask_inputs, ask_outputs)
        clear.click(h.clear, None, [chatbot, question, conversation, evidence, download, export_md],
                    queue=False)
        article_outputs = [reader, current_article, prev_btn, next_btn, side_tabs]
        evidence.click(h.open_clicked, None, article_outputs)
        toc.click(h.open_clicked, None, article_outputs)
        prev_btn.click(h.previous, current_article, article_outputs)
        next_btn.click(h.next, current_article, article_outputs)
        toc_doc.change(h.toc, toc_doc, toc)
        add.click(h.upload, files, [results, docs, toc_doc, mine], concurrency_limit=1, concurrency_id="ingest")
        remove.click(h.remove_uploads, mine, [results, docs, toc_doc, mine], concurrency_limit=1,
                     concurrency_id="ingest")
        demo.load(h.documents, None, [docs, toc_doc, mine])
        demo.unload(h.end_session)  # the session's exports are deleted when its tab closes
        status_timer.tick(h.index_status, None, [index_status, status_timer, docs, toc_doc, chatbot],
                          queue=False, show_progress="hidden")
    return demo


def _upload_types() -> set[str]:
    from .uploads import ALLOWED

    return ALLOWED


def launch_kwargs(settings: Settings) -> dict[str, Any]:
    """Everything launch() needs: bind address, auth, limits, look; no extra served paths."""
    app = settings.app
    kwargs: dict[str, Any] = {
        "server_name": app.host,
        "server_port": app.port,
        "max_file_size": f"{app.max_upload_mb}mb",
        # Nothing outside Gradio's own cache is served; keep the index and uploads out explicitly.
        "allowed_paths": [],
        "blocked_paths": [str(Path(settings.index_dir).resolve()), str(Path(app.upload_dir).resolve())],
        "css": CSS,
        "theme": gr.themes.Soft(font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                                font_mono=["ui-monospace", "Menlo", "monospace"]),
        "ssr_mode": False,
        "show_error": False,
        "footer_links": [],
    }
    if app.username and app.password:
        kwargs["auth"] = (app.username, app.password)
    return kwargs
