"""The one entry point the CLI, the app and the evaluation harness use.

    qa = TreatyQA(Settings())
    answer = qa.ask("Does Article 14 of the Lanzarote Convention cover rehabilitation?")
"""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from .answer.extractive import ExtractiveAnswerer
from .index.ingest import IngestReport, ProgressFn
from .index.service import Index
from .model import Answer, Filters, Passage, Provision, Turn
from .references import QuestionRefs
from .retrieve import Retriever
from .settings import Settings
from .textspeak import spell_out


class QuestionError(ValueError):
    """The question cannot be asked as it is; the message says how to fix it."""


class TreatyQA:
    def __init__(self, settings: Settings | None = None, index: Index | None = None):
        self.settings = settings or Settings()
        self.index = index or Index(self.settings)
        self.retriever = Retriever(self.index, self.settings, hidden=self._hidden_documents)
        self.extractive = ExtractiveAnswerer(self.index, self.settings, search=self._topic_search,
                                             hidden=self._hidden_documents)
        self._llm = None
        self._build_lock = threading.Lock()
        self._ready = False
        self.build_progress: tuple[int, int] | None = None  # (documents done, total) while building
        self._visible = threading.local()  # documents the current answer may draw on (see stream)

    # -- the index is built on first use ------------------------------------------------
    def ensure_index(self, progress: bool | ProgressFn = False) -> IngestReport | None:
        """Build the index from the corpus when it is empty (or rebuild it when it was built by
        another model or chunker). Runs once per process; concurrent callers wait for it."""
        if self._ready:
            return None
        with self._build_lock:
            if self._ready:
                return None

            def track(msg: str, done: int, total: int) -> None:
                self.build_progress = (done, total)
                if callable(progress):
                    progress(msg, done, total)

            try:
                report = self.index.ensure_built(progress=track if (callable(progress) or not progress)
                                                 else _console_bar(track))
                self.index.drop_orphans()  # what a killed ingestion wrote before its commit
            finally:
                self.build_progress = None
            self._ready = True
            return report

    @property
    def building(self) -> bool:
        return self._build_lock.locked() and not self._ready

    # -- asking ----------------------------------------------------------------------
    def check_question(self, question: str) -> str:
        # Lone surrogates ("\ud800") cannot be encoded as UTF-8 and break the app's event
        # stream and JSON output: they become "?" here, before anything else sees the text.
        q = (question or "").encode("utf-8", "replace").decode("utf-8").strip()
        # Runs of spaces and line breaks carry no meaning; collapsed, no pattern can be made to
        # backtrack over them.
        q = " ".join(q.split())
        if not q:
            raise QuestionError("Please type a question.")
        limit = self.settings.app.max_question_chars
        if len(q) > limit:
            raise QuestionError(f"The question is {len(q):,} characters long; the limit is {limit:,}. "
                                "Ask about one point at a time.")
        if self.building:
            done, total = self.build_progress or (0, 0)
            raise QuestionError(f"The index is being built ({done} of {total} documents done); "
                                "ask again in a minute.")
        self.ensure_index()
        if self.index.is_empty():
            raise QuestionError("The index is empty and the corpus folder holds no documents: add documents "
                                "(rag ingest PATH, or upload them in the app) or fetch the official texts "
                                "(rag corpus download).")
        return q

    @staticmethod
    def read_question(question: str) -> str:
        """The question as it is read: chat shorthand ("ppl", "bc", "dms") as the words it stands for."""
        return spell_out(question)

    def retrieve(self, question: str, conversation: list[Turn] | None = None,
                 filters: Filters | None = None, timings: dict | None = None):
        timings = timings if timings is not None else {}
        t0 = time.perf_counter()
        query = self.retriever.resolve(question, conversation)
        timings["resolve"] = time.perf_counter() - t0
        found = self.retriever.run(query, filters, timings=timings)
        timings["retrieve"] = time.perf_counter() - t0
        return found.apply(query), found.passages

    def ask(self, question: str, conversation: list[Turn] | None = None, filters: Filters | None = None,
            mode: str | None = None) -> Answer:
        final = None
        for item in self.stream(question, conversation, filters, mode):
            if isinstance(item, Answer):
                final = item
        assert final is not None
        return final

    def visible_doc_ids(self, viewer: str) -> list[str] | None:
        """The documents a viewer (an upload owner key) may see: the corpus and their own uploads,
        or None (no restriction) when no upload is private or uploads are published."""
        docs = self.index.documents
        if self.settings.app.publish_uploads or not any(m.owner for m in docs.values()):
            return None
        return [d for d, m in docs.items() if not m.owner or m.owner == viewer]

    def stream(self, question: str, conversation: list[Turn] | None = None, filters: Filters | None = None,
               mode: str | None = None, visible: list[str] | None = None) -> Iterator[str | Answer]:
        """Text pieces as they are produced, then the final Answer (always last).

        `visible` (from visible_doc_ids) bounds every search of this answer, including the
        answerer's own topic searches: other users' uploads are never retrieved or cited."""
        t_start = time.perf_counter()
        typed = self.check_question(question)
        question = self.read_question(typed)
        if visible is not None:
            chosen = [d for d in (filters.doc_ids if filters else []) if d in visible]
            filters = (filters or Filters()).model_copy(update={"doc_ids": chosen or list(visible) or ["\0none"]})
        timings: dict[str, float] = {}
        hidden = frozenset(self.index.documents) - set(visible) if visible is not None else frozenset()
        with _scoped(self._visible, visible, hidden):  # one synchronous call on this thread
            query, passages = self.retrieve(question, conversation, filters, timings)
        mode = mode or self.settings.answer.mode
        t1 = time.perf_counter()
        answer: Answer | None = None
        named_missing = query.unresolved and not any(p.reason == "reference" for p in passages)
        if query.unindexed or named_missing:  # never answer "Article 99" from other provisions
            answer = self.extractive.refuse(question, passages)
            yield answer.answer
        elif mode == "llm":
            llm = self.llm()
            for item in _each_step_scoped(llm.stream(question, passages, _history(conversation)),
                                          self._visible, visible, hidden):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
            if answer is not None and answer.mode != "extractive":
                # The verdict is decided from the provisions' words, never taken from the model.
                texts = self._extractive(question, passages, query, visible, hidden)
                if answer.refused and not texts.refused:
                    # A refusal is a conclusion too: the provisions' own words decide it.
                    texts.notices.append("The model said the texts do not address this, but the provisions' own "
                                         "words do: showing the extractive answer instead.")
                    answer = texts
                said = answer.verdict.kind if answer.verdict is not None and answer.mode != "extractive" else None
                if said is not None and texts.verdict is not None and said != texts.verdict.kind:
                    answer.notices.append(f"The model's verdict ({said.replace('_', ' ')}) is not what the cited "
                                          "provisions' own words carry; the verdict shown is the texts' own.")
                answer.verdict = texts.verdict
                if texts.verdict is not None and texts.verdict.kind == "not_addressed" and not answer.refused:
                    answer.notices.append("The texts' own check finds this not addressed: "
                                          f"{texts.verdict.reason}. Read the model's answer with care.")
        else:
            answer = self._extractive(question, passages, query, visible, hidden)
            yield answer.answer
        assert answer is not None
        timings["answer"] = time.perf_counter() - t1
        timings["total"] = time.perf_counter() - t_start
        answer.timings = {**answer.timings, **timings}
        answer.question = typed
        answer.notices = query.notices + answer.notices
        answer.assumed_document = answer.assumed_document or query.assumed_document
        answer.resolved_question = query.search_text
        answer.doc_scope = query.doc_scope or sorted({c.doc_id for c in answer.citations})
        seen = {p.chunk.id for p in passages}
        answer.passages = passages + [p for p in answer.passages if p.chunk.id not in seen]
        yield answer

    def _extractive(self, question: str, passages: list[Passage], query, visible,
                    hidden: frozenset[str]) -> Answer:
        """The extractive answer, its own topic searches kept to the documents this viewer sees."""
        with _scoped(self._visible, visible, hidden):  # one synchronous call on this thread
            return self.extractive.run(question, passages, query.assumed_document, query.expansion,
                                       query.doc_scope, resolved=query.search_text)

    def _hidden_documents(self) -> frozenset[str]:
        """Documents the current answer's viewer may not see (another user's private uploads)."""
        return getattr(self._visible, "hidden", None) or frozenset()

    def _topic_search(self, topic: str, doc_id: str | None) -> list[Passage]:
        query = self.retriever.resolve(topic)
        query = replace(query, refs=QuestionRefs(documents=query.refs.documents))  # a topic, not a lookup
        visible = getattr(self._visible, "doc_ids", None)
        if visible is not None and not visible:
            return []  # this viewer sees no document: never fall back to everyone's
        scope = Filters(doc_ids=[doc_id]) if doc_id else Filters(doc_ids=visible if visible is not None else [])
        if visible is not None and doc_id and doc_id not in visible:
            return []
        return self.retriever.search(query, scope, self.settings.retrieval.top_k)

    def _fallback(self, question: str, passages: list[Passage]) -> Answer:
        return self.extractive.run(question, passages)

    def llm(self):
        if self._llm is None:
            if not self.settings.llm.configured:
                raise QuestionError("No LLM endpoint is configured (set RAG_LLM__BASE_URL); "
                                    "use the extractive mode.")
            from .answer.llm import LLMAnswerer

            from .evaluation.judge import OfflineJudge

            judge = OfflineJudge(self.index.embedder)  # the evaluation's judge, at answer time
            self._llm = LLMAnswerer(self.settings, self._fallback,
                                    supported=lambda s, cited: judge.judge(s, cited).supported)
        return self._llm

    # -- reading the sources ----------------------------------------------------------
    def article_of(self, provision_id: str) -> Provision | None:
        """The article (or top-level unit) that contains a provision."""
        prov = self.index.provision(provision_id)
        while prov is not None and prov.kind not in ("article", "preamble", "section", "heading"):
            prov = self.index.provision(prov.parent_id) if prov.parent_id else None
        return prov

    def neighbours(self, unit_id: str) -> tuple[str | None, str | None]:
        """Previous and next article (or section) of the same document."""
        unit = self.index.provision(unit_id)
        if unit is None:
            return None, None
        parsed = self.index.parsed(unit.doc_id)
        units = [p.id for p in parsed.provisions if p.kind == unit.kind] if parsed else []
        i = units.index(unit_id) if unit_id in units else -1
        if i < 0:
            return None, None
        return (units[i - 1] if i > 0 else None), (units[i + 1] if i + 1 < len(units) else None)

    def table_of_contents(self, doc_id: str) -> list[Provision]:
        parsed = self.index.parsed(doc_id)
        if parsed is None:
            return []
        keep = ("preamble", "part", "chapter", "section", "title", "article", "heading")
        return [p for p in parsed.provisions if p.kind in keep]

    def ingest(self, paths: list[Path], progress=True, prune: bool = True, owner: str = ""):
        """With an owner, the files are that user's uploads (own id namespace, never a treaty)."""
        return self.index.ingest(paths, progress=progress, prune=prune, owner=owner)


def _console_bar(track: ProgressFn) -> ProgressFn:
    """A terminal progress bar (per document) that also reports to `track`."""
    from tqdm import tqdm

    bar: list = []

    def update(msg: str, done: int, total: int) -> None:
        track(msg, done, total)
        if not bar:
            bar.append(tqdm(total=total, unit="doc", desc="Building the index"))
        bar[0].set_postfix_str(msg[:40])
        bar[0].n = done
        bar[0].refresh()
        if done >= total:
            bar[0].close()

    return update


@contextmanager
def _scoped(local: threading.local, visible: list[str] | None, hidden: frozenset[str]) -> Iterator[None]:
    """Bound what runs inside to the viewer's documents: `local.doc_ids` (their searches) and
    `local.hidden` (the documents whose words must not count), then clear both."""
    local.doc_ids = list(visible) if visible is not None else None
    local.hidden = hidden
    try:
        yield
    finally:
        local.doc_ids, local.hidden = None, frozenset()


def _each_step_scoped(items: Iterator, local: threading.local, visible: list[str] | None,
                      hidden: frozenset[str]) -> Iterator:
    """Iterate `items` with the scope set during each step only: a streamed answer's steps may
    run on different worker threads, so the scope is never left behind on one."""
    while True:
        with _scoped(local, visible, hidden):
            try:
                item = next(items)
            except StopIteration:
                return
        yield item


def _history(conversation: list[Turn] | None) -> list[tuple[str, str]]:
    return [(t.question, t.answer.answer if t.answer else "") for t in (conversation or [])]
