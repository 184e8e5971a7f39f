"""Fit the model that weighs a half-carried subject (rag/answer/weigh.py) on dev questions only.

    rag eval --no-baselines --out /tmp/dev          # with no verdict_model.json: the rules alone
    python scripts/fit_verdict_model.py /tmp/dev/results.json [--margin 0.0]

Takes the dev coverage units whose rule verdict was "partly" (their `verdict.signals`), with the
gold verdict as the label, and fits a multinomial logistic regression (L2, C=1, standardised
inputs). Prints leave-one-out accuracy beside the rules' own (always "partly"), then writes
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
from rag.answer.weigh import FEATURES, CoverageSignals  # noqa: E402


def load(path: Path) -> tuple[np.ndarray, np.ndarray]:
    data = json.loads(path.read_text())
    X, y = [], []
    for q in data["questions"]:
        if q.get("split") != "dev":
            raise SystemExit(f"{q.get('qid')}: not a dev unit; the model is fitted on dev only")
        gold = q.get("verdict")
        v = (q["results"].get("product") or {}).get("verdict") or {}
        if gold not in ("yes", "no", "partly") or not v.get("signals"):
            continue
        X.append(CoverageSignals(**v["signals"]).vector())
        y.append(gold)
    return np.asarray(X, dtype=float), np.asarray(y)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--margin", type=float, default=0.0)
    ap.add_argument("--C", type=float, default=1.0)
    args = ap.parse_args()
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneOut

    X, y = load(args.results)
    mean, scale = X.mean(0), X.std(0) + 1e-9
    Z = (X - mean) / scale
    print(f"{len(y)} half-carried dev units: " + ", ".join(f"{k} {int((y == k).sum())}" for k in ("yes", "no", "partly")))

    def decide(p: np.ndarray, classes: list[str]) -> str:
        d = dict(zip(classes, p))
        best = max(("yes", "no"), key=lambda k: d.get(k, 0.0))
        return best if d.get(best, 0.0) >= d.get("partly", 0.0) + args.margin else "partly"

    preds = []
    for tr, te in LeaveOneOut().split(Z):
        m = LogisticRegression(C=args.C, max_iter=2000).fit(Z[tr], y[tr])
        preds.append(decide(m.predict_proba(Z[te])[0], list(m.classes_)))
    preds = np.asarray(preds)
    print(f"leave-one-out accuracy {np.mean(preds == y):.3f} (rules alone: {np.mean(y == 'partly'):.3f}); "
          f"yes<->no {np.mean(((preds == 'yes') & (y == 'no')) | ((preds == 'no') & (y == 'yes'))):.3f}")
    m = LogisticRegression(C=args.C, max_iter=2000).fit(Z, y)
    out = {"features": FEATURES, "classes": list(m.classes_), "coef": m.coef_.round(6).tolist(),
           "intercept": m.intercept_.round(6).tolist(), "mean": mean.round(6).tolist(),
           "scale": scale.round(6).tolist(), "margin": args.margin, "C": args.C, "units": int(len(y)),
           "fitted_on": str(args.results.name)}
    for k, w in zip(m.classes_, m.coef_):
        print(k, " ".join(f"{f}={v:+.2f}" for f, v in zip(FEATURES, w)))
    (ROOT / "rag/answer/verdict_model.json").write_text(json.dumps(out, indent=1) + "\n")
    print("wrote rag/answer/verdict_model.json")


if __name__ == "__main__":
    main()
