"""Scale benchmark: `rag bench --sizes 1000,10000,100000 --out DIR`.

What it does (see bench/README.md for the figures and how to read them):

1. **Base index, measured.** The real corpus (`--corpus`, default the shipped
   corpus/documents) is ingested once through the product's own `Index.ingest`, with the
   embedding model's calls timed inside the same run: this gives the real embedding rate
   (chunks/s and sentences/s) and the ingestion overhead (parsing, chunking, Chroma writes,
   registry) over pure embedding. The base is cached (`--cache`) and reused by later runs.
2. **Synthetic corpus of N chunks** (the generator, deterministic for a `--seed`): copy 0
   is the real corpus unchanged; copy j >= 1 of each real document is a renamed document
   (`syn003-untoc`, title "Synthetic copy 3 of ...", provision ids re-prefixed) whose text
   has about 15% of its word types replaced by other corpus words *of the same length*
   (a seeded substitution per copy, case preserved), so every character offset (provision
   and chunk spans, sentence spans) stays valid while BM25 statistics and texts differ.
   Its vectors (chunks and pre-embedded answer sentences) are the originals' vectors plus
   seeded Gaussian noise (sigma 0.35 on the unit sphere, cos ~0.94 to the original),
   renormalised: embedding 100k chunks would take over an hour on 2 cores, and the
   embedding rate is measured separately in step 1. Copies are added whole documents at a
   time until the corpus holds at least N chunks (so `chunks` is slightly above N, and never
   below the real corpus).
3. **Per size and store** (embedded `PersistentClient`; Chroma server started with
   `chroma run` and stopped by the benchmark) a *build* subprocess writes the synthetic
   corpus through the registry and the vector store (ingest chunks/s without the model),
   then a fresh *serve* subprocess opens the index (cold start), answers ~30 fixed questions
   (retrieval and whole extractive answer latencies), runs a plain llama-index
   `VectorStoreIndex.from_vector_store(ChromaVectorStore(...))` retriever over the same
   collection with the same embedding model (the baseline), uploads one ~50-page document
   and times it until it is searchable, and reports its own peak RSS.

Outputs DIR/bench.json, DIR/bench.md, DIR/latency.png.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIGMA = 0.35
SUBSTITUTE = 0.15

QUESTIONS = [
    "What does Article 16 of the Budapest Convention say?",
    "What does Article 2 of the Budapest Convention say about illegal access?",
    "Does the Lanzarote Convention require states to criminalise grooming?",
    "What is the definition of a child in the Convention on the Rights of the Child?",
    "What does Article 25 of UNTOC say about assistance to victims?",
    "Does UNCAC cover bribery of foreign public officials?",
    "What does Article 14 of the Lanzarote Convention say?",
    "Does the ICCPR protect freedom of expression?",
    "What does Article 17 of the ICCPR say about privacy?",
    "Can a state order the quick preservation of computer data?",
    "What is money laundering under UNCAC?",
    "Is there protection for whistleblowers in UNCAC?",
    "What does the Optional Protocol to the CRC say about child pornography?",
    "Must states criminalise participation in an organized criminal group?",
    "What are the rules on extradition in UNTOC?",
    "How should witnesses be protected?",
    "Can the police search my computer without a warrant?",
    "What happens if a child is abused online?",
    "Is the death penalty allowed?",
    "What does the EFF say about the convention?",
    "What are civil society's concerns about human rights safeguards?",
    "What does Article 6 of the ICCPR say?",
    "Who can submit a communication under the Optional Protocol to the ICCPR?",
    "What is dual criminality in mutual legal assistance?",
    "What does the First Additional Protocol to the Budapest Convention criminalise?",
    "Can companies be held liable for corruption?",
    "What does Article 9 of the Budapest Convention cover?",
    "Is torture prohibited?",
    "Can my phone data be handed to another country?",
    "Do victims of trafficking get compensation?",
]
WARMUP = "What does Article 1 of the Budapest Convention define?"


# -- helpers ---------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _dir_mb(path: Path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total / 2**20


def _pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else 0.0


def _settings(index_dir: Path, corpus: Path, host: str = "", port: int = 8000):
    from .settings import Settings

    return Settings(index_dir=index_dir, corpus_dir=corpus, chroma_host=host, chroma_port=port,
                    app={"upload_dir": index_dir / "uploads"})


# -- 1. the base index ------------------------------------------------------------------
def build_base(corpus: Path, base_dir: Path, progress: bool = True) -> dict:
    """Ingest the real corpus with the model's time measured inside the same run."""
    info_path = base_dir / "base.json"
    if info_path.exists():
        return json.loads(info_path.read_text())
    if base_dir.exists():
        shutil.rmtree(base_dir)
    from .index.service import Index

    ix = Index(_settings(base_dir / "index", corpus))
    emb = ix.embedder
    emb.model  # load outside the measured run
    timing = {"chunk_s": 0.0, "chunks": 0, "sentence_s": 0.0, "sentences": 0}
    real_embed = emb.embed
    import traceback

    def timed(texts, progress=False, bulk=False):
        t = time.perf_counter()
        out = real_embed(texts, progress=progress, bulk=bulk)
        dt = time.perf_counter() - t
        # index_document embeds chunks; _embed_sentences embeds quotable sentences
        kind = "sentence" if any("_embed_sentences" in f.name for f in traceback.extract_stack(limit=4)) else "chunk"
        timing[f"{kind}_s"] += dt
        timing[f"{kind}s"] += len(texts)
        return out

    emb.embed = timed  # type: ignore[method-assign]
    t0 = time.perf_counter()
    report = ix.ingest([corpus], progress=progress)
    total = time.perf_counter() - t0
    t1 = time.perf_counter()
    ix.refresh()  # BM25 and lookups: part of making the ingestion searchable
    refresh = time.perf_counter() - t1
    emb.embed = real_embed  # type: ignore[method-assign]
    embed_s = timing["chunk_s"] + timing["sentence_s"]
    info = {
        "documents": len(ix.documents),
        "chunks": len(ix.chunks),
        "ingest_s": round(total, 3),
        "refresh_s": round(refresh, 3),
        "embed_s": round(embed_s, 3),
        "embed_chunks": timing["chunks"],
        "embed_chunks_s": round(timing["chunk_s"], 3),
        "embed_sentences": timing["sentences"],
        "embed_sentences_s": round(timing["sentence_s"], 3),
        "embed_chunks_per_s": round(timing["chunks"] / timing["chunk_s"], 2) if timing["chunk_s"] else 0.0,
        "embed_sentences_per_s": round(timing["sentences"] / timing["sentence_s"], 2) if timing["sentence_s"] else 0.0,
        "overhead_pct": round(100.0 * (total + refresh - embed_s) / embed_s, 1) if embed_s else 0.0,
        "failed": [r.path for r in report.failed],
    }
    ix.registry.close()
    info_path.write_text(json.dumps(info, indent=2))
    return info


# -- 2. the generator -------------------------------------------------------------------
def _base_data(base_dir: Path):
    """The base index's documents, chunks (registry order), chunk and sentence vectors."""
    import numpy as np

    from .index.registry import Registry
    from .model import content_hash  # noqa: F401

    reg = Registry(base_dir / "index" / "registry.sqlite")
    docs = []
    chroma = None
    for d in reg.documents():
        parsed = reg.parsed(d["doc_id"])
        chunks = reg.chunks(d["doc_id"])
        docs.append((parsed, chunks))
    sent = dict(reg.db.execute("SELECT hash, vec FROM sentence_vectors").fetchall())
    reg.close()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(path=str(base_dir / "index" / "chroma"),
                                       settings=ChromaSettings(anonymized_telemetry=False))
    chroma = client.get_collection("provisions")
    ids = [c.id for _, cs in docs for c in cs]
    vecs: dict[str, np.ndarray] = {}
    for i in range(0, len(ids), 500):
        got = chroma.get(ids=ids[i:i + 500], include=["embeddings"])
        for cid, e in zip(got["ids"], got["embeddings"]):
            vecs[cid] = np.asarray(e, dtype=np.float32)
    return docs, vecs, {h: np.frombuffer(v, dtype=np.float32) for h, v in sent.items()}


class Generator:
    """Deterministic synthetic documents derived from the base (see the module docstring)."""

    def __init__(self, base_dir: Path, seed: int = 11):
        import numpy as np

        self.np = np
        self.seed = seed
        self.docs, self.vecs, self.sent = _base_data(base_dir)
        vocab = sorted({w for p, _ in self.docs for w in re.findall(r"[a-z]+", p.document.text.lower())
                        if len(w) >= 4})
        self.vocab = vocab
        self.by_len: dict[int, list[str]] = {}
        for w in vocab:
            self.by_len.setdefault(len(w), []).append(w)
        from .index.chunker import sentence_spans
        from .model import content_hash

        # per document: each chunk's quotable sentences (text, vector); the substitution keeps
        # offsets, case and punctuation, so a copy's sentences are the originals substituted.
        self.sentences: list[list[list[tuple[str, object]]]] = []
        for parsed, chunks in self.docs:
            per_chunk = []
            for c in chunks:
                per_chunk.append([(st, self.sent.get(content_hash(st), self.vecs[c.id]))
                                  for _, _, st in sentence_spans(parsed.document.text, c.start, c.end)])
            self.sentences.append(per_chunk)

    @property
    def base_chunks(self) -> int:
        return sum(len(cs) for _, cs in self.docs)

    def plan(self, size: int) -> list[tuple[int, int]]:
        """(copy, document index) pairs until at least `size` chunks (copy 0 = the real corpus)."""
        out, n, j = [], 0, 0
        while True:
            for k, (_, cs) in enumerate(self.docs):
                if j > 0 and n >= size:
                    return out
                out.append((j, k))
                n += len(cs)
            j += 1
            if n >= size:
                return out

    def _perturb(self, v, rng):
        np = self.np
        w = v + rng.normal(0.0, SIGMA / np.sqrt(v.shape[0]), v.shape[0]).astype(np.float32)
        return (w / np.linalg.norm(w)).astype(np.float32)

    def make(self, copy: int, k: int):
        """(ParsedDocument, chunks, chunk vectors, [(sentence hash, vector bytes)])."""
        from .model import Chunk, ParsedDocument, content_hash

        np = self.np
        parsed, chunks = self.docs[k]
        if copy == 0:
            vecs = [self.vecs[c.id] for c in chunks]
            sents = [(content_hash(st), np.asarray(v, dtype=np.float32).tobytes())
                     for per in self.sentences[k] for st, v in per]
            return parsed, chunks, vecs, sents
        rng = np.random.default_rng([self.seed, copy, k])
        words = sorted({w for w in re.findall(r"[a-z]+", parsed.document.text.lower()) if len(w) >= 4})
        pick = rng.random(len(words)) < SUBSTITUTE
        table = {}
        for w, p in zip(words, pick):
            if p:
                pool = self.by_len.get(len(w), [w])
                table[w] = pool[int(rng.integers(len(pool)))]

        def sub(text: str) -> str:
            def one(m: re.Match) -> str:
                w = m.group(0)
                r = table.get(w.lower())
                if r is None:
                    return w
                return r.upper() if w.isupper() else r.capitalize() if w[0].isupper() else r
            return re.sub(r"[A-Za-z]+", one, text)

        old = parsed.document.id
        new = f"syn{copy:03d}-{old}"
        meta = parsed.document.meta
        cite = meta.cite_name
        new_cite = f"Synthetic {copy}/{cite}"

        def rid(x: str | None) -> str | None:
            return new + x[len(old):] if x and (x == old or x.startswith(old + "/")) else x

        def rlabel(s: str) -> str:
            return new_cite + s[len(cite):] if s.startswith(cite) else s

        text = sub(parsed.document.text)
        doc = parsed.document.model_copy(update={
            "meta": meta.model_copy(update={"id": new, "title": f"Synthetic copy {copy} of {meta.title}",
                                            "short_title": new_cite, "symbol": "", "path": ""}),
            "text": text, "hash": content_hash(text)})
        provs = [p.model_copy(update={
            "id": rid(p.id), "doc_id": new, "label": rlabel(p.label), "text": text[p.start:p.end],
            "title": sub(p.title) if p.title else p.title, "parent_id": rid(p.parent_id),
            "children": [rid(c) for c in p.children], "refs": [rid(r) for r in p.refs],
            "article_title": sub(p.article_title) if p.article_title else p.article_title})
            for p in parsed.provisions]
        new_parsed = ParsedDocument(document=doc, provisions=provs)
        new_chunks, vecs, sents = [], [], []
        for c, per in zip(chunks, self.sentences[k]):
            md = dict(c.metadata)
            md["doc_id"] = new
            for key, v in list(md.items()):
                if isinstance(v, str) and v.startswith(old + "/"):
                    md[key] = rid(v)
                elif key == "label" and isinstance(v, str):
                    md[key] = rlabel(v)
            head, _, part = c.id.partition("#")
            nc = Chunk(id=rid(head) + ("#" + part if part else ""),
                       provision_id=rid(c.provision_id), doc_id=new, label=rlabel(c.label),
                       text=sub(c.text), embed_text=sub(c.embed_text), start=c.start, end=c.end, metadata=md)
            new_chunks.append(nc)
            vecs.append(self._perturb(self.vecs[c.id], rng))
            for st, v in per:
                sents.append((content_hash(sub(st)), self._perturb(v, rng).tobytes()))
        return new_parsed, new_chunks, vecs, sents


# -- 3a. build (subprocess) -------------------------------------------------------------
def worker_build(args) -> dict:
    from tqdm import tqdm

    from .index.registry import Registry
    from .index.store import VectorStore

    index_dir = Path(args.index_dir)
    settings = _settings(index_dir, Path(args.corpus), args.host or "", args.port or 8000)
    gen = Generator(Path(args.base), args.seed)
    plan = gen.plan(args.size)
    reg = Registry(index_dir / "registry.sqlite")
    from .index.ingest import build_info

    reg.set_build_info(build_info(settings))
    store = VectorStore(settings)
    n = 0
    write_s = gen_s = 0.0
    bar = tqdm(total=sum(len(gen.docs[k][1]) for _, k in plan), unit="chunk",
               desc=f"build {args.size} {args.store}", disable=args.quiet, file=sys.stderr)
    pending: list = []

    def flush() -> None:
        # Chroma first (one large upsert), then each document's registry commit: the same
        # commit-point order as ingestion, in fewer, larger Chroma calls.
        nonlocal write_s, n
        if not pending:
            return
        t1 = time.perf_counter()
        store.upsert([c for _, cs, _, _ in pending for c in cs], [v for _, _, vs, _ in pending for v in vs])
        for parsed, chunks, _, sents in pending:
            reg.commit_document(parsed, chunks)
            reg.put_vectors(sents)
        write_s += time.perf_counter() - t1
        done = sum(len(cs) for _, cs, _, _ in pending)
        n += done
        bar.update(done)
        pending.clear()

    for copy, k in plan:
        t = time.perf_counter()
        pending.append(gen.make(copy, k))
        gen_s += time.perf_counter() - t
        if sum(len(p[1]) for p in pending) >= 2000:
            flush()
    flush()
    bar.close()
    reg.close()
    return {"chunks": n, "documents": len(plan), "write_s": round(write_s, 3), "generate_s": round(gen_s, 3),
            "ingest_chunks_per_s": round(n / write_s, 1) if write_s else 0.0,
            "build_peak_rss_mb": round(_peak_rss_mb(), 1)}


# -- 3b. serve (subprocess) --------------------------------------------------------------
def _upload_file(src: Path, dest_dir: Path) -> tuple[Path, str]:
    """A copy of `src` under a new document id, so it is a new document for the index."""
    text = src.read_text(encoding="utf-8")
    new_id = "bench-upload"
    text = re.sub(r'^id:\s*"?[^"\n]+"?\s*$', f'id: "{new_id}"', text, count=1, flags=re.M)
    text = re.sub(r'^(title:\s*"?)', r"\1Uploaded copy of ", text, count=1, flags=re.M)
    text = re.sub(r'^short_title:\s*"?[^"\n]*"?\s*$', 'short_title: "Bench upload"', text, count=1, flags=re.M)
    dest_dir.mkdir(parents=True, exist_ok=True)
    path = dest_dir / "bench-upload.md"
    path.write_text(text, encoding="utf-8")
    return path, new_id


def worker_serve(args) -> dict:
    t_start = time.perf_counter()
    cold: dict[str, float] = {}
    t = time.perf_counter()
    from .api import TreatyQA
    from .index.service import Index
    cold["import_s"] = time.perf_counter() - t
    index_dir = Path(args.index_dir)
    settings = _settings(index_dir, Path(args.corpus), args.host or "", args.port or 8000)
    t = time.perf_counter()
    ix = Index(settings)
    ix.refresh()
    cold["index_open_s"] = time.perf_counter() - t
    t = time.perf_counter()
    ix.embedder.embed_query(WARMUP)  # the question encoder (numpy); the batch model loads later
    cold["model_load_s"] = time.perf_counter() - t
    qa = TreatyQA(settings, index=ix)
    qa._ready = True  # built by the benchmark; never rebuild from the corpus here
    t = time.perf_counter()
    qa.ask(WARMUP)
    cold["first_answer_s"] = time.perf_counter() - t
    cold["start_to_first_answer_s"] = time.perf_counter() - t_start
    cold = {k: round(v, 3) for k, v in cold.items()}

    def forget():
        clear = getattr(ix.embedder, "clear_memo", None)
        clear() if clear else ix.embedder._memo.clear()

    from tqdm import tqdm

    ret, ans = [], []
    for q in tqdm(QUESTIONS, desc=f"questions {args.size} {args.store}", disable=args.quiet, file=sys.stderr):
        forget()
        t = time.perf_counter()
        qa.retrieve(q)
        ret.append(time.perf_counter() - t)
        forget()
        t = time.perf_counter()
        qa.ask(q)
        ans.append(time.perf_counter() - t)

    # the baseline: plain llama-index over the same Chroma collection and embedding model
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    from .index.embedder import LlamaIndexEmbedding

    vs = ChromaVectorStore(chroma_collection=ix.store.collection)
    base = VectorStoreIndex.from_vector_store(vs, embed_model=LlamaIndexEmbedding(ix.embedder))
    retriever = base.as_retriever(similarity_top_k=settings.retrieval.top_k)
    bl = []
    retriever.retrieve(WARMUP)
    for q in QUESTIONS:
        forget()
        t = time.perf_counter()
        retriever.retrieve(q)
        bl.append(time.perf_counter() - t)

    # upload one ~50-page document and time it until it is searchable; the batch model is loaded
    # first, as the app does in the background once questions are answered
    ix.embedder.model
    upload = _upload(ix, Path(args.upload), index_dir, Path(args.cache))
    ms = lambda v: round(1000 * v, 1)  # noqa: E731
    return {
        "retrieval_p50_ms": ms(_pct(ret, 50)), "retrieval_p95_ms": ms(_pct(ret, 95)),
        "answer_p50_ms": ms(_pct(ans, 50)), "answer_p95_ms": ms(_pct(ans, 95)),
        "baseline": {"retrieval_p50_ms": ms(_pct(bl, 50)), "retrieval_p95_ms": ms(_pct(bl, 95))},
        **upload,
        "cold_start": cold,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "questions": len(QUESTIONS),
    }


def _upload(ix, src: Path, index_dir: Path, cache: Path) -> dict:
    """Ingest one more document and time it until a search finds it.

    A document is searchable at its commit point (chunks embedded and written, registry
    committed) plus the reader's refresh; its answer sentences are pre-embedded after the
    commit (a speed cache: an answer embeds a missing one on demand). So:
    - upload_to_searchable_s = index work until the commit + the model's time on the chunks
      + the refresh;
    - upload_to_sentences_s = the whole ingestion including the sentences, + the refresh.
    The model's times (upload_embed_chunks_s, upload_embed_sentences_s: all of the document's
    sentences, as for a document never seen) are measured the first time and kept in the cache
    with the vectors, so later runs measure the index work at each corpus size; refresh_s is the
    index work alone (no model time)."""
    import numpy as np

    from .index import registry as registry_module

    path, doc_id = _upload_file(src, index_dir / "upload")
    ix.remove(doc_id)
    vec_file = cache / f"upload-{src.stem}.npz"
    known: dict[str, np.ndarray] = {}
    cached: dict[str, float] | None = None
    if vec_file.exists():
        data = np.load(vec_file, allow_pickle=False)
        if "seconds_new_sentences" in data.files:
            known = dict(zip(data["texts"].tolist(), data["vecs"]))
            cached = {"chunks": float(data["seconds_chunks"]), "sentences": float(data["seconds_new_sentences"])}
    real = ix.embedder.embed
    phase = {"now": "chunks", "commit_at": None}
    spent = {"chunks": 0.0, "sentences": 0.0}

    def embed(texts, progress=False, bulk=False):
        todo = [t for t in texts if t not in known]
        if todo:
            t = time.perf_counter()
            got = real(todo, bulk=bulk)
            spent[phase["now"]] += time.perf_counter() - t
            for tx, v in zip(todo, got):
                known[tx] = np.asarray(v, dtype=np.float32)
        return [known[t].tolist() for t in texts]

    real_commit = registry_module.Registry.commit_document

    def commit(self, *args, **kwargs):
        out = real_commit(self, *args, **kwargs)
        phase["now"], phase["commit_at"] = "sentences", time.perf_counter()
        return out

    ix.embedder.embed = embed
    registry_module.Registry.commit_document = commit
    try:
        t0 = time.perf_counter()
        report = ix.ingest([path], progress=False, prune=False)
        t_ingest = time.perf_counter() - t0
        t = time.perf_counter()
        ix.refresh()
        t_refresh = time.perf_counter() - t
        found = ix.lexical.search("convention", 5, ix.chunk_ids_where([doc_id], [], []))
        hits = [c for c, _ in found if ix.chunks[c].doc_id == doc_id]
    finally:
        ix.embedder.embed = real
        registry_module.Registry.commit_document = real_commit
    if cached is None:
        # The upload is a renamed copy of a corpus document, whose sentences the content-hash
        # cache already holds: time the model on all of them here, as for a new document.
        from .index.chunker import sentence_spans

        parsed = ix.registry.parsed(doc_id)
        text = parsed.document.text if parsed is not None else ""
        own = [ix.chunks[c] for c in ix.chunk_ids_where([doc_id], [], [])]
        sentences = list(dict.fromkeys(s for c in own for _, _, s in sentence_spans(text, c.start, c.end)))
        t = time.perf_counter()
        real(sentences, bulk=True) if sentences else None
        cached = {"chunks": spent["chunks"], "sentences": time.perf_counter() - t}
        if known:
            np.savez(vec_file, texts=np.array(list(known)), vecs=np.stack(list(known.values())),
                     seconds_chunks=cached["chunks"], seconds_new_sentences=cached["sentences"])
    to_commit = (phase["commit_at"] or t0 + t_ingest) - t0 - spent["chunks"]
    work = t_ingest - spent["chunks"] - spent["sentences"]
    chunks = sum(r.chunks for r in report.results)
    ix.remove(doc_id)
    ix.refresh()
    r3 = lambda v: round(v, 3)  # noqa: E731
    return {"refresh_s": r3(work + t_refresh), "upload_ingest_s": r3(work), "upload_refresh_s": r3(t_refresh),
            "upload_chunks": chunks, "upload_embed_chunks_s": r3(cached["chunks"]),
            "upload_embed_sentences_s": r3(cached["sentences"]),
            "upload_embed_s": r3(cached["chunks"] + cached["sentences"]),
            "upload_to_searchable_s": r3(to_commit + cached["chunks"] + t_refresh),
            "upload_to_sentences_s": r3(work + cached["chunks"] + cached["sentences"] + t_refresh),
            "upload_found": bool(hits)}


# -- orchestration ----------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(path: Path, port: int, log: Path) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("chroma")
    cmd = [str(exe) if exe.exists() else "chroma", "run", "--path", str(path), "--port", str(port),
           "--host", "127.0.0.1"]
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    import urllib.request

    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chroma server exited; see {log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"chroma server did not start within 60 s; see {log}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _worker(kind: str, opts: dict, quiet: bool) -> dict:
    cmd = [sys.executable, "-m", "rag.bench", f"_{kind}"]
    for k, v in opts.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    if quiet:
        cmd.append("--quiet")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"}
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True, env=env, cwd=str(REPO))
    if res.returncode != 0:
        raise RuntimeError(f"bench worker {kind} failed ({res.returncode}): {res.stdout[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run(sizes: list[int], out: Path, corpus: Path, cache: Path, upload: Path, stores: list[str],
        seed: int = 11, quiet: bool = False, keep: bool = False) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    cache.mkdir(parents=True, exist_ok=True)
    key = re.sub(r"[^A-Za-z0-9]+", "-", str(corpus.resolve())).strip("-")[-60:]
    base_dir = cache / f"base-{key}"
    print(f"base index of {corpus} (real embeddings) ...", file=sys.stderr)
    base = build_base(corpus, base_dir, progress=not quiet)
    records = []
    for size in sizes:
        for store in stores:
            data = cache / "runs" / f"{size}-{store}"
            if data.exists():
                shutil.rmtree(data)
            data.mkdir(parents=True)
            opts = {"size": size, "store": store, "index_dir": data / "index", "base": base_dir,
                    "corpus": corpus, "seed": seed, "upload": upload, "cache": cache}
            server = None
            try:
                if store == "server":
                    port = _free_port()
                    server = _start_server(data / "chroma-server", port, data / "server.log")
                    opts.update(host="127.0.0.1", port=port)
                built = _worker("build", opts, quiet)
                served = _worker("serve", opts, quiet)
            finally:
                if server is not None:
                    _stop(server)
            index_mb = _dir_mb(data)
            rec = {"size": size, "store": store, "chunks": built["chunks"], "documents": built["documents"],
                   "ingest_chunks_per_s": built["ingest_chunks_per_s"], "index_mb": round(index_mb, 1),
                   **{k: v for k, v in served.items()}, "build": built}
            records.append(rec)
            print(json.dumps({k: rec[k] for k in ("size", "store", "chunks", "retrieval_p95_ms", "answer_p95_ms",
                                                  "peak_rss_mb", "refresh_s")}), file=sys.stderr)
            if not keep:
                shutil.rmtree(data, ignore_errors=True)
            _write(out, base, records, seed)  # after every record: a long run keeps what it measured
    return _write(out, base, records, seed)


def _write(out: Path, base: dict, records: list[dict], seed: int) -> dict:
    result = {"generated": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": {"cpus": os.cpu_count(),
                                                                        "loadavg": os.getloadavg()},
              "generator": {"seed": seed, "sigma": SIGMA, "substitute": SUBSTITUTE,
                            "base_chunks": base["chunks"]},
              "ingestion": base, "records": records}
    (out / "bench.json").write_text(json.dumps(result, indent=2))
    (out / "bench.md").write_text(markdown(result))
    plot(result, out / "latency.png")
    return result


def markdown(result: dict) -> str:
    b = result["ingestion"]
    lines = [
        "# Scale benchmark", "",
        f"Generated {result['generated']} on {result['machine']['cpus']} CPUs. Synthetic corpus: the real corpus "
        f"({b['chunks']} chunks) plus renamed copies with seeded same-length word substitutions and perturbed "
        f"vectors (sigma {result['generator']['sigma']}); see rag/bench.py.", "",
        "## Ingestion of the real corpus (one run, model time measured inside it)", "",
        "| documents | chunks | total s | embedding s (chunks + sentences) | overhead over embedding | "
        "chunks/s embedded | sentences/s embedded |",
        "|---|---|---|---|---|---|---|",
        f"| {b['documents']} | {b['chunks']} | {b['ingest_s'] + b['refresh_s']:.1f} | {b['embed_s']:.1f} "
        f"({b['embed_chunks']} + {b['embed_sentences']}) | {b['overhead_pct']}% | {b['embed_chunks_per_s']} | "
        f"{b['embed_sentences_per_s']} |", "",
        "## Per corpus size and store", "",
        "| size | store | chunks | ingest chunks/s (no model) | index MB | retrieval p50/p95 ms | "
        "answer p50/p95 ms | baseline p50/p95 ms | peak RSS MB | refresh s (index work) | "
        "upload→searchable s (incl. model on chunks) | upload→sentences embedded s | start→first answer s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["records"]:
        lines.append(
            f"| {r['size']} | {r['store']} | {r['chunks']} | {r['ingest_chunks_per_s']} | {r['index_mb']} | "
            f"{r['retrieval_p50_ms']} / {r['retrieval_p95_ms']} | {r['answer_p50_ms']} / {r['answer_p95_ms']} | "
            f"{r['baseline']['retrieval_p50_ms']} / {r['baseline']['retrieval_p95_ms']} | {r['peak_rss_mb']} | "
            f"{r['refresh_s']} | {r['upload_to_searchable_s']} | {r.get('upload_to_sentences_s', '–')} | "
            f"{r['cold_start']['start_to_first_answer_s']} |")
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for store in sorted({r["store"] for r in result["records"]}):
        rs = sorted((r for r in result["records"] if r["store"] == store), key=lambda r: r["chunks"])
        xs = [r["chunks"] for r in rs]
        ax.plot(xs, [r["retrieval_p95_ms"] for r in rs], "o-", label=f"retrieval p95 ({store})")
        ax.plot(xs, [r["answer_p95_ms"] for r in rs], "s-", label=f"answer p95 ({store})")
        ax.plot(xs, [r["baseline"]["retrieval_p95_ms"] for r in rs], "x--", label=f"llama-index baseline p95 ({store})")
    ax.set_xscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("latency (ms)")
    ax.set_title("Question latency against corpus size")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def default_upload(corpus: Path) -> Path:
    """The largest document of the corpus (UNCAC, about 50 pages) is the one uploaded."""
    files = [p for p in corpus.glob("*.md") if p.name.lower() != "readme.md"]
    return max(files, key=lambda p: p.stat().st_size)


def add_parser(sub) -> None:
    b = sub.add_parser("bench", help="scale benchmark: synthetic corpora of N chunks, latency, memory, refresh")
    b.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chunk counts")
    b.add_argument("--out", default="bench/latest", help="output directory")
    b.add_argument("--cache", help="where base index and generated indexes live (default: OUT/cache)")
    b.add_argument("--corpus", help="real corpus to derive from (default: settings.corpus_dir)")
    b.add_argument("--upload", help="document uploaded for refresh timing (default: the largest corpus file)")
    b.add_argument("--no-server", action="store_true", help="embedded Chroma only (no `chroma run`)")
    b.add_argument("--seed", type=int, default=11)
    b.add_argument("--keep", action="store_true", help="keep the generated indexes")
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=cmd_bench)


def cmd_bench(args) -> int:
    from .settings import Settings

    corpus = Path(args.corpus) if args.corpus else Path(args.corpus_dir or Settings().corpus_dir)
    out = Path(args.out)
    result = run([int(s) for s in args.sizes.split(",") if s.strip()], out, corpus,
                 Path(args.cache) if args.cache else out / "cache",
                 Path(args.upload) if args.upload else default_upload(corpus),
                 ["embedded"] if args.no_server else ["embedded", "server"], args.seed, args.quiet, args.keep)
    print(markdown(result))
    print(f"wrote {out / 'bench.json'}, {out / 'bench.md'}, {out / 'latency.png'}")
    return 0


def _worker_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["_build", "_serve"])
    for name in ("size", "port", "seed"):
        p.add_argument(f"--{name}", type=int, default=0)
    for name in ("store", "index-dir", "base", "corpus", "upload", "cache", "host"):
        p.add_argument(f"--{name}", default="")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    out = worker_build(args) if args.kind == "_build" else worker_serve(args)
    sys.stdout.flush()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_worker_main(sys.argv[1:]))
