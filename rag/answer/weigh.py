"""Weighing a half-carried subject: when the named provision carries some key concepts of the
subject but not all, is the honest verdict still "partly", or "yes" (what is missing is the
asker's paraphrase) or "no" (what is carried is incidental)?

The rule-based judge (verdict.py) hedges whenever one concept is missing; on held-out questions
that was half of all coverage verdicts. Not all concepts weigh the same: "grooming" in "online
grooming of children" is the subject, "online" and "children" are context. So the signals here
weigh each concept by how specific it is in ordinary English (word frequencies of `wordfreq`,
a source independent of the texts and of the gold questions), and add how well the named
provision matches the subject compared with the other provisions found (dense similarity ranks
evidence here; it never decides alone: it is one input of a small model whose other inputs are
the lexical coverage figures). The model (`verdict_model.json`) is a multinomial logistic
regression fitted on the dev questions only (`scripts/fit_verdict_model.py`); its coefficients
are data, not rules, and the sealed set judges it.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

from ..model import VerdictKind
from .concepts import Concept

_MODEL = Path(__file__).with_name("verdict_model.json")
_MAX_ZIPF = 7.0  # the most frequent English words ("the") are near 7.5 on the Zipf scale


@lru_cache(maxsize=8192)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency  # loaded on the first coverage question only

    return zipf_frequency(word, "en")


def specificity(concept: Concept) -> float:
    """How much a concept narrows a subject: 0 for the commonest words, about 4 for a rare word,
    5 for a word English hardly uses. A phrase counts by its most specific word."""
    words = [w for w in concept.label.lower().replace("-", " ").split() if w.isalpha()] or [concept.label]
    return max(max(0.25, _MAX_ZIPF - _zipf(w)) for w in words)


@dataclass(frozen=True)
class CoverageSignals:
    """What the model weighs, for one named provision and one subject."""

    concepts: int  # key concepts of the subject
    frac_best: float  # share of the concepts the best paragraph (with the title) carries
    wcov_best: float  # the same share, each concept weighed by its specificity
    wcov_all: float  # the weighed share over the whole provision
    missing_spec: float  # specificity of the most specific concept the best paragraph lacks (0 if none)
    dense_named: float  # best cosine of the subject with a sentence of the named provision
    dense_margin: float  # dense_named minus the best cosine with a sentence found elsewhere
    instead_same: bool  # another article of the same treaty carries every concept
    instead_other: bool  # another treaty's article carries every concept
    rank_in_document: int | None = None  # where a search of its own treaty for the subject ranks the article (0 = first)

    def vector(self) -> list[float]:
        return [math.log(self.concepts), self.frac_best, self.wcov_best, self.wcov_all,
                self.missing_spec / 5.0, self.dense_named, self.dense_margin,
                float(self.instead_same), float(self.instead_other),
                1.0 / (1 + self.rank_in_document) if self.rank_in_document is not None else 0.0]

    def as_dict(self) -> dict[str, float]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


FEATURES = ["log_concepts", "frac_best", "wcov_best", "wcov_all", "missing_spec", "dense_named",
            "dense_margin", "instead_same", "instead_other", "rank_in_document"]


def signals(concepts: list[Concept], per_paragraph: list[set[int]], dense_named: float, dense_elsewhere: float,
            instead_same: bool, instead_other: bool, rank_in_document: int | None = None) -> CoverageSignals:
    """`per_paragraph`: for each paragraph of the named provision, the ids of the concepts it
    carries (the title included)."""
    weights = {id(c): specificity(c) for c in concepts}
    total = sum(weights.values()) or 1.0
    union: set[int] = set().union(*per_paragraph) if per_paragraph else set()
    best = max(per_paragraph, key=lambda got: (sum(weights[i] for i in got), len(got)), default=set())
    missing = [weights[id(c)] for c in concepts if id(c) not in best]
    return CoverageSignals(
        concepts=len(concepts), frac_best=len(best) / len(concepts),
        wcov_best=sum(weights[i] for i in best) / total, wcov_all=sum(weights[i] for i in union) / total,
        missing_spec=max(missing, default=0.0), dense_named=dense_named,
        dense_margin=dense_named - dense_elsewhere, instead_same=instead_same, instead_other=instead_other,
        rank_in_document=rank_in_document)


@lru_cache(maxsize=1)
def _model() -> dict | None:
    if not _MODEL.exists():
        return None
    model = json.loads(_MODEL.read_text())
    if model.get("features") != FEATURES:
        raise ValueError(f"{_MODEL.name} was fitted on other features; run scripts/fit_verdict_model.py")
    return model


def probabilities(sig: CoverageSignals) -> dict[VerdictKind, float] | None:
    """The model's probability of each verdict, or None when no model is shipped."""
    model = _model()
    if model is None:
        return None
    x = [(v - m) / s for v, m, s in zip(sig.vector(), model["mean"], model["scale"])]
    logits = {k: b + sum(w * xi for w, xi in zip(ws, x))
              for k, ws, b in zip(model["classes"], model["coef"], model["intercept"])}
    top = max(logits.values())
    exp = {k: math.exp(v - top) for k, v in logits.items()}
    z = sum(exp.values())
    return {k: v / z for k, v in exp.items()}


def weigh_partly(sig: CoverageSignals, margin: float | None = None) -> VerdictKind:
    """The verdict for a half-carried subject: "yes" or "no" only when the model is clearly
    surer of it than of "partly" (by `margin`, the model file's own by default); else "partly"."""
    probs = probabilities(sig)
    if probs is None:
        return "partly"
    margin = _model()["margin"] if margin is None else margin
    best = max(("yes", "no"), key=lambda k: probs.get(k, 0.0))
    return best if probs.get(best, 0.0) >= probs.get("partly", 0.0) + margin else "partly"
