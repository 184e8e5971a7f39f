"""BM25 over the same chunks as the dense index, tokenised for legal text.

Numbers and single letters survive ("Article 14(2)(a)" -> article 14 2 a), case is
folded and English words are stemmed so "victims" finds "victim".
"""
from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import lru_cache

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


# Words glued at a line break in an extracted PDF ("thisConvention", "UnitedNations"): two words.
_GLUED = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")


@lru_cache(maxsize=8192)
def in_use(word: str) -> bool:
    """Is the word in use in English at large (Zipf frequency >= 2.5 in `wordfreq`: about once in
    three million words)? Typos hardly ever are; new words ("sexting", "ransomware") are."""
    from wordfreq import zipf_frequency  # loaded on the first correction only

    return zipf_frequency(word, "en") >= 2.5


def tokenize(text: str) -> list[str]:
    words = _TOKEN.findall(_GLUED.sub(" ", text).lower().replace("’", "'"))
    words = [w for w in words if w not in _STOP]
    return _stemmer().stemWords(words)


K1, B = 1.5, 0.75  # Lucene's BM25 (what bm25s computed for this index before)


@dataclass(frozen=True, eq=False)
class LexicalPart:
    """One document's share of the BM25 index, tokenised and counted once and reused by every
    rebuild: its own term list and (chunk row, term, count) triples."""

    ids: tuple[str, ...]
    terms: tuple[str, ...]  # this document's distinct terms
    rows: np.ndarray  # int32: chunk row within the document
    cols: np.ndarray  # int32: index into `terms`
    tfs: np.ndarray  # float32: how often the term occurs in the chunk
    lengths: np.ndarray  # float32: tokens per chunk
    word_chunks: dict[str, int]  # word as written (lower case) -> chunks whose text uses it
    stem_chunks: dict[str, int]  # stem (as `tokenize` makes them) -> chunks whose text has it
    doc_id: str = ""  # the document these chunks belong to

    @classmethod
    def of(cls, chunks: list[Chunk]) -> "LexicalPart":
        term_ids: dict[str, int] = {}
        per_chunk = [tokenize(c.embed_text) or ["_empty_"] for c in chunks]
        lengths = np.fromiter((len(t) for t in per_chunk), dtype=np.int64, count=len(per_chunk))
        flat = np.fromiter((term_ids.setdefault(t, len(term_ids)) for ts in per_chunk for t in ts),
                           dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(np.arange(len(per_chunk), dtype=np.int64), lengths)
        n_terms = max(len(term_ids), 1)
        pairs, counts = np.unique(rows * n_terms + flat, return_counts=True)  # (chunk, term) -> count
        word_chunks: Counter[str] = Counter()
        stem_chunks: Counter[str] = Counter()
        stem = _stemmer().stemWords
        for c in chunks:
            toks = set(_TOKEN.findall(c.text.lower()))
            word_chunks.update(t for t in toks if not t.isdigit())
            stem_chunks.update(set(stem([t for t in toks if t not in _STOP])))
        return cls(ids=tuple(c.id for c in chunks), terms=tuple(term_ids),
                   rows=(pairs // n_terms).astype(np.int32), cols=(pairs % n_terms).astype(np.int32),
                   tfs=counts.astype(np.float32), lengths=lengths.astype(np.float32),
                   word_chunks=dict(word_chunks), stem_chunks=dict(stem_chunks),
                   doc_id=chunks[0].doc_id if chunks else "")


class _Segment:
    """Postings of several documents' parts, by term (CSC-like): built once, then only read.
    A refresh after an upload adds a small segment instead of rebuilding the large one."""

    def __init__(self, parts: list[LexicalPart]):
        self.parts = parts
        self.vocab: dict[str, int] = {}
        term_cols, rows, tfs = [], [], []
        offset = 0
        for p in parts:
            remap = np.fromiter((self.vocab.setdefault(t, len(self.vocab)) for t in p.terms),
                                dtype=np.int32, count=len(p.terms))
            term_cols.append(remap[p.cols] if len(p.cols) else p.cols)
            rows.append(p.rows + offset)
            tfs.append(p.tfs)
            offset += len(p.ids)
        self.size = offset
        col = np.concatenate(term_cols) if term_cols else np.zeros(0, np.int32)
        order = np.argsort(col, kind="stable")
        self.rows = (np.concatenate(rows) if rows else np.zeros(0, np.int32))[order]
        self.tfs = (np.concatenate(tfs) if tfs else np.zeros(0, np.float32))[order]
        self.indptr = np.zeros(len(self.vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(col, minlength=len(self.vocab)), out=self.indptr[1:])
        self.lengths = np.concatenate([p.lengths for p in parts]) if parts else np.zeros(0, np.float32)
        self.word_chunks: Counter[str] = Counter()
        self.stem_chunks: Counter[str] = Counter()
        for p in parts:
            self.word_chunks.update(p.word_chunks)
            self.stem_chunks.update(p.stem_chunks)

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        col = self.vocab.get(term)
        if col is None:
            return None
        a, b = self.indptr[col], self.indptr[col + 1]
        return self.rows[a:b], self.tfs[a:b]


MAX_SEGMENTS = 8


class LexicalIndex:
    """BM25 (Lucene's variant) over chunks, in segments of per-document parts.

    A refresh after an upload reuses the previous index's segments whose documents are all
    unchanged and puts the new documents in a new small segment, so adding one document costs
    O(that document), not O(corpus); when segments pile up, the small ones are merged. Scores
    use corpus-wide statistics (document frequency summed over segments, one average length),
    so they do not depend on how documents happen to be segmented."""

    def __init__(self, parts: list[LexicalPart], previous: "LexicalIndex | None" = None):
        wanted = {id(p) for p in parts}
        segments: list[_Segment] = []
        placed: set[int] = set()
        for seg in previous.segments if previous is not None else []:
            if all(id(p) in wanted for p in seg.parts):
                segments.append(seg)
                placed |= {id(p) for p in seg.parts}
        fresh = [p for p in parts if id(p) not in placed]
        if fresh:
            segments.append(_Segment(fresh))
        if len(segments) > MAX_SEGMENTS:  # merge all but the largest (cost of the small ones only)
            segments.sort(key=lambda s: -s.size)
            segments = [segments[0], _Segment([p for s in segments[1:] for p in s.parts])]
        self.segments = segments
        self.offsets = np.cumsum([0] + [s.size for s in segments])
        self.ids = [i for s in segments for p in s.parts for i in p.ids]
        self.row = {cid: i for i, cid in enumerate(self.ids)}
        lengths = sum(float(s.lengths.sum()) for s in segments)
        self.avg_length = lengths / len(self.ids) if self.ids else 1.0
        self.vocab = frozenset().union(*(s.word_chunks.keys() for s in segments)) if segments else frozenset()
        self._by_initial: dict[str, list[str]] = {}
        for w in sorted(self.vocab):
            if len(w) >= 4:
                self._by_initial.setdefault(w[0], []).append(w)
        self._masks: OrderedDict[int, tuple[frozenset, np.ndarray]] = OrderedDict()
        self._part_of = {p.doc_id: p for s in segments for p in s.parts if p.doc_id}

    def word_frequency(self, word: str, hidden: frozenset[str] = frozenset()) -> int:
        """In how many chunks the texts use a word as written (lower case): lay or formal?"""
        return self._chunks_with("word_chunks", word, hidden)

    def stem_frequency(self, stem: str, hidden: frozenset[str] = frozenset()) -> int:
        """In how many chunks the texts use a stem (of `tokenize`): rare, common, or absent?"""
        return self._chunks_with("stem_chunks", stem, hidden)

    def _chunks_with(self, table: str, key: str, hidden: frozenset[str]) -> int:
        """Chunks counted in a per-segment table, less those of the `hidden` documents (another
        user's private uploads: whether their words exist must not show in this viewer's answers)."""
        n = sum(getattr(s, table).get(key, 0) for s in self.segments)
        for doc_id in hidden:
            part = self._part_of.get(doc_id)
            if part is not None:
                n -= getattr(part, table).get(key, 0)
        return n

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk (row order of `ids`); a repeated query term counts again."""
        out = np.zeros(len(self.ids), dtype=np.float32)
        n = len(self.ids)
        for t in tokens:
            hits = [(int(off), seg, got) for off, seg in zip(self.offsets, self.segments)
                    if (got := seg.postings(t)) is not None]
            df = sum(len(rows) for _, _, (rows, _) in hits)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            for off, seg, (rows, tfs) in hits:
                norm = K1 * ((1 - B) + B * seg.lengths[rows] / self.avg_length)
                out[rows + off] += idf * tfs / (norm + tfs)
        return out

    def correct(self, text: str, known: set[str] | frozenset[str] = frozenset(),
                hidden: frozenset[str] = frozenset()) -> str:
        """Replace misspelt words by a close corpus word ("serius" -> "serious").

        Only words that are neither in the corpus nor in `known` (ordinary English words,
        e.g. the embedding model's vocabulary) nor in use in English at large (`in_use`: "sexting"
        is a word, not a typo of "setting") are touched, so lay words stay as asked. Words
        found only in `hidden` documents (another user's private uploads) are not corpus words here:
        a correction must not reveal them.
        """
        import difflib

        def seen(w: str) -> bool:
            return w in self.vocab and (not hidden or self.word_frequency(w, hidden) > 0)

        def fix(m: re.Match) -> str:
            word = m.group(0)
            low = word.lower()
            if len(low) < 5 or low in known or seen(low) or in_use(low):
                return word
            pool = [w for w in self._by_initial.get(low[0], ()) if abs(len(w) - len(low)) <= 2]
            close = [w for w in difflib.get_close_matches(low, pool, n=5, cutoff=0.85) if seen(w)]
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

    def search(self, query: str, k: int, allowed: frozenset[str] | set[str] | None = None,
               stems: list[str] | tuple[str, ...] = ()) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; `allowed` restricts to those chunk ids (a numpy
        mask over the score vector, no Python loop over the corpus); `stems` are added to the
        query's own tokens as they are."""
        tokens = tokenize(query) + list(stems)
        if not tokens or not self.ids or k <= 0:
            return []
        scores = self.scores(tokens)
        if allowed is not None:
            scores = np.where(self.mask(allowed), scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[i], float(scores[i])) for i in top if scores[i] > 0]
