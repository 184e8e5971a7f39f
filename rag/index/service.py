"""The index as one object: registry (committed truth), Chroma vectors, BM25, lookups.

Heavy parts (embedding model, Chroma client, BM25) are created on first use and reused;
lookups are refreshed whenever the registry's version changes (after an ingestion).
"""
from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

import numpy as np
from pathlib import Path

from ..model import Chunk, DocumentMeta, ParsedDocument, Provision, content_hash
from ..settings import Settings
from .embedder import Embedder
from .errors import IndexDamaged
from .ingest import Ingestor, IngestReport, ProgressFn, build_mismatch
from .lexical import LexicalIndex, tokenize
from .registry import Registry
from .store import VectorStore

if TYPE_CHECKING:
    from .check import Problem, RepairReport


_DEFINITION = re.compile(
    r"(?:[\u201c\"]|``)\s*([^\u201d\"\n]{2,60}?)\s*[\u201d\"]\s*(?:\([^)]{0,40}\)\s*)?,?\s*"
    r"(?:which includes[^,]{0,40},\s*)?(?:shall mean|means|shall include|includes|refers to|shall refer to)"
    r"|^\(?[a-z]\)\s*([A-Z][a-z]+(?: [a-z]+){0,4}) means",
    re.M,
)


def defined_terms(chunks: list[Chunk]) -> dict[str, list[str]]:
    """Terms the texts define ("'child' shall mean ..."), for exact definition lookup."""
    out: dict[str, list[str]] = {}
    for c in chunks:
        for m in _DEFINITION.finditer(c.text):
            term = (m.group(1) or m.group(2) or "").strip().lower()
            if term and c.id not in out.setdefault(term, []):
                out[term].append(c.id)
    return out


class Index:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.registry = Registry(Path(settings.index_dir) / "registry.sqlite")
        self.embedder = Embedder(settings.embedding)
        self._store: VectorStore | None = None
        self._lock = threading.RLock()  # guards the reader snapshot (held only to swap it)
        self._write_lock = threading.RLock()  # one writer at a time; readers never wait for it
        self._version: str | None = None
        self._chunks: dict[str, Chunk] = {}
        self._lexical: LexicalIndex | None = None
        self._parsed: dict[str, ParsedDocument] = {}
        self._provisions: dict[str, Provision] = {}
        self._metas: dict[str, DocumentMeta] = {}
        self._definitions: dict[str, list[str]] = {}
        self._titles: dict[tuple[str, ...], list[str]] = {}
        self._by_doc: dict[str, list[Chunk]] = {}  # chunks of each document, in text order
        self._sentence_memo: dict[str, np.ndarray] = {}
        self._english: frozenset[str] | None = None
        self.last_check: list["Problem"] = []  # problems found by the last check() (app banner)

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
        with self._write_lock:
            writer = self._writer()
            try:
                return writer.run(paths, progress=progress, prune=prune, owner=owner)
            finally:
                writer.registry.close()

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
        with self._write_lock:
            self.registry.clear()
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
        with self._write_lock:
            writer = self._writer()
            try:
                return writer.remove(doc_id)
            finally:
                writer.registry.close()

    # -- reading ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Load the last committed state when it changed. The new snapshot is built aside and
        swapped in, so readers keep using the old one meanwhile and never see a mix."""
        version = self.registry.version()
        if version == self._version:
            return
        with self._lock:
            if version == self._version:
                return
            with self.registry.snapshot():
                version = self.registry.version()
                chunks = self.registry.chunks()
                metas = {d["doc_id"]: d["meta"] for d in self.registry.documents()}
                parsed_docs = {d: p for d in metas if (p := self.registry.parsed(d)) is not None}
            by_article: dict[tuple[str, str], list[str]] = {}
            by_doc: dict[str, list[Chunk]] = {}
            for c in chunks:
                by_doc.setdefault(c.doc_id, []).append(c)
                by_article.setdefault((c.doc_id, str(c.metadata.get("article") or "")), []).append(c.id)
            provisions: dict[str, Provision] = {}
            titles: dict[tuple[str, ...], list[str]] = {}
            for doc_id, parsed in parsed_docs.items():
                for p in parsed.provisions:
                    provisions[p.id] = p
                    if p.kind == "article" and p.title:
                        ids = by_article.get((doc_id, p.number or ""), [])
                        terms = tuple(tokenize(p.title))
                        if terms and ids:
                            titles.setdefault(terms, []).extend(ids[:2])
            self._chunks = {c.id: c for c in chunks}
            self._lexical = LexicalIndex(chunks)
            self._definitions = defined_terms(chunks)
            self._titles = titles
            self._parsed = parsed_docs
            self._provisions = provisions
            self._metas = metas
            self._by_doc = {d: sorted(cs, key=lambda c: c.start) for d, cs in by_doc.items()}
            self._version = version

    @property
    def chunks(self) -> dict[str, Chunk]:
        self.refresh()
        return self._chunks

    @property
    def lexical(self) -> LexicalIndex:
        self.refresh()
        assert self._lexical is not None
        return self._lexical

    @property
    def documents(self) -> dict[str, DocumentMeta]:
        self.refresh()
        return self._metas

    @property
    def titles(self) -> dict[tuple[str, ...], list[str]]:
        """Article title (stemmed terms, in order) -> chunks of the articles with that title."""
        self.refresh()
        return self._titles

    @property
    def definitions(self) -> dict[str, list[str]]:
        """Defined term (lower case) -> ids of the chunks that define it."""
        self.refresh()
        return self._definitions

    @property
    def english_words(self) -> frozenset[str]:
        """Whole words of the embedding model's vocabulary: ordinary words, not typos."""
        if self._english is None:
            try:
                vocab = self.embedder.model.tokenizer.get_vocab()
                self._english = frozenset(w for w in vocab if w.isalpha())
            except Exception:  # noqa: BLE001 - a model without a word vocabulary
                self._english = frozenset()
        return self._english

    def parsed(self, doc_id: str) -> ParsedDocument | None:
        self.refresh()
        return self._parsed.get(doc_id)

    def provision(self, provision_id: str) -> Provision | None:
        self.refresh()
        return self._provisions.get(provision_id)

    def chunks_of_provision(self, provision_id: str) -> list[Chunk]:
        """Chunks whose span lies inside the provision (or that contain it)."""
        prov = self.provision(provision_id)
        if prov is None:
            return []
        self.refresh()
        out = [c for c in self._by_doc.get(prov.doc_id, [])
               if ((prov.start <= c.start and c.end <= prov.end) or (c.start <= prov.start and prov.end <= c.end))]
        return sorted(out, key=lambda c: c.start)

    def sentence_vectors(self, texts: list[str]) -> "np.ndarray":
        """Embeddings of answer sentences: memory, then the registry, then the model."""
        memo = self._sentence_memo
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        if missing:
            hashes = {t: content_hash(t) for t in missing}
            stored = self.registry.vectors(list(hashes.values()))
            todo = [t for t in missing if hashes[t] not in stored]
            for t in missing:
                if hashes[t] in stored:
                    memo[t] = np.frombuffer(stored[hashes[t]], dtype=np.float32)
            if todo:
                vecs = np.asarray(self.embedder.embed(todo), dtype=np.float32)
                for t, v in zip(todo, vecs):
                    memo[t] = v
                self.registry.put_vectors([(hashes[t], memo[t].tobytes()) for t in todo])
        return np.stack([memo[t] for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    def is_empty(self) -> bool:
        return not self.documents

    def dense_search(self, query: str, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        if not self.chunks:
            return []
        emb = self.embedder.embed_query(query)
        committed = self.chunks
        # Only committed chunks are visible (a crashed ingestion may have left extra vectors).
        return [(cid, s) for cid, s in self.store.query(emb, k, where) if cid in committed]
