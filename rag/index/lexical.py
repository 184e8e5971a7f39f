"""BM25 over the same chunks as the dense index, tokenised for legal text.

Numbers and single letters survive ("Article 14(2)(a)" -> article 14 2 a), case is
folded and English words are stemmed so "victims" finds "victim".
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

import bm25s
import numpy as np

from ..model import Chunk

_TOKEN = re.compile(r"[a-z]+|\d+")
_STOP = frozenset(
    "the of and to in or for with by on at as be is are that this which such shall any its their from an".split()
)


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    words = _TOKEN.findall(text.lower().replace("’", "'"))
    words = [w for w in words if w not in _STOP]
    return _stemmer().stemWords(words)


@dataclass(frozen=True)
class LexicalPart:
    """One document's share of the BM25 index, tokenised once and reused by every rebuild."""

    ids: tuple[str, ...]
    tokens: tuple[tuple[str, ...], ...]
    words: frozenset[str]

    @classmethod
    def of(cls, chunks: list[Chunk]) -> "LexicalPart":
        return cls(ids=tuple(c.id for c in chunks),
                   tokens=tuple(tuple(tokenize(c.embed_text) or ["_empty_"]) for c in chunks),
                   words=frozenset(w for c in chunks for w in re.findall(r"[a-z]+", c.text.lower())))


class LexicalIndex:
    """BM25 over chunks. Built from per-document parts, so a refresh after an upload tokenises
    only the new document (bm25s itself has no incremental add: its matrix is rebuilt from the
    cached tokens, which is the cheap part)."""

    def __init__(self, chunks: list[Chunk] | None = None, parts: "list[LexicalPart] | None" = None):
        if parts is None:
            by_doc: dict[str, list[Chunk]] = {}
            for c in chunks or []:
                by_doc.setdefault(c.doc_id, []).append(c)
            parts = [LexicalPart.of(cs) for cs in by_doc.values()]
        self.ids = [i for p in parts for i in p.ids]
        self.row = {cid: i for i, cid in enumerate(self.ids)}
        self.vocab = frozenset().union(*(p.words for p in parts)) if parts else frozenset()
        self._by_initial: dict[str, list[str]] = {}
        for w in sorted(self.vocab):
            if len(w) >= 4:
                self._by_initial.setdefault(w[0], []).append(w)
        self._masks: OrderedDict[int, tuple[frozenset, np.ndarray]] = OrderedDict()
        self.bm25 = bm25s.BM25()
        corpus = [list(t) for p in parts for t in p.tokens]
        if corpus:
            self.bm25.index(corpus, show_progress=False)

    def correct(self, text: str, known: set[str] | frozenset[str] = frozenset()) -> str:
        """Replace misspelt words by a close corpus word ("serius" -> "serious").

        Only words that are neither in the corpus nor in `known` (ordinary English words,
        e.g. the embedding model's vocabulary) are touched, so lay words stay as asked.
        """
        import difflib

        def fix(m: re.Match) -> str:
            word = m.group(0)
            low = word.lower()
            if len(low) < 5 or low in self.vocab or low in known:
                return word
            pool = [w for w in self._by_initial.get(low[0], ()) if abs(len(w) - len(low)) <= 2]
            close = difflib.get_close_matches(low, pool, n=1, cutoff=0.85)
            return close[0] if close else word

        return re.sub(r"[A-Za-z]+", fix, text)

    def mask(self, allowed: frozenset[str] | set[str]) -> np.ndarray:
        """Boolean row mask for a set of chunk ids; cached per (frozen) set, so repeated
        searches with one filter pay O(allowed) once, then nothing."""
        key = id(allowed)
        hit = self._masks.get(key)
        if hit is not None and hit[0] is allowed:
            self._masks.move_to_end(key)
            return hit[1]
        m = np.zeros(len(self.ids), dtype=bool)
        rows = [self.row[c] for c in allowed if c in self.row]
        if rows:
            m[np.asarray(rows, dtype=np.int64)] = True
        if isinstance(allowed, frozenset):
            self._masks[key] = (allowed, m)
            while len(self._masks) > 32:
                self._masks.popitem(last=False)
        return m

    def search(self, query: str, k: int, allowed: frozenset[str] | set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; `allowed` restricts to those chunk ids (a numpy
        mask over the score vector, no Python loop over the corpus)."""
        tokens = tokenize(query)
        if not tokens or not self.ids or k <= 0:
            return []
        scores = self.bm25.get_scores(tokens)
        if allowed is not None:
            scores = np.where(self.mask(allowed), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
