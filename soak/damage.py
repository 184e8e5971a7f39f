"""Damage and repair: a deleted or truncated Chroma file, a deleted, truncated or corrupt
registry, and a model/chunker mismatch (the registry's build record says otherwise). Each must
be detected on open (`rag index check` exits 1 naming the fix), repaired by `rag index repair`
(`rag index rebuild` for a mismatch), check clean afterwards, and answer a fixed list of
questions exactly as before the damage (answer text, verdict and citations)."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

from .common import cli, forget_chroma_clients

QUESTIONS = [
    "What does Article 5 of UNTOC say?",
    "Does Article 14 of the Lanzarote Convention cover victim rehabilitation?",
    "Who can submit a communication to the Human Rights Committee?",
    "What do the NGO red lines say about human rights safeguards?",
    "What is the definition of a child in the CRC?",
    "How many years must a state party wait before denouncing the Budapest Convention?",
]


def _drop(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def _checkpoint(index_dir: Path) -> None:
    """Fold the registry's WAL into the file, so damaging the file damages the committed state."""
    db = sqlite3.connect(str(Path(index_dir) / "registry.sqlite"))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def damage(kind: str, index_dir: Path) -> None:
    chroma = Path(index_dir) / "chroma" / "chroma.sqlite3"
    registry = Path(index_dir) / "registry.sqlite"
    _checkpoint(index_dir)
    if kind == "chroma deleted":
        chroma.unlink()
    elif kind == "chroma truncated":
        os.truncate(chroma, 0)
    elif kind == "chroma half-truncated":
        os.truncate(chroma, chroma.stat().st_size // 2)
    elif kind == "registry deleted":
        _drop(registry)
    elif kind == "registry truncated":
        for s in ("-wal", "-shm"):
            registry.with_name(registry.name + s).unlink(missing_ok=True)
        os.truncate(registry, 0)
    elif kind == "registry corrupt":
        for s in ("-wal", "-shm"):
            registry.with_name(registry.name + s).unlink(missing_ok=True)
        with open(registry, "r+b") as fh:
            fh.write(b"\x00garbage" * 512)
    elif kind == "model mismatch":
        db = sqlite3.connect(str(registry))
        info = json.loads(db.execute("SELECT value FROM state WHERE key='build'").fetchone()[0])
        info["embedding_model"] = "sentence-transformers/all-mpnet-base-v2"
        db.execute("UPDATE state SET value=? WHERE key='build'", (json.dumps(info),))
        db.commit()
        db.close()
    elif kind == "chunker mismatch":
        db = sqlite3.connect(str(registry))
        info = json.loads(db.execute("SELECT value FROM state WHERE key='build'").fetchone()[0])
        info["chunker"] = "0-old"
        db.execute("UPDATE state SET value=? WHERE key='build'", (json.dumps(info),))
        db.commit()
        db.close()
    else:
        raise ValueError(kind)


KINDS = ["chroma deleted", "chroma truncated", "chroma half-truncated", "registry deleted", "registry truncated",
         "registry corrupt", "model mismatch", "chunker mismatch"]


def answers(index_dir: Path, corpus_dir: Path, questions: list[str]) -> list[dict]:
    """What a user reads, per question: answer text, verdict, cited provisions (rag.api.TreatyQA)."""
    from rag.api import TreatyQA
    from rag.settings import Settings

    forget_chroma_clients()
    qa = TreatyQA(Settings(index_dir=index_dir, corpus_dir=corpus_dir))
    out = []
    for q in questions:
        a = qa.ask(q)
        out.append({"question": q, "answer": a.answer, "verdict": a.verdict.kind if a.verdict else None,
                    "citations": [(c.provision_id, c.label) for c in a.citations], "refused": a.refused})
    forget_chroma_clients()
    return out


def run(pristine: Path, workdir: Path, corpus_dir: Path, kinds: list[str] | None = None,
        questions: list[str] | None = None, log=print) -> dict:
    questions = questions or QUESTIONS
    before = answers(pristine, corpus_dir, questions)
    rows = []
    for kind in kinds or KINDS:
        index_dir = workdir / kind.replace(" ", "-") / "index"
        if index_dir.parent.exists():
            shutil.rmtree(index_dir.parent)
        shutil.copytree(pristine, index_dir)
        damage(kind, index_dir)
        row = {"kind": kind}
        chk = cli(index_dir, "index", "check", corpus_dir=corpus_dir, timeout=300)
        row["check_rc"] = chk.returncode
        row["check_says"] = (chk.stdout + chk.stderr).strip().splitlines()[-3:]
        row["traceback"] = "Traceback" in chk.stdout + chk.stderr
        fix = "rebuild" if "mismatch" in kind else "repair"
        t0 = time.monotonic()
        rep = cli(index_dir, "index", fix, corpus_dir=corpus_dir, timeout=1800)
        row["fix"] = f"rag index {fix}"
        row["fix_rc"] = rep.returncode
        row["fix_s"] = round(time.monotonic() - t0, 1)
        row["fix_says"] = (rep.stdout + rep.stderr).strip().splitlines()[-3:]
        after_chk = cli(index_dir, "index", "check", corpus_dir=corpus_dir, timeout=300)
        row["check_after_rc"] = after_chk.returncode
        after = answers(index_dir, corpus_dir, questions)
        diffs = [b["question"] for b, a in zip(before, after) if b != a]
        row["answers_identical"] = not diffs
        row["differing"] = diffs
        row["detected"] = chk.returncode == 1 and not row["traceback"]
        rows.append(row)
        log(f"  damage {kind}: {row}")
    figures = {"kinds": len(rows), "detected": sum(r["detected"] for r in rows),
               "repaired": sum(r["fix_rc"] == 0 and r["check_after_rc"] == 0 for r in rows),
               "answers_identical": sum(r["answers_identical"] for r in rows), "questions": len(questions)}
    return {"figures": figures, "rows": rows, "before": before}
