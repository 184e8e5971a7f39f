"""`rag eval`: run the harness, print the headline, optionally gate on thresholds."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from ..settings import Settings
from .gold import GoldError
from .configs import REFERENCE, EvalError
from .harness import run_evaluation
from .judge import LabelError
from .results import EvalResult
from .thresholds import THRESHOLDS, ThresholdError, check_thresholds, load_thresholds

_SHOW = [("article.hit@5", "Art hit@5"), ("article.mrr@10", "Art MRR@10"), ("paragraph.hit@5", "Para hit@5"),
         ("answer.refusal_accuracy", "Refusal"), ("answer.citation_validity", "Cit.valid"),
         ("answer.faithfulness", "Faithful"), ("answer.verdict_accuracy_coverage", "Verdict"),
         ("answer.confidently_wrong", "ConfWrong"), ("answer.refused_near", "NearRef"),
         ("answer.refused_answerable", "AnsRef")]


def headline(result: EvalResult) -> str:
    lines = [f"{'split':8} {'config':14} " + " ".join(f"{h:>10}" for _, h in _SHOW)]
    for split in result.splits:
        for c in result.configs:
            m = result.summary[c.name].get(split, {})
            cells = " ".join(f"{'n/a' if m.get(k) is None else format(m[k], '.3f'):>10}" for k, _ in _SHOW)
            lines.append(f"{split:8} {c.name:14} {cells}")
    return "\n".join(lines)


def run(args, settings: Settings) -> int:
    """Exit codes: 0 ok, 1 below a threshold (with --check), 2 the evaluation could not run."""
    questions = getattr(args, "questions", None) or None
    compare = list(getattr(args, "compare", None) or [])
    sealed = bool(getattr(args, "sealed", False))
    stem = "report"
    if sealed:
        if questions:
            print("error: --sealed runs eval/gold/sealed.jsonl alone; do not combine it with --questions",
                  file=sys.stderr)
            return 2
        if getattr(args, "check", False):
            print("error: --sealed is a one-off report, not a gate; it has no thresholds (drop --check)",
                  file=sys.stderr)
            return 2
        stem = f"sealed-{date.today().isoformat()}"
    out = Path(getattr(args, "out", None) or ("eval/reports" if sealed else "eval/reports/latest"))
    if sealed:  # a sealed report is a record: a second run the same day never overwrites the first
        n, base = 2, stem
        while (out / f"{stem}.md").exists():
            stem, n = f"{base}-{n}", n + 1
    limit = getattr(args, "limit", None)
    if limit is not None and limit < 1:
        print("error: --limit must be at least 1", file=sys.stderr)
        return 2
    thresholds_path = Path(getattr(args, "thresholds", None) or THRESHOLDS)
    thresholds = None
    try:
        if getattr(args, "check", False):
            thresholds = load_thresholds(thresholds_path)  # fail before a long run, not after
        result = run_evaluation(settings, questions, compare, out, baselines=not getattr(args, "no_baselines", False),
                                limit=limit, progress=not getattr(args, "quiet", False),
                                cold_start=not getattr(args, "no_cold_start", False), sealed=sealed, stem=stem)
    except (EvalError, GoldError, ThresholdError, LabelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(headline(result))
    cs = result.cold_start
    if cs.get("seconds") is not None:
        print(f"cold start (rag ask, new process): {cs['seconds']:.1f} s")
    for note in result.notes:
        print(f"note: {note}")
    if sealed:
        print(f"wrote {out / (stem + '.json')}, {out / (stem + '.md')}, {out / (stem + '.html')}")
    else:
        print(f"wrote {out / 'results.json'}, {out / 'report.md'}, {out / 'report.html'}")
    if thresholds is None:
        return 0
    failures, notes = check_thresholds(result.summary[REFERENCE], thresholds)
    for n in notes:
        print(f"note: {n}")
    if failures:
        print(f"FAILED: {len(failures)} metric(s) below eval thresholds ({thresholds_path}):", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(f"all thresholds met ({thresholds_path})")
    return 0
