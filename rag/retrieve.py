"""Question -> ranked, cited passages.

Steps: resolve the question (follow-ups, named documents, named provisions), look up
named provisions directly, search the rest hybrid (dense Chroma + BM25, fused by
reciprocal rank), then add provisions that the top passages cross-reference.
"""
from __future__ import annotations

from collections.abc import Callable

import re
import time
from dataclasses import dataclass, field, replace

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from .answer.concepts import carried, key_concepts
from .expansion import expand, synonyms
from .query import Query, QuestionReader
from .index.chunker import split_sentences
from .index.lexical import tokenize
from .index.service import Index
from .model import Chunk, Filters, Passage, Turn
from .references import QuestionRefs, Reference, strip_documents
from .settings import Settings

_DEFINITIONAL = re.compile(
    r"\b(?:what (?:is|are|does|counts)|wh?at|define[sd]?|definitions?|meaning|means?|counts? as|understood)\b", re.I)


_QUESTION_WORDS = frozenset(
    "what doe do say provid cover articl art paragraph under mean state parti convent protocol pleas "
    "tell me about regard how who when where which whi".split())


ARTICLE_CANDIDATES = 10  # articles the article-level list contributes to the fusion
SENTENCE_WEIGHT = 0.5  # a story's single sentences weigh half of the whole question in the fusion


def _sentences_of(question: str, most: int = 3) -> list[str]:
    """A question told as a story ("My son's coach has a conviction for abuse. Aren't countries
    supposed to ...?") is also searched sentence by sentence: one embedding of the whole story
    blurs the sentence that asks. Nothing for a question of one sentence; at most `most`."""
    parts = [s for s in split_sentences(question[:2000], typed=True) if len(s.split()) >= 4]
    return parts[:most] if len(parts) >= 2 else []


@dataclass(frozen=True)
class Retrieval:
    """What searching found for a Query, and what it learnt on the way (a document assumed for
    "Article 14", a provision that does not exist); the Query itself is never changed."""

    passages: list[Passage]
    notices: list[str] = field(default_factory=list)
    assumed_document: str | None = None
    unresolved: list[str] = field(default_factory=list)

    def apply(self, query: Query) -> Query:
        """The query as retrieval resolved it (notices and the assumed document added)."""
        return replace(query, notices=query.notices + self.notices,
                       assumed_document=query.assumed_document or self.assumed_document,
                       unresolved=query.unresolved + self.unresolved)


@dataclass
class _Found:
    """Lookup outcomes collected during one run."""

    notices: list[str] = field(default_factory=list)
    assumed_document: str | None = None
    unresolved: list[str] = field(default_factory=list)


class Retriever:
    def __init__(self, index: Index, settings: Settings, hidden: Callable[[], frozenset[str]] = frozenset):
        self.index = index
        self.settings = settings
        self.hidden = hidden  # documents the current viewer may not see (another user's private uploads)
        self.reader = QuestionReader(index, settings)
        # (definitions it was built from, term -> chunk ids, longest term in words): one tuple,
        # swapped whole, so a question on another thread never sees half of a rebuild.
        self._terms: tuple[object, dict[str, list[str]], int] = (None, {}, 0)

    def resolve(self, question: str, history: list[Turn] | None = None) -> Query:
        """The question as understood (rag/query.py); searching never changes it.

        A question with a subject of its own that names no document may still be about the
        conversation's documents ("can an attempt be punished?" after a Lanzarote turn): it is
        read as a follow-up when the best passage there carries as many of its key concepts as
        the best passage anywhere ("What is an organized criminal group?" after a Budapest turn
        does not: UNTOC carries it, the Budapest Convention does not)."""
        query = self.reader.read(question, history)
        prev = history[-1] if history else None
        if prev is None or query.follow_up or query.refs.doc_ids or query.refs.references or not prev.doc_scope:
            return query
        own = self.reader.own_concepts(question)
        if not own:
            return query

        def best(passages: list[Passage]) -> int:
            return max((len(carried(own, p.chunk.embed_text)) for p in passages), default=0)

        here = best(self.search(query, Filters(doc_ids=list(prev.doc_scope)), 5))
        if here and here >= best(self.search(query, Filters(), 5)):
            return self.reader.read(question, history, follow_up=True)
        return query

    # -- retrieval -------------------------------------------------------------------
    def run(self, query: Query, filters: Filters | None = None, top_k: int | None = None,
            timings: dict[str, float] | None = None) -> Retrieval:
        cfg = self.settings.retrieval
        top_k = top_k or cfg.top_k
        filters = filters or Filters()
        timings = timings if timings is not None else {}
        t0 = time.perf_counter()
        passages: list[Passage] = []
        found = _Found()
        if cfg.explicit_references and query.refs.references:
            passages += self._lookup(query, filters, found)
        timings["lookup"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        scope = [d for d in query.doc_scope if not filters.doc_ids or d in filters.doc_ids]
        effective = filters.model_copy(update={"doc_ids": scope}) if scope else filters
        if len(scope) >= 2:  # comparisons: every named document gets its share
            per_doc = [self.search(query, effective.model_copy(update={"doc_ids": [d]}),
                                   max(2, top_k // len(scope) + 1)) for d in scope]
            hits = _interleave(per_doc)
        else:
            hits = self.search(query, effective, top_k)
        timings["search"] = time.perf_counter() - t1
        seen = {p.chunk.id for p in passages}
        total = max(top_k, len(passages) + 2)  # named provisions first, then the best of the rest
        for p in hits:
            if len(passages) >= total:
                break
            if p.chunk.id not in seen:
                passages.append(p)
                seen.add(p.chunk.id)
        if cfg.cross_references:
            passages += self._cross_references(passages, seen, filters)
        return Retrieval(passages, found.notices, found.assumed_document, found.unresolved)

    def search(self, query: Query, filters: Filters, k: int) -> list[Passage]:
        """Hybrid (or dense / lexical only, per settings) search, fused by reciprocal rank."""
        cfg = self.settings.retrieval
        chunks = self.index.chunks
        allowed = None
        if filters.doc_ids or filters.doc_types or filters.languages:
            allowed = self.index.chunk_ids_where(filters.doc_ids, filters.doc_types, filters.languages)
            if not allowed:
                return []
        texts = [(query.search_text, 1.0)] + [(s, SENTENCE_WEIGHT) for s in _sentences_of(query.question)]
        n = max(cfg.candidates, k)
        lists: list[tuple[float, list[tuple[str, float]]]] = []
        dense: list[tuple[str, float]] = []
        lexical: list[tuple[str, float]] = []
        articles: list[list[str]] = []
        for text, w in texts:
            # typos: "serius crime" -> "serious crime", never to a word only another user's private
            # upload uses (a correction would spell it out)
            text = self.index.lexical.correct(text, self.index.english_words, self.hidden())
            expansion = expand(text, self.reader.frequency) if cfg.expand_queries else ""
            if cfg.strategy in ("hybrid", "dense"):
                dense_text = f"{text} ({expansion})" if expansion else text
                d = self.index.dense_search(dense_text, n, _where(filters))
                lists.append((w * cfg.dense_weight, d))
                dense += d
                if cfg.article_weight > 0:
                    articles += self._articles(dense_text, filters, allowed)
            if cfg.strategy in ("hybrid", "lexical"):
                extra = synonyms(text, self.index.lexical.stem_frequency) if cfg.expand_queries else []
                lx = self.index.lexical.search(f"{text} {expansion}".strip(), n, allowed, extra)
                lists.append((w * cfg.lexical_weight, lx))
                lexical += lx
            lists.append((w * 2.0, self._definitions(text, allowed)))
            lists.append((w * 1.0, self._titles(text, allowed)))  # the asker's own words only
        fused: dict[str, float] = {}
        for weight, ranked in lists:
            for rank, (cid, _) in enumerate(ranked):
                fused[cid] = fused.get(cid, 0.0) + weight / (cfg.rrf_k + rank + 1)
        dense_rank = {cid: i for i, (cid, _) in enumerate(dense)}
        for rank, ids in enumerate(articles):
            # The article's rank lifts the paragraphs the other lists found in it (they chose the
            # paragraph); an article they missed enters with its best dense chunk, else its opening.
            present = [c for c in ids if c in fused] or [min(ids, key=lambda i: dense_rank.get(i, len(dense_rank)))]
            for cid in present:
                fused[cid] = fused.get(cid, 0.0) + cfg.article_weight / (cfg.rrf_k + rank + 1)
        dense_s: dict[str, float] = {}
        for cid, v in dense:
            dense_s[cid] = max(v, dense_s.get(cid, -1.0))
        lex_s: dict[str, float] = {}
        for cid, v in lexical:
            lex_s[cid] = max(v, lex_s.get(cid, 0.0))
        order = sorted(fused, key=lambda c: -fused[c])[:k]
        return [Passage(chunk=chunks[c], score=fused[c], dense=dense_s.get(c), lexical=lex_s.get(c))
                for c in order if c in chunks]

    def _articles(self, text: str, filters: Filters, allowed: frozenset[str] | set[str] | None) -> list[list[str]]:
        """The articles closest to the question as a whole (their chunk ids), best first."""
        docs = frozenset(filters.doc_ids) if filters.doc_ids else None
        out: list[list[str]] = []
        for ids, _ in self.index.article_search(text, ARTICLE_CANDIDATES, docs):
            ids = [i for i in ids if allowed is None or i in allowed]
            if ids:
                out.append(ids)
        return out

    def _titles(self, text: str, allowed: set[str] | None) -> list[tuple[str, float]]:
        """Articles whose whole title is named in the question ("illegal access" -> Art. 2)."""
        stems = " " + " ".join(tokenize(text)) + " "
        hits = [(len(t), ids) for t, ids in self.index.titles.items()
                if len(t) >= 2 and f" {' '.join(t)} " in stems]
        out: list[tuple[str, float]] = []
        for size, ids in sorted(hits, key=lambda h: -h[0]):
            out += [(cid, float(size)) for cid in ids if allowed is None or cid in allowed]
        return out

    def _definitions(self, text: str, allowed: set[str] | None) -> list[tuple[str, float]]:
        """Chunks that define a term the question asks the meaning of."""
        if not _DEFINITIONAL.search(text):
            return []
        definitions = self.index.definitions
        if self._terms[0] is not definitions:  # built once per index snapshot, not per question
            by_term = {t.strip("*"): ids for t, ids in definitions.items() if t.strip("*")}
            self._terms = (definitions, by_term, max((len(t.split()) for t in by_term), default=0))
        _, by_term, longest = self._terms
        words = re.findall(r"\w+(?:-\w+)*", text.lower())  # quotes dropped: "'child'" is child
        out: list[tuple[str, float]] = []
        for i in range(len(words)):  # every word n-gram, singular or plural: O(question), not O(terms)
            for n in range(1, min(longest, len(words) - i) + 1):
                phrase = " ".join(words[i:i + n])
                for term in (phrase, phrase[:-1] if phrase.endswith("s") else None):
                    if term and term in by_term:
                        out += [(cid, 1.0) for cid in by_term[term] if allowed is None or cid in allowed]
        return list(dict.fromkeys(out))

    def _lookup(self, query: Query, filters: Filters, found: _Found) -> list[Passage]:
        out: list[Passage] = []
        refs, cap = query.refs.references, self.settings.retrieval.max_references
        if len(refs) > cap:
            found.notices.append(f"The question names {len(refs)} provisions; only the first {cap} were "
                                 "looked up. Ask about fewer at a time.")
        for ref in refs[:cap]:
            mentions = self._mentions(ref, filters)
            if mentions:  # "What does the Knowmad commentary say about Article 14?"
                out += mentions
                continue
            doc_id, note = self._document_for(ref, query, filters, found)
            if note:
                found.notices.append(note)
            if doc_id is None:
                continue
            if found.assumed_document is None:
                found.assumed_document = doc_id
            pid, missing = self._provision_id(doc_id, ref)
            if missing:
                found.notices.append(missing)
            if pid is None:
                continue
            chunks = [Passage(chunk=c, score=1.0, reason="reference", target=pid)
                      for c in self.index.chunks_of_provision(pid)]
            out += self._order_by_topic(query, ref, doc_id, chunks)
        return out

    def _in_scope(self, doc_id: str, filters: Filters | None) -> bool:
        """Do the search filters admit this document (its id, type and language)?"""
        m = self.index.documents[doc_id]
        return not filters or filters.admits({"doc_id": doc_id, "doc_type": m.doc_type.value, "language": m.language})

    def _mentions(self, ref: Reference, filters: Filters) -> list[Passage]:
        """A document without articles (a commentary) named with an article number speaks *about*
        that article of another instrument: its passages that mention "Article N" answer it. Only
        within the search scope (which also keeps other users' uploads out)."""
        doc_id = ref.doc_id
        metas = self.index.documents
        if not doc_id or doc_id not in metas or self.index.provision(f"{doc_id}/art_1") \
                or self.index.provision(f"{doc_id}/art_{ref.article}"):
            return []
        if not self._in_scope(doc_id, filters):
            return []
        pattern = re.compile(rf"\bArt(?:icle|\.)?\s*{re.escape(ref.article)}\b(?!\.\d)", re.I)
        chunks = self.index.chunks
        hits = [chunks[cid] for cid in self.index.chunk_ids_where([doc_id])
                if cid in chunks and pattern.search(chunks[cid].text)]
        return [Passage(chunk=c, score=1.0, reason="reference", target=c.provision_id) for c in hits[:4]]

    def _order_by_topic(self, query: Query, ref: Reference, doc_id: str, found: list[Passage]) -> list[Passage]:
        """ "Does Article 18 of UNTOC allow video testimony?": the paragraph about video first.

        A bare reference ("What does Article 25 say?") keeps document order."""
        if len(found) < 2:
            return found
        rest = query.question[: ref.span[0]] + " " + query.question[ref.span[1]:]
        rest = strip_documents(rest, [], self.index.documents)
        terms = [t for t in tokenize(rest) if t not in _QUESTION_WORDS]
        if len(terms) < 2:
            return found
        topic = Query(question=rest, search_text=rest, expansion=expand(rest, self.reader.frequency), refs=QuestionRefs())
        ranked = self.search(topic, Filters(doc_ids=[doc_id]), 60)
        pos = {p.chunk.id: i for i, p in enumerate(ranked)}
        return sorted(found, key=lambda p: pos.get(p.chunk.id, len(pos)))

    def _document_for(self, ref: Reference, query: Query, filters: Filters,
                      found: _Found) -> tuple[str | None, str | None]:
        metas = self.index.documents

        def in_scope(d: str) -> bool:
            return self._in_scope(d, filters)

        has = [d for d in metas if self.index.provision(f"{d}/art_{ref.article}") and in_scope(d)]
        if ref.doc_id:
            if ref.doc_id in has:
                return ref.doc_id, None
            name = metas[ref.doc_id].cite_name if ref.doc_id in metas else ref.doc_id
            if ref.doc_id in metas and not in_scope(ref.doc_id):
                return None, f"{name} is outside the chosen search scope; widen the scope to look it up."
            found.unresolved.append(ref.describe())
            return None, f"{name} has no Article {ref.article} in the index."
        candidates = [d for d in query.doc_scope if d in has]
        if candidates:
            return candidates[0], None
        if not has:
            found.unresolved.append(ref.describe())
            return None, f"No document in scope has an Article {ref.article}."
        if len(has) == 1:
            return has[0], None
        default = self.settings.default_document
        if default in has:
            choice = default
        else:
            # No document named: pick the one whose Article N best matches the question.
            choice = self._best_document(query, has, ref.article)
        others = ", ".join(metas[d].cite_name for d in has if d != choice)
        return choice, (f"Assumed Article {ref.article} of the {metas[choice].cite_name}; "
                        f"other documents with an Article {ref.article}: {others}. Name the treaty to choose.")

    def _best_document(self, query: Query, docs: list[str], article: str) -> str:
        """No document named: the one whose Article N carries most of the question's key concepts
        (so the verdict is the same as when the document is named); search rank breaks ties."""
        stripped = re.sub(r"\b(?:articles?|art\.?)\s*\d+\S*", " ", query.search_text, flags=re.I)
        concepts = key_concepts(strip_documents(stripped, [], self.index.documents))
        if concepts:
            scores = {}
            for d in docs:
                text = " ".join(f"{c.text} {c.metadata.get('article_title', '')}"
                                for c in self.index.chunks_of_provision(f"{d}/art_{article}"))
                scores[d] = len(carried(concepts, text))
            top = max(scores.values())
            best = [d for d in docs if scores[d] == top]
            if top > 0 and len(best) == 1:
                return best[0]
            docs = best
        hits = self.search(Query(question=stripped, search_text=stripped, expansion=query.expansion,
                                 refs=QuestionRefs()), Filters(doc_ids=docs), 20)
        for p in hits:
            if p.chunk.metadata.get("article") == article:
                return p.chunk.doc_id
        return hits[0].chunk.doc_id if hits else docs[0]

    def _provision_id(self, doc_id: str, ref: Reference) -> tuple[str | None, str | None]:
        base = f"{doc_id}/art_{ref.article}"
        candidates = []
        para = ref.paragraph
        point = ref.point
        paras = [para] if para else ["1"]  # points of unnumbered articles sit in an implicit para_1
        for p in paras:
            if point and ref.subpoint:
                candidates.append(f"{base}/para_{p}/point_{point}/sub_{ref.subpoint}")
            if point:
                candidates.append(f"{base}/para_{p}/point_{point}")
        if para:
            candidates.append(f"{base}/para_{para}")
        for pid in candidates:
            if self.index.provision(pid):
                return pid, None
        name = self.index.documents[doc_id].cite_name
        missing = None
        if candidates:
            parts = ", ".join(f"{kind} {value}" for kind, value in
                              (("paragraph", para), ("subparagraph", point), ("item", ref.subpoint)) if value)
            missing = f"{name}, Article {ref.article} has no {parts}; showing the whole article."
        return base, missing

    def _cross_references(self, passages: list[Passage], seen: set[str], filters: Filters) -> list[Passage]:
        """Provisions the top passages refer to, inside the same scope (never another user's upload)."""
        allowed = (self.index.chunk_ids_where(filters.doc_ids, filters.doc_types, filters.languages)
                   if (filters.doc_ids or filters.doc_types or filters.languages) else None)
        extra: list[Passage] = []
        for p in passages[:3]:
            prov = self.index.provision(p.chunk.provision_id)
            if prov is None:
                continue
            refs = list(prov.refs)
            for cid in prov.children:
                child = self.index.provision(cid)
                if child:
                    refs += child.refs
            for ref in list(dict.fromkeys(refs))[:2]:
                for c in self.index.chunks_of_provision(ref)[:1]:
                    if c.id not in seen and (allowed is None or c.id in allowed):
                        seen.add(c.id)
                        extra.append(Passage(chunk=c, score=0.0, reason="cross_reference"))
        return extra[:3]


def _where(filters: Filters) -> dict | None:
    clauses = []
    if filters.doc_ids:
        clauses.append({"doc_id": {"$in": list(filters.doc_ids)}})
    if filters.doc_types:
        clauses.append({"doc_type": {"$in": [t.value for t in filters.doc_types]}})
    if filters.languages:
        clauses.append({"language": {"$in": list(filters.languages)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _interleave(lists: list[list[Passage]]) -> list[Passage]:
    out: list[Passage] = []
    for i in range(max((len(x) for x in lists), default=0)):
        for lst in lists:
            if i < len(lst):
                out.append(lst[i])
    return out


class TreatyRetriever(BaseRetriever):
    """The pipeline as a llama-index retriever, so it composes with other llama-index parts."""

    def __init__(self, retriever: Retriever, filters: Filters | None = None, top_k: int | None = None):
        super().__init__()
        self._retriever = retriever
        self._filters = filters
        self._top_k = top_k

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        q = self._retriever.resolve(query_bundle.query_str)
        return [NodeWithScore(node=_node(p.chunk, p.reason), score=p.score)
                for p in self._retriever.run(q, self._filters, self._top_k).passages]


def _node(chunk: Chunk, reason: str) -> TextNode:
    md = dict(chunk.metadata)
    md["retrieved_because"] = reason
    return TextNode(id_=chunk.id, text=chunk.text, metadata=md)
