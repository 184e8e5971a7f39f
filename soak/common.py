"""What every scenario needs: a built index (cached), the real app in a subprocess, the CLI,
and the index's own consistency figures read straight from its files."""
from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus" / "documents"
# The code that decides what an index holds (a change invalidates the cached index).
INDEX_CODE = ["rag/model.py", "rag/settings.py", "rag/structure.py", "rag/tokens.py", "rag/references.py",
              "rag/corpus/loaders.py", "rag/corpus/_meta.py", "rag/index/*.py"]


def corpus_files() -> dict[str, Path]:
    """doc id (front matter) -> corpus file."""
    out = {}
    for path in sorted(CORPUS.glob("*.md")):
        if path.name.lower() == "readme.md":
            continue
        m = re.search(r'^id:\s*"?([^"\n]+?)"?\s*$', path.read_text(encoding="utf-8"), re.M)
        out[m.group(1) if m else path.stem] = path
    return out


def env(**extra: str) -> dict[str, str]:
    """The environment of a child process: no inherited RAG_* settings, offline, no telemetry."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    out.update({"GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False", "HF_HUB_OFFLINE": "1",
                "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)})
    out.update(extra)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(index_dir: Path, *args: str, corpus_dir: Path | None = None, timeout: float = 900,
        config: Path | None = None) -> subprocess.CompletedProcess:
    """`rag --index-dir INDEX ...` in a fresh process (as an operator runs it)."""
    extra = {"RAG_CONFIG": str(config or Path(index_dir).parent / "none.toml")}
    if corpus_dir is not None:
        extra["RAG_CORPUS_DIR"] = str(corpus_dir)
    return subprocess.run([sys.executable, "-m", "rag.cli", "--index-dir", str(index_dir), *args], cwd=REPO,
                          env=env(**extra), capture_output=True, text=True, timeout=timeout)


def _key(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    for pattern in INDEX_CODE:
        for p in sorted(REPO.glob(pattern)):
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def built_index(dest: Path, doc_ids: list[str] | None = None, docs_dir: Path | None = None) -> Path:
    """A private copy of an index of `doc_ids` (default: the whole corpus), built once with
    `rag ingest` and cached under the system temp dir (RAG_SOAK_INDEX_CACHE) by content and code.

    With doc_ids, the chosen files are copied into `docs_dir` first (the corpus folder of that
    index: a rebuild or repair reads it), else the shipped corpus folder is the corpus."""
    files = corpus_files()
    if doc_ids is None:
        src_dir, chosen = CORPUS, list(files.values())
    else:
        src_dir = Path(docs_dir or dest.parent / "docs")
        src_dir.mkdir(parents=True, exist_ok=True)
        chosen = []
        for d in doc_ids:
            shutil.copyfile(files[d], src_dir / files[d].name)
            chosen.append(src_dir / files[d].name)
    cache_root = Path(os.environ.get("RAG_SOAK_INDEX_CACHE", Path(tempfile.gettempdir()) / "rag-soak-index-cache"))
    cache = cache_root / _key(chosen)
    if not (cache / "ok").exists():
        cache.mkdir(parents=True, exist_ok=True)
        proc = cli(cache / "index", "ingest", "--quiet", str(src_dir), corpus_dir=src_dir, config=cache / "none.toml")
        if proc.returncode != 0:
            raise RuntimeError(f"rag ingest failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        (cache / "ok").write_text(proc.stdout)
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(cache / "index", dest)
    return src_dir


# -- the index, read from its files ------------------------------------------------------
def forget_chroma_clients() -> None:
    """Chroma caches one client per directory in a process; another process would not."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def consistency(index_dir: Path) -> dict:
    """Per document: the registry's n_chunks, its chunk rows and Chroma's vectors. A document is
    partial when the three differ; a vector of a document the registry does not hold is an orphan."""
    reg = Path(index_dir) / "registry.sqlite"
    db = sqlite3.connect(f"file:{reg}?mode=ro", uri=True)
    try:
        docs = {d: n for d, n in db.execute("SELECT doc_id, n_chunks FROM documents")}
        rows = dict(db.execute("SELECT doc_id, count(*) FROM chunks GROUP BY doc_id").fetchall())
        chunk_ids = {cid for (cid,) in db.execute("SELECT chunk_id FROM chunks")}
    finally:
        db.close()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    forget_chroma_clients()
    client = chromadb.PersistentClient(path=str(Path(index_dir) / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    vectors: dict[str, int] = {}
    stored: set[str] = set()
    for col in client.list_collections():
        col = client.get_collection(col.name if hasattr(col, "name") else col)
        got = col.get(include=["metadatas"])
        for cid, meta in zip(got["ids"], got["metadatas"]):
            stored.add(cid)
            d = (meta or {}).get("doc_id", "?")
            vectors[d] = vectors.get(d, 0) + 1
    forget_chroma_clients()
    # Partial: a committed document whose registry count, chunk rows and vectors differ (what
    # users could see). Vectors of a document the registry does not hold are orphans (never searched).
    partial = sorted(d for d in set(docs) | set(rows) if not (docs.get(d) == rows.get(d, 0) == vectors.get(d, 0)))
    return {"documents": len(docs), "chunks": sum(rows.values()), "vectors": len(stored),
            "partial": partial, "orphan_docs": sorted(set(vectors) - set(docs)), "orphans": len(stored - chunk_ids), "missing": len(chunk_ids - stored),
            "per_doc": {d: [docs.get(d), rows.get(d, 0), vectors.get(d, 0)] for d in sorted(docs)}}


# -- the real app --------------------------------------------------------------------------
@dataclass
class App:
    url: str
    root: Path
    log: Path
    proc: subprocess.Popen
    started_s: float = 0.0
    extra: dict = field(default_factory=dict)

    def output(self, n: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-n:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def kill9(self) -> None:
        """SIGKILL: no cleanup, no atexit, no finally; as a power cut or the OOM killer."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


def launch_app(root: Path, index_dir: Path, timeout: float = 300, **extra: str) -> App:
    """`python app.py` on a free loopback port with RAG_* settings; returns once it serves HTTP."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / f"app-{port}.log"
    full = env(RAG_APP__PORT=str(port), RAG_APP__HOST="127.0.0.1", RAG_INDEX_DIR=str(index_dir),
               RAG_CONFIG=str(root / "none.toml"), RAG_APP__UPLOAD_DIR=str(root / "uploads"),
               GRADIO_TEMP_DIR=str(root / "gradio-tmp"), **extra)
    t0 = time.monotonic()
    with open(log, "w") as fh:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=full, stdout=fh, stderr=subprocess.STDOUT)
    app = App(f"http://127.0.0.1:{port}/", root, log, proc)
    deadline = t0 + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode}:\n{app.output()}")
        try:
            with urllib.request.urlopen(app.url, timeout=5) as r:
                if r.status == 200 and not r.headers.get("X-Treaty-QA-Starting"):  # not the starting page
                    app.started_s = time.monotonic() - t0
                    return app
        except OSError:
            pass
        if time.monotonic() > deadline:
            app.stop()
            raise RuntimeError(f"app.py did not serve {app.url} within {timeout:.0f} s:\n{app.output()}")
        time.sleep(0.5)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    xs = sorted(values)
    k = max(0, min(len(xs) - 1, math.ceil(q / 100 * len(xs)) - 1))
    return xs[k]
