"""The committed state of the index: which documents, which chunks, their hashes and text.

Chroma holds vectors; this SQLite file is the commit point. A document's new chunks are
written to Chroma first and become visible only when its registry transaction commits,
so a killed ingestion never exposes a half-written document, and the next run finishes
the job (deterministic chunk ids make the Chroma writes idempotent).
"""
from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path
from urllib.parse import quote

from ..model import Chunk, DocumentMeta, ParsedDocument
from .errors import IndexDamaged

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  doc_id TEXT PRIMARY KEY, doc_hash TEXT NOT NULL, path TEXT, meta TEXT NOT NULL,
  parsed TEXT NOT NULL, n_provisions INTEGER, n_chunks INTEGER, ingested_at REAL
);
CREATE TABLE IF NOT EXISTS chunks (
  chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, hash TEXT NOT NULL, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sentence_vectors (hash TEXT PRIMARY KEY, vec BLOB NOT NULL);
"""


def writable(path: Path) -> bool:
    """Whether we may write here: the OS allows it and the mode bits do (root ignores the
    bits, but an index an administrator made read-only must still be opened read-only)."""
    try:
        return os.access(path, os.W_OK) and bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    except OSError:
        return False


class Registry:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        self.read_only = path.exists() and not (writable(path) and writable(path.parent))
        try:
            if self.read_only:
                self.db = self._open_read_only(path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.executescript(SCHEMA)
            self.db.execute("SELECT count(*) FROM documents").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexDamaged(path, f"the index registry cannot be read ({exc})") from None

    @staticmethod
    def _open_read_only(path: Path) -> sqlite3.Connection:
        """A read-only index (read-only directory or files) is opened read-only: no WAL switch,
        no schema writes. A WAL database whose -shm file cannot be created is read as immutable."""
        uri = f"file:{quote(str(path.resolve()))}"
        db = sqlite3.connect(f"{uri}?mode=ro", uri=True, check_same_thread=False, timeout=30)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return db
        except sqlite3.OperationalError:
            db.close()
            return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, check_same_thread=False)

    # -- reads -----------------------------------------------------------------------
    @contextlib.contextmanager
    def snapshot(self):
        """Reads inside see one committed state (WAL snapshot), even while a writer commits."""
        with self._lock:
            self.db.execute("BEGIN")
            try:
                yield
            finally:
                self.db.execute("ROLLBACK")

    def documents(self) -> list[dict]:
        rows = self.db.execute(
            "SELECT doc_id, doc_hash, path, meta, n_provisions, n_chunks, ingested_at FROM documents ORDER BY doc_id"
        ).fetchall()
        return [
            {"doc_id": r[0], "doc_hash": r[1], "path": r[2], "meta": DocumentMeta.model_validate_json(r[3]),
             "n_provisions": r[4], "n_chunks": r[5], "ingested_at": r[6]}
            for r in rows
        ]

    def doc_hash(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT doc_hash FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def doc_path(self, doc_id: str) -> str | None:
        row = self.db.execute("SELECT path FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return row[0] if row else None

    def parsed(self, doc_id: str) -> ParsedDocument | None:
        row = self.db.execute("SELECT parsed FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
        return ParsedDocument.model_validate_json(row[0]) if row else None

    def chunks(self, doc_id: str | None = None) -> list[Chunk]:
        q = "SELECT data FROM chunks" + (" WHERE doc_id=?" if doc_id else "") + " ORDER BY rowid"
        rows = self.db.execute(q, (doc_id,) if doc_id else ()).fetchall()
        return [Chunk.model_validate_json(r[0]) for r in rows]

    def chunk_index(self) -> list[tuple[str, str, str]]:
        """(chunk id, document id, chunk hash) of every committed chunk: what Chroma must hold."""
        return self.db.execute("SELECT chunk_id, doc_id, hash FROM chunks ORDER BY rowid").fetchall()

    def chunk_hashes(self, doc_id: str) -> dict[str, str]:
        return dict(self.db.execute("SELECT chunk_id, hash FROM chunks WHERE doc_id=?", (doc_id,)).fetchall())

    def build_info(self) -> dict[str, str]:
        """What built this index (embedding model, chunker version): recorded before the first write."""
        row = self.db.execute("SELECT value FROM state WHERE key='build'").fetchone()
        return json.loads(row[0]) if row else {}

    def set_build_info(self, info: dict[str, str]) -> None:
        with self._lock, self.db:
            self.db.execute("INSERT OR REPLACE INTO state(key, value) VALUES ('build', ?)",
                            (json.dumps(info, sort_keys=True),))

    def clear(self) -> None:
        """Forget every document, chunk and sentence vector (a rebuild with another model)."""
        with self._lock, self.db:
            self.db.execute("DELETE FROM chunks")
            self.db.execute("DELETE FROM documents")
            self.db.execute("DELETE FROM sentence_vectors")
            self.db.execute("DELETE FROM state WHERE key='build'")
            self._bump()

    def version(self) -> str:
        row = self.db.execute("SELECT value FROM state WHERE key='version'").fetchone()
        return row[0] if row else "0"

    # -- writes (each one transaction) -----------------------------------------------
    def commit_document(self, parsed: ParsedDocument, chunks: list[Chunk]) -> None:
        doc = parsed.document
        with self._lock, self.db:
            self.db.execute("DELETE FROM chunks WHERE doc_id=?", (doc.id,))
            self.db.executemany(
                "INSERT INTO chunks(chunk_id, doc_id, hash, data) VALUES (?,?,?,?)",
                [(c.id, doc.id, c.hash, c.model_dump_json()) for c in chunks],
            )
            self.db.execute(
                "INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?)",
                (doc.id, doc.hash, doc.meta.path, doc.meta.model_dump_json(), parsed.model_dump_json(),
                 len(parsed.provisions), len(chunks), time.time()),
            )
            self._bump()

    def set_path(self, doc_id: str, path: str) -> None:
        with self._lock, self.db:
            self.db.execute("UPDATE documents SET path=? WHERE doc_id=?", (path, doc_id))

    def remove_document(self, doc_id: str) -> None:
        with self._lock, self.db:
            self.db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
            self.db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))
            self._bump()

    def _bump(self) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO state(key, value) VALUES ('version', ?)", (json.dumps(time.time_ns()),)
        )

    # -- sentence embeddings (answers score sentences; computing them at query time is slow)
    def vectors(self, hashes: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i:i + 500]
            q = "SELECT hash, vec FROM sentence_vectors WHERE hash IN (%s)" % ",".join("?" * len(part))
            out.update(self.db.execute(q, part).fetchall())
        return out

    def put_vectors(self, items: list[tuple[str, bytes]]) -> None:
        with self._lock, self.db:
            self.db.executemany("INSERT OR REPLACE INTO sentence_vectors(hash, vec) VALUES (?,?)", items)

    def close(self) -> None:
        self.db.close()
