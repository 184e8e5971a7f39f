"""Retrieval and answer metrics, as pure functions over small value objects.

Retrieved text (a product passage, or a baseline's node given by character offsets) is
first located in the document's provision tree, so every pipeline is scored by the same
rules whatever its chunking:

* article level: an item is its citable unit (article, preamble, commentary section);
  duplicates of a unit are dropped, first occurrence kept.
* paragraph level: an item is its deepest provision; duplicates dropped. It matches a
  gold paragraph if its text overlaps that paragraph, so a whole-article chunk matches
  every paragraph of the article.

Gold `article: null` matches anything in the document; `paragraph: null` anything in
the article. With match "all" a question is a hit only when every gold provision was
found; with "any" one is enough (and recall is then 0 or 1).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..model import Answer, ParsedDocument, Passage, Provision
from .gold import GoldRef, Match

KS = (1, 3, 5, 10)


@dataclass(frozen=True)
class RetrievedItem:
    doc_id: str
    provision_id: str  # deepest provision the text lies in
    unit_id: str  # its citable unit (article, preamble, section) — the article-level key
    article: str | None
    paragraph: str | None
    covers: tuple[str, ...]  # numbered paragraphs of the unit that the text overlaps
    score: float = 0.0
    chunk_id: str = ""
    label: str = ""


class Locator:
    """Maps text spans of indexed documents onto provisions (cached per document)."""

    def __init__(self, parsed_of):
        self._parsed_of = parsed_of  # doc_id -> ParsedDocument | None
        self._cache: dict[str, tuple[ParsedDocument, dict[str, Provision], set[str]]] = {}

    def _doc(self, doc_id: str):
        if doc_id not in self._cache:
            parsed = self._parsed_of(doc_id)
            if parsed is None:
                return None
            by_id = parsed.by_id()
            containers: set[str] = set()
            for p in parsed.provisions:
                if p.kind == "article":
                    parent = p.parent_id
                    while parent:
                        containers.add(parent)
                        parent = by_id[parent].parent_id if parent in by_id else None
            self._cache[doc_id] = (parsed, by_id, containers)
        return self._cache[doc_id]

    def unit_of(self, doc_id: str, prov: Provision) -> Provision | None:
        """The citable unit holding `prov`; None when `prov` is a container of units."""
        doc = self._doc(doc_id)
        if doc is None:
            return None
        _, by_id, containers = doc
        if prov.kind == "document" or prov.id in containers:
            return None
        node = prov
        while node.parent_id and node.parent_id in by_id:
            parent = by_id[node.parent_id]
            if parent.kind == "document" or parent.id in containers:
                break
            node = parent
        return node

    def locate(self, doc_id: str, start: int, end: int, provision_id: str | None = None,
               score: float = 0.0, chunk_id: str = "") -> RetrievedItem | None:
        """Where a span of a document lies. Without a known provision, the deepest one
        holding the whole span; a span across several units goes to the unit holding
        most of it (then clipped to that unit)."""
        doc = self._doc(doc_id)
        if doc is None:
            return None
        parsed, by_id, containers = doc
        prov = by_id.get(provision_id) if provision_id else None
        if prov is None:
            prov = parsed.deepest_at(start, end)
            if prov is None or self.unit_of(doc_id, prov) is None:
                unit = self._largest_overlap(parsed, containers, start, end)
                if unit is None:
                    return None
                start, end = max(start, unit.start), min(end, unit.end)
                prov = parsed.deepest_at(start, end) or unit
        unit = self.unit_of(doc_id, prov)
        if unit is None:
            return None
        lo, hi = max(start, unit.start), min(end, unit.end)
        covers = tuple(
            p.paragraph for p in parsed.provisions
            if p.kind == "paragraph" and p.paragraph and p.parent_id == unit.id and p.start < hi and lo < p.end
        )
        return RetrievedItem(doc_id=doc_id, provision_id=prov.id, unit_id=unit.id, article=unit.article,
                             paragraph=prov.paragraph, covers=covers, score=score, chunk_id=chunk_id,
                             label=prov.label)

    def _largest_overlap(self, parsed: ParsedDocument, containers: set[str], start: int, end: int):
        best, best_len = None, 0
        for p in parsed.provisions:
            if p.kind == "document" or p.id in containers:
                continue
            if self.unit_of(parsed.document.id, p) is not p:
                continue
            overlap = min(end, p.end) - max(start, p.start)
            if overlap > best_len:
                best, best_len = p, overlap
        return best

    def from_passage(self, passage: Passage) -> RetrievedItem | None:
        """A product passage. A named target smaller than its chunk (a paragraph looked up
        inside a whole-article chunk) is what was retrieved; a target larger than the
        chunk (an article looked up as its paragraph chunks) leaves the chunk as it is."""
        c = passage.chunk
        start, end, pid = c.start, c.end, c.provision_id
        if passage.target:
            doc = self._doc(c.doc_id)
            target = doc[1].get(passage.target) if doc else None
            if target is not None and start <= target.start and target.end <= end:
                pid, start, end = target.id, target.start, target.end
        return self.locate(c.doc_id, start, end, pid, passage.score, c.id)


# -- matching ------------------------------------------------------------------------

def matches_article(item: RetrievedItem, g: GoldRef) -> bool:
    return item.doc_id == g.doc_id and (g.article is None or item.article == g.article)


def matches_paragraph(item: RetrievedItem, g: GoldRef) -> bool:
    return matches_article(item, g) and (g.paragraph is None or g.paragraph in item.covers)


def article_gold(gold: Sequence[GoldRef]) -> list[GoldRef]:
    """Gold reduced to article level (paragraphs of one article collapse into one)."""
    return list(dict.fromkeys(GoldRef(g.doc_id, g.article, None) for g in gold))


def relevance(items: Sequence[RetrievedItem], gold: Sequence[GoldRef], level: str) -> list[frozenset[int]]:
    """Per ranked, de-duplicated item: the indices of the gold entries it matches."""
    if level == "article":
        key, match, gold = (lambda i: (i.doc_id, i.unit_id)), matches_article, article_gold(gold)
    elif level == "paragraph":
        key, match = (lambda i: (i.doc_id, i.provision_id)), matches_paragraph
    else:
        raise ValueError(f"unknown level {level!r}; use 'article' or 'paragraph'")
    seen: set = set()
    out: list[frozenset[int]] = []
    for item in items:
        k = key(item)
        if k in seen:
            continue
        seen.add(k)
        out.append(frozenset(j for j, g in enumerate(gold) if match(item, g)))
    return out


def gold_count(gold: Sequence[GoldRef], level: str) -> int:
    return len(article_gold(gold)) if level == "article" else len(gold)


def ranking_metrics(rels: Sequence[Iterable[int]], n_gold: int, match: Match,
                    ks: Sequence[int] = KS) -> dict[str, float]:
    """hit@k, recall@k, MRR@k and nDCG@k for one question, binary relevance.

    nDCG: an item earns gain 1 per gold entry it is the first to match (with "any" only
    the first match counts); the ideal ranking puts one gold entry at each rank.
    """
    if n_gold <= 0:
        raise ValueError("a question without gold provisions has no retrieval metrics")
    rels = [frozenset(r) for r in rels]
    need = 1 if match == "any" else n_gold
    out: dict[str, float] = {}
    for k in ks:
        found: set[int] = set()
        first = 0
        dcg = 0.0
        for rank, r in enumerate(rels[:k], 1):
            if r and not first:
                first = rank
            new = r - found
            if match == "any":
                gain = 1 if new and not found else 0
            else:
                gain = len(new)
            found |= r
            dcg += gain / math.log2(rank + 1)
        idcg = sum(1 / math.log2(i + 1) for i in range(1, min(k, need) + 1))
        if match == "any":
            recall = 1.0 if found else 0.0
            hit = recall
        else:
            recall = len(found) / n_gold
            hit = 1.0 if len(found) == n_gold else 0.0
        out[f"hit@{k}"] = hit
        out[f"recall@{k}"] = recall
        out[f"mrr@{k}"] = 1.0 / first if first else 0.0
        out[f"ndcg@{k}"] = min(1.0, dcg / idcg) if idcg else 0.0
    return out


def retrieval_metrics(items: Sequence[RetrievedItem], gold: Sequence[GoldRef], match: Match,
                      ks: Sequence[int] = KS) -> dict[str, float]:
    """Both levels, keys like "article.hit@5" and "paragraph.mrr@10"."""
    out: dict[str, float] = {}
    for level in ("article", "paragraph"):
        rel = relevance(items, gold, level)
        for name, v in ranking_metrics(rel, gold_count(gold, level), match, ks).items():
            out[f"{level}.{name}"] = v
    return out


# -- answers -------------------------------------------------------------------------

@dataclass
class RefusalStats:
    accuracy: float | None
    precision: float | None  # of the refusals, how many were right to refuse
    recall: float | None  # of the unanswerable questions, how many were refused
    n: int


def refusal_stats(pairs: Iterable[tuple[bool, bool]]) -> RefusalStats:
    """pairs of (answerable, refused)."""
    tp = fp = fn = tn = 0
    for answerable, refused in pairs:
        if refused and not answerable:
            tp += 1
        elif refused:
            fp += 1
        elif not answerable:
            fn += 1
        else:
            tn += 1
    n = tp + fp + fn + tn
    return RefusalStats(
        accuracy=(tp + tn) / n if n else None,
        precision=tp / (tp + fp) if tp + fp else None,
        recall=tp / (tp + fn) if tp + fn else None,
        n=n,
    )


@dataclass
class CitationCheck:
    provision_id: str
    label: str
    exists: bool  # the provision is in the index
    given: bool  # it is (part of, or holds) a passage the answerer had, retrieved or added by itself
    retrieved: bool | None = None  # it is (part of, or holds) a passage retrieval returned for the question

    @property
    def valid(self) -> bool:
        """Exists, and rests on what retrieval returned (on what the answerer had, when the
        retrieval passages are unknown)."""
        return self.exists and (self.given if self.retrieved is None else self.retrieved)


def _inside_any(prov, spans) -> bool:
    return any(d == prov.doc_id and ((s <= prov.start and prov.end <= e) or (prov.start <= s and e <= prov.end))
               for d, s, e in spans)


def check_citations(answer: Answer, provision, retrieved: Sequence[Passage] | None = None) -> list[CitationCheck]:
    """Each citation of an answer: does it exist, was it among the passages the answerer
    had (`answer.passages`), and among the passages retrieval returned (`retrieved`).

    `provision` is `Index.provision`. A citation is "given"/"retrieved" when the cited
    provision lies inside a passage's chunk or holds it (a sentence cited to its paragraph,
    or an article cited for one of its chunks); a partial overlap does not count. Passages
    the answerer added itself (a topic search, cross-references) make a citation "given"
    but not "retrieved".
    """
    given_spans = [(p.chunk.doc_id, p.chunk.start, p.chunk.end) for p in answer.passages]
    ret_spans = None if retrieved is None else [(p.chunk.doc_id, p.chunk.start, p.chunk.end) for p in retrieved]
    out = []
    for c in answer.citations:
        prov = provision(c.provision_id)
        given = prov is not None and _inside_any(prov, given_spans)
        ret = None if ret_spans is None else (prov is not None and _inside_any(prov, ret_spans))
        out.append(CitationCheck(c.provision_id, c.label, prov is not None, given, ret))
    return out


def citation_prf(cited: Sequence[RetrievedItem], gold: Sequence[GoldRef],
                 match: Match) -> tuple[float | None, float | None]:
    """Article-level precision and recall of what an answer cites, against the gold."""
    art_gold = article_gold(gold)
    units = list({(i.doc_id, i.unit_id): i for i in cited}.values())
    precision = (sum(1 for i in units if any(matches_article(i, g) for g in art_gold)) / len(units)) if units else None
    if not art_gold:
        return precision, None
    found = sum(1 for g in art_gold if any(matches_article(i, g) for i in units))
    recall = (1.0 if found else 0.0) if match == "any" else found / len(art_gold)
    return precision, recall


def cites_named(cited: Sequence[RetrievedItem], named: GoldRef) -> bool:
    """Does the answer cite the named provision's article (a coverage question's first gold entry)?"""
    return any(matches_article(i, named) for i in cited)


# -- verdicts and refusals -----------------------------------------------------------

def given_verdict(answer: Answer) -> str | None:
    """The verdict an answer gives: its `verdict.kind`; a refusal without a verdict reads as
    "not_addressed"; an answer with neither gives none (None, wrong wherever one is expected)."""
    if answer.verdict is not None:
        return answer.verdict.kind
    return "not_addressed" if answer.refused else None


def declined(answer: Answer) -> bool:
    """The answer says the texts do not address the question (refused, or verdict not_addressed)."""
    return answer.refused or (answer.verdict is not None and answer.verdict.kind == "not_addressed")


@dataclass
class VerdictStats:
    accuracy: float | None  # every unit with an expected verdict (not_addressed included)
    coverage_accuracy: float | None  # units whose expected verdict is yes / no / partly
    confidently_wrong: float | None  # expected yes or no: the opposite was given
    hedge: float | None  # expected yes or no: "partly" was given
    missing: float | None  # expected yes / no / partly: no verdict given at all
    n: int
    n_coverage: int


def verdict_stats(pairs: Iterable[tuple[str, str | None]]) -> VerdictStats:
    """pairs of (expected verdict, given verdict or None)."""
    pairs = [(e, g) for e, g in pairs if e is not None]
    cov = [(e, g) for e, g in pairs if e in ("yes", "no", "partly")]
    polar = [(e, g) for e, g in cov if e in ("yes", "no")]
    opposite = {"yes": "no", "no": "yes"}

    def share(rows, ok) -> float | None:
        return sum(1 for e, g in rows if ok(e, g)) / len(rows) if rows else None

    return VerdictStats(
        accuracy=share(pairs, lambda e, g: e == g),
        coverage_accuracy=share(cov, lambda e, g: e == g),
        confidently_wrong=share(polar, lambda e, g: g == opposite[e]),
        hedge=share(polar, lambda e, g: g == "partly"),
        missing=share(cov, lambda e, g: g is None),
        n=len(pairs), n_coverage=len(cov))


@dataclass
class RefusalSplit:
    near_refused: float | None  # near-topic unanswerables declined (want 1)
    far_refused: float | None  # off-topic unanswerables declined (want 1)
    answerable_refused: float | None  # answerable units declined (want 0)
    n_near: int
    n_far: int
    n_answerable: int


def refusal_split(rows: Iterable[tuple[bool, str | None, bool]]) -> RefusalSplit:
    """rows of (answerable, topic, declined). Unanswerables without a topic count in neither."""
    near, far, ans = [], [], []
    for answerable, topic, refused in rows:
        if answerable:
            ans.append(refused)
        elif topic == "near":
            near.append(refused)
        elif topic == "far":
            far.append(refused)

    def rate(v):
        return sum(v) / len(v) if v else None

    return RefusalSplit(rate(near), rate(far), rate(ans), len(near), len(far), len(ans))


# -- aggregation ---------------------------------------------------------------------

def mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default."""
    vals = sorted(values)
    if not vals:
        return None
    pos = (len(vals) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def cohen_kappa(a: Sequence[bool], b: Sequence[bool]) -> float:
    """Agreement of two binary raters beyond chance."""
    if len(a) != len(b) or not a:
        raise ValueError("kappa needs two non-empty rating lists of equal length")
    n = len(a)
    po = sum(x == y for x, y in zip(a, b)) / n
    pa, pb = sum(a) / n, sum(b) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe == 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)
