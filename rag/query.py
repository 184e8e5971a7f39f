"""Question (+ conversation) -> Query: what the question names and asks, decided once.

Named documents and provisions, whether it follows up the conversation (and so inherits
its topic and document), the lay terms it uses. Searching (rag/retrieve.py) reads a Query
and never changes it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .answer.concepts import key_concepts
from .expansion import expand
from .index.service import Index
from .model import Turn
from .references import QuestionRefs, Reference, find_unindexed, parse_references, strip_documents
from .settings import Settings

# A follow-up opens with a connector ("and what about witnesses?") or leans on the conversation
# through anaphora ("which articles apply to it?") without a subject of its own.
_CONNECTOR = re.compile(r"^\s*(?:and|but|also|what about|how about|same|then|so|or)\b", re.I)
# A reply may first acknowledge the last answer ("ok", "thanks", "right,"); then only a connector that
# adds to it ("ok and what about ...?") makes a follow-up: "ok so can the police ...?" asks anew.
_ACKNOWLEDGED = re.compile(r"^\s*(?:(?:ok(?:ay)?|thanks|thank you|got it|i see|hm+)\b[\s,.!-]*|"
                           r"(?:right|alright|all right|great|cool)\s*[,.!-]+\s*)+"
                           r"(?:and|also|what about|how about|same)\b", re.I)
# "there" refers back ("what does it say there?"), "is there" does not ("is there a right to ...?").
_ANAPHORA = re.compile(r"\b(?:the same|it|its|this|that|these|those|they|(?<!is )(?<!are )(?<!was )(?<!were )there|them|"
                       r"which one|the former|the latter)\b", re.I)
# "does UNCAC have a similar rule?": a comparison with the earlier turn, when the question's only
# subject is a word of drafting ("rule", "provision"), not a subject of its own ("a similar
# offence of grooming" has one).
_COMPARISON = re.compile(r"\b(?:similar|equivalent|comparable|corresponding|such an?|likewise)\b", re.I)
_DRAFTING = frozenset("""rule rules provision provisions clause clauses article articles obligation obligations
requirement requirements measure measures approach regime mechanism mechanisms procedure procedures safeguard
safeguards standard standards guarantee guarantees protection protections thing things one""".split())


@dataclass(frozen=True)
class Query:
    """The question as understood; stages after this one read it and return new values."""

    question: str
    search_text: str  # after follow-up resolution
    expansion: str
    refs: QuestionRefs
    doc_scope: list[str] = field(default_factory=list)  # documents named or carried over
    assumed_document: str | None = None
    notices: list[str] = field(default_factory=list)
    follow_up: bool = False
    unindexed: list[str] = field(default_factory=list)  # named documents that are not indexed
    unresolved: list[str] = field(default_factory=list)  # named provisions that do not exist



class QuestionReader:
    def __init__(self, index: Index, settings: Settings):
        self.index = index
        self.settings = settings

    def frequency(self, word: str) -> int:
        """In how many chunks the texts use a word (lower case): what makes a word lay or formal."""
        return self.index.lexical.word_frequency(word)

    # -- resolution ------------------------------------------------------------------
    def read(self, question: str, history: list[Turn] | None = None, follow_up: bool | None = None) -> Query:
        """`follow_up` overrides the reader's own decision (the retriever's evidence, see
        Retriever.resolve)."""
        metas = self.index.documents
        refs = parse_references(question, metas)
        prev = history[-1] if history else None
        follow = prev is not None and (self._is_follow_up(question, refs) if follow_up is None else follow_up)
        search_text = question
        scope = refs.doc_ids
        if prev is not None and refs.references and not scope and len(prev.doc_scope) == 1:
            scope = list(prev.doc_scope)  # "and its Article 14?": the conversation's document
        if follow and prev is not None:
            topic = strip_documents(prev.search_text or prev.question, prev.doc_scope, metas)
            search_text = f"{question} {topic}"
            if not scope:
                scope = list(prev.doc_scope)
            if refs.paragraph_only and prev.answer and prev.answer.citations:
                # "what does paragraph 2 say?" -> that paragraph of the article just discussed
                c = prev.answer.citations[0]
                if c.article:
                    refs.references.append(Reference(article=c.article, paragraph=refs.paragraph_only,
                                                     doc_id=c.doc_id))
            elif not refs.references and prev.answer and re.search(r"\bthis article\b", question, re.I):
                c = prev.answer.citations[0] if prev.answer.citations else None
                if c and c.article:
                    refs.references.append(Reference(article=c.article, doc_id=c.doc_id))
        unindexed: list[str] = [] if refs.doc_ids else find_unindexed(question, metas)
        notices = [f"The question names a document that is not in the index ({doc_id}); "
                   "add it with `rag corpus download` and `rag ingest`, or upload it." for doc_id in unindexed]
        if unindexed:  # "Article 40 of <missing document>" must not hit another treaty
            refs = QuestionRefs(documents=refs.documents, paragraph_only=refs.paragraph_only)
        expansion = expand(search_text, self.frequency) if self.settings.retrieval.expand_queries else ""
        return Query(question=question, search_text=search_text, expansion=expansion, refs=refs,
                     doc_scope=scope, follow_up=follow, unindexed=unindexed, notices=notices)

    def _is_follow_up(self, question: str, refs: QuestionRefs) -> bool:
        """From the question itself: it follows up when it opens with a connector, names only a
        paragraph, or leans on anaphora without a subject of its own. A question with a subject
        of its own ("What is an organized criminal group?") stands alone, however short;
        Retriever.resolve may still find that the conversation's documents carry it better."""
        if refs.references:
            return False
        if refs.paragraph_only is not None or _CONNECTOR.match(question) or _ACKNOWLEDGED.match(question):
            return True
        own = self.own_concepts(question)
        return not own or (bool(_ANAPHORA.search(question)) and len(own) < 2) \
            or (bool(_COMPARISON.search(question)) and all(c.label.lower() in _DRAFTING for c in own))

    def own_concepts(self, question: str):
        return key_concepts(strip_documents(question, [], self.index.documents))
