"""`rag eval` end to end on a small real index: a few corpus files, a few gold questions.

Why: the harness glues the product, two baselines, the judge and the report together;
this checks that every configuration is asked the same questions, that conversations
are asked with their history, that stored per-question metrics agree with what was
retrieved, that the report and plots are written, and that --check fails by name.
No quality numbers are asserted here: those live in eval/thresholds.toml.
"""
from __future__ import annotations

import argparse
import json
import os
from datetime import date
from pathlib import Path

import pytest

from rag.evaluation import EvalError, run_evaluation
from rag.evaluation.cli import run as cli_run
from rag.evaluation.gold import load_many
from rag.evaluation import harness
from rag.evaluation.harness import DEFAULT_QUESTIONS, RETRIEVAL_NAMES, SEALED_QUESTIONS
from rag.index.service import Index
from rag.settings import Settings

DOCS = ["budapest-protocol-1", "crc-opsc", "iccpr-op1", "eff-2024-01-ngo-redlines"]  # small: fast to ingest


def corpus_dir() -> Path:
    env = os.environ.get("RAG_CORPUS_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[1] / "corpus" / "documents"


@pytest.fixture(scope="session")
def small_index(tmp_path_factory) -> Settings:
    corpus = corpus_dir()
    assert corpus.is_dir(), f"development corpus not found at {corpus}; set RAG_CORPUS_DIR"
    settings = Settings(index_dir=tmp_path_factory.mktemp("eval_index"), corpus_dir=corpus)
    report = Index(settings).ingest([corpus / f"{d}.md" for d in DOCS], progress=False, prune=False)
    assert report.ok, report.summary()
    return settings


def _subset(tmp: Path) -> list[Path]:
    """Real dev questions about the indexed documents: a lookup, a lay question, an
    unanswerable one and a conversation."""
    out = []
    for src in DEFAULT_QUESTIONS:
        picked, kinds = [], set()
        for line in src.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            turns = obj.get("turns", [obj])
            docs = {g["doc_id"] for t in turns for g in t["gold"]}
            want = obj["kind"] in ("lookup", "lay", "unanswerable", "conversation") and obj["kind"] not in kinds
            if want and docs <= set(DOCS):
                picked.append(line)
                kinds.add(obj["kind"])
        f = tmp / src.name
        f.write_text("\n".join(picked) + "\n", encoding="utf-8")
        out.append(f)
    return out


@pytest.fixture(scope="session")
def evaluated(small_index, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval_run")
    files = _subset(tmp)
    cfg = tmp / "top5.toml"
    cfg.write_text("[retrieval]\ntop_k = 5\n", encoding="utf-8")
    out = tmp / "out"
    result = run_evaluation(small_index, files, [str(cfg)], out, progress=False, cold_start=False)
    return result, files, out


def test_every_configuration_answers_every_question(evaluated):
    result, files, out = evaluated
    data = json.loads((out / "results.json").read_text())
    names = [c["name"] for c in data["configs"]]
    assert names == ["product", "lexical", "top5", "llama-index", "llama-index-200", "llama-index-hybrid"]
    expected = [u.uid for it in load_many(files) for u in it.units]
    assert [q["id"] for q in data["questions"]] == expected
    for q in data["questions"]:
        assert set(q["results"]) == set(names)
    assert data["splits"] == ["dev"]
    assert set(data["summary"]["product"]) == {"dev", "all"}


def test_conversation_turns_are_scored_one_by_one_with_history(evaluated):
    result, _, _ = evaluated
    conv = [u for u in result.units if u.turn is not None]
    assert len(conv) >= 2 and conv[0].uid.endswith("#1")
    for unit in conv:
        run = result.runs["product"][unit.uid]
        earlier = [u.question for u in conv if u.qid == unit.qid and u.turn < unit.turn]
        assert run.history == earlier
        assert "article.hit@5" in run.metrics
        assert result.runs["llama-index"][unit.uid].history == []  # the plain baseline has no memory
    # The product resolved at least one follow-up with the earlier turns: the history reached it.
    assert any(result.runs["product"][u.uid].resolved_question != u.question for u in conv if u.turn > 1)


def _independent_article_hits(retrieved: list[dict], gold: list[dict], match: str, k: int) -> float:
    """hit@k at article level, recomputed from results.json without the metrics module."""
    seen, top = set(), []
    for r in retrieved:
        key = (r["doc"], r["provision"].split("/")[1])
        if key not in seen:
            seen.add(key)
            top.append(r)
    top = top[:k]
    found = [any(r["doc"] == g["doc_id"] and (g["article"] is None or r["article"] == g["article"]) for r in top)
             for g in {(g["doc_id"], g["article"]): g for g in gold}.values()]
    return float(any(found) if match == "any" else all(found))


def test_stored_metrics_agree_with_what_was_retrieved(evaluated):
    _, _, out = evaluated
    data = json.loads((out / "results.json").read_text())
    checked = 0
    for q in data["questions"]:
        for name, r in q["results"].items():
            if not q["gold"] or r["error"]:
                assert not any(k.startswith("article.") for k in r["metrics"])
                continue
            assert len(r["retrieved"]) <= 10
            for k in (1, 3, 5, 10):
                assert r["metrics"][f"article.hit@{k}"] == _independent_article_hits(
                    r["retrieved"], q["gold"], q["match"], k), (q["id"], name, k)
                assert r["metrics"][f"article.recall@{k}"] >= r["metrics"][f"article.hit@{k}"]
            hits = [r["metrics"][f"paragraph.hit@{k}"] for k in (1, 3, 5, 10)]
            assert hits == sorted(hits)
            checked += 1
    assert checked >= 8


def test_retrieval_only_baseline_has_no_answer_metrics(evaluated):
    result, _, _ = evaluated
    for name in ("llama-index", "llama-index-hybrid"):
        base = result.summary[name]["all"]
        assert not any(k.startswith("answer.") for k in base)
        assert all(base[k] is not None for k in RETRIEVAL_NAMES)
    prod = result.summary["product"]["all"]
    for key in ("answer.refusal_accuracy", "answer.citation_validity", "answer.faithfulness",
                "answer.refused_answerable"):
        assert prod[key] is not None and 0 <= prod[key] <= 1
    # The subset's unanswerable is labelled near or far; its refusal lands in that rate.
    assert prod["answer.refused_near"] is not None or prod["answer.refused_far"] is not None
    # Citations record whether retrieval (not the answerer) returned what they rest on.
    cits = [c for r in result.runs["product"].values() for c in r.citations]
    assert cits and all(c["retrieved"] in (True, False) for c in cits)
    for v in result.runs["product"].values():
        if v.faithfulness:
            assert v.faithfulness["judge"] == "offline"


def test_latency_and_judge_agreement_are_reported(evaluated):
    result, _, _ = evaluated
    lat = result.latency["product"]
    assert {"resolve", "search", "retrieve", "answer", "total"} <= set(lat)
    assert all(0 < s["p50"] <= s["p95"] for s in lat.values())
    ag = result.judge["agreement"]
    assert ag["n"] >= 40 and 0 <= ag["loo_accuracy"] <= 1
    assert result.judge["ragas"]["used"] is False and any("RAGAS" in n for n in result.notes)


def test_report_has_headline_plots_and_worst_questions(evaluated):
    _, _, out = evaluated
    md = (out / "report.md").read_text()
    page = (out / "report.html").read_text()
    for needle in ("## Headline", "| dev | product", "| dev | llama-index-hybrid", "Worst questions (reference, dev)",
                   "## Verdicts and refusals", "Faithfulness judge", "leave-one-out"):
        assert needle in md, needle
    for png in ("kinds.png", "recall_at_k.png", "latency.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="{png}"' in page
    assert "<table>" in page


def test_bad_compare_entries_are_named(small_index, tmp_path):
    files = _subset(tmp_path)
    with pytest.raises(EvalError, match="not a preset"):
        run_evaluation(small_index, files, ["no-such-preset"], None, progress=False, baselines=False,
                       cold_start=False)
    bad = tmp_path / "bad.toml"
    bad.write_text("[retrieval]\ntop_kk = 3\n")
    with pytest.raises(EvalError, match="top_kk"):
        run_evaluation(small_index, files, [str(bad)], None, progress=False, baselines=False, cold_start=False)


def _args(**kw) -> argparse.Namespace:
    base = dict(questions=None, compare=[], out=None, no_baselines=True, check=False, limit=None, thresholds=None,
                no_cold_start=False, sealed=False)
    base.update(kw)
    return argparse.Namespace(**base)


def test_cli_check_fails_naming_the_metric_below_its_minimum(small_index, tmp_path, capsys):
    # A lookup whose "gold" is deliberately another article: the named article comes first,
    # so article hit@1 is 0 and its gate must fail; citation validity (gate 0.0) must not.
    q = {"id": "x1", "kind": "lookup", "question": "Art. 8(2) OPSC", "answerable": True, "match": "all",
         "gold": [{"doc_id": "crc-opsc", "article": "1", "paragraph": None}], "expected_answer": ""}
    gold = tmp_path / "dev.jsonl"
    gold.write_text(json.dumps(q) + "\n")
    th = tmp_path / "thresholds.toml"
    th.write_text('[dev]\n"article.hit@1" = 0.5\n"answer.citation_validity" = 0.0\n')
    rc = cli_run(_args(questions=[str(gold)], out=str(tmp_path / "o"), check=True, thresholds=str(th)), small_index)
    err = capsys.readouterr().err
    assert rc == 1
    assert "dev article.hit@1 = 0.000 < minimum 0.500" in err and "citation_validity" not in err
    data = json.loads((tmp_path / "o" / "results.json").read_text())
    assert data["cold_start"]["seconds"] > 0  # measured once, in a new process
    th.write_text('[dev]\n"answer.citation_validity" = 0.0\n')
    assert cli_run(_args(questions=[str(gold)], out=str(tmp_path / "o2"), check=True, thresholds=str(th),
                         no_cold_start=True), small_index) == 0


def test_cli_rejects_unknown_threshold_metric_before_running(small_index, tmp_path, capsys):
    th = tmp_path / "thresholds.toml"
    th.write_text('[dev]\n"article.hit@7" = 0.5\n')
    rc = cli_run(_args(check=True, thresholds=str(th), out=str(tmp_path / "o")), small_index)
    assert rc == 2 and "article.hit@7" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_default_run_never_reads_the_sealed_set():
    assert [p.name for p in DEFAULT_QUESTIONS] == ["dev.jsonl"]
    assert SEALED_QUESTIONS.name == "sealed.jsonl" and SEALED_QUESTIONS not in DEFAULT_QUESTIONS


def test_sealed_run_writes_a_dated_report_without_question_texts(small_index, tmp_path, monkeypatch, capsys):
    """`rag eval --sealed` on a synthetic stand-in for eval/gold/sealed.jsonl (the real one is
    never run by tests): only that file is asked, and no question or answer text is written."""
    secret = "Does Article 3 of the OPSC cover the offering of a child for forced labour?"
    rows = [
        {"id": "s1", "kind": "coverage_yes", "question": secret, "answerable": True, "match": "all",
         "gold": [{"doc_id": "crc-opsc", "article": "3", "paragraph": "1"}], "expected_answer": "Yes."},
        {"id": "s2", "kind": "unanswerable", "question": "What fines does the GDPR set for late breach notices?",
         "answerable": False, "match": "all", "gold": [], "topic": "near", "verdict": "not_addressed",
         "expected_answer": "Not addressed."},
    ]
    fake = tmp_path / "gold" / "sealed.jsonl"
    fake.parent.mkdir()
    fake.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setattr(harness, "SEALED_QUESTIONS", fake)
    assert cli_run(_args(sealed=True, questions=["x.jsonl"]), small_index) == 2  # --sealed runs sealed.jsonl alone
    assert cli_run(_args(sealed=True, check=True), small_index) == 2  # and is not a gate
    capsys.readouterr()
    out = tmp_path / "reports"
    assert cli_run(_args(sealed=True, out=str(out), no_cold_start=True), small_index) == 0
    stem = f"sealed-{date.today().isoformat()}"
    assert {p.name for p in out.iterdir()} >= {f"{stem}.md", f"{stem}.html", f"{stem}.json"}
    md = (out / f"{stem}.md").read_text()
    data = json.loads((out / f"{stem}.json").read_text())
    assert data["splits"] == ["sealed"] and [q["id"] for q in data["questions"]] == ["s1", "s2"]
    assert "Verdicts and refusals" in md and "Not listed" in md
    for text in (md, (out / f"{stem}.html").read_text(), json.dumps(data), capsys.readouterr().out):
        assert secret not in text and "GDPR" not in text
