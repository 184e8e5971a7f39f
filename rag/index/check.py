"""The index checks itself: registry (the committed truth) against Chroma, and the build record.

Why: Chroma's file can be lost or truncated under a running deployment; answers then silently
degrade to keyword search. Every problem is reported as one line with the command that fixes
it, and `repair` restores the vectors from what the registry holds (the chunk text is there),
so a repaired index answers exactly as before the damage.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import Settings
from .errors import REPAIR, IndexDamaged

if TYPE_CHECKING:
    from .ingest import IngestReport
    from .service import Index

REBUILD = "rag index rebuild"
HASH_SAMPLE = 200  # vectors whose stored chunk hash is compared with the registry on every check


@dataclass
class Problem:
    what: str
    fix: str = REPAIR
    vectors: bool = True  # dense search is affected (answers fall back to keyword search)

    def line(self) -> str:
        return f"{self.what}. Fix: {self.fix}"


def check_index(index: "Index", sample: int = HASH_SAMPLE) -> list[Problem]:
    """What is wrong with this index (empty list: nothing). Reads ids only, plus the stored
    hash of a random sample of vectors; cheap enough to run on every open."""
    problems: list[Problem] = []
    mismatch = index.mismatch()
    if mismatch:
        problems.append(Problem(f"the index does not match the settings: {mismatch}", REBUILD))
    committed = index.registry.chunk_index()
    stored = set(index.store.all_ids())
    if not committed:
        if stored:
            problems.append(Problem(f"the registry holds no documents but Chroma holds {len(stored)} vectors "
                                    "(the registry was lost or emptied)"))
        return problems
    per_doc: dict[str, list[int]] = {}
    for cid, doc_id, _ in committed:
        counts = per_doc.setdefault(doc_id, [0, 0])
        counts[0] += 1
        counts[1] += cid in stored
    missing = sum(n - have for n, have in per_doc.values())
    if missing:
        docs = [f"{d} {have}/{n}" for d, (n, have) in sorted(per_doc.items()) if have < n]
        shown = ", ".join(docs[:5]) + (f" and {len(docs) - 5} more" if len(docs) > 5 else "")
        problems.append(Problem(f"{missing} of {len(committed)} committed chunks have no vector in Chroma "
                                f"(vectors present per document: {shown})"))
    orphans = len(stored - {cid for cid, _, _ in committed})
    if orphans:
        # Never searched (dense search keeps committed chunks only): answers are not degraded.
        problems.append(Problem(f"Chroma holds {orphans} vectors that are not in the registry (orphans)",
                                vectors=False))
    present = [(cid, h) for cid, _, h in committed if cid in stored]
    picked = random.sample(present, min(sample, len(present)))
    have = index.store.hashes([cid for cid, _ in picked])
    stale = sum(1 for cid, h in picked if have.get(cid) != h)
    if stale:
        problems.append(Problem(f"{stale} of {len(picked)} sampled vectors were computed from other text "
                                "than the registry holds (stale)"))
    return problems


@dataclass
class RepairReport:
    reembedded: int = 0
    dropped: int = 0
    moved_aside: list[str] = field(default_factory=list)
    rebuilt: "IngestReport | None" = None

    def summary(self) -> str:
        lines = [f"{self.reembedded} vectors re-embedded, {self.dropped} orphan vectors dropped"]
        lines += [f"moved the unreadable {p} aside" for p in self.moved_aside]
        if self.rebuilt is not None:
            lines.append("documents indexed again from the corpus: " + self.rebuilt.summary().splitlines()[0])
        return "\n".join(lines)


def _move_aside(path: Path) -> str:
    """Keep a damaged file for inspection; the next open starts from a fresh one."""
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(target)
    return str(path)


def open_for_repair(settings: Settings) -> tuple["Index", list[str]]:
    """An Index even when its registry or Chroma file is unreadable: such a file is moved aside
    (a fresh one is created in its place) and named in the returned list."""
    from .service import Index

    moved: list[str] = []
    try:
        index = Index(settings)
    except IndexDamaged as exc:
        moved.append(_move_aside(exc.path))
        for suffix in ("-wal", "-shm"):  # they belong to the damaged file
            exc.path.with_name(exc.path.name + suffix).unlink(missing_ok=True)
        index = Index(settings)
    try:
        index.store
    except IndexDamaged as exc:
        from chromadb.api.client import SharedSystemClient

        moved.append(_move_aside(exc.path.parent))
        SharedSystemClient.clear_system_cache()
        index._store = None
        index.store
    return index, moved


def repair_index(index: "Index") -> RepairReport:
    """Make Chroma hold exactly the registry's chunks: re-embed the missing and stale ones from
    the chunk text in the registry, drop vectors the registry does not know. Without a usable
    registry (lost, or built by another model) the corpus is indexed again instead, reusing
    every vector whose text is unchanged."""
    report = RepairReport()
    corpus = Path(index.settings.corpus_dir)
    with index._write_lock:
        if index.mismatch():
            report.rebuilt = index.rebuild([corpus], progress=False)
            return report
        committed = index.registry.chunk_index()
        if not committed:
            if corpus.is_dir():
                report.rebuilt = index.ingest([corpus], progress=False)
            committed = index.registry.chunk_index()
        stored = set(index.store.all_ids())
        known = {cid: h for cid, _, h in committed}
        have = index.store.hashes([cid for cid in known if cid in stored])
        todo = {cid for cid, h in known.items() if have.get(cid) != h}
        if todo:
            chunks = [c for c in index.registry.chunks() if c.id in todo]
            vectors = index.embedder.embed([c.embed_text for c in chunks], bulk=True)
            index.store.upsert(chunks, vectors)
            report.reembedded = len(chunks)
        orphans = sorted(stored - set(known))
        if orphans:
            index.store.delete(orphans)
            report.dropped = len(orphans)
    return report
