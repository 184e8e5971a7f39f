"""The default, offline answer: the provisions' own sentences, ranked, each with its citation.

Faithful by construction: apart from fixed connecting phrases, every sentence shown is a
verbatim sentence of a cited provision. When nothing retrieved supports an answer, the
answer says so and lists the closest provisions as related, not as support.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..index.chunker import clean_text, sentence_spans
from ..index.lexical import tokenize
from ..index.service import Index
from ..model import Answer, Citation, DocType, Passage, Provision
from ..settings import Settings

NOT_ADDRESSED = "The texts do not address this question."
_COVERAGE = re.compile(
    r"^\s*(?:does|do|is|are|can|will|would|could)\b(?P<pre>.*?)\b(?:articles?|art\.?)\s*(?P<art>\d{1,3})\S*"
    r"(?P<mid>.*?)\b(?:cover|covers|address|addresses|include|includes|deal with|deals with|apply to|applies to|"
    r"mention|mentions|protect|protects|require|requires|provide for|provides for|say anything about|"
    r"talk about|concern|regulate|oblige|allow|permit)\b(?P<topic>.+?)\??\s*$",
    re.I,
)
_STOP_TOPIC = re.compile(r"^\s*(?:the|a|an|any|of|about)\s+", re.I)


@dataclass
class Sentence:
    text: str
    provision: Provision
    passage: Passage
    rank: int
    score: float = 0.0


class ExtractiveAnswerer:
    def __init__(self, index: Index, settings: Settings,
                 search: Callable[[str, str | None], list[Passage]] | None = None):
        self.index = index
        self.settings = settings
        self.search = search  # topic search over all documents, for "is it addressed elsewhere?"

    # -- candidates ------------------------------------------------------------------
    def sentences(self, passages: list[Passage], limit: int = 8) -> list[Sentence]:
        out: list[Sentence] = []
        seen: set[str] = set()
        for rank, p in enumerate(passages[: limit + 3]):
            parsed = self.index.parsed(p.chunk.doc_id)
            if parsed is None:
                continue
            text = parsed.document.text
            lo, hi = p.chunk.start, p.chunk.end
            target = self.index.provision(p.target) if p.target else None
            if target is not None:  # only the named provision, even if its chunk is larger
                lo, hi = max(lo, target.start), min(hi, target.end)
            for s_start, s_end, shown in sentence_spans(text, lo, hi):
                if shown in seen:
                    continue
                prov = parsed.deepest_at(s_start, s_end) or self.index.provision(p.chunk.provision_id)
                if prov is None:
                    continue
                seen.add(shown)
                out.append(Sentence(shown, prov, p, rank))
        return out

    def score(self, question: str, sentences: list[Sentence], q_emb: list[float] | None = None) -> None:
        if not sentences:
            return
        emb = self.index.embedder
        q = np.array(q_emb if q_emb is not None else emb.embed_query(question), dtype=np.float32)
        vecs = self.index.sentence_vectors([s.text for s in sentences])
        cos = vecs @ q
        q_terms = set(tokenize(question))
        for s, c in zip(sentences, cos):
            terms = set(tokenize(f"{s.text} {s.provision.article_title or ''}"))  # the title is context
            overlap = len(q_terms & terms) / max(1, len(q_terms))
            prior = 0.15 if s.passage.reason == "reference" else 0.1 / (1 + s.rank)
            s.score = float(0.7 * c + 0.3 * overlap + prior)

    # -- answer ----------------------------------------------------------------------
    def run(self, question: str, passages: list[Passage], assumed_document: str | None = None,
            expansion: str = "", scope: list[str] | None = None, resolved: str | None = None) -> Answer:
        """`resolved` is the question as retrieval understood it (a follow-up with its topic):
        sentences are scored against that, while the answer keeps the question as asked."""
        cfg = self.settings.answer
        support = [p for p in passages if p.reason != "cross_reference"]
        cov = _COVERAGE.match(question)
        if cov and any(p.reason == "reference" for p in passages):
            return self._coverage(question, cov, passages, assumed_document)
        references = [p for p in support if p.reason == "reference"]
        sentences = self.sentences(support)
        self.score(f"{resolved or question} {expansion}".strip(), sentences)
        best = max((s.score for s in sentences), default=0.0)
        best_dense = max((p.dense or 0.0 for p in support), default=0.0)
        if not references and (best < cfg.min_sentence_score or best_dense < cfg.min_passage_score):
            return self._refusal(question, passages, best)
        if references:
            chosen = self._reference_sentences(sentences)
            lead = "In " + _join_labels([self._label(p) for p in references]) + ":"
        elif scope and len(scope) >= 2:  # a comparison: each named document gets its say
            per_doc = max(2, cfg.max_sentences // len(scope))
            chosen = []
            for doc_id in scope:
                mine = [s for s in sentences if s.provision.doc_id == doc_id]
                top = max((s.score for s in mine), default=0.0)
                chosen += self._top(mine, per_doc, floor=top * 0.75)
            labels = list(dict.fromkeys(s.provision.label for s in chosen))
            lead = "Compared: " + _join_labels(labels[:4]) + ":"
        else:
            chosen = self._top(sentences, cfg.max_sentences, floor=best * 0.75)
            labels = list(dict.fromkeys(s.provision.label for s in chosen))
            lead = "The texts address this in " + _join_labels(labels[:3]) + ":"
        return self._compose(question, lead, chosen, passages, assumed_document)

    def _reference_sentences(self, sentences: list[Sentence]) -> list[Sentence]:
        """A named provision is quoted in document order, not re-ranked."""
        named = [s for s in sentences if s.passage.reason == "reference"]
        named.sort(key=lambda s: (s.provision.doc_id, s.passage.chunk.start, s.provision.start))
        return named[: max(self.settings.answer.max_sentences, 8)]

    def _top(self, sentences: list[Sentence], n: int, floor: float) -> list[Sentence]:
        ranked = sorted(sentences, key=lambda s: -s.score)
        out: list[Sentence] = []
        per_prov: dict[str, int] = {}
        for s in ranked:
            if s.score < floor and out:
                break
            if per_prov.get(s.provision.id, 0) >= 3:
                continue
            per_prov[s.provision.id] = per_prov.get(s.provision.id, 0) + 1
            out.append(s)
            if len(out) >= n:
                break
        return out

    def _coverage(self, question: str, cov: re.Match, passages: list[Passage],
                  assumed_document: str | None) -> Answer:
        """ "Does Article X cover Y?": yes with the words that do, or where Y is addressed instead.

        Relative, not absolute: Article X covers Y when its best sentence about Y is about as
        good as the best sentence about Y anywhere else in the texts."""
        cfg = self.settings.answer
        topic = _STOP_TOPIC.sub("", cov.group("topic")).strip(" ?.")
        from ..expansion import expand

        topic_q = f"{topic} {expand(topic)}".strip()
        inside = [p for p in passages if p.reason == "reference"]
        sentences = self.sentences(inside, limit=len(inside))
        self.score(topic_q, sentences)
        best = max((s.score for s in sentences), default=0.0)
        article_label = (re.sub(r"(Art\. [^ (]+)\(.*$", r"\1", self._label(inside[0])) if inside
                         else f"Article {cov.group('art')}")
        article_ids = {p.chunk.id for p in inside}
        article_prefix = inside[0].chunk.provision_id.split("/para_")[0].split("#")[0] if inside else ""
        alt = self._elsewhere(topic, topic_q, passages, article_ids, article_prefix)
        alt_best = max((s.score for s in alt), default=0.0)
        floor = cfg.min_sentence_score + 0.1
        if best >= floor and best >= alt_best - 0.03:
            chosen = self._top(sentences, 3, floor=best * 0.9)
            lead = f"Yes. {article_label} addresses {topic}:"
            return self._compose(question, lead, chosen, passages, assumed_document)
        if alt_best >= floor:
            chosen = self._top(alt, 3, floor=alt_best * 0.9)
            where = _join_labels(list(dict.fromkeys(s.provision.label for s in chosen)))
            lead = f"Not in {article_label}. {topic[:1].upper() + topic[1:]} is addressed in {where}:"
            return self._compose(question, lead, chosen, passages + [s.passage for s in chosen], assumed_document)
        ans = self._refusal(question, passages, alt_best)
        ans.answer = f"Not in {article_label}, and the texts searched do not appear to address {topic} elsewhere."
        return ans

    def _elsewhere(self, topic: str, topic_q: str, passages: list[Passage], exclude: set[str],
                   article_prefix: str) -> list[Sentence]:
        """The best sentences about the topic outside the named article (all documents)."""
        found = [p for p in passages if p.reason == "search" and p.chunk.id not in exclude]
        same_doc = article_prefix.split("/")[0]
        if self.search is not None:
            found += self.search(topic, same_doc) + self.search(topic, None)
        seen: set[str] = set()
        keep = []
        for p in found:
            if p.chunk.id in seen or p.chunk.id in exclude or (
                    article_prefix and p.chunk.provision_id.startswith(article_prefix + "/")):
                continue
            seen.add(p.chunk.id)
            keep.append(p)
        alt = self.sentences(keep, limit=len(keep))
        self.score(topic_q, alt)
        for s in alt:  # the asked-about treaty itself first, a commentary's view last
            if s.provision.doc_id == same_doc:
                s.score += 0.05
            elif s.passage.chunk.metadata.get("doc_type") != "treaty":
                s.score -= 0.05
        return alt

    # -- output ----------------------------------------------------------------------
    def _compose(self, question: str, lead: str, chosen: list[Sentence], passages: list[Passage],
                 assumed_document: str | None) -> Answer:
        citations: dict[str, Citation] = {}
        lines = [lead]
        for s in chosen:
            cit = citations.get(s.provision.id)
            if cit is None:
                cit = self._citation(s.provision, s.passage)
                cit.key = str(len(citations) + 1)
                citations[s.provision.id] = cit
            cit.sentences.append(s.text)
            cit.score = max(cit.score, s.score)
            lines.append(f"- {self._voice(s)}{s.text} [{s.provision.label}]")
        used = {c.provision_id for c in citations.values()}
        related = self._related(passages, used)
        return Answer(question=question, answer="\n".join(lines), citations=list(citations.values()),
                      related=related, assumed_document=assumed_document, mode="extractive",
                      passages=passages)  # includes any passage found by a topic search

    def refuse(self, question: str, passages: list[Passage]) -> Answer:
        return self._refusal(question, passages, 0.0)

    def _refusal(self, question: str, passages: list[Passage], best: float) -> Answer:
        related = self._related(passages, set())
        text = NOT_ADDRESSED
        if related:
            text += " The closest provisions are listed as related, not as an answer."
        return Answer(question=question, answer=text, refused=True, related=related, mode="extractive")

    def _related(self, passages: list[Passage], used: set[str]) -> list[Citation]:
        out: list[Citation] = []
        seen = set(used)
        for p in passages:
            pid = p.chunk.provision_id
            if pid in seen:
                continue
            prov = self.index.provision(pid)
            if prov is None:
                continue
            seen.add(pid)
            cit = self._citation(prov, p)
            cit.score = p.score
            out.append(cit)
            if len(out) >= 5:
                break
        return out

    def _citation(self, prov: Provision, passage: Passage) -> Citation:
        meta = self.index.documents.get(prov.doc_id)
        return Citation(
            provision_id=prov.id, doc_id=prov.doc_id, article=prov.article, paragraph=prov.paragraph,
            label=prov.label, doc_title=meta.title if meta else "",
            source_type=meta.doc_type if meta else DocType.treaty, text=clean_text(prov.text),
        )

    def _voice(self, s: Sentence) -> str:
        """A commentary's words are presented as its author's view, never as treaty text."""
        meta = self.index.documents.get(s.provision.doc_id)
        if meta and meta.doc_type != DocType.treaty:
            who = meta.publisher or meta.cite_name
            return f"{who} ({meta.doc_type.value}) states: "
        return ""

    def _label(self, p: Passage) -> str:
        prov = self.index.provision(p.target) if p.target else None
        return prov.label if prov else p.chunk.label

    def _doc_name(self, doc_id: str) -> str:
        meta = self.index.documents.get(doc_id)
        return meta.cite_name if meta else doc_id


def _join_labels(labels: list[str]) -> str:
    labels = list(dict.fromkeys(labels))
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]
