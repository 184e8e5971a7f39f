"""The index as one object: registry (committed truth), Chroma vectors, BM25, lookups.

Heavy parts (embedding model, Chroma client, BM25) are created on first use and reused;
lookups are refreshed whenever the registry's version changes (after an ingestion).
"""
from __future__ import annotations

import re
import threading

import numpy as np
from pathlib import Path

from ..model import Chunk, DocumentMeta, ParsedDocument, Provision, content_hash
from ..settings import Settings
from .embedder import Embedder
from .ingest import Ingestor, IngestReport, ProgressFn
from .lexical import LexicalIndex, tokenize
from .registry import Registry
from .store import VectorStore


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
        self._lock = threading.RLock()
        self._version: str | None = None
        self._chunks: dict[str, Chunk] = {}
        self._lexical: LexicalIndex | None = None
        self._parsed: dict[str, ParsedDocument] = {}
        self._provisions: dict[str, Provision] = {}
        self._metas: dict[str, DocumentMeta] = {}
        self._definitions: dict[str, list[str]] = {}
        self._titles: dict[tuple[str, ...], list[str]] = {}
        self._sentence_memo: dict[str, np.ndarray] = {}
        self._english: frozenset[str] | None = None

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            self._store = VectorStore(self.settings)
        return self._store

    # -- writing ---------------------------------------------------------------------
    def ingest(self, paths: list[Path], progress: bool | ProgressFn = True, prune: bool = True) -> IngestReport:
        with self._lock:
            report = Ingestor(self.settings, self.registry, self.store, self.embedder).run(
                paths, progress=progress, prune=prune)
            self._version = None
            return report

    def remove(self, doc_id: str) -> bool:
        with self._lock:
            done = Ingestor(self.settings, self.registry, self.store, self.embedder).remove(doc_id)
            self._version = None
            return done

    # -- reading ---------------------------------------------------------------------
    def refresh(self) -> None:
        with self._lock:
            version = self.registry.version()
            if version == self._version:
                return
            chunks = self.registry.chunks()
            self._chunks = {c.id: c for c in chunks}
            self._lexical = LexicalIndex(chunks)
            self._definitions = defined_terms(chunks)
            self._titles = {}
            self._parsed = {}
            self._provisions = {}
            self._metas = {d["doc_id"]: d["meta"] for d in self.registry.documents()}
            first_chunk: dict[str, str] = {}
            for c in chunks:
                first_chunk.setdefault(c.provision_id, c.id)
            for doc_id in self._metas:
                parsed = self.registry.parsed(doc_id)
                if parsed:
                    self._parsed[doc_id] = parsed
                    for p in parsed.provisions:
                        self._provisions[p.id] = p
                        if p.kind == "article" and p.title:
                            ids = [cid for cid, ch in self._chunks.items()
                                   if ch.doc_id == doc_id and ch.metadata.get("article") == p.number]
                            terms = tuple(tokenize(p.title))
                            if terms and ids:
                                self._titles.setdefault(terms, []).extend(ids[:2])
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
        out = [c for c in self.chunks.values() if c.doc_id == prov.doc_id
               and ((prov.start <= c.start and c.end <= prov.end) or (c.start <= prov.start and prov.end <= c.end))]
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
