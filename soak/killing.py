"""kill -9 during ingestion, repeatedly: of the app while a session uploads a large document,
or of `rag ingest`. No document may ever be partial (each is wholly committed or absent), right
after the kill as after the restart; after the restart (the app comes up and answers) the index
must check clean (registry = Chroma, exit 0). Vectors a killed ingestion wrote before its commit
are invisible to readers and are dropped when the app next opens the index: the state right after
the kill is recorded (`*_at_kill`), the verdict is on the restarted app."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from .common import REPO, cli, consistency, env, launch_app


def wait_answering(url: str, timeout: float = 300) -> float:
    """Seconds until the app answers a question (the index loaded, the model warm)."""
    from gradio_client import Client

    t0 = time.monotonic()
    client = Client(url, verbose=False)
    while True:
        try:
            result = client.predict("What does Article 2 of UNTOC say?", [], [], [], "extractive", api_name="/ask")
            if any(isinstance(x, str) and x.startswith("# ") for x in result):
                return time.monotonic() - t0
        except Exception:  # noqa: BLE001 - not ready yet
            pass
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"the app at {url} did not answer within {timeout:.0f} s")
        time.sleep(1)


def chroma_vectors(index_dir: Path) -> int:
    """Vectors in Chroma's SQLite file, read from outside the writing process (read-only)."""
    import sqlite3

    try:
        db = sqlite3.connect(f"file:{Path(index_dir) / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=1)
        try:
            return db.execute("SELECT count(*) FROM embeddings").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return -1


def wait_for_vector_writes(index_dir: Path, baseline: int, proc, timeout: float = 600) -> bool:
    """Block until Chroma holds more vectors than `baseline` (the ingestion is writing them,
    before its registry commit) or the process ends; True when the writes were caught."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            return False
        if chroma_vectors(index_dir) > baseline:
            return True
        time.sleep(0.02)
    return False


def _after_kill(index_dir: Path, corpus_dir: Path, before_docs: set[str]) -> dict:
    check = cli(index_dir, "index", "check", corpus_dir=corpus_dir, timeout=300)
    cons = consistency(index_dir)
    new = sorted(set(cons["per_doc"]) - before_docs)
    return {"check_rc": check.returncode, "check_out": (check.stdout + check.stderr).strip()[-400:],
            "partial": cons["partial"], "orphans": cons["orphans"], "orphan_docs": cons["orphan_docs"], "missing": cons["missing"],
            "committed_new": new, "documents": cons["documents"]}


def kill_app_rounds(root: Path, index_dir: Path, corpus_dir: Path, make_upload, delays: list[float],
                    log=print) -> dict:
    """Per delay: (re)start the app, wait until it answers, upload, kill -9 after `delay` s."""
    from gradio_client import Client, handle_file

    rounds = []
    for i, delay in enumerate(delays):
        before = set(consistency(index_dir)["per_doc"])
        app = launch_app(root / f"kill-{i}", index_dir, RAG_CORPUS_DIR=str(corpus_dir))
        rec = {"round": i + 1, "target": "app", "delay_s": delay, "start_s": round(app.started_s, 1)}
        try:
            rec["ready_s"] = round(wait_answering(app.url), 1)
            pdf = make_upload(root / f"upload-{i}.pdf", i)
            baseline = chroma_vectors(index_dir)
            job = Client(app.url, verbose=False).submit([handle_file(str(pdf))], api_name="/upload")
            if delay < 0:  # the moment the first new vectors reach Chroma, before the registry commit
                rec["caught_vector_write"] = wait_for_vector_writes(index_dir, baseline, app.proc)
                rec["delay_s"] = "at vector write"
            else:
                time.sleep(delay)
            rec["upload_finished_before_kill"] = job.done()
        finally:
            app.kill9()
        at_kill = consistency(index_dir)
        rec.update(partial_at_kill=at_kill["partial"], orphans_at_kill=at_kill["orphans"])
        restarted = launch_app(root / f"kill-{i}-restart", index_dir, RAG_CORPUS_DIR=str(corpus_dir))
        try:
            rec["restart_ready_s"] = round(wait_answering(restarted.url), 1)
        finally:
            restarted.stop()
        rec.update(_after_kill(index_dir, corpus_dir, before))
        log(f"  kill -9 app round {i + 1}: {rec}")
        rounds.append(rec)
    # The restart after the last kill: the app comes up and answers from a consistent index.
    app = launch_app(root / "kill-final", index_dir, RAG_CORPUS_DIR=str(corpus_dir))
    try:
        final = {"restart_s": round(app.started_s, 1), "ready_s": round(wait_answering(app.url), 1)}
    finally:
        app.stop()
    final.update(_after_kill(index_dir, corpus_dir, set()))
    return {"rounds": rounds, "final": final, "figures": _figures(rounds, final)}


def kill_ingest_rounds(root: Path, index_dir: Path, corpus_dir: Path, make_upload, delays: list[float],
                       log=print) -> dict:
    """Per delay: `rag ingest FILE` killed with SIGKILL after `delay` s; then ingest again
    (it must complete what the killed run left) on the last round."""
    rounds = []
    for i, delay in enumerate(delays):
        before = set(consistency(index_dir)["per_doc"])
        doc = make_upload(root / f"ingest-{i}.pdf", i)
        proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "--index-dir", str(index_dir), "ingest", "--quiet",
                                 str(doc)], cwd=REPO, env=env(RAG_CONFIG=str(root / "none.toml"),
                                                              RAG_CORPUS_DIR=str(corpus_dir)),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if delay < 0:  # the moment the first new vectors reach Chroma, before the registry commit
            baseline = chroma_vectors(index_dir)
            caught = wait_for_vector_writes(index_dir, baseline, proc)
        else:
            time.sleep(delay)
            caught = None
        finished = proc.poll() is not None
        proc.kill()
        proc.wait(timeout=30)
        rec = {"round": i + 1, "target": "rag ingest", "delay_s": delay if delay >= 0 else "at vector write",
               "finished_before_kill": finished, "caught_vector_write": caught}
        rec.update(_after_kill(index_dir, corpus_dir, before))
        log(f"  kill -9 rag ingest round {i + 1}: {rec}")
        rounds.append(rec)
    again = cli(index_dir, "ingest", "--quiet", *[str(root / f"ingest-{i}.pdf") for i in range(len(delays))],
                corpus_dir=corpus_dir, timeout=900)
    final = {"reingest_rc": again.returncode, "reingest_out": again.stdout.strip()[-300:]}
    final.update(_after_kill(index_dir, corpus_dir, set()))
    return {"rounds": rounds, "final": final, "figures": _figures(rounds, final)}


def _figures(rounds: list[dict], final: dict) -> dict:
    return {
        "kills": len(rounds),
        "checks_clean": sum(r["check_rc"] == 0 for r in rounds) + (final["check_rc"] == 0),
        "checks_run": len(rounds) + 1,
        "partial_documents": sum(len(r["partial"]) + len(r.get("partial_at_kill", [])) for r in rounds)
        + len(final["partial"]),
        "orphan_vectors_at_kill": sum(r.get("orphans_at_kill", 0) for r in rounds),
        "orphan_vectors": sum(r["orphans"] for r in rounds) + final["orphans"],
        "killed_mid_ingest": sum(not r.get("finished_before_kill", r.get("upload_finished_before_kill", False))
                                 for r in rounds),
        "committed_before_kill": sum(bool(r["committed_new"]) for r in rounds),
    }
