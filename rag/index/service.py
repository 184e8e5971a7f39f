"""The index as one object: registry (committed truth), Chroma vectors, BM25, lookups.

Heavy parts (embedding model, Chroma client, BM25) are created on first use and reused;
lookups are refreshed whenever the registry's version changes (after an ingestion).
"""
from __future__ import annotations

import bisect
import contextlib
import fcntl
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..model import Chunk, DocumentMeta, ParsedDocument, Provision, content_hash
from ..settings import Settings
from .embedder import Embedder, VectorLRU
from .errors import IndexDamaged
from .ingest import Ingestor, IngestReport, ProgressFn, build_mismatch
from .lexical import LexicalIndex, LexicalPart, tokenize
from .registry import Registry
from .store import VectorStore

if TYPE_CHECKING:
    from .check import Problem, RepairReport


_DEFINITION = re.compile(
    r"(?:[\u201c\"]|``)\s*([^\u201d\"\n]{2,60}?)\s*[\u201d\"]\s*(?:\([^)]{0,40}\)\s*)?,?\s*"
    r"(?:which includes[^,]{0,40},\s*)?(?:shall mean|means|shall include|includes|refers to|shall refer to)"
    r"|^\(?[a-z]\)\s*([A-Z][a-z]+(?: [a-z]+){0,4}) means"
    # "For the purposes of the present Convention, a child means every human being ..."
    r"|\bpurposes of (?:the present|this) (?:Convention|Protocol|Covenant)s?,\s+(?:an?|the)\s+([a-z]+(?: [a-z]+){0,3})\s+means\b",
    re.M,
)


def defined_terms(chunks: list[Chunk]) -> dict[str, list[str]]:
    """Terms the texts define ("'child' shall mean ..."), for exact definition lookup."""
    out: dict[str, list[str]] = {}
    for c in chunks:
        for m in _DEFINITION.finditer(c.text):
            term = (m.group(1) or m.group(2) or m.group(3) or "").strip().lower()
            if term and c.id not in out.setdefault(term, []):
                out[term].append(c.id)
    return out


VERSION_TTL_S = 0.25  # the registry version is read at most this often (own writes: at once)
SENTENCE_MEMO_MB = 64.0


@dataclass
class _DocState:
    """Everything the reader snapshot derives from one document, kept between refreshes so an
    upload reloads and re-tokenises only the documents whose commit changed."""

    key: tuple  # (doc_hash, ingested_at, n_chunks): changes with every commit of the document
    meta: DocumentMeta
    chunks: list[Chunk]  # in text order
    starts: list[int]
    max_len: int
    parsed: ParsedDocument | None
    lexical: LexicalPart
    definitions: dict[str, list[str]]
    titles: list[tuple[tuple[str, ...], list[str]]]
    chunk_ids: frozenset[str] = field(default_factory=frozenset)
    articles: "_Articles | None" = None  # built on first use (it reads vectors from Chroma)


@dataclass
class _Articles:
    """One vector per article: the normalised mean of its chunks' vectors.

    Why: a lay question ("can the police make an internet provider tell them who owns an
    account?") often matches what an article is about as a whole better than any one of its
    paragraphs; the mean of the paragraphs is that "aboutness", and it costs no model time."""

    doc_ids: np.ndarray  # the document of each row
    chunk_ids: list[list[str]]  # each row's chunks, in text order
    vectors: np.ndarray  # rows x dim, float32, unit length


def _articles_of(st: _DocState, vectors: dict[str, tuple[str, list[float]]]) -> _Articles:
    groups: dict[str, list[str]] = {}
    for c in st.chunks:  # text order; chunks outside an article (preamble, commentary) group together
        if c.id in vectors:
            groups.setdefault(str(c.metadata.get("article") or ""), []).append(c.id)
    rows = [np.mean(np.asarray([vectors[i][1] for i in ids], dtype=np.float32), axis=0) for ids in groups.values()]
    if not rows:  # no vector survived (a damaged store): no article rows, and no dimension to guess
        return _Articles(doc_ids=np.zeros(0, dtype=object), chunk_ids=[], vectors=np.zeros((0, 0), np.float32))
    mat = np.asarray(rows, dtype=np.float32)
    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-9)
    return _Articles(doc_ids=np.asarray([st.meta.id] * len(rows), dtype=object), chunk_ids=list(groups.values()), vectors=mat)


def _doc_state(key: tuple, meta: DocumentMeta, chunks: list[Chunk], parsed: ParsedDocument | None) -> _DocState:
    ordered = sorted(chunks, key=lambda c: c.start)
    by_article: dict[str, list[str]] = {}
    for c in chunks:  # registry order, as before
        by_article.setdefault(str(c.metadata.get("article") or ""), []).append(c.id)
    titles: list[tuple[tuple[str, ...], list[str]]] = []
    for p in parsed.provisions if parsed else []:
        if p.kind == "article" and p.title:
            ids = by_article.get(p.number or "", [])
            terms = tuple(tokenize(p.title))
            if terms and ids:
                titles.append((terms, ids[:2]))
    return _DocState(key=key, meta=meta, chunks=ordered, starts=[c.start for c in ordered],
                     max_len=max((c.end - c.start for c in ordered), default=0), parsed=parsed,
                     lexical=LexicalPart.of(chunks), definitions=defined_terms(chunks), titles=titles,
                     chunk_ids=frozenset(c.id for c in chunks))


@dataclass
class _Snapshot:
    """One committed state of the index as readers see it. Swapped in whole (one assignment), so
    a reader on another thread never sees chunks of one commit beside the BM25 of another."""

    version: str | None = None
    docs: dict[str, _DocState] = field(default_factory=dict)
    chunks: dict[str, Chunk] = field(default_factory=dict)
    lexical: LexicalIndex | None = None
    parsed: dict[str, ParsedDocument] = field(default_factory=dict)
    provisions: dict[str, Provision] = field(default_factory=dict)
    metas: dict[str, DocumentMeta] = field(default_factory=dict)
    definitions: dict[str, list[str]] = field(default_factory=dict)
    titles: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    by_doc: dict[str, list[Chunk]] = field(default_factory=dict)  # chunks of each document, in text order
    where: OrderedDict[tuple, frozenset[str]] = field(default_factory=OrderedDict)  # filter -> chunk ids
    where_lock: threading.Lock = field(default_factory=threading.Lock)
    articles: _Articles | None = None  # all documents' article vectors, stacked on first use


class Index:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.registry = Registry(Path(settings.index_dir) / "registry.sqlite")
        self.embedder = Embedder(settings.embedding)
        self._store: VectorStore | None = None
        self._lock = threading.RLock()  # guards the reader snapshot (held only to swap it)
        self._write_lock = threading.RLock()  # one writer at a time; readers never wait for it
        self._process_locked = False  # this Index holds write.lock (only ever changed under _write_lock)
        self._snap = _Snapshot()
        self._checked = 0.0  # when the registry version was last read (monotonic)
        self._sentence_memo = VectorLRU(SENTENCE_MEMO_MB)
        self._english: frozenset[str] | None = None
        self.last_check: list["Problem"] = []  # problems found by the last check() (app banner)
        self.last_refresh: dict[str, float] = {}  # what the last refresh did (seconds, documents)

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            self._store = VectorStore(self.settings)
        return self._store

    # -- writing ---------------------------------------------------------------------
    def _writer(self) -> Ingestor:
        """An ingestor on its own registry connection: its open transaction is invisible to
        readers, who keep answering from the last committed state while it runs."""
        return Ingestor(self.settings, Registry(self.registry.path), self.store, self.embedder)

    def ingest(self, paths: list[Path], progress: bool | ProgressFn = True, prune: bool = True,
               owner: str = "") -> IngestReport:
        if self.registry.read_only:
            raise IndexDamaged(self.registry.path, "the index is read-only here",
                               "make the index directory writable, or ingest into another --index-dir")
        with self._write_lock, self._process_lock():
            writer = self._writer()
            try:
                return writer.run(paths, progress=progress, prune=prune, owner=owner)
            finally:
                writer.registry.close()
                self._checked = 0.0

    @contextlib.contextmanager
    def _process_lock(self, wait: bool = True):
        """One writer across processes (the app, `rag ingest`): an exclusive lock on a file beside
        the registry, released by the OS when its holder dies (kill -9 included). Yields whether
        it was taken (always True when waiting)."""
        if self._process_locked:  # already ours (rebuild -> ingest): flock would block on itself
            yield True
            return
        path = Path(self.settings.index_dir) / "write.lock"
        with open(path, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            self._process_locked = True
            try:
                yield True
            finally:
                self._process_locked = False
                fcntl.flock(fh, fcntl.LOCK_UN)

    def drop_orphans(self) -> int:
        """Vectors written by an ingestion that died before its registry commit (kill -9 between
        the two): dropped on open when no other process is writing, so a restart leaves the
        index consistent (registry = Chroma). Readers never saw them (only committed chunks are
        searched)."""
        if self.registry.read_only:
            return 0
        with self._write_lock, self._process_lock(wait=False) as mine:
            if not mine:
                return 0  # another process is ingesting: its vectors are not orphans yet
            known = {cid for cid, _, _ in self.registry.chunk_index()}
            orphans = sorted(set(self.store.all_ids()) - known)
            if orphans:
                self.store.delete(orphans)
            return len(orphans)

    def check(self) -> list["Problem"]:
        """Registry against Chroma and the build record; each problem names its fix."""
        from .check import check_index

        self.last_check = check_index(self)
        return self.last_check

    def repair(self) -> "RepairReport":
        """Re-embed missing or stale vectors from the registry, drop orphans (see check.py)."""
        from .check import repair_index

        return repair_index(self)

    def mismatch(self) -> str | None:
        """Why the stored index cannot serve these settings (another model or chunker), or None."""
        return build_mismatch(self.settings, self.registry)

    def rebuild(self, paths: list[Path], progress: bool | ProgressFn = True) -> IngestReport:
        """Drop everything and ingest again: the only safe answer to a model or chunker change."""
        with self._write_lock, self._process_lock():
            self.registry.clear()
            self._checked = 0.0
            self.store.clear()
            self._sentence_memo.clear()
            return self.ingest(paths, progress=progress)

    def ensure_built(self, progress: bool | ProgressFn = True) -> IngestReport | None:
        """Build the index from the corpus when it is empty, or rebuild it when it was built by
        another embedding model or chunker version; None when it was already usable."""
        corpus = Path(self.settings.corpus_dir)
        if self.mismatch():
            return self.rebuild([corpus], progress=progress)
        if self.is_empty() and corpus.is_dir():
            return self.ingest([corpus], progress=progress)
        return None

    def remove(self, doc_id: str) -> bool:
        with self._write_lock, self._process_lock():
            writer = self._writer()
            try:
                return writer.remove(doc_id)
            finally:
                writer.registry.close()
                self._checked = 0.0

    # -- reading ---------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        """Load the last committed state when it changed. The new snapshot is built aside and
        swapped in, so readers keep using the old one meanwhile and never see a mix.

        The registry version is read at most every VERSION_TTL_S (this object's own writes are
        seen at once; another process's within that time), so the many lookups of one question
        cost no SQLite query each. Only documents whose commit changed are reloaded."""
        now = time.monotonic()
        if not force and self._snap.version is not None and now - self._checked < VERSION_TTL_S:
            return
        version = self.registry.version()
        self._checked = now
        if version == self._snap.version:
            return
        with self._lock:
            if version == self._snap.version:
                return
            t0 = time.perf_counter()
            old = self._snap.docs
            docs: dict[str, _DocState] = {}
            with self.registry.snapshot():
                version = self.registry.version()
                rows = self.registry.documents()
                for d in rows:
                    key = (d["doc_hash"], d["ingested_at"], d["n_chunks"])
                    prev = old.get(d["doc_id"])
                    if prev is not None and prev.key == key:
                        prev.meta = d["meta"]
                        docs[d["doc_id"]] = prev
                    else:
                        docs[d["doc_id"]] = _doc_state(key, d["meta"], self.registry.chunks(d["doc_id"]),
                                                       self.registry.parsed(d["doc_id"]))
            reloaded = sum(1 for k, st in docs.items() if old.get(k) is not st)
            t1 = time.perf_counter()
            chunks: dict[str, Chunk] = {}
            provisions: dict[str, Provision] = {}
            definitions: dict[str, list[str]] = {}
            titles: dict[tuple[str, ...], list[str]] = {}
            for doc_id, st in docs.items():
                for c in st.chunks:
                    chunks[c.id] = c
                if st.parsed is not None:
                    for p in st.parsed.provisions:
                        provisions[p.id] = p
                for term, ids in st.definitions.items():
                    have = definitions.setdefault(term, [])
                    have += [i for i in ids if i not in have]
                for terms, ids in st.titles:
                    titles.setdefault(terms, []).extend(ids)
            lexical = LexicalIndex(parts=[st.lexical for st in docs.values()], previous=self._snap.lexical)
            self._snap = _Snapshot(
                version=version, docs=docs, chunks=chunks, lexical=lexical, definitions=definitions,
                titles=titles, parsed={d: st.parsed for d, st in docs.items() if st.parsed is not None},
                provisions=provisions, metas={d: st.meta for d, st in docs.items()},
                by_doc={d: st.chunks for d, st in docs.items()})
            self.last_refresh = {"load_s": t1 - t0, "build_s": time.perf_counter() - t1,
                                 "documents": len(docs), "reloaded": reloaded}

    def snapshot_version(self) -> str | None:
        """The version of the snapshot readers see now (after a refresh check)."""
        self.refresh()
        return self._snap.version

    def chunk_ids_where(self, doc_ids=(), doc_types=(), languages=()) -> frozenset[str]:
        """Ids of the chunks admitted by a filter (empty = no restriction on that field), from
        the documents' metadata: O(documents + admitted chunks) once per filter and snapshot,
        then a cached frozenset (usable as `LexicalIndex.search(..., allowed=)` mask key)."""
        self.refresh()
        snap = self._snap
        types = frozenset(getattr(t, "value", t) for t in doc_types or ())
        key = (snap.version, frozenset(doc_ids or ()), types, frozenset(languages or ()))
        with snap.where_lock:
            hit = snap.where.get(key)
            if hit is not None:
                snap.where.move_to_end(key)
                return hit
        ids, langs = key[1], key[3]
        parts = [st.chunk_ids for d, st in snap.docs.items()
                 if (not ids or d in ids) and (not types or st.meta.doc_type.value in types)
                 and (not langs or st.meta.language in langs)]
        out = parts[0] if len(parts) == 1 else frozenset().union(*parts)
        with snap.where_lock:
            snap.where[key] = out
            while len(snap.where) > 64:
                snap.where.popitem(last=False)
        return out

    @property
    def chunks(self) -> dict[str, Chunk]:
        self.refresh()
        return self._snap.chunks

    @property
    def lexical(self) -> LexicalIndex:
        self.refresh()
        lexical = self._snap.lexical
        assert lexical is not None
        return lexical

    @property
    def documents(self) -> dict[str, DocumentMeta]:
        self.refresh()
        return self._snap.metas

    @property
    def titles(self) -> dict[tuple[str, ...], list[str]]:
        """Article title (stemmed terms, in order) -> chunks of the articles with that title."""
        self.refresh()
        return self._snap.titles

    @property
    def definitions(self) -> dict[str, list[str]]:
        """Defined term (lower case) -> ids of the chunks that define it."""
        self.refresh()
        return self._snap.definitions

    @property
    def english_words(self) -> frozenset[str]:
        """Whole words of the embedding model's vocabulary: ordinary words, not typos."""
        if self._english is None:
            try:
                vocab = self.embedder.vocabulary()
                self._english = frozenset(w for w in vocab if w.isalpha())
            except Exception:  # noqa: BLE001 - a model without a word vocabulary
                self._english = frozenset()
        return self._english

    def parsed(self, doc_id: str) -> ParsedDocument | None:
        self.refresh()
        return self._snap.parsed.get(doc_id)

    def provision(self, provision_id: str) -> Provision | None:
        self.refresh()
        return self._snap.provisions.get(provision_id)

    def chunks_of_provision(self, provision_id: str) -> list[Chunk]:
        """Chunks whose span lies inside the provision (or that contain it), in text order:
        a binary search on the document's chunk starts, O(log n + chunks of the provision)."""
        prov = self.provision(provision_id)
        if prov is None:
            return []
        st = self._snap.docs.get(prov.doc_id)
        if st is None:
            return []
        starts, chunks = st.starts, st.chunks
        lo = bisect.bisect_left(starts, prov.start - st.max_len)  # a containing chunk starts here or later
        hi = bisect.bisect_right(starts, prov.end)
        return [c for c in chunks[lo:hi]
                if (prov.start <= c.start and c.end <= prov.end) or (c.start <= prov.start and prov.end <= c.end)]

    def sentence_vectors(self, texts: list[str]) -> "np.ndarray":
        """Embeddings of answer sentences: memory (an LRU bounded in MB), then the registry,
        then the model."""
        memo = self._sentence_memo
        found: dict[str, np.ndarray] = {}
        for t in dict.fromkeys(texts):
            v = memo.get(t)
            if v is not None:
                found[t] = v
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            hashes = {t: content_hash(t) for t in missing}
            stored = self.registry.vectors(list(hashes.values()))
            todo = [t for t in missing if hashes[t] not in stored]
            for t in missing:
                if hashes[t] in stored:
                    found[t] = np.frombuffer(stored[hashes[t]], dtype=np.float32)
                    memo.put(t, found[t])
            if todo:
                vecs = np.asarray(self.embedder.embed(todo), dtype=np.float32)
                for t, v in zip(todo, vecs):
                    found[t] = v
                    memo.put(t, v)
                self.registry.put_vectors([(hashes[t], found[t].tobytes()) for t in todo])
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    def is_empty(self) -> bool:
        return not self.documents

    def article_search(self, query: str, k: int, doc_ids: frozenset[str] | None = None) -> list[tuple[list[str], float]]:
        """Articles ranked by the cosine of the question to their mean chunk vector, as (chunk
        ids in text order, cosine). Built once per snapshot; a new document adds only its own rows."""
        snap = self._snap
        if not snap.docs:
            return []
        arts = snap.articles
        if arts is None:
            with snap.where_lock:
                arts = snap.articles
                if arts is None:
                    complete = True
                    parts: list[_Articles] = []
                    for st in snap.docs.values():
                        part = st.articles
                        if part is None:
                            vectors = self.store.embeddings(sorted(st.chunk_ids))
                            part = _articles_of(st, vectors)
                            if len(vectors) == len(st.chunk_ids):
                                st.articles = part
                            else:  # vectors lost: use what is there, and look again once repaired
                                complete = False
                        if part.vectors.shape[0]:
                            parts.append(part)
                    arts = _Articles(
                        doc_ids=np.concatenate([a.doc_ids for a in parts]) if parts else np.zeros(0, object),
                        chunk_ids=[ids for a in parts for ids in a.chunk_ids],
                        vectors=np.vstack([a.vectors for a in parts]) if parts else np.zeros((0, 0), np.float32))
                    if complete:
                        snap.articles = arts
        if not len(arts.doc_ids):
            return []
        sims = arts.vectors @ self.embedder.embed_array([query])[0]
        if doc_ids is not None:
            sims = np.where(np.isin(arts.doc_ids, list(doc_ids)), sims, -np.inf)
        top = np.argsort(-sims)[:k]
        return [(arts.chunk_ids[i], float(sims[i])) for i in top if np.isfinite(sims[i])]

    def dense_search(self, query: str, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        if not self.chunks:
            return []
        emb = self.embedder.embed_query(query)
        committed = self.chunks
        # Only committed chunks are visible (a crashed ingestion may have left extra vectors).
        return [(cid, s) for cid, s in self.store.query(emb, k, where) if cid in committed]
