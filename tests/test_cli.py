"""The `rag` command line: exit codes, summaries and the JSON people script against.

Why: the CLI is how the corpus gets indexed and how batches of questions are run; a zero
exit status on failure or a renamed JSON field silently breaks those scripts. Most tests
call rag.cli.main in-process (sharing the loaded model); one runs the real entry point.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def index_dir(corpus_index) -> str:
    return str(corpus_index.settings.index_dir)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_ingest_status_and_remove(capsys, copy_corpus, tmp_path):
    docs = copy_corpus({"eff.md": "eff-2024-01-ngo-redlines"})
    idx = str(tmp_path / "index")
    rc, out, _ = run(capsys, "--index-dir", idx, "ingest", "--quiet", "--json", str(docs))
    assert rc == 0
    summary, _, rest = out.partition("\n[")
    assert summary.splitlines()[0].startswith("1 documents indexed (1 new, 0 updated, 0 unchanged")
    results = json.loads("[" + rest)
    assert "0 failed" in summary and f"{results[0]['chunks']} chunks" in summary
    assert [(r["doc_id"], r["status"], r["error"]) for r in results] == [
        ("eff-2024-01-ngo-redlines", "ingested", None)]
    assert results[0]["embedded"] == results[0]["chunks"] > 0

    rc, out, _ = run(capsys, "--index-dir", idx, "index", "status")
    assert rc == 0 and "1 documents" in out
    row = next(line for line in out.splitlines() if line.startswith("eff-2024-01-ngo-redlines"))
    assert "commentary" in row and f" {results[0]['chunks']} " in f" {row} "

    rc, out, _ = run(capsys, "--index-dir", idx, "index", "status", "--json")
    (doc,) = json.loads(out)
    assert doc["doc_id"] == "eff-2024-01-ngo-redlines" and doc["n_chunks"] == results[0]["chunks"]
    assert doc["meta"]["doc_type"] == "commentary" and doc["path"] == str(docs / "eff.md")

    rc, out, err = run(capsys, "--index-dir", idx, "index", "remove", "eff-2024-01-ngo-redlines", "nope")
    assert rc == 1 and "removed eff-2024-01-ngo-redlines" in out and "not in the index: nope" in err
    rc, out, _ = run(capsys, "--index-dir", idx, "index", "status", "--json")
    assert json.loads(out) == []


def test_status_without_an_index(capsys, tmp_path):
    rc, out, _ = run(capsys, "--index-dir", str(tmp_path / "none"), "index", "status")
    assert rc == 1 and "No index" in out and "rag ingest" in out


def test_ingest_of_a_missing_path_fails(capsys, tmp_path):
    rc, out, _ = run(capsys, "--index-dir", str(tmp_path / "index"), "ingest", "--quiet", str(tmp_path / "gone"))
    assert rc == 1 and "1 failed" in out and "path not found" in out


def test_ask_json_fields(capsys, index_dir):
    rc, out, _ = run(capsys, "--index-dir", index_dir, "ask", "--json", "What does Article 25(2) of UNTOC say?")
    assert rc == 0
    (obj,) = json_lines(out)
    assert {"question", "answer", "refused", "citations", "related", "notices", "timings", "mode"} <= set(obj)
    assert "passages" not in obj
    assert obj["refused"] is False and obj["answer"].startswith("In UNTOC, Art. 25(2)")
    (cit,) = obj["citations"]
    assert {k: cit[k] for k in ("doc_id", "article", "paragraph", "label")} == {
        "doc_id": "untoc", "article": "25", "paragraph": "2", "label": "UNTOC, Art. 25(2)"}
    assert "compensation and restitution" in cit["text"] and cit["source_type"] == "treaty"


def test_ask_text_output(capsys, index_dir):
    rc, out, _ = run(capsys, "--index-dir", index_dir, "ask", "What", "does", "Article", "14", "say?")
    assert rc == 0
    assert "Note: Assumed Article 14" in out
    assert "Sources:" in out and "  [1] " in out and "(treaty)" in out


def test_ask_with_filters(capsys, index_dir):
    rc, out, _ = run(capsys, "--index-dir", index_dir, "ask", "--json", "--doc", "lanzarote-convention",
                     "What does Article 14 say?")
    (obj,) = json_lines(out)
    assert rc == 0 and obj["citations"]
    assert {c["doc_id"] for c in obj["citations"] + obj["related"]} == {"lanzarote-convention"}
    rc, out, _ = run(capsys, "--index-dir", index_dir, "ask", "--json", "--type", "commentary",
                     "What are the human rights risks of the treaty?")
    (obj,) = json_lines(out)
    assert {c["source_type"] for c in obj["citations"] + obj["related"]} == {"commentary"}


def test_questions_file_in_one_process(capsys, index_dir, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join([
        json.dumps({"id": "a", "question": "What does Article 25(2) of UNTOC say?"}),
        "",
        json.dumps({"id": "b", "question": "How do I bake sourdough bread?"}),
        json.dumps("Are whistleblowers protected?"),
        json.dumps({"id": "c", "question": ""}),
    ]) + "\n", encoding="utf-8")
    rc, out, _ = run(capsys, "--index-dir", index_dir, "ask", "--json", "--questions", str(questions))
    objs = json_lines(out)
    assert rc == 1  # the empty question
    assert [o.get("id") for o in objs][:3] == ["a", "b", None] and len(objs) == 4
    assert objs[0]["citations"][0]["label"] == "UNTOC, Art. 25(2)"
    assert objs[1]["refused"] is True
    assert objs[2]["question"] == "Are whistleblowers protected?" and not objs[2]["refused"]
    assert "error" in objs[3] and "type a question" in objs[3]["error"]


def test_errors_in_a_questions_file_keep_their_id(capsys, index_dir, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "c", "question": ""}) + "\n", encoding="utf-8")
    rc, out, _ = run(capsys, "--index-dir", index_dir, "ask", "--json", "--questions", str(questions))
    (obj,) = json_lines(out)
    assert rc == 1 and obj.get("id") == "c" and "error" in obj


def test_questions_file_as_a_conversation(capsys, index_dir, tmp_path):
    questions = tmp_path / "conv.jsonl"
    questions.write_text(json.dumps({"question": "How does UNTOC protect victims?"}) + "\n"
                         + json.dumps({"question": "and what about witnesses?"}) + "\n", encoding="utf-8")
    rc, out, _ = run(capsys, "--index-dir", index_dir, "ask", "--json", "--conversation", "--questions", str(questions))
    first, second = json_lines(out)
    assert rc == 0
    assert second["doc_scope"] == ["untoc"] and "witnesses" in second["resolved_question"]
    assert second["citations"] and {c["doc_id"] for c in second["citations"]} == {"untoc"}


def test_bad_questions_file(capsys, index_dir, tmp_path):
    questions = tmp_path / "bad.jsonl"
    questions.write_text('{"question": "ok?"}\n{not json\n', encoding="utf-8")
    rc, out, err = run(capsys, "--index-dir", index_dir, "ask", "--questions", str(questions))
    assert rc == 2 and "bad.jsonl:2" in err and out == ""


def test_ask_without_a_question(capsys, index_dir):
    rc, _, err = run(capsys, "--index-dir", index_dir, "ask")
    assert rc == 2 and "question" in err


def test_unknown_preset_is_reported(capsys, index_dir):
    with pytest.raises(KeyError, match="unknown preset"):
        main(["--index-dir", index_dir, "--preset", "nope", "ask", "x"])


def test_real_entry_point(tmp_path):
    env_cmd = [sys.executable, "-m", "rag.cli"]
    done = subprocess.run(env_cmd + ["--help"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "ingest" in done.stdout and "ask" in done.stdout
    done = subprocess.run(env_cmd + ["--index-dir", str(tmp_path / "none"), "index", "status"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "No index" in done.stdout
    done = subprocess.run(env_cmd + ["frobnicate"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "invalid choice" in done.stderr
