"""The index against a real Chroma server (the shared-deployment setup), not the local directory."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rag.api import TreatyQA
from rag.settings import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.fail("the chroma CLI (from the chromadb package) is not installed in this environment")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen([str(exe), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("Chroma server did not start within 60 s")
    yield port
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_and_answer_through_a_chroma_server(chroma_server, corpus_dir, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("untoc.md", "lanzarote-convention.md"):
        shutil.copy(corpus_dir / name, docs / name)
    settings = Settings(index_dir=tmp_path / "index", chroma_host="127.0.0.1", chroma_port=chroma_server)
    qa = TreatyQA(settings)
    report = qa.ingest([docs], progress=False)
    assert report.ok, report.summary()
    # Every committed chunk is on the server, and nothing else.
    committed = set(qa.index.chunks)
    on_server = set(qa.index.store.collection.get(include=[])["ids"])
    assert committed == on_server
    assert not (tmp_path / "index" / "chroma").exists()  # nothing written to a local Chroma directory

    answer = qa.ask("What does Article 25(2) of UNTOC say?")
    assert answer.citations[0].provision_id == "untoc/art_25/para_2"
    hits = qa.index.dense_search("assistance to child victims in their recovery", 5)
    assert any(cid.startswith("lanzarote-convention/art_14") for cid, _ in hits)

    # A second client (a fresh process would do the same) sees the same index and skips unchanged files.
    again = TreatyQA(settings).ingest([docs], progress=False)
    assert again.embedded == 0 and again.count("unchanged") == 2
