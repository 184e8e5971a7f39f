"""Files -> provisions -> chunks -> Chroma, incrementally and idempotently.

Per document: unchanged (same content hash) is skipped; a changed one re-embeds only the
chunks whose text changed (embeddings are reused by chunk hash), writes them, drops its
stale chunks, then commits in the registry. One bad file never stops the others.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..corpus.budget import BudgetExceeded, check_time, time_budget
from ..corpus.errors import LoadError
from ..corpus.loaders import discover_all, load_document, path_text
from ..model import UPLOAD_PREFIX, DocType, Document, content_hash
from ..settings import Settings
from ..structure import parse_document
from .chunker import CHUNKER_VERSION, Chunker, sentence_spans
from .embedder import Embedder
from .registry import Registry
from .store import VectorStore

log = logging.getLogger("rag.ingest")


@dataclass
class FileResult:
    path: str
    doc_id: str | None = None
    status: str = "pending"  # ingested | updated | unchanged | repaired | failed | removed | skipped
    provisions: int = 0
    chunks: int = 0
    embedded: int = 0  # chunks actually sent through the model
    error: str | None = None  # for any user: never a server path or exception text
    detail: str | None = None  # for the operator (CLI, server log): paths, exception text


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def embedded(self) -> int:
        return sum(r.embedded for r in self.results)

    def summary(self) -> str:
        docs = [r for r in self.results if r.status in ("ingested", "updated", "unchanged", "repaired")]
        lines = [
            f"{len(docs)} documents indexed ({self.count('ingested')} new, {self.count('updated')} updated, "
            f"{self.count('unchanged')} unchanged, {self.count('repaired')} repaired), "
            f"{self.count('removed')} removed, {len(self.failed)} failed, {self.count('skipped')} files skipped",
            f"{sum(r.provisions for r in docs)} provisions, {sum(r.chunks for r in docs)} chunks, "
            f"{self.embedded} embedded, in {self.seconds:.1f} s",
        ]
        for r in self.results:
            if r.status == "skipped":
                lines.append(f"SKIPPED {r.path}: {r.error}")
        for r in self.failed:
            lines.append(f"FAILED {r.path}: {r.error}" + (f" ({r.detail})" if r.detail else ""))
        return "\n".join(lines)


ProgressFn = Callable[[str, int, int], None]  # (message, done, total)


class IndexMismatch(RuntimeError):
    """The index was built with another embedding model or chunker: mixing would corrupt it."""


def build_info(settings: Settings) -> dict[str, str]:
    """What an index's vectors and chunk ids depend on; recorded in the registry at build time."""
    return {
        "embedding_model": settings.embedding.model,
        "chunker": CHUNKER_VERSION,
        "chunk_max_tokens": str(settings.chunking.max_tokens),
        "short_article_tokens": str(settings.chunking.short_article_tokens),
    }


def build_mismatch(settings: Settings, registry: Registry) -> str | None:
    """Why this index cannot be used with these settings (None when it can, or when it is empty)."""
    if not registry.documents():
        return None
    stored = registry.build_info()
    if not stored:
        return "the index was built by an older version of the product (no build record)"
    want = build_info(settings)
    diffs = [f"{k} is {stored.get(k)!r} in the index but {v!r} in the settings"
             for k, v in want.items() if stored.get(k) != v]
    return "; ".join(diffs) or None


class Ingestor:
    def __init__(self, settings: Settings, registry: Registry, store: VectorStore, embedder: Embedder):
        self.settings = settings
        self.registry = registry
        self.store = store
        self.embedder = embedder
        self.chunker = Chunker(settings.chunking, embedder.count_tokens, settings.embedding.max_seq_tokens)

    def run(self, paths: list[Path], progress: bool | ProgressFn = True, prune: bool = True,
            owner: str = "") -> IngestReport:
        """Ingest files and folders. With prune, documents that came from a given folder
        and whose file is gone are removed from the index. With an owner, the files are
        uploads: see as_upload."""
        t0 = time.perf_counter()
        mismatch = build_mismatch(self.settings, self.registry)
        if mismatch:
            raise IndexMismatch(f"{mismatch}. Rebuild it: rag index rebuild")
        if not self.registry.build_info():
            self.registry.set_build_info(build_info(self.settings))
        report = IngestReport()
        paths = [Path(p) for p in paths]
        files: list[Path] = []
        existing = []
        for p in paths:
            if not p.exists() and not p.is_symlink():
                report.results.append(FileResult(path_text(p), status="failed", error="path not found"))
            else:
                existing.append(p)
        found = discover_all(existing)  # never leaves the folders given; says what it passed over
        files = found.files
        report.results += [FileResult(path_text(p), status="skipped", error=why) for p, why in found.skipped]
        bar = _progress(progress, len(files))
        seen_ids: dict[str, str] = {}
        for i, f in enumerate(files):
            bar(f"{f.name}", i, len(files))
            res = self._one(f, seen_ids, owner)
            report.results.append(res)
        bar("done", len(files), len(files))
        if prune:
            report.results += self._prune([p for p in paths if p.is_dir()], {path_text(f) for f in files})
        report.seconds = time.perf_counter() - t0
        return report

    def _one(self, path: Path, seen_ids: dict[str, str], owner: str = "") -> FileResult:
        with time_budget(path, self.settings.limits.max_ingest_seconds):
            return self._one_within_budget(path, seen_ids, owner)

    def _one_within_budget(self, path: Path, seen_ids: dict[str, str], owner: str) -> FileResult:
        res = FileResult(path_text(path))
        try:
            doc = load_document(path, self.settings)
        except LoadError as exc:
            res.status, res.error, res.detail = "failed", exc.message, exc.detail
            return res
        except Exception as exc:  # noqa: BLE001 - never let one file abort the batch
            log.exception("loading %s failed", path)
            res.status, res.error = "failed", "unexpected error while loading the file"
            res.detail = f"{type(exc).__name__}: {exc}"
            return res
        if owner:
            doc = as_upload(doc, owner)
        res.doc_id = doc.id
        if doc.id in seen_ids:
            res.status = "failed"
            res.error = f"document id {doc.id!r} is already used by {Path(seen_ids[doc.id]).name} in this run"
            res.detail = f"also in {seen_ids[doc.id]}"
            return res
        seen_ids[doc.id] = path_text(path)
        other = self.registry.doc_path(doc.id)
        if other and not owner and Path(other).resolve() != path.resolve() and Path(other).exists():
            res.status = "failed"
            res.error = f"document id {doc.id!r} is already used by another indexed document; give this file another id"
            res.detail = f"indexed from {other}"
            return res
        previous = self.registry.doc_hash(doc.id)
        if previous == doc.hash and set(self.store.ids_for(doc.id)) != set(self.registry.chunk_hashes(doc.id)):
            # Unchanged text, but Chroma lost (or gained) vectors of it: index it again, which
            # reuses every vector still there and embeds only the missing ones.
            if self._index_into(res, doc, path, "repairing its vectors failed (see the server log)"):
                res.status = "repaired"
            return res
        if previous == doc.hash:
            parsed = self.registry.parsed(doc.id)
            res.status, res.provisions = "unchanged", len(parsed.provisions) if parsed else 0
            res.chunks = len(self.registry.chunk_hashes(doc.id))
            if other != path_text(path):  # moved or renamed: remember where it lives now
                self.registry.set_path(doc.id, path_text(path))
            return res
        if not self._index_into(res, doc, path, "indexing failed (an internal error; see the server log)"):
            return res
        # The same file indexed earlier under another id (its front matter changed): drop that.
        for d in self.registry.documents():
            if d["doc_id"] != doc.id and d["path"] and Path(d["path"]).resolve() == path.resolve():
                self.remove(d["doc_id"])
        res.status = "updated" if previous else "ingested"
        return res

    def _index_into(self, res: FileResult, doc: Document, path: Path, internal: str) -> bool:
        """index_document, its counts or its failure recorded on `res`; False when it failed.
        A LoadError (a limit, the time budget) is the user's message; anything else is logged
        and shown as `internal`."""
        try:
            res.provisions, res.chunks, res.embedded = self.index_document(doc)
            return True
        except LoadError as exc:
            res.status, res.error, res.detail = "failed", exc.message, exc.detail
        except Exception as exc:  # noqa: BLE001 - never let one file abort the batch
            log.exception("indexing %s failed", path)
            res.status, res.error = "failed", internal
            res.detail = f"{type(exc).__name__}: {exc}"
        return False

    def index_document(self, doc: Document) -> tuple[int, int, int]:
        limits = self.settings.limits
        parsed = parse_document(doc)
        if len(parsed.provisions) > limits.max_provisions:
            raise LoadError(doc.meta.path or doc.id, f"the document has {len(parsed.provisions):,} provisions, "
                                                     f"over the limit of {limits.max_provisions:,}")
        chunks = self.chunker.run(parsed)
        if not chunks:
            raise LoadError(doc.meta.path or doc.id, "no indexable text found")
        if len(chunks) > limits.max_chunks:  # checked before anything is embedded or written
            raise LoadError(doc.meta.path or doc.id, f"the document makes {len(chunks):,} chunks, "
                                                     f"over the limit of {limits.max_chunks:,}")
        existing_ids = self.store.ids_for(doc.id)
        have = self.store.embeddings(existing_ids) if existing_ids else {}
        by_hash = {h: e for h, e in have.values() if h}
        todo = [c for c in chunks if c.hash not in by_hash]
        new_vecs = dict(zip((c.hash for c in todo), self._embed([c.embed_text for c in todo])))
        vectors = [by_hash.get(c.hash) or new_vecs[c.hash] for c in chunks]
        changed = [(c, v) for c, v in zip(chunks, vectors) if have.get(c.id, ("", None))[0] != c.hash]
        if changed:
            self.store.upsert([c for c, _ in changed], [v for _, v in changed])
        keep = {c.id for c in chunks}
        stale = [i for i in existing_ids if i not in keep]
        try:
            self.registry.commit_document(parsed, chunks)  # the commit point
        except Exception:
            # Vectors written for a commit that never happened would be orphans: drop the new ones.
            added = [c.id for c, _ in changed if c.id not in set(existing_ids)]
            if added:
                self.store.delete(added)
            raise
        if stale:
            self.store.delete(stale)
        self._embed_sentences(doc, chunks)
        return len(parsed.provisions), len(chunks), len(todo)

    def _embed_sentences(self, doc: Document, chunks) -> None:
        """Pre-embed the sentences answers quote, so answering never waits for the model. Runs
        after the commit point: running out of time here costs speed, not the document."""
        import numpy as np

        texts = list(dict.fromkeys(s for c in chunks for _, _, s in sentence_spans(doc.text, c.start, c.end)))
        hashes = [content_hash(t) for t in texts]
        have = self.registry.vectors(hashes)
        todo = [(h, t) for h, t in zip(hashes, texts) if h not in have]
        try:
            for i in range(0, len(todo), 256):  # committed slice by slice: a cache, not the index
                part = todo[i:i + 256]
                vecs = np.asarray(self._embed([t for _, t in part]), dtype=np.float32)
                self.registry.put_vectors([(h, v.tobytes()) for (h, _), v in zip(part, vecs)])
        except BudgetExceeded:
            # The document is committed and searchable; the sentences left are embedded when an
            # answer first quotes them.
            log.warning("%s: time budget spent while pre-embedding sentences; the rest are embedded on demand",
                        doc.id)

    def _embed(self, texts: list[str], batch: int = 64) -> list:
        """Embed in slices (the model's own batches are 32), so that a document over its time
        budget stops within a few seconds of it."""
        out: list = []
        for i in range(0, len(texts), batch):
            check_time()
            out += list(self.embedder.embed(texts[i:i + batch], bulk=True))
        check_time()
        return out

    def remove(self, doc_id: str) -> bool:
        if self.registry.doc_hash(doc_id) is None and not self.store.ids_for(doc_id):
            return False
        self.registry.remove_document(doc_id)
        self.store.delete(self.store.ids_for(doc_id))
        return True

    def _prune(self, folders: list[Path], present: set[str]) -> list[FileResult]:
        out = []
        roots = [f.resolve() for f in folders]
        for d in self.registry.documents():
            p = Path(d["path"] or "")
            if not d["path"] or str(p) in present:
                continue
            if any(_under(p.resolve(), r) for r in roots) and not p.exists():
                self.remove(d["doc_id"])
                out.append(FileResult(str(p), d["doc_id"], status="removed"))
        return out


def upload_id(owner: str, text: str) -> str:
    """The id of an uploaded document: the owner's namespace plus a hash of its text, so the
    same content uploaded twice is one document and no upload can take another's id."""
    return f"{UPLOAD_PREFIX}{owner}-{content_hash(text)[:12]}"


def as_upload(doc: Document, owner: str) -> Document:
    """An upload never chooses its id (front matter `id:` would replace a treaty for everyone)
    and never claims to be a treaty (the treaty badge means an official text): it is a
    submission if it says so, else a commentary."""
    doc_type = DocType.submission if doc.meta.doc_type == DocType.submission else DocType.commentary
    meta = doc.meta.model_copy(update={"id": upload_id(owner, doc.text), "owner": owner, "doc_type": doc_type})
    return Document(meta=meta, text=doc.text)


def _under(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def _progress(progress: bool | ProgressFn, total: int) -> ProgressFn:
    if callable(progress):
        return progress
    if not progress:
        return lambda *_: None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="doc", desc="Ingesting")

    def update(msg: str, done: int, _total: int) -> None:
        bar.set_postfix_str(msg[:40])
        bar.n = done
        bar.refresh()
        if done >= _total:
            bar.close()

    return update


