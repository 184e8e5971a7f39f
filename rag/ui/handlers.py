"""Gradio callbacks: each takes component values, calls rag.api.TreatyQA, returns renderings.

No retrieval or answering logic lives here; the one TreatyQA is shared by all sessions and
everything per-user (conversation, last answer, open article) arrives as gr.State values.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
import traceback
import uuid
import weakref
from pathlib import Path
from typing import Any

import gradio as gr

from ..api import QuestionError, TreatyQA
from ..model import Answer, DocType, DocumentMeta, Filters, Turn
from . import render
from .uploads import UploadError, check_upload, discard, store_upload, user_text

log = logging.getLogger("rag.ui")

EVIDENCE_TAB, SOURCE_TAB = "evidence", "source"
MAX_TURNS = 20  # conversation kept per session (follow-ups use the latest turns)


def _user(text: str) -> dict:
    return {"role": "user", "content": render.question_html(text)}


def _assistant(html_text: str) -> dict:
    return {"role": "assistant", "content": html_text}


EXPORT_MAX_AGE_S = 3600  # a session that never said goodbye (closed laptop) loses its exports after this


def viewer_key(request: gr.Request | None) -> str:
    """Who is asking, as an owner key for uploads: the logged-in user when there is a login,
    else the browser session. Hashed: neither names nor session ids reach the index."""
    user = getattr(request, "username", None)
    raw = f"user:{user}" if user else f"session:{session_key(request)}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:10]


def session_key(request: gr.Request | None) -> str:
    """A file-system-safe key for the browser session (Gradio's session hash)."""
    raw = getattr(request, "session_hash", None) or "local"
    return re.sub(r"[^A-Za-z0-9_-]", "", str(raw))[:64] or "local"


class Handlers:
    def __init__(self, qa: TreatyQA):
        self.qa = qa
        # Private to this process and its user (mkdtemp: mode 0700); one folder per session
        # below it; the question never appears in a file name (it would show in `ls /tmp`).
        self.export_dir = Path(tempfile.mkdtemp(prefix="rag-exports-"))
        weakref.finalize(self, shutil.rmtree, str(self.export_dir), True)  # gone with the app

    # -- who sees what ----------------------------------------------------------------
    def visible(self, request: gr.Request | None) -> dict[str, DocumentMeta]:
        """The documents this viewer may see, list, open and get cited: the corpus and their own
        uploads (everyone's when the deployment publishes uploads)."""
        docs = self.qa.index.documents
        allowed = self.qa.visible_doc_ids(viewer_key(request))
        return docs if allowed is None else {d: docs[d] for d in allowed}

    def own_uploads(self, request: gr.Request | None) -> dict[str, DocumentMeta]:
        me = viewer_key(request)
        return {d: m for d, m in self.qa.index.documents.items() if m.owner == me}

    # -- scope -----------------------------------------------------------------------
    def filters(self, doc_ids: list[str] | None, doc_types: list[str] | None) -> Filters | None:
        known = set(self.qa.index.documents)
        ids = [d for d in (doc_ids or []) if d in known]
        types = [DocType(t) for t in (doc_types or []) if t in {x.value for x in DocType}]
        return Filters(doc_ids=ids, doc_types=types) if (ids or types) else None

    def mode_choices(self) -> list[tuple[str, str]]:
        choices = [("Extractive: quotes the provisions", "extractive")]
        if self.qa.settings.llm.configured:
            choices.append((f"LLM: {self.qa.settings.llm.model}", "llm"))
        return choices

    def default_mode(self) -> str:
        wanted = self.qa.settings.answer.mode
        return wanted if wanted in {v for _, v in self.mode_choices()} else "extractive"

    # -- asking ----------------------------------------------------------------------
    def ask(self, question: str, chat: list[dict] | None, conversation: list[Turn] | None,
            doc_ids: list[str] | None, doc_types: list[str] | None, mode: str | None,
            request: gr.Request = None):
        """Generator: streams the answer into the chat, then shows evidence and export.

        Outputs: chat, question box, conversation, evidence, export file, export markdown,
        side tabs.
        """
        chat = list(chat or [])
        conversation = list(conversation or [])
        keep = gr.update()
        try:
            q = self.qa.check_question(question)
        except QuestionError as exc:
            chat.append(_assistant(render.message_html(str(exc))))
            yield chat, keep, conversation, keep, keep, keep, keep
            return
        chat.append(_user(q))
        chat.append(_assistant(render.streaming_html("Searching the texts…")))
        yield chat, "", conversation, keep, keep, keep, keep
        streamed = ""
        answer: Answer | None = None
        try:
            visible = self.qa.visible_doc_ids(viewer_key(request))
            for item in self.qa.stream(q, conversation, self.filters(doc_ids, doc_types), mode or None,
                                       visible=visible):
                if isinstance(item, Answer):
                    answer = item
                else:
                    streamed += item
                    chat[-1] = _assistant(render.streaming_html(streamed))
                    yield chat, keep, conversation, keep, keep, keep, keep
        except QuestionError as exc:
            chat[-1] = _assistant(render.message_html(str(exc)))
            yield chat, keep, conversation, keep, keep, keep, keep
            return
        except Exception:  # noqa: BLE001 - a failed answer must not kill the session
            ref = uuid.uuid4().hex[:8]  # lets the operator find the traceback the user saw fail
            log.error("answer failed [ref %s]: %s", ref, traceback.format_exc())
            chat[-1] = _assistant(render.message_html(
                f"The answer failed because of an internal error (reference {ref}). Try again or rephrase."))
            yield chat, keep, conversation, keep, keep, keep, keep
            return
        assert answer is not None
        chat[-1] = _assistant(render.answer_html(answer))  # the final Answer replaces the stream
        # Passages are not needed to resolve follow-ups; dropping them keeps session state small.
        conversation = (conversation + [Turn.from_answer(answer.model_copy(update={"passages": []}))])[-MAX_TURNS:]
        md = render.markdown_export(answer)
        yield (chat, keep, conversation, render.evidence_html(answer), self._export_file(md, session_key(request)), md,
               gr.Tabs(selected=EVIDENCE_TAB))

    def _export_file(self, md: str, session: str) -> str:
        """Write the Markdown export into the session's private folder (0700), file 0600."""
        self._expire_exports()
        folder = self.export_dir / session
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"answer-{secrets.token_hex(4)}.md"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(md)
        return str(path)

    def _expire_exports(self) -> None:
        """Drop session folders untouched for EXPORT_MAX_AGE_S (sessions that never unloaded)."""
        cutoff = time.time() - EXPORT_MAX_AGE_S
        for folder in self.export_dir.iterdir() if self.export_dir.is_dir() else []:
            try:
                if folder.stat().st_mtime < cutoff:
                    shutil.rmtree(folder, ignore_errors=True)
            except OSError:
                pass

    def end_session(self, request: gr.Request = None) -> None:
        """Gradio `unload`: the session's exports go with it."""
        shutil.rmtree(self.export_dir / session_key(request), ignore_errors=True)

    def clear(self):
        """Outputs: chat, question box, conversation, evidence, export file, export markdown."""
        return [], "", [], render.evidence_html(None), None, ""

    def example(self, evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    # -- reading the source ----------------------------------------------------------
    def open_article(self, provision_id: str | None, request: gr.Request = None):
        """Outputs: reader, current article id, previous button, next button, side tabs."""
        article = self.qa.article_of(provision_id) if provision_id else None
        if article is not None and article.doc_id not in self.visible(request):
            article = None  # another user's upload: as if it did not exist
        if article is None:
            msg = render.message_html(f"Provision {provision_id!r} is not in the index." if provision_id
                                      else "No provision chosen.")
            return msg, None, gr.update(interactive=False), gr.update(interactive=False), gr.Tabs(selected=SOURCE_TAB)
        cited = self.qa.index.provision(provision_id)
        meta = self.qa.index.documents.get(article.doc_id)
        prev_id, next_id = self.qa.neighbours(article.id)
        return (render.article_html(article, meta, cited), article.id,
                gr.update(interactive=prev_id is not None), gr.update(interactive=next_id is not None),
                gr.Tabs(selected=SOURCE_TAB))

    def open_clicked(self, evt: gr.EventData, request: gr.Request = None):
        pid = getattr(evt, "_data", None) or {}
        return self.open_article(pid.get("pid") if isinstance(pid, dict) else None, request)

    def move(self, current: str | None, step: int, request: gr.Request = None):
        if not current:
            return self.open_article(None, request)
        prev_id, next_id = self.qa.neighbours(current)
        target = prev_id if step < 0 else next_id
        return self.open_article(target or current, request)

    def previous(self, current: str | None, request: gr.Request = None):
        return self.move(current, -1, request)

    def next(self, current: str | None, request: gr.Request = None):
        return self.move(current, +1, request)

    def toc(self, doc_id: str | None, request: gr.Request = None) -> str:
        meta = self.visible(request).get(doc_id or "")
        return render.toc_html(meta, self.qa.table_of_contents(doc_id) if meta else [])

    # -- documents -------------------------------------------------------------------
    def documents(self, request: gr.Request = None):
        """Outputs: scope documents dropdown, reader documents dropdown, own uploads dropdown."""
        choices = render.doc_choices(self.visible(request))
        mine = render.doc_choices(self.own_uploads(request))
        return gr.update(choices=choices), gr.update(choices=choices), gr.update(choices=mine, value=[])

    def index_status_html(self) -> str:
        """A banner while the index is built (first start, or after a model change); empty after."""
        if self.qa.building:
            done, total = self.qa.build_progress or (0, 0)
            what = f"{done} of {total} documents" if total else "starting"
            return render.message_html(f"Building the index from the corpus ({what}). "
                                       "Questions can be asked as soon as it is ready.", kind="info")
        if self.qa.index.is_empty():
            return render.message_html("No documents are indexed yet: add documents in the "
                                       "'Add documents' tab.", kind="info")
        if any(p.vectors for p in self.qa.index.last_check):
            return render.message_html("The search index needs repair: answers currently rest on keyword "
                                       "search only. The administrator can fix it (details in the server log).")
        return ""

    def index_status(self, request: gr.Request = None):
        """Timer tick. Outputs: banner, timer (stops once ready), scope docs, reader docs, chat examples."""
        banner = self.index_status_html()
        if self.qa.building or not self.qa.index.documents:
            return banner, gr.update(), gr.update(), gr.update(), gr.update()
        docs, toc_docs, _ = self.documents(request)
        examples = [{"text": q} for q in self.examples()]
        return banner, gr.Timer(active=False), docs, toc_docs, gr.update(examples=examples or None)

    def examples(self) -> list[str]:
        docs = {d: m for d, m in self.qa.index.documents.items() if not m.uploaded}
        return render.example_questions(docs, {d: self.qa.table_of_contents(d) for d in docs})

    def upload(self, files: list[str] | None, request: gr.Request = None, progress=gr.Progress()):
        """Check, store and ingest uploaded files as the viewer's own documents.
        Outputs: results, scope docs, reader docs, own uploads."""
        settings = self.qa.settings.app
        owner = viewer_key(request)
        folder = Path(settings.upload_dir) / owner
        rows: list[dict[str, Any]] = []
        stored: dict[str, tuple[str, Path]] = {}  # stored path -> (shown name, path)
        for f in files or []:
            tmp = Path(f if isinstance(f, str) else getattr(f, "name", str(f)))
            name = user_text(tmp.name)
            try:
                check_upload(tmp, name, settings.max_upload_mb)
                target = store_upload(tmp, name, folder)
            except UploadError as exc:
                rows.append({"name": name, "status": "rejected", "error": str(exc)})
                continue
            except OSError:
                log.exception("storing upload %s failed", tmp)
                rows.append({"name": name, "status": "rejected",
                             "error": "the file could not be stored on the server; try again later"})
                continue
            stored[str(target)] = (name, target)
        if not files:
            rows.append({"name": "", "status": "nothing to add", "error": "Choose one or more files first."})
        if stored:
            progress(0, desc="Indexing…")

            def report(msg: str, done: int, total: int) -> None:
                progress((done, max(total, 1)), desc=f"Indexing {msg}", unit="files")

            report_ = self.qa.ingest([p for _, p in stored.values()], progress=report, prune=False, owner=owner)
            for r in report_.results:
                name, path = stored.get(r.path, (Path(r.path).name, Path(r.path)))
                detail = f"{r.provisions} provisions, {r.chunks} chunks" if r.status != "failed" else ""
                if r.detail:
                    log.info("upload %s: %s (%s)", r.path, r.error, r.detail)
                rows.append({"name": name, "status": r.status, "doc_id": r.doc_id,
                             "error": user_text(r.error) if r.error else None, "detail": detail})
                if r.status == "failed":
                    discard(path, folder)
        scope, reader, mine = self.documents(request)
        return render.ingest_results_html(rows), scope, reader, mine

    def remove_uploads(self, doc_ids: list[str] | None, request: gr.Request = None):
        """Remove the viewer's own uploads (index and stored file); anything else is refused.
        Outputs: results, scope docs, reader docs, own uploads."""
        mine = self.own_uploads(request)
        folder = Path(self.qa.settings.app.upload_dir) / viewer_key(request)
        rows: list[dict[str, Any]] = []
        for doc_id in doc_ids or []:
            meta = mine.get(doc_id)
            if meta is None:
                rows.append({"name": "", "status": "not removed", "doc_id": doc_id,
                             "error": "not one of your uploaded documents"})
                continue
            self.qa.index.remove(doc_id)
            stored = Path(meta.path).resolve() if meta.path else None
            if stored is not None and stored.parent.parent == folder.resolve():
                shutil.rmtree(stored.parent, ignore_errors=True)  # every stored copy of these bytes
            rows.append({"name": meta.title, "status": "removed", "doc_id": doc_id})
        if not doc_ids:
            rows.append({"name": "", "status": "nothing removed", "error": "Choose your documents to remove first."})
        scope, reader, own = self.documents(request)
        return render.ingest_results_html(rows), scope, reader, own
