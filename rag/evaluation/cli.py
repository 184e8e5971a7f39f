"""`rag eval`: run the harness, print the headline, optionally gate on thresholds."""
from __future__ import annotations

import sys
from pathlib import Path

from ..settings import Settings
from .gold import GoldError
from .harness import (
    REFERENCE,
    THRESHOLDS,
    EvalError,
    EvalResult,
    ThresholdError,
    check_thresholds,
    load_thresholds,
    run_evaluation,
)
from .judge import LabelError

_SHOW = [("article.hit@5", "Art hit@5"), ("article.mrr@10", "Art MRR@10"), ("paragraph.hit@5", "Para hit@5"),
         ("answer.refusal_accuracy", "Refusal"), ("answer.citation_validity", "Cit.valid"),
         ("answer.faithfulness", "Faithful")]


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
    out = Path(getattr(args, "out", None) or "eval/reports/latest")
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
                                cold_start=not getattr(args, "no_cold_start", False))
    except (EvalError, GoldError, ThresholdError, LabelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(headline(result))
    cs = result.cold_start
    if cs.get("seconds") is not None:
        print(f"cold start (rag ask, new process): {cs['seconds']:.1f} s")
    for note in result.notes:
        print(f"note: {note}")
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
