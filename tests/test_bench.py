"""`rag bench` at a tiny size: the command runs end to end and writes the documented schema.

No timing assertions (the figures depend on the machine); only that every number is there
and positive. Two small corpus documents keep the real-embedding base build short.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from rag.cli import main

KEYS = {"size", "store", "chunks", "ingest_chunks_per_s", "index_mb", "retrieval_p50_ms", "retrieval_p95_ms",
        "answer_p50_ms", "answer_p95_ms", "peak_rss_mb", "refresh_s", "baseline"}


def test_bench_tiny(tmp_path: Path, corpus_files: dict[str, Path]) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc_id in ("eff-2024-01-ngo-redlines", "iccpr-op1"):
        shutil.copy(corpus_files[doc_id], corpus / corpus_files[doc_id].name)
    out = tmp_path / "out"
    rc = main(["bench", "--sizes", "200", "--no-server", "--quiet", "--out", str(out), "--corpus", str(corpus),
               "--upload", str(corpus_files["knowmad-2024-08-commentary"])])
    assert rc == 0
    data = json.loads((out / "bench.json").read_text())
    assert (out / "bench.md").read_text().count("| 200 | embedded |") == 1
    assert (out / "latency.png").stat().st_size > 1000
    ing = data["ingestion"]
    assert ing["chunks"] > 0 and ing["embed_s"] > 0 and ing["embed_chunks_per_s"] > 0
    assert "overhead_pct" in ing
    [rec] = data["records"]
    assert KEYS <= set(rec)
    assert rec["size"] == 200 and rec["store"] == "embedded" and rec["chunks"] >= 200
    for key in KEYS - {"size", "store", "baseline"}:
        assert rec[key] > 0, key
    assert rec["baseline"]["retrieval_p50_ms"] > 0 and rec["baseline"]["retrieval_p95_ms"] > 0
    assert rec["upload_found"] is True
