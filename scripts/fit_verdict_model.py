"""Fit the models of rag/answer/weigh.py on dev questions only.

    rag eval --no-baselines --out /tmp/dev
    python scripts/fit_verdict_model.py /tmp/dev/results.json [--margin M --C C]        # verdicts
    python scripts/fit_verdict_model.py /tmp/dev/results.json --model term              # unused terms

The signals are recorded on the answer's verdict: a coverage verdict's `signals` whenever the rules
said "partly", whatever the verdict model then decided; a refusal's `signals` for a term no text
uses, only for the questions refused, so the term model must be fitted on a run made without it
(the script refuses while rag/answer/term_gap_model.json is in place: move it aside, run the
evaluation, fit).

Term model: the dev units refused because "the texts never use the term X", labelled "answer" when
the gold says the question is answerable and "refuse" otherwise; a binary logistic regression; C
and margin chosen on leave-one-out accuracy, ties to the smaller margin.

Takes the dev coverage units whose rule verdict was "partly" (their `verdict.signals`), with the
gold verdict as the label, and fits a multinomial logistic regression (L2, standardised inputs).
The regularisation C and the margin by which "yes" or "no" must beat "partly" are chosen on
leave-one-out predictions, by accuracy minus twice the confidently-wrong (yes<->no) rate: a
confident wrong verdict costs a reader more than a hedge. Then it fits on all units and writes
rag/answer/verdict_model.json. Refuses a results file that holds sealed units.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from rag.answer.weigh import FEATURES, TERM_FEATURES, CoverageSignals, TermGapSignals  # noqa: E402


def load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = json.loads(path.read_text())
    X, y = [], []
    for q in data["questions"]:
        if q.get("split") != "dev":
            raise SystemExit(f"{q.get('qid')}: not a dev unit; the model is fitted on dev only")
        gold = q.get("verdict")
        v = (q["results"].get("product") or {}).get("verdict") or {}
        if gold not in ("yes", "no", "partly") or v.get("kind") not in ("yes", "no", "partly") \
                or set(v.get("signals") or {}) != set(CoverageSignals.__dataclass_fields__):
            continue
        X.append(CoverageSignals(**v["signals"]).vector())
        y.append(gold)
    return np.asarray(X, dtype=float), np.asarray(y)


def load_term(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = json.loads(path.read_text())
    X, y = [], []
    for q in data["questions"]:
        if q.get("split") != "dev":
            raise SystemExit(f"{q.get('qid')}: not a dev unit; the model is fitted on dev only")
        v = (q["results"].get("product") or {}).get("verdict") or {}
        if v.get("kind") != "not_addressed" or set(v.get("signals") or {}) != set(TermGapSignals.__dataclass_fields__):
            continue
        X.append(TermGapSignals(**v["signals"]).vector())
        y.append("answer" if q["answerable"] else "refuse")
    return np.asarray(X, dtype=float), np.asarray(y)


def fit_term(args) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut

    shipped = ROOT / "rag/answer/term_gap_model.json"
    if args.out is None and shipped.exists() and not args.results_without_term_model:
        raise SystemExit(f"{shipped.relative_to(ROOT)} is in place, so the run recorded only the questions it "
                         "refused: move it aside, run the evaluation again, then fit "
                         "(or pass --results-without-term-model if the run was made without it)")
    X, y = load_term(args.results)
    mean, scale = X.mean(0), X.std(0) + 1e-9
    Z = (X - mean) / scale
    print(f"{len(y)} dev units refused for an unused term: answerable {int((y == 'answer').sum())}, "
          f"unanswerable {int((y == 'refuse').sum())}")
    choices = []
    for C in args.C:
        probs = []
        for tr, te in LeaveOneOut().split(Z):
            m = LogisticRegression(C=C, max_iter=2000).fit(Z[tr], y[tr])
            probs.append(dict(zip(m.classes_, m.predict_proba(Z[te])[0])))
        for margin in args.margin:
            preds = np.asarray(["refuse" if p.get("answer", 0) < p.get("refuse", 0) + margin else "answer"
                                for p in probs])
            acc = float(np.mean(preds == y))
            wrong_answer = float(np.mean((preds == "answer") & (y == "refuse")))
            print(f"C={C:<4} margin={margin:<5} leave-one-out accuracy {acc:.3f}, unanswerable answered "
                  f"{wrong_answer:.3f} (rules alone: accuracy {np.mean(y == 'refuse'):.3f})")
            choices.append((acc, -margin, C, margin, wrong_answer))
    acc, _, C, margin, wrong = max(choices)
    print(f"chosen: C={C} margin={margin}")
    m = LogisticRegression(C=C, max_iter=2000).fit(Z, y)
    out = {"features": TERM_FEATURES, "classes": list(m.classes_), "coef": m.coef_.round(6).tolist(),
           "intercept": m.intercept_.round(6).tolist(), "mean": mean.round(6).tolist(),
           "scale": scale.round(6).tolist(), "margin": margin, "C": C, "units": int(len(y)),
           "loo_accuracy": round(acc, 4), "loo_unanswerable_answered": round(wrong, 4),
           "fitted_on": f"{args.results} ({len(y)} dev units)"}
    print(m.classes_[1], " ".join(f"{f}={v:+.2f}" for f, v in zip(TERM_FEATURES, m.coef_[0])))
    out_path = args.out or ROOT / "rag/answer/term_gap_model.json"
    out_path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {out_path}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--margin", type=float, nargs="*", default=[0.0, 0.1, 0.15, 0.2, 0.3])
    ap.add_argument("--C", type=float, nargs="*", default=[0.3, 1.0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--model", choices=["verdict", "term"], default="verdict")
    ap.add_argument("--results-without-term-model", action="store_true",
                    help="the results were made with rag/answer/term_gap_model.json moved aside")
    args = ap.parse_args()
    if args.model == "term":
        return fit_term(args)
    args.out = args.out or ROOT / "rag/answer/verdict_model.json"
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut

    X, y = load(args.results)
    mean, scale = X.mean(0), X.std(0) + 1e-9
    Z = (X - mean) / scale
    print(f"{len(y)} half-carried dev units: " + ", ".join(f"{k} {int((y == k).sum())}" for k in ("yes", "no", "partly")))

    def decide(p: np.ndarray, classes: list[str], margin: float) -> str:
        d = dict(zip(classes, p))
        best = max(("yes", "no"), key=lambda k: d.get(k, 0.0))
        return best if d.get(best, 0.0) >= d.get("partly", 0.0) + margin else "partly"

    choices = []
    for C in args.C:
        probs = []
        for tr, te in LeaveOneOut().split(Z):
            m = LogisticRegression(C=C, max_iter=2000).fit(Z[tr], y[tr])
            probs.append((m.predict_proba(Z[te])[0], list(m.classes_)))
        for margin in args.margin:
            preds = np.asarray([decide(p, cl, margin) for p, cl in probs])
            acc = float(np.mean(preds == y))
            wrong = float(np.mean(((preds == "yes") & (y == "no")) | ((preds == "no") & (y == "yes"))))
            print(f"C={C:<4} margin={margin:<5} leave-one-out accuracy {acc:.3f} yes<->no {wrong:.3f} "
                  f"(rules alone: accuracy {np.mean(y == 'partly'):.3f})")
            choices.append((acc - 2 * wrong, -margin, C, margin, acc, wrong))
    _, _, C, margin, acc, wrong = max(choices)
    print(f"chosen: C={C} margin={margin} (leave-one-out accuracy {acc:.3f}, yes<->no {wrong:.3f})")
    m = LogisticRegression(C=C, max_iter=2000).fit(Z, y)
    out = {"features": FEATURES, "classes": list(m.classes_), "coef": m.coef_.round(6).tolist(),
           "intercept": m.intercept_.round(6).tolist(), "mean": mean.round(6).tolist(),
           "scale": scale.round(6).tolist(), "margin": margin, "C": C, "units": int(len(y)),
           "loo_accuracy": round(acc, 4), "loo_confidently_wrong": round(wrong, 4),
           "fitted_on": f"{args.results} ({len(y)} dev units)"}
    for k, w in zip(m.classes_, m.coef_):
        print(k, " ".join(f"{f}={v:+.2f}" for f, v in zip(FEATURES, w)))
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
