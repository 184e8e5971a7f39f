"""Fit the models of rag/answer/weigh.py on dev questions only.

    rag eval --no-baselines --out /tmp/dev
    python scripts/fit_verdict_model.py /tmp/dev/results.json [--margin M --C C]        # verdicts
    python scripts/fit_verdict_model.py /tmp/dev/results.json --model term              # unused terms
    python scripts/fit_verdict_model.py /tmp/dev/results.json --model question --C 3 10 30 --threshold 0.5 0.6 0.7

The signals are recorded on the answer's verdict: a coverage verdict's `signals` whenever the rules
said "partly", whatever the verdict model then decided; a refusal's `signals` for a term no text
uses, only for the questions refused, so the term model must be fitted on a run made without it
(the script refuses while rag/answer/term_gap_model.json is in place: move it aside, run the
evaluation, fit).

Term model: the dev units refused because "the texts never use the term X", labelled "answer" when
the gold says the question is answerable and "refuse" otherwise; a binary logistic regression; C
and margin chosen on leave-one-set-out accuracy, ties to the smaller margin.

Question prior (`--model question`): every dev unit's question embedding, labelled unanswerable or
not; a binary logistic regression. It refuses only where the texts also lack something (weigh.py),
and only among the units that reached the last check (their `answerability` signals are recorded
whatever was decided). C and the threshold are chosen by leaving each set of questions out in turn,
by the unanswerable units refused minus `--cost` times the answerable ones refused (refusing an
answerable question is a failure too; the default cost 3 keeps it rare).

Takes the dev coverage units whose rule verdict was "partly" (their `verdict.signals`), with the
gold verdict as the label, and fits a multinomial logistic regression (L2, standardised inputs).
The regularisation C and the margin by which "yes" or "no" must beat "partly" are chosen on
leave-one-set-out predictions (each set of questions scored by a model fitted on the others), by accuracy minus twice the confidently-wrong (yes<->no) rate: a
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
from rag.answer.weigh import (FEATURES, TERM_FEATURES, AnswerabilitySignals, CoverageSignals,  # noqa: E402
                              TermGapSignals, decide_answerable, decide_partly, decide_term)


def load(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Signals, gold verdicts and the set each unit was written in."""
    data = json.loads(path.read_text())
    X, y, sets = [], [], []
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
        sets.append(_set_of(q["qid"]))
    return np.asarray(X, dtype=float), np.asarray(y), np.asarray(sets)


def load_term(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = json.loads(path.read_text())
    X, y, sets = [], [], []
    for q in data["questions"]:
        if q.get("split") != "dev":
            raise SystemExit(f"{q.get('qid')}: not a dev unit; the model is fitted on dev only")
        v = (q["results"].get("product") or {}).get("verdict") or {}
        if v.get("kind") != "not_addressed" or set(v.get("signals") or {}) != set(TermGapSignals.__dataclass_fields__):
            continue
        X.append(TermGapSignals(**v["signals"]).vector())
        y.append("answer" if q["answerable"] else "refuse")
        sets.append(_set_of(q["qid"]))
    return np.asarray(X, dtype=float), np.asarray(y), np.asarray(sets)


def _set_of(qid: str) -> int:
    """Which set a dev unit was written in: the ids of each spent sealed set share their hundreds
    (q2xx, q4xx, ... q9xx, q10xx); the first dev questions are q0xx-q1xx."""
    n = int(qid[1:].split("#")[0])
    return 0 if n < 200 else n // 100


def fit_question(args) -> None:
    """The question prior: a logistic regression over every dev unit's question embedding,
    labelled unanswerable (1) or not. C and the threshold are chosen by leaving each set out in
    turn (a set's questions are scored by a model fitted on the other sets, as a sealed set is),
    counting only the units that reach the check (recorded `answerability` signals) and where the
    texts lack something (weigh.AnswerabilitySignals.texts_lack), as answer time decides."""
    from sklearn.linear_model import LogisticRegression

    from rag.index.embedder import Embedder
    from rag.settings import Settings

    data = json.loads(args.results.read_text())
    units = data["questions"]
    if any(q.get("split") != "dev" for q in units):
        raise SystemExit("not all units are dev units; the model is fitted on dev only")
    embedding = Settings().embedding
    E = np.asarray(Embedder(embedding).embed_array([q["question"] for q in units]), dtype=float)
    y = np.asarray([0 if q["answerable"] else 1 for q in units])
    sets = np.asarray([_set_of(q["qid"]) for q in units])
    sig = [(q["results"].get("product") or {}).get("answerability") or {} for q in units]
    checked = np.asarray([bool(s) for s in sig])
    lacks = np.asarray([bool(s) and AnswerabilitySignals(**s).texts_lack for s in sig])
    print(f"{len(y)} dev units ({int(y.sum())} unanswerable); {int(checked.sum())} reach the check "
          f"({int((checked & (y == 1)).sum())} unanswerable), {int(lacks.sum())} of them where the texts lack something")
    choices = []
    for C in args.C:
        prior = np.zeros(len(y))
        for k in np.unique(sets):
            out = sets == k
            prior[out] = LogisticRegression(C=C, max_iter=5000).fit(E[~out], y[~out]).predict_proba(E[out])[:, 1]
        for threshold in args.threshold:
            refused = np.asarray([bool(s) and decide_answerable(AnswerabilitySignals(**{**s, "prior": float(p)}), threshold)
                                  for s, p in zip(sig, prior)])  # answer time's own rule
            caught, lost = int((refused & (y == 1)).sum()), int((refused & (y == 0)).sum())
            print(f"C={C:<4} threshold={threshold:<5} leave-one-set-out: unanswerable refused +{caught}, "
                  f"answerable refused +{lost} (of {int((y == 0).sum())} answerable)")
            choices.append((caught - args.cost * lost, threshold, C, caught, lost))
    _, threshold, C, caught, lost = max(choices)
    print(f"chosen: C={C} threshold={threshold}")
    m = LogisticRegression(C=C, max_iter=5000).fit(E, y)
    path = args.out or ROOT / "rag/answer/question_prior_model.json"
    path.write_text(json.dumps({
        "what": "P(unanswerable) from the question's embedding (unit length); weigh.py",
        "embedding_model": embedding.model, "command": " ".join(["scripts/fit_verdict_model.py", *sys.argv[2:]]),
        "coef": m.coef_[0].round(6).tolist(), "intercept": float(m.intercept_[0]), "C": C, "threshold": threshold,
        "units": int(len(y)), "unanswerable": int(y.sum()),
        "leave_one_set_out": {"unanswerable_refused_more": caught, "answerable_refused_more": lost},
        "fitted_on": f"rag eval dev results ({len(y)} units)"}, indent=1) + "\n")
    print(f"wrote {path}")


def _fit_and_write(X: np.ndarray, y: np.ndarray, C: float, margin: float, features: list[str],
                   scores: dict[str, float], path: Path) -> None:
    """Fit on every unit with the chosen C and write the model as weigh.py reads it."""
    from sklearn.linear_model import LogisticRegression

    mean, scale = X.mean(0), X.std(0) + 1e-9
    m = LogisticRegression(C=C, max_iter=2000).fit((X - mean) / scale, y)
    for k, w in zip(m.classes_[-len(m.coef_):], m.coef_):
        print(k, " ".join(f"{f}={v:+.2f}" for f, v in zip(features, w)))
    out = {"features": features, "classes": list(m.classes_), "coef": m.coef_.round(6).tolist(),
           "intercept": m.intercept_.round(6).tolist(), "mean": mean.round(6).tolist(),
           "scale": scale.round(6).tolist(), "margin": margin, "C": C, "units": int(len(y)),
           **{k: round(v, 4) for k, v in scores.items()}, "fitted_on": f"rag eval dev results ({len(y)} units)"}
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")


def fit_term(args) -> None:
    shipped = ROOT / "rag/answer/term_gap_model.json"
    if args.out is None and shipped.exists() and not args.results_without_term_model:
        raise SystemExit(f"{shipped.relative_to(ROOT)} is in place, so the run recorded only the questions it "
                         "refused: move it aside, run the evaluation again, then fit "
                         "(or pass --results-without-term-model if the run was made without it)")
    X, y, sets = load_term(args.results)
    print(f"{len(y)} dev units refused for an unused term: answerable {int((y == 'answer').sum())}, "
          f"unanswerable {int((y == 'refuse').sum())}")
    choices = []
    for C in args.C:
        probs = _leave_one_set_out(X, y, sets, C)
        for margin in args.margin:
            preds = np.asarray(["refuse" if decide_term(p, margin) else "answer" for p in probs])
            acc = float(np.mean(preds == y))
            wrong = float(np.mean((preds == "answer") & (y == "refuse")))
            print(f"C={C:<4} margin={margin:<5} leave-one-set-out accuracy {acc:.3f}, unanswerable answered "
                  f"{wrong:.3f} (rules alone: accuracy {np.mean(y == 'refuse'):.3f})")
            choices.append((acc, -margin, C, margin, wrong))
    acc, _, C, margin, wrong = max(choices)
    print(f"chosen: C={C} margin={margin}")
    _fit_and_write(X, y, C, margin, TERM_FEATURES, {"loso_accuracy": acc, "loso_unanswerable_answered": wrong},
                   args.out or shipped)


def _leave_one_set_out(X: np.ndarray, y: np.ndarray, sets: np.ndarray, C: float) -> list[dict[str, float]]:
    """Each unit's class probabilities from a model fitted on the other sets only (standardised on
    them too), as a sealed set written later is scored: questions of one set share writers and
    phrasings, so leaving out one unit at a time flatters the model."""
    from sklearn.linear_model import LogisticRegression

    out: list[dict[str, float] | None] = [None] * len(y)
    for k in np.unique(sets):
        tr, te = sets != k, sets == k
        mean, scale = X[tr].mean(0), X[tr].std(0) + 1e-9
        m = LogisticRegression(C=C, max_iter=2000).fit((X[tr] - mean) / scale, y[tr])
        for i, p in zip(np.flatnonzero(te), m.predict_proba((X[te] - mean) / scale)):
            out[i] = dict(zip(m.classes_, p))
    return out


def fit_verdict(args) -> None:
    X, y, sets = load(args.results)
    print(f"{len(y)} half-carried dev units in {len(np.unique(sets))} sets: "
          + ", ".join(f"{k} {int((y == k).sum())}" for k in ("yes", "no", "partly")))
    choices = []
    for C in args.C:
        probs = _leave_one_set_out(X, y, sets, C)
        for margin in args.margin:
            preds = np.asarray([decide_partly(p, margin) for p in probs])
            acc = float(np.mean(preds == y))
            wrong = float(np.mean(((preds == "yes") & (y == "no")) | ((preds == "no") & (y == "yes"))))
            print(f"C={C:<4} margin={margin:<5} leave-one-set-out accuracy {acc:.3f} yes<->no {wrong:.3f} "
                  f"(rules alone: accuracy {np.mean(y == 'partly'):.3f})")
            choices.append((acc - 2 * wrong, -margin, C, margin, acc, wrong))
    _, _, C, margin, acc, wrong = max(choices)
    print(f"chosen: C={C} margin={margin} (leave-one-set-out accuracy {acc:.3f}, yes<->no {wrong:.3f})")
    _fit_and_write(X, y, C, margin, FEATURES, {"loso_accuracy": acc, "loso_confidently_wrong": wrong},
                   args.out or ROOT / "rag/answer/verdict_model.json")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results", type=Path)
    ap.add_argument("--margin", type=float, nargs="*", default=[0.0, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5])
    ap.add_argument("--C", type=float, nargs="*", default=[0.1, 0.3, 1.0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--model", choices=["verdict", "term", "question"], default="verdict")
    ap.add_argument("--threshold", type=float, nargs="*", default=[0.5, 0.6, 0.7, 0.8],
                    help="question: the prior at which to refuse (where the texts lack something)")
    ap.add_argument("--cost", type=float, default=3.0, help="question: an answerable unit refused costs this "
                    "many unanswerable units answered")
    ap.add_argument("--results-without-term-model", action="store_true",
                    help="the results were made with rag/answer/term_gap_model.json moved aside")
    args = ap.parse_args()
    {"term": fit_term, "question": fit_question, "verdict": fit_verdict}[args.model](args)


if __name__ == "__main__":
    main()
