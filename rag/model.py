"""The nouns everything passes around: document -> provision -> chunk -> passage -> answer.

Kept free of I/O so every component (loaders, index, retriever, answerers, app, eval)
can exchange them and tests can build them by hand.
"""
from __future__ import annotations

import hashlib
from enum import Enum
from typing import Literal

from pydantic import BaseModel, Field


def content_hash(text: str) -> str:
    """Stable short hash used to skip re-embedding unchanged text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class DocType(str, Enum):
    treaty = "treaty"
    submission = "submission"
    commentary = "commentary"


class DocumentMeta(BaseModel):
    id: str
    title: str
    short_title: str = ""
    symbol: str = ""
    date: str = ""
    publisher: str = ""
    doc_type: DocType = DocType.treaty
    language: str = "en"
    source_url: str = ""
    path: str = ""  # where it was loaded from (file path), for removal tracking
    # Uploaded through the app: the uploader's key (a hash of the login or session). Empty for
    # the corpus. An uploaded document lives in its own id namespace (UPLOAD_PREFIX) and is
    # visible only to its owner unless the deployment publishes uploads.
    owner: str = ""

    @property
    def cite_name(self) -> str:
        return self.short_title or self.title or self.id

    @property
    def uploaded(self) -> bool:
        return bool(self.owner)


UPLOAD_PREFIX = "upload-"


class Document(BaseModel):
    """A loaded document: metadata plus its text; provision offsets point into `text`."""

    meta: DocumentMeta
    text: str
    hash: str = ""

    def model_post_init(self, _ctx) -> None:  # noqa: D401
        if not self.hash:
            self.hash = content_hash(self.meta.model_dump_json(exclude={"path"}) + "\n" + self.text)

    @property
    def id(self) -> str:
        return self.meta.id


ProvisionKind = Literal[
    "document", "preamble", "part", "chapter", "section", "title", "article",
    "paragraph", "point", "subpoint", "heading", "text",
]


class Provision(BaseModel):
    """A node of a document's structure tree, addressable and citable.

    `start`/`end` are character offsets into Document.text covering the node and all
    its descendants; `text` is that slice.
    """

    id: str  # "untoc/art_25/para_2"
    doc_id: str
    kind: ProvisionKind
    number: str | None = None  # "25", "2", "d", "ii"
    title: str | None = None
    label: str  # "UNTOC, Art. 25(2)"
    start: int
    end: int
    text: str
    parent_id: str | None = None
    children: list[str] = Field(default_factory=list)
    # Containing units, for filters and display.
    chapter: str | None = None  # "Chapter IV. International cooperation"
    article: str | None = None
    article_title: str | None = None
    paragraph: str | None = None
    point: str | None = None
    refs: list[str] = Field(default_factory=list)  # provision ids this one refers to


class ParsedDocument(BaseModel):
    """A document with its provision tree (flat, in document order)."""

    document: Document
    provisions: list[Provision]

    def by_id(self) -> dict[str, Provision]:
        return {p.id: p for p in self.provisions}

    def articles(self) -> list[Provision]:
        return [p for p in self.provisions if p.kind == "article"]

    def deepest_at(self, start: int, end: int) -> Provision | None:
        """The most specific provision whose span contains [start, end)."""
        best = None
        for p in self.provisions:
            if p.kind == "document":
                continue
            if p.start <= start and end <= p.end:
                if best is None or (p.end - p.start) <= (best.end - best.start):
                    best = p
        return best


class Chunk(BaseModel):
    """The unit that is embedded and searched."""

    id: str  # provision id + "#" + part number
    provision_id: str
    doc_id: str
    label: str
    text: str  # the provision text itself (what is shown and quoted)
    embed_text: str  # what is embedded: heading context + text
    start: int
    end: int
    hash: str = ""
    metadata: dict[str, str | int | float | bool] = Field(default_factory=dict)

    def model_post_init(self, _ctx) -> None:
        if not self.hash:
            self.hash = content_hash(self.embed_text)


RetrievalReason = Literal["search", "reference", "cross_reference", "follow_up", "related"]


class Passage(BaseModel):
    """A retrieved chunk with its scores and why it was retrieved."""

    chunk: Chunk
    score: float = 0.0  # fused score used for ranking
    dense: float | None = None
    lexical: float | None = None
    reason: RetrievalReason = "search"
    target: str | None = None  # for a named provision: its id (the chunk may be larger)


class Citation(BaseModel):
    provision_id: str
    doc_id: str
    article: str | None = None
    paragraph: str | None = None
    label: str
    doc_title: str = ""
    source_type: DocType = DocType.treaty
    text: str  # quoted provision text
    sentences: list[str] = Field(default_factory=list)  # supporting sentences, verbatim
    score: float = 0.0
    key: str = ""  # marker used in the answer text, e.g. "1"


VerdictKind = Literal["yes", "no", "partly", "not_addressed"]


class Verdict(BaseModel):
    """The conclusion a reader sees first, with the evidence that decides it.

    For "Does Article X cover Y?": yes (X carries every key concept of Y), partly (some),
    no (none). For any question the texts do not answer: not_addressed."""

    kind: VerdictKind
    subject: str = ""  # what was asked about, e.g. "victim rehabilitation"
    provision: str | None = None  # label of the named provision judged, e.g. "Lanzarote Convention, Art. 14"
    carried: list[str] = Field(default_factory=list)  # key concepts the provision carries
    missing: list[str] = Field(default_factory=list)  # key concepts it does not
    evidence: list[str] = Field(default_factory=list)  # verbatim sentences that decide it
    instead: list[str] = Field(default_factory=list)  # labels of provisions that address the subject instead
    reason: str = ""  # one line: why this verdict
    signals: dict[str, float | int | bool | None] = Field(default_factory=dict)  # what weighed a half-carried subject (weigh.py)


class Answer(BaseModel):
    question: str
    answer: str
    verdict: Verdict | None = None  # set for coverage questions and for answers the texts do not give
    refused: bool = False
    citations: list[Citation] = Field(default_factory=list)
    related: list[Citation] = Field(default_factory=list)  # shown apart, not as support
    assumed_document: str | None = None
    notices: list[str] = Field(default_factory=list)
    mode: str = "extractive"
    timings: dict[str, float] = Field(default_factory=dict)  # seconds per stage
    resolved_question: str = ""  # what was searched, after resolving a follow-up
    doc_scope: list[str] = Field(default_factory=list)  # documents the question was scoped to
    passages: list[Passage] = Field(default_factory=list, exclude=True)  # what retrieval returned
    # What weighed whether the passages answer a question that names no article (weigh.py); kept
    # for evaluation and fitting, not shown.
    answerability: dict[str, float | int | bool | None] = Field(default_factory=dict, exclude=True)


class Filters(BaseModel):
    """Search scope; empty lists mean no restriction."""

    doc_ids: list[str] = Field(default_factory=list)
    doc_types: list[DocType] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)

    def admits(self, metadata: dict) -> bool:
        return (
            (not self.doc_ids or metadata.get("doc_id") in self.doc_ids)
            and (not self.doc_types or metadata.get("doc_type") in {t.value for t in self.doc_types})
            and (not self.languages or metadata.get("language") in self.languages)
        )


class Turn(BaseModel):
    """One earlier exchange of a conversation, used to resolve follow-up questions."""

    question: str
    answer: Answer | None = None
    search_text: str = ""  # the question as it was resolved for retrieval
    doc_scope: list[str] = Field(default_factory=list)

    @classmethod
    def from_answer(cls, answer: Answer) -> "Turn":
        return cls(question=answer.question, answer=answer, search_text=answer.resolved_question,
                   doc_scope=answer.doc_scope)
