"""Run the gold questions through the product and its comparisons; collect every number.

    result = run_evaluation(Settings(), out_dir=Path("eval/reports/latest"))
    failures = result.check(load_thresholds(THRESHOLDS))

One run asks every question of every split with the reference configuration (the
settings given), then with each comparison on the same questions: the lexical preset
(BM25 alone), the plain llama-index baseline (retrieval only), and any `compare`
presets or TOML files. Conversations are asked turn by turn with the earlier turns as
history, and each turn is scored on its own.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from ..api import QuestionError, TreatyQA
from ..index.service import Index
from ..model import Answer, Turn
from ..settings import PRESETS, REPO_ROOT, Settings
from .gold import GoldItem, Unit, load_many
from .judge import LabelError, OfflineJudge, RagasJudge, answer_claims, load_labels
from .metrics import (
    KS,
    Locator,
    RetrievedItem,
    check_citations,
    citation_prf,
    mean,
    percentile,
    refusal_stats,
    retrieval_metrics,
)

DEFAULT_QUESTIONS = [REPO_ROOT / "eval" / "gold" / "dev.jsonl", REPO_ROOT / "eval" / "gold" / "heldout.jsonl"]
THRESHOLDS = REPO_ROOT / "eval" / "thresholds.toml"
LABELS = REPO_ROOT / "eval" / "labels" / "faithfulness.jsonl"
REFERENCE = "product"
STAGES = ("resolve", "search", "retrieve", "answer", "total")
_INDEX_FIELDS = ("index_dir", "collection", "chroma_host", "chroma_port", "embedding", "chunking")
TOP_K = 10


class EvalError(ValueError):
    """The evaluation cannot run as asked; the message says what to change."""


@dataclass
class ConfigSpec:
    name: str
    kind: str  # product | preset | config | baseline
    description: str
    settings: Settings | None = None
    answers: bool = True  # False: retrieval-only, answer metrics are n/a


@dataclass
class UnitRun:
    """One configuration on one question (or turn)."""

    retrieved: list[dict] = field(default_factory=list)
    answer: str | None = None
    refused: bool | None = None
    citations: list[dict] = field(default_factory=list)
    faithfulness: dict | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    resolved_question: str | None = None
    history: list[str] = field(default_factory=list)  # earlier turns asked with it
    error: str | None = None

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class EvalResult:
    reference: str
    configs: list[ConfigSpec]
    units: list[Unit]
    runs: dict[str, dict[str, UnitRun]]  # config -> unit id -> run
    summary: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # config -> split -> metric
    by_kind: dict[str, dict[str, dict[str, dict[str, float | None]]]] = field(default_factory=dict)
    latency: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # config -> stage -> stat
    cold_start: dict[str, Any] = field(default_factory=dict)
    judge: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    out_dir: Path | None = None

    def check(self, thresholds: dict[str, dict[str, float]]) -> list[str]:
        return check_thresholds(self.summary.get(self.reference, {}), thresholds)[0]

    def to_json(self) -> dict:
        questions = []
        for u in self.units:
            questions.append({
                "id": u.uid, "qid": u.qid, "kind": u.kind, "split": u.split, "turn": u.turn,
                "question": u.question, "answerable": u.answerable, "match": u.match,
                "gold": [g.__dict__ for g in u.gold],
                "results": {c.name: self.runs[c.name][u.uid].to_json() for c in self.configs
                            if u.uid in self.runs.get(c.name, {})},
            })
        return _rounded({
            "reference": self.reference,
            "configs": [{"name": c.name, "kind": c.kind, "description": c.description, "answers": c.answers}
                        for c in self.configs],
            "splits": self.splits,
            "summary": self.summary,
            "by_kind": self.by_kind,
            "latency": self.latency,
            "cold_start": self.cold_start,
            "judge": self.judge,
            "notes": self.notes,
            "questions": questions,
        })


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {str(k): _rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


# -- configurations ------------------------------------------------------------------

def _compare_spec(entry: str, base: Settings) -> ConfigSpec:
    if entry in PRESETS:
        return ConfigSpec(entry, "preset", f"preset {entry!r}: {PRESETS[entry] or 'default settings'}",
                          base.preset(entry))
    path = Path(entry)
    if path.suffix.lower() != ".toml":
        raise EvalError(f"--compare {entry!r}: not a preset ({', '.join(sorted(PRESETS))}) nor a .toml file")
    if not path.is_file():
        raise EvalError(f"--compare {entry}: file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise EvalError(f"--compare {entry}: invalid TOML ({exc})") from exc
    fields = Settings.model_fields
    for key, value in data.items():
        if key not in fields:
            raise EvalError(f"--compare {entry}: unknown setting {key!r}; known: {', '.join(sorted(fields))}")
        sub = fields[key].annotation
        if isinstance(value, dict) and hasattr(sub, "model_fields"):
            unknown = set(value) - set(sub.model_fields)
            if unknown:
                raise EvalError(f"--compare {entry}: unknown [{key}] setting(s) {', '.join(sorted(unknown))}")
    try:
        settings = base.with_overrides(**data)
    except ValueError as exc:
        raise EvalError(f"--compare {entry}: {exc}") from exc
    return ConfigSpec(path.stem, "config", f"settings from {path.name}: {data}", settings)


def _same_index(a: Settings, b: Settings) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in _INDEX_FIELDS)


def ensure_index(index: Index, settings: Settings, progress: bool) -> None:
    """Build the index from the corpus when it is empty (or was built by another model or
    chunker), so `rag eval` works on a fresh checkout."""
    corpus = Path(settings.corpus_dir)
    if index.is_empty() and not corpus.is_dir():
        raise EvalError(f"the index at {settings.index_dir} is empty and the corpus directory {corpus} does not "
                        "exist: set RAG_CORPUS_DIR or run `rag ingest PATH` first")
    report = index.ensure_built(progress=progress)
    if report is not None and index.is_empty():
        raise EvalError(f"ingesting {corpus} indexed no documents: {report.summary()}")


# -- one configuration ---------------------------------------------------------------

def _item_json(item: RetrievedItem) -> dict:
    return {"doc": item.doc_id, "article": item.article, "paragraph": item.paragraph,
            "provision": item.provision_id, "label": item.label, "score": item.score}


def _answer_metrics(unit: Unit, answer: Answer, qa: TreatyQA, locator: Locator, judge: OfflineJudge,
                    run: UnitRun) -> None:
    run.answer = answer.answer
    run.refused = answer.refused
    run.resolved_question = answer.resolved_question
    checks = check_citations(answer, qa.index.provision)
    cited: list[RetrievedItem] = []
    for c, chk in zip(answer.citations, checks):
        prov = qa.index.provision(c.provision_id)
        item = locator.locate(c.doc_id, prov.start, prov.end, prov.id) if prov else None
        if item:
            cited.append(item)
        run.citations.append({"provision": c.provision_id, "label": c.label, "exists": chk.exists,
                              "given": chk.given})
    m = run.metrics
    m["answer.refusal_correct"] = 1.0 if answer.refused != unit.answerable else 0.0
    m["answer.citations"] = float(len(checks))
    m["answer.citations_valid"] = float(sum(c.valid for c in checks))
    m["answer.citation_validity"] = (m["answer.citations_valid"] / len(checks)) if checks else None
    prec, rec = (None, None)
    if unit.answerable:
        if answer.refused:
            rec = 0.0
        else:
            prec, rec = citation_prf(cited, unit.gold, unit.match)
    m["answer.citation_precision"] = prec
    m["answer.citation_recall"] = rec
    claims, uncited = answer_claims(answer)
    judge.prefetch([(cl.sentence, cl.cited_text) for cl in claims if cl.cited_text.strip()])
    verdicts = []
    for cl in claims:
        v = judge.judge(cl.sentence, cl.cited_text)
        verdicts.append({"sentence": cl.sentence, "cites": cl.markers, "supported": v.supported, "how": v.how,
                         "score": v.score})
    supported = sum(v["supported"] for v in verdicts)
    run.faithfulness = {"judge": judge.name, "sentences": verdicts, "uncited_sentences": uncited}
    m["answer.claims"] = float(len(verdicts))
    m["answer.claims_supported"] = float(supported)
    m["answer.faithfulness"] = supported / len(verdicts) if verdicts else None


def _run_product(spec: ConfigSpec, qa: TreatyQA, items: list[GoldItem], judge: OfflineJudge,
                 ragas: RagasJudge | None, progress: bool) -> dict[str, UnitRun]:
    from tqdm import tqdm

    locator = Locator(qa.index.parsed)
    runs: dict[str, UnitRun] = {}
    if items:  # load the model and caches first: latency is measured warm (cold start apart)
        try:
            qa.ask(items[0].units[0].question)
        except QuestionError:
            pass
    bar = tqdm(total=sum(len(i.units) for i in items), desc=f"eval {spec.name}", unit="q", disable=not progress)
    for item in items:
        history: list[Turn] = []
        for unit in item.units:
            run = UnitRun(history=[t.question for t in history])
            runs[unit.uid] = run
            try:
                answer = qa.ask(unit.question, list(history) if history else None)
                query = qa.retriever.resolve(unit.question, list(history) if history else None)
                passages = qa.retriever.run(query, None, top_k=TOP_K)
            except QuestionError as exc:
                run.error = f"question refused by the product: {exc}"
                bar.update(1)
                continue
            history.append(Turn.from_answer(answer))
            # The first TOP_K passages, as the baseline gets TOP_K nodes; duplicates are dropped
            # when scoring, so @10 may see fewer than 10 distinct units.
            ranked = [it for it in (locator.from_passage(p) for p in passages[:TOP_K]) if it is not None]
            run.retrieved = [_item_json(it) for it in ranked]
            run.timings = {k: float(v) for k, v in answer.timings.items()}
            if unit.gold:
                run.metrics.update(retrieval_metrics(ranked, unit.gold, unit.match))
            _answer_metrics(unit, answer, qa, locator, judge, run)
            if ragas is not None and not answer.refused:
                try:
                    contexts = [c.text for c in answer.citations] or [p.chunk.text for p in answer.passages]
                    run.metrics["answer.faithfulness_ragas"] = ragas.score(unit.question, answer.answer, contexts)
                except Exception as exc:  # noqa: BLE001 - an LLM judge failure must not stop the run
                    run.error = f"ragas judge failed: {exc}"
            bar.update(1)
    bar.close()
    return runs


def _run_baseline(spec: ConfigSpec, baseline, items: list[GoldItem], progress: bool) -> dict[str, UnitRun]:
    from tqdm import tqdm

    runs: dict[str, UnitRun] = {}
    bar = tqdm(total=sum(len(i.units) for i in items), desc=f"eval {spec.name}", unit="q", disable=not progress)
    for item in items:
        for unit in item.units:
            ranked, seconds = baseline.retrieve(unit.question)
            ranked = ranked[:TOP_K]
            run = UnitRun(retrieved=[_item_json(it) for it in ranked],
                          timings={"retrieve": seconds, "total": seconds})
            if unit.gold:
                run.metrics.update(retrieval_metrics(ranked, unit.gold, unit.match))
            runs[unit.uid] = run
            bar.update(1)
    bar.close()
    return runs


# -- aggregation ---------------------------------------------------------------------

RETRIEVAL_NAMES = [f"{lvl}.{m}@{k}" for lvl in ("article", "paragraph") for m in ("hit", "recall", "mrr", "ndcg")
                   for k in KS]


def aggregate(units: Sequence[Unit], runs: dict[str, UnitRun], answers: bool) -> dict[str, float | None]:
    out: dict[str, float | None] = {"n.units": float(len(units))}
    scored = [runs[u.uid] for u in units if u.uid in runs and u.gold and runs[u.uid].error is None]
    out["n.retrieval"] = float(len(scored))
    for name in RETRIEVAL_NAMES:
        out[name] = mean(r.metrics.get(name) for r in scored)
    if not answers:
        return out
    done = [(u, runs[u.uid]) for u in units if u.uid in runs and runs[u.uid].refused is not None]
    rs = refusal_stats((u.answerable, bool(r.refused)) for u, r in done)
    out["answer.refusal_accuracy"] = rs.accuracy
    out["answer.refusal_precision"] = rs.precision
    out["answer.refusal_recall"] = rs.recall
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


def measure_cold_start(settings: Settings, question: str, timeout: float = 300.0) -> dict[str, Any]:
    """Process start to first answer of `rag ask`, in a fresh interpreter."""
    cmd = [sys.executable, "-m", "rag.cli", "--index-dir", str(settings.index_dir), "ask", "--json", question]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO_ROOT),
                                env=env)
    except OSError as exc:
        return {"seconds": None, "error": f"could not start `rag ask`: {exc}", "command": " ".join(cmd)}
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        seconds = time.perf_counter() - t0
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return {"seconds": None, "error": f"`rag ask` took over {timeout:.0f} s", "command": " ".join(cmd)}
    if proc.returncode != 0 or not first.strip():
        return {"seconds": None, "error": f"`rag ask` exited {proc.returncode}: {err.strip()[-500:]}",
                "command": " ".join(cmd)}
    return {"seconds": seconds, "question": question, "command": " ".join(cmd[1:])}


# -- thresholds ----------------------------------------------------------------------

class ThresholdError(ValueError):
    """eval/thresholds.toml is malformed or names a metric that does not exist."""


def load_thresholds(path: Path | str = THRESHOLDS) -> dict[str, dict[str, float]]:
    path = Path(path)
    if not path.is_file():
        raise ThresholdError(f"{path}: thresholds file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ThresholdError(f"{path}: invalid TOML ({exc})") from exc
    known = set(RETRIEVAL_NAMES) | {"answer.refusal_accuracy", "answer.refusal_precision", "answer.refusal_recall",
                                    "answer.citation_validity", "answer.citation_precision",
                                    "answer.citation_recall", "answer.faithfulness"}
    out: dict[str, dict[str, float]] = {}
    for split, table in data.items():
        if not isinstance(table, dict):
            raise ThresholdError(f"{path}: [{split}] must be a table of metric = minimum")
        for metric, value in table.items():
            if metric not in known:
                raise ThresholdError(f"{path}: [{split}] unknown metric {metric!r}; known: {', '.join(sorted(known))}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ThresholdError(f"{path}: [{split}] {metric} must be a number between 0 and 1")
            out.setdefault(split, {})[metric] = float(value)
    return out


def check_thresholds(summary: dict[str, dict[str, float | None]], thresholds: dict[str, dict[str, float]]
                     ) -> tuple[list[str], list[str]]:
    """(failures, notes). A split that was not evaluated is noted, not failed."""
    failures, notes = [], []
    for split, table in thresholds.items():
        if split not in summary:
            notes.append(f"[{split}] not evaluated in this run; its thresholds were not checked")
            continue
        for metric, minimum in table.items():
            value = summary[split].get(metric)
            if value is None:
                failures.append(f"{split} {metric}: not measured (minimum {minimum:.3f})")
            elif value < minimum:
                failures.append(f"{split} {metric} = {value:.3f} < minimum {minimum:.3f}")
    return failures, notes


# -- the run -------------------------------------------------------------------------

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


def run_evaluation(settings: Settings, questions_files: Sequence[Path | str] | None = None,
                   compare: Sequence[str] = (), out_dir: Path | str | None = None, *, baselines: bool = True,
                   limit: int | None = None, progress: bool = True, cold_start: bool = True,
                   log: Callable[[str], None] | None = None) -> EvalResult:
    """Evaluate; with out_dir, also write results.json, report.md and report.html there."""
    say = log or (lambda m: print(m, file=sys.stderr) if progress else None)
    files = [Path(f) for f in (questions_files or DEFAULT_QUESTIONS)]
    items = _limit(load_many(files), limit)
    units = [u for it in items for u in it.units]
    splits = list(dict.fromkeys(it.split for it in items))

    qa = TreatyQA(settings)
    ensure_index(qa.index, settings, progress)
    notes: list[str] = []
    missing = sorted({g.doc_id for u in units for g in u.gold} - set(qa.index.documents))
    if missing:
        notes.append(f"gold documents not in the index (their questions cannot be answered): {', '.join(missing)}")

    specs = [ConfigSpec(REFERENCE, "product", "the product with the given settings (reference)", settings)]
    if baselines:
        specs.append(ConfigSpec("lexical", "preset", "BM25 alone (preset 'lexical')", settings.preset("lexical")))
    for entry in compare:
        spec = _compare_spec(entry, settings)
        if any(s.name == spec.name for s in specs):
            continue
        specs.append(spec)
    factories: dict[str, PlainLlamaIndexFactory] = {}
    if baselines:
        for name, size in (("llama-index", None), ("llama-index-200", 200)):
            factories[name] = PlainLlamaIndexFactory(qa.index, progress, say, size)
            specs.append(ConfigSpec(name, "baseline", factories[name].description, None, answers=False))

    judge = OfflineJudge(qa.index.embedder)
    judge_info: dict[str, Any] = {"name": judge.name}
    try:
        agreement = _calibrate(judge, settings)
        judge_info["agreement"] = agreement.__dict__
    except LabelError as exc:
        notes.append(f"faithfulness judge not calibrated: {exc}")
    judge_info["description"] = judge.describe()
    ragas_ok, ragas_why = RagasJudge.available(settings)
    ragas = None
    if ragas_ok:
        try:
            ragas = RagasJudge(settings)
        except Exception as exc:  # noqa: BLE001 - a broken optional judge is reported, not fatal
            ragas_ok, ragas_why = False, f"ragas could not be set up: {exc}"
    judge_info["ragas"] = {"used": ragas is not None, "why": ragas_why}
    if ragas is None:
        notes.append(f"RAGAS faithfulness not computed: {ragas_why}")

    runs: dict[str, dict[str, UnitRun]] = {}
    for spec in specs:
        if spec.kind == "baseline":
            runs[spec.name] = _run_baseline(spec, factories[spec.name].get(), items, progress)
            continue
        if spec.name == REFERENCE:
            cqa = qa
        elif _same_index(spec.settings, settings):
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
        runs[spec.name] = _run_product(spec, cqa, items, judge, ragas if spec.name == REFERENCE else None, progress)

    result = EvalResult(reference=REFERENCE, configs=specs, units=units, runs=runs, notes=notes, splits=splits,
                        judge=judge_info)
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
    if out_dir is not None:
        from .report import write_report

        result.out_dir = Path(out_dir)
        write_results(result, result.out_dir / "results.json")
        write_report(result, result.out_dir)
    return result


class PlainLlamaIndexFactory:
    """Builds the baseline on first use, so its cost is only paid when it is evaluated."""

    def __init__(self, index: Index, progress: bool, say: Callable[[str], None], chunk_size: int | None = None):
        self.index, self.progress, self.say, self._b = index, progress, say, None
        self.chunk_size = chunk_size
        split = f"SentenceSplitter(chunk_size={chunk_size})" if chunk_size else "default SentenceSplitter"
        self.description = (f"plain llama-index: VectorStoreIndex over whole files, {split}, same "
                            "embedding model, similarity_top_k=10; retrieval only")

    def get(self):
        if self._b is None:
            from .baselines import PlainLlamaIndex

            self.say("building the plain llama-index baseline (embeds the corpus again) ...")
            self._b = PlainLlamaIndex(self.index, top_k=TOP_K, progress=self.progress, chunk_size=self.chunk_size)
        return self._b


def write_results(result: EvalResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")
