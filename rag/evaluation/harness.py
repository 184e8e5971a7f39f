"""Run the gold questions through the product and its comparisons; collect every number.

    result = run_evaluation(Settings(), out_dir=Path("eval/reports/latest"))
    failures = result.check(load_thresholds(THRESHOLDS))

The data flows one way through the modules of this package:

    gold (questions) -> configs + runs (ask every configuration) -> scoring + aggregate (metrics)
    -> results (results.json) -> report (report.md / .html)

This module only wires them together. The default run is the development set
(eval/gold/dev.jsonl); `sealed=True` runs eval/gold/sealed.jsonl alone (never by default).
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..api import TreatyQA
from ..settings import REPO_ROOT, Settings
from .aggregate import ANSWER_NAMES, RETRIEVAL_NAMES, STAGES, aggregate, latency
from .configs import REFERENCE, TOP_K, ConfigSpec, EvalError, build_specs, ensure_index, same_index
from .gold import GoldItem, load_many
from .judge import LabelError, OfflineJudge, RagasJudge, load_labels
from .metrics import Locator
from .results import EvalResult, write_results
from .runs import UnitRun, ask_baseline, ask_product, measure_cold_start
from .scoring import score_answer, score_retrieval
from .thresholds import THRESHOLDS, ThresholdError, check_thresholds, load_thresholds

GOLD_DIR = REPO_ROOT / "eval" / "gold"
DEFAULT_QUESTIONS = [GOLD_DIR / "dev.jsonl"]
SEALED_QUESTIONS = GOLD_DIR / "sealed.jsonl"  # never in a default run; `rag eval --sealed` only
LABELS = REPO_ROOT / "eval" / "labels" / "faithfulness.jsonl"

__all__ = ["ANSWER_NAMES", "DEFAULT_QUESTIONS", "REFERENCE", "RETRIEVAL_NAMES", "SEALED_QUESTIONS", "STAGES",
           "THRESHOLDS", "TOP_K", "ConfigSpec", "EvalError", "EvalResult", "ThresholdError", "UnitRun",
           "aggregate", "check_thresholds", "latency", "load_thresholds", "run_evaluation", "write_results"]

_CALIBRATIONS: dict[tuple, Any] = {}


def _calibrate(judge: OfflineJudge, settings: Settings):
    """Calibrate on the hand labels, once per process for the same labels and model."""
    key = (str(LABELS), LABELS.stat().st_mtime_ns if LABELS.exists() else 0, settings.embedding.model)
    if key in _CALIBRATIONS:
        agreement = _CALIBRATIONS[key]
        judge.threshold, judge.calibrated, judge.agreement = agreement.threshold, True, agreement
        return agreement
    agreement = judge.calibrate(load_labels(LABELS))
    _CALIBRATIONS[key] = agreement
    return agreement


def _limit(items: list[GoldItem], limit: int | None) -> list[GoldItem]:
    if not limit:
        return items
    out, count = [], {}
    for it in items:
        if count.get(it.split, 0) < limit:
            out.append(it)
            count[it.split] = count.get(it.split, 0) + 1
    return out


def _judges(settings: Settings, qa: TreatyQA, notes: list[str]) -> tuple[OfflineJudge, RagasJudge | None, dict]:
    judge = OfflineJudge(qa.index.embedder)
    info: dict[str, Any] = {"name": judge.name}
    try:
        info["agreement"] = _calibrate(judge, settings).__dict__
    except LabelError as exc:
        notes.append(f"faithfulness judge not calibrated: {exc}")
    info["description"] = judge.describe()
    ragas_ok, ragas_why = RagasJudge.available(settings)
    ragas = None
    if ragas_ok:
        try:
            ragas = RagasJudge(settings)
        except Exception as exc:  # noqa: BLE001 - a broken optional judge is reported, not fatal
            ragas_why = f"ragas could not be set up: {exc}"
    info["ragas"] = {"used": ragas is not None, "why": ragas_why}
    if ragas is None:
        notes.append(f"RAGAS faithfulness not computed: {ragas_why}")
    return judge, ragas, info


def run_evaluation(settings: Settings, questions_files: Sequence[Path | str] | None = None,
                   compare: Sequence[str] = (), out_dir: Path | str | None = None, *, baselines: bool = True,
                   limit: int | None = None, progress: bool = True, cold_start: bool = True,
                   log: Callable[[str], None] | None = None, sealed: bool = False,
                   stem: str = "report") -> EvalResult:
    """Evaluate; with out_dir, also write results.json, report.md and report.html there.

    sealed=True: the questions are the sealed held-out set (or `questions_files`, for tests),
    and neither results.json nor the report lists question or answer texts.
    stem: the report's file name without suffix; "report" writes results.json + report.md/.html,
    any other stem writes <stem>.json + <stem>.md/.html (plots <stem>-*.png).
    """
    say = log or (lambda m: print(m, file=sys.stderr) if progress else None)
    default = [SEALED_QUESTIONS] if sealed else DEFAULT_QUESTIONS
    files = [Path(f) for f in (questions_files or default)]
    # 1. questions
    items = _limit(load_many(files), limit)
    units = [u for it in items for u in it.units]
    splits = list(dict.fromkeys(it.split for it in items))

    qa = TreatyQA(settings)
    ensure_index(qa.index, settings, progress)
    notes: list[str] = []
    missing = sorted({g.doc_id for u in units for g in u.gold} - set(qa.index.documents))
    if missing:
        notes.append(f"gold documents not in the index (their questions cannot be answered): {', '.join(missing)}")

    # 2. runs: every configuration asked the same questions
    specs, factories = build_specs(settings, compare, baselines, qa.index, progress, say)
    judge, ragas, judge_info = _judges(settings, qa, notes)
    runs: dict[str, dict[str, UnitRun]] = {}
    for spec in specs:
        if spec.kind == "baseline":
            r = ask_baseline(spec.name, factories[spec.name].get(), items, progress)
            for u in units:
                score_retrieval(u, r[u.uid])
            runs[spec.name] = r
            continue
        if spec.name == REFERENCE:
            cqa = qa
        elif same_index(spec.settings, settings):
            cqa = TreatyQA(spec.settings, index=qa.index)
        else:
            idx_settings = spec.settings
            if Path(spec.settings.index_dir) == Path(settings.index_dir):
                base = Path(out_dir) if out_dir else Path(settings.index_dir).parent
                idx_settings = spec.settings.with_overrides(index_dir=base / "indexes" / spec.name)
                spec.settings = idx_settings
            cqa = TreatyQA(idx_settings)
            say(f"{spec.name}: its settings need their own index at {idx_settings.index_dir}")
            ensure_index(cqa.index, idx_settings, progress)
        r = ask_product(spec.name, cqa, items, progress)
        # 3. metrics, per unit
        locator = Locator(cqa.index.parsed)
        for u in units:
            score_retrieval(u, r[u.uid])
            score_answer(u, r[u.uid], cqa.index.provision, locator, judge, ragas if spec.name == REFERENCE else None)
        runs[spec.name] = r

    # 3. metrics, aggregated
    result = EvalResult(reference=REFERENCE, configs=specs, units=units, runs=runs, notes=notes, splits=splits,
                        judge=judge_info, sealed=sealed)
    for spec in specs:
        r = runs[spec.name]
        result.summary[spec.name] = {s: aggregate([u for u in units if u.split == s], r, spec.answers)
                                     for s in splits}
        result.summary[spec.name]["all"] = aggregate(units, r, spec.answers)
        result.by_kind[spec.name] = {
            s: {k: aggregate([u for u in units if u.split == s and u.kind == k], r, spec.answers)
                for k in dict.fromkeys(u.kind for u in units if u.split == s)}
            for s in splits}
        result.latency[spec.name] = latency(units, r)
    errors = sum(1 for r in runs[REFERENCE].values() if r.error)
    if errors:
        notes.append(f"{errors} question(s) failed in the reference run; see their 'error' in results.json")
    for name, factory in factories.items():
        b = factory.get()
        trunc = (f"; {b.n_truncated} of them are longer than the embedding model's input and are embedded "
                 "from their start only" if b.n_truncated else "")
        notes.append(f"{name} baseline: {b.n_nodes} nodes, built in {b.build_seconds:.1f} s{trunc}")
    if cold_start and units:
        say("measuring cold start (rag ask in a new process) ...")
        result.cold_start = measure_cold_start(settings, units[0].question)
        if sealed:
            result.cold_start.pop("question", None)
            result.cold_start["command"] = "rag ask --json <first question>"
    # 4. report
    if out_dir is not None:
        from .report import write_report

        result.out_dir = Path(out_dir)
        write_results(result, result.out_dir / ("results.json" if stem == "report" else f"{stem}.json"))
        write_report(result, result.out_dir, stem)
    return result
