"""BM25 over the same chunks as the dense index, tokenised for legal text.

Numbers and single letters survive ("Article 14(2)(a)" -> article 14 2 a), case is
folded and English words are stemmed so "victims" finds "victim".
"""
from __future__ import annotations

import re
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


class LexicalIndex:
    def __init__(self, chunks: list[Chunk]):
        self.ids = [c.id for c in chunks]
        self.doc_of = np.array([c.doc_id for c in chunks], dtype=object)
        self.vocab = {w for c in chunks for w in re.findall(r"[a-z]+", c.text.lower())}
        self._by_initial: dict[str, list[str]] = {}
        for w in sorted(self.vocab):
            if len(w) >= 4:
                self._by_initial.setdefault(w[0], []).append(w)
        self.bm25 = bm25s.BM25()
        corpus = [tokenize(c.embed_text) or ["_empty_"] for c in chunks]
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

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; `allowed` restricts to those chunk ids."""
        tokens = tokenize(query)
        if not tokens or not self.ids:
            return []
        scores = self.bm25.get_scores(tokens)
        order = np.argsort(-scores)
        out = []
        for i in order:
            if scores[i] <= 0:
                break
            cid = self.ids[i]
            if allowed is not None and cid not in allowed:
                continue
            out.append((cid, float(scores[i])))
            if len(out) >= k:
                break
        return out
