"""Scored units -> one number per metric (per split, per kind), and latency percentiles."""
from __future__ import annotations

from collections.abc import Sequence

from .gold import Unit
from .metrics import KS, mean, percentile, refusal_split, refusal_stats, verdict_stats
from .runs import UnitRun

STAGES = ("resolve", "search", "retrieve", "answer", "total")
RETRIEVAL_NAMES = [f"{lvl}.{m}@{k}" for lvl in ("article", "paragraph") for m in ("hit", "recall", "mrr", "ndcg")
                   for k in KS]
ANSWER_NAMES = [
    "answer.refusal_accuracy", "answer.refusal_precision", "answer.refusal_recall",
    "answer.refused_near", "answer.refused_far", "answer.refused_answerable",
    "answer.verdict_accuracy", "answer.verdict_accuracy_coverage", "answer.confidently_wrong", "answer.hedge",
    "answer.verdict_missing", "answer.verdict_supported", "answer.named_cited",
    "answer.citation_validity", "answer.citation_precision", "answer.citation_recall", "answer.faithfulness",
]


def aggregate(units: Sequence[Unit], runs: dict[str, UnitRun], answers: bool) -> dict[str, float | None]:
    out: dict[str, float | None] = {"n.units": float(len(units))}
    scored = [runs[u.uid] for u in units if u.uid in runs and u.gold and runs[u.uid].error is None]
    out["n.retrieval"] = float(len(scored))
    for name in RETRIEVAL_NAMES:
        out[name] = mean(r.metrics.get(name) for r in scored)
    if not answers:
        return out
    done = [(u, runs[u.uid]) for u in units if u.uid in runs and "answer.declined" in runs[u.uid].metrics]
    rs = refusal_stats((u.answerable, r.metrics["answer.declined"] == 1.0) for u, r in done)
    out["answer.refusal_accuracy"] = rs.accuracy
    out["answer.refusal_precision"] = rs.precision
    out["answer.refusal_recall"] = rs.recall
    sp = refusal_split((u.answerable, u.topic, r.metrics["answer.declined"] == 1.0) for u, r in done)
    out["answer.refused_near"], out["answer.refused_far"] = sp.near_refused, sp.far_refused
    out["answer.refused_answerable"] = sp.answerable_refused
    out["n.near"], out["n.far"] = float(sp.n_near), float(sp.n_far)
    vs = verdict_stats((u.verdict, (r.verdict or {}).get("kind") if r.verdict else
                        ("not_addressed" if r.refused else None)) for u, r in done if u.verdict is not None)
    out["answer.verdict_accuracy"] = vs.accuracy
    out["answer.verdict_accuracy_coverage"] = vs.coverage_accuracy
    out["answer.confidently_wrong"] = vs.confidently_wrong
    out["answer.hedge"] = vs.hedge
    out["answer.verdict_missing"] = vs.missing
    out["n.verdicts"], out["n.coverage"] = float(vs.n), float(vs.n_coverage)
    out["answer.verdict_supported"] = mean(r.metrics.get("answer.verdict_supported") for _, r in done)
    out["answer.named_cited"] = mean(r.metrics.get("answer.named_cited") for _, r in done)
    n_cit = sum(r.metrics.get("answer.citations") or 0 for _, r in done)
    n_valid = sum(r.metrics.get("answer.citations_valid") or 0 for _, r in done)
    out["answer.citation_validity"] = n_valid / n_cit if n_cit else None
    out["answer.citation_precision"] = mean(r.metrics.get("answer.citation_precision") for _, r in done)
    out["answer.citation_recall"] = mean(r.metrics.get("answer.citation_recall") for _, r in done)
    n_claims = sum(r.metrics.get("answer.claims") or 0 for _, r in done)
    n_sup = sum(r.metrics.get("answer.claims_supported") or 0 for _, r in done)
    out["answer.faithfulness"] = n_sup / n_claims if n_claims else None
    ragas = [r.metrics.get("answer.faithfulness_ragas") for _, r in done]
    if any(v is not None for v in ragas):
        out["answer.faithfulness_ragas"] = mean(ragas)
    out["n.answers"] = float(len(done))
    return out


def latency(units: Sequence[Unit], runs: dict[str, UnitRun]) -> dict[str, dict[str, float | None]]:
    out = {}
    for stage in STAGES:
        vals = [runs[u.uid].timings[stage] for u in units if u.uid in runs and stage in runs[u.uid].timings]
        if vals:
            out[stage] = {"p50": percentile(vals, 50), "p95": percentile(vals, 95), "n": float(len(vals))}
    return out
