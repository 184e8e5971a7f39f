"""Faithfulness judges: is each answer sentence supported by the text it cites?

OfflineJudge (default, no LLM): a sentence is supported when it is a (near-)verbatim
quote of the cited text, or when its embedding is close enough to the best-matching
sentence of the cited text. The cut-off is calibrated on hand labels
(eval/labels/faithfulness.jsonl), and its agreement with them is reported, leave-one-out,
so nobody has to take the judge on trust. Two cheap guards catch the distortions that
embeddings are blind to: a number that the cited text does not contain, and a negation
that the closest cited sentence does not share (or vice versa).

RagasJudge: claim-level faithfulness by RAGAS with the configured LLM; optional
(`pip install -e '.[eval-llm]'` and settings.llm.base_url).
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ..answer.validate import split_sentences
from ..model import Answer, Citation
from .metrics import cohen_kappa

NEAR_VERBATIM = 0.9  # share of the sentence's word pairs found in the cited text
DEFAULT_THRESHOLD = 0.75  # used only when no labels are available to calibrate on
_MARKERS = re.compile(r"(?:\s*\[([^\[\]\n]{1,120})\])+\s*$")
_ONE_MARKER = re.compile(r"\[([^\[\]\n]{1,120})\]")
_BULLET = re.compile(r"^\s*(?:[-*•–]|\d{1,3}[.)])\s+")
_VOICE = re.compile(r"^[^:]{1,80}\((?:commentary|submission)\) states:\s*", re.I)
# Negated predicates ("shall not", "no one", "neither ... nor"), not every "not": "not less
# than sixty days" and "without right" state no negative claim.
_NEGATION = re.compile(
    r"\b(?:shall|may|must|should|will|would|can|could|does|do|did|is|are|was|were|need|has|have)\s+not\b"
    r"|\b(?:cannot|can't|won't|doesn't|don't|isn't|aren't|no one|nobody|nothing|never|neither|none)\b"
    r"|^\W*no\b", re.I)
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "tenth": 10,
}
# "Article 25(2)", "Art. 3", "paragraph 2", "Arts. 20 and 21": references, not claims about numbers.
_REFERENCE = re.compile(
    r"\b(?:articles?|arts?\.?|paragraphs?|paras?\.?|chapter|section)\s*\d+[a-z]?(?:\s*\(\s*\w+\s*\))*"
    r"(?:(?:\s*,\s*(?=\d+[a-z]?\s*(?:\(|,|and\b|or\b))|,?\s*(?:and|or|to)\s+)\d+[a-z]?(?:\s*\(\s*\w+\s*\))*)*",
    re.I)


class LabelError(ValueError):
    """The hand-label file is missing or malformed."""


# -- text helpers ----------------------------------------------------------------------

def normalise(text: str) -> str:
    """Lower case, one kind of quote, conversion artefacts undone ("com- munication")."""
    t = text.replace("``", '"').replace("''", '"')
    t = re.sub(r"[\u201c\u201d\u2018\u2019]", '"', t)
    t = re.sub(r"(\w)-\s*\n?\s+(\w)", r"\1\2", t)
    return t.lower()


def tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalise(text))


def _contains(hay: list[str], needle: list[str]) -> bool:
    if not needle:
        return False
    n = len(needle)
    first = needle[0]
    return any(hay[i] == first and hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def bigram_overlap(sentence: str, cited: str) -> float:
    s = tokens(sentence)
    c = tokens(cited)
    if len(s) < 2:
        return 1.0 if s and s[0] in c else 0.0
    pairs = list(zip(s, s[1:]))
    have = set(zip(c, c[1:]))
    return sum(p in have for p in pairs) / len(pairs)


def numbers(text: str) -> set[int]:
    t = _REFERENCE.sub(" ", normalise(text))
    out = {int(n) for n in re.findall(r"\b\d+\b", t)}
    out |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", t) if w in _NUMBER_WORDS}
    return out


def negated(text: str) -> bool:
    t = re.sub(r"^\W*(?:[a-z]|[ivx]+|\d+)[.)]\s*", "", normalise(text).strip())  # "(b) No child ..." -> "No child ..."
    return bool(_NEGATION.search(t))


def cited_sentences(text: str) -> list[str]:
    """The cited text's sentences (and the whole text, for paraphrases that span two)."""
    parts = [s.text for s in split_sentences(text)]
    parts = [p for p in parts if len(tokens(p)) >= 3]
    return list(dict.fromkeys(parts + [" ".join(text.split())]))


# -- answers -> claims -----------------------------------------------------------------

@dataclass
class Claim:
    sentence: str  # without bullet, voice prefix and citation markers
    markers: list[str]  # the bracketed labels it carries (inherited from its line's end)
    citations: list[Citation]  # those markers resolved; empty if none resolve

    @property
    def cited_text(self) -> str:
        return "\n".join(c.text for c in self.citations)


def answer_claims(answer: Answer) -> tuple[list[Claim], int]:
    """The sentences of an answer that carry citation markers, and how many carry none.

    A marker at the end of a line covers every sentence of that line (the extractive
    answer puts one label after each quoted line). Lead-in lines without markers
    ("The texts address this in ...:") are connecting text, counted as uncited.
    """
    by_label = {" ".join(c.label.split()).lower(): c for c in answer.citations}
    by_key = {c.key.lower(): c for c in answer.citations if c.key}
    claims: list[Claim] = []
    uncited = 0
    if answer.refused:
        return claims, 0
    for line in answer.answer.splitlines():
        sents = [s.text for s in split_sentences(line)]
        pending: list[str] = []
        for s in sents:
            m = _MARKERS.search(s)
            if m is None:
                pending.append(s)
                continue
            markers = [x.strip() for x in _ONE_MARKER.findall(m.group(0))]
            cits = []
            for mk in markers:
                low = " ".join(mk.split()).lower()
                c = by_label.get(low) or by_key.get(low.lstrip("p")) or by_key.get(low)
                if c is not None and c not in cits:
                    cits.append(c)
            for text in pending + [s[: m.start()]]:
                body = _VOICE.sub("", _BULLET.sub("", text)).strip()
                if len(tokens(body)) >= 2:
                    claims.append(Claim(body, markers, cits))
            pending = []
        uncited += sum(1 for p in pending if len(tokens(p)) >= 2)
    return claims, uncited


_FOUND_LEAD = re.compile(r"The closest provisions found are\b")
_CONNECTING = frozenset({"texts", "text", "address", "addresses", "compared", "this"})


def lead_claim(answer: Answer) -> Claim | None:
    """The answer's first line when it carries no citation marker ("Yes. Art. 14 addresses
    rehabilitation:", "The texts address this in Art. 22(4) and Art. 15(1):"). It is what a
    reader takes as the conclusion, so it is a claim, judged against everything the answer
    cites. Refusals have none."""
    if answer.refused or not answer.answer.strip():
        return None
    first = answer.answer.strip().splitlines()[0]
    if _ONE_MARKER.search(first):
        return None  # its sentences carry markers and are claims already
    body = _VOICE.sub("", _BULLET.sub("", first)).strip().rstrip(":").strip()
    # A heading that only names what is quoted ("In UNTOC, Art. 25(2):") claims nothing.
    bare = _REFERENCE.sub(" ", body)
    for c in answer.citations:
        bare = bare.replace(c.label, " ").replace(c.doc_title or "\0", " ")
        bare = bare.replace(c.label.split(", ")[0], " ")  # the document's citation name
    # "The texts address this in ...:" / "Compared: ...:" only connect the quotes that follow; "The
    # closest provisions found are ...; none of them uses ..." says what was found, not what they say.
    if _FOUND_LEAD.match(body):
        return None
    if len([w for w in key_words(bare) if w not in _CONNECTING]) < 2:
        return None
    return Claim(body, [], list(answer.citations))


# -- the verdict ----------------------------------------------------------------------

_STOP = frozenset("""a an the of to in on for by with from and or as at be is are was were it its this that these
those does do did any all such other into under about against their there which who whom what when where how
not no nor than so can may shall should must will would per via own""".split())
_STEMMER = None


def _stem(words: Sequence[str]) -> list[str]:
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER.stemWords(list(words))


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    """_STOP and a standard English stop-word list (rag/lexicon/english_stopwords.txt, the Glasgow IR
    group's, as scikit-learn ships it, less its content words): "someone", "anything", "without" frame
    a subject, they are not what a verdict must carry. Independent of the answerer's own frame words,
    so the judge stays its own."""
    raw = resources.files("rag").joinpath("lexicon/english_stopwords.txt").read_text(encoding="utf-8")
    return _STOP | frozenset(w for w in raw.split("\n") if w and not w.startswith("#"))


def key_words(subject: str) -> list[str]:
    """The subject's content words ("compensation of witnesses" -> compensation, witnesses)."""
    stop = _stop_words()
    return [w for w in dict.fromkeys(tokens(subject)) if len(w) > 2 and w not in stop and not w.isdigit()]


@dataclass
class VerdictSupport:
    supported: bool | None  # None: nothing to judge (no verdict, or a "no"/"not_addressed" verdict)
    why: str
    missing: list[str] = field(default_factory=list)  # subject key words the evidence lacks


def _of_named(c: Citation, named, provision_label: str | None) -> bool:
    if named is not None:
        return c.doc_id == named.doc_id and (named.article is None or c.article == named.article)
    if provision_label:
        lab, cl = " ".join(provision_label.split()).lower(), " ".join(c.label.split()).lower()
        return cl == lab or cl.startswith(lab + "(") or cl.startswith(lab + " ")
    return False


def judge_verdict(answer: Answer, named=None) -> VerdictSupport:
    """Is a "yes" / "partly" verdict supported by the text the answer cites?

    Supported only when (1) every `verdict.evidence` sentence occurs, word for word, in the
    cited text of the named provision (`named`, the coverage question's first gold entry;
    without it, citations whose label is `verdict.provision` or a part of it), and (2) the
    evidence carries the subject's key words, compared by stem: all of them for "yes", at
    least one for "partly"; for a qualified "yes" (one that names the words the provision does
    not use), all the others. Synonyms are not matched ("rehabilitation" / "recovery"): a
    verdict resting on a synonym only is counted unsupported.
    """
    v = answer.verdict
    if v is None:
        return VerdictSupport(None, "no verdict")
    if v.kind not in ("yes", "partly"):
        return VerdictSupport(None, f"{v.kind}: a claim of absence, scored by verdict accuracy")
    if not v.evidence:
        return VerdictSupport(False, "no evidence sentences")
    cited = [c for c in answer.citations if _of_named(c, named, v.provision)]
    if not cited:
        return VerdictSupport(False, "the named provision is not cited")
    hay = [tokens(c.text) for c in cited]
    for ev in v.evidence:
        if not any(_contains(h, tokens(ev)) for h in hay):
            return VerdictSupport(False, f"evidence not in the named provision's cited text: {ev[:80]!r}")
    words = key_words(v.subject)
    if not words:
        return VerdictSupport(False, "no subject stated")
    have = set(_stem([w for ev in v.evidence for w in tokens(ev)]))
    missing = [w for w, st in zip(words, _stem(words)) if st not in have]
    if v.kind == "yes" and v.missing:
        # A qualified "yes" (weigh.py) says which of the subject's words the provision does not use;
        # its claim is that the evidence carries the rest. Whether the qualification is right (the
        # provision says it in other words) is for verdict accuracy against the gold to judge.
        declared = set(_stem([w for m in v.missing for w in tokens(m)]))
        undeclared = [w for w, st in zip(words, _stem(words)) if st not in have and st not in declared]
        if undeclared:
            return VerdictSupport(False, "the evidence does not carry " + ", ".join(undeclared), undeclared)
        if len(missing) == len(words):
            return VerdictSupport(False, "the evidence carries none of the subject's key words", missing)
        return VerdictSupport(True, "evidence carries what the qualified yes says it carries", missing)
    if v.kind == "yes" and missing:
        return VerdictSupport(False, "the evidence does not carry " + ", ".join(missing), missing)
    if v.kind == "partly" and len(missing) == len(words):
        return VerdictSupport(False, "the evidence carries none of the subject's key words", missing)
    return VerdictSupport(True, "evidence in the named provision carries the subject", missing)


# -- verdicts --------------------------------------------------------------------------

@dataclass
class Verdict:
    supported: bool
    how: str  # verbatim | near-verbatim | semantic | number | negation | below-threshold | no-citation
    score: float  # best cosine (1.0 for verbatim)
    judge: str = "offline"


@dataclass
class Features:
    """What the offline judge knows about one (sentence, cited text) pair."""

    verbatim: bool
    overlap: float
    cosine: float
    numbers_ok: bool
    negation_ok: bool

    def forced(self) -> bool | None:
        """The verdict the rules settle without a threshold, or None."""
        if self.verbatim:
            return True
        if not self.numbers_ok or not self.negation_ok:
            return False
        if self.overlap >= NEAR_VERBATIM:
            return True
        return None

    def reason(self, supported: bool) -> str:
        if self.verbatim:
            return "verbatim"
        if not self.numbers_ok:
            return "number"
        if not self.negation_ok:
            return "negation"
        if self.overlap >= NEAR_VERBATIM:
            return "near-verbatim"
        return "semantic" if supported else "below-threshold"


def calibrate_threshold(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """The cosine cut-off that best separates supported from unsupported pairs.

    Candidates are midpoints between neighbouring scores (and just outside the range);
    among equally accurate ones the highest wins: a wrong "supported" is the costlier
    mistake for a faithfulness metric.
    """
    if len(scores) != len(labels):
        raise ValueError("scores and labels differ in length")
    if not scores:
        return DEFAULT_THRESHOLD
    vals = sorted(set(float(s) for s in scores))
    cands = [vals[0] - 1e-6] + [(a + b) / 2 for a, b in zip(vals, vals[1:])] + [vals[-1] + 1e-6]
    best_t, best_acc = cands[-1], -1.0
    for t in cands:
        acc = sum((s >= t) == y for s, y in zip(scores, labels)) / len(scores)
        if acc >= best_acc:
            best_t, best_acc = t, acc
    return best_t


@dataclass
class Label:
    sentence: str
    cited_text: str
    supported: bool
    note: str = ""


def load_labels(path: Path | str) -> list[Label]:
    path = Path(path)
    if not path.is_file():
        raise LabelError(f"{path}: faithfulness label file not found")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise LabelError(f"{path}:{n}: not valid JSON ({exc})") from exc
        if not isinstance(obj, dict) or not all(isinstance(obj.get(k), str) and obj[k].strip()
                                                for k in ("sentence", "cited_text", "label")):
            raise LabelError(f"{path}:{n}: needs non-empty 'sentence', 'cited_text' and 'label' strings")
        if obj["label"] not in ("supported", "unsupported"):
            raise LabelError(f"{path}:{n}: label must be \"supported\" or \"unsupported\", not {obj['label']!r}")
        out.append(Label(obj["sentence"], obj["cited_text"], obj["label"] == "supported", str(obj.get("note", ""))))
    if not out:
        raise LabelError(f"{path}: no labels in the file")
    return out


@dataclass
class Agreement:
    """How well the judge reproduces the hand labels."""

    n: int
    threshold: float
    accuracy: float  # threshold fitted on all labels (optimistic)
    kappa: float
    loo_accuracy: float  # each label judged with a threshold fitted on the others
    loo_kappa: float
    confusion: dict[str, int] = field(default_factory=dict)  # leave-one-out
    mistakes: list[dict] = field(default_factory=list)  # leave-one-out disagreements


class OfflineJudge:
    name = "offline"

    def __init__(self, embedder, threshold: float | None = None):
        self.embedder = embedder
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.calibrated = threshold is not None
        self.agreement: Agreement | None = None
        self._cache: dict[str, np.ndarray] = {}

    def describe(self) -> str:
        how = "calibrated on hand labels" if self.calibrated else "default, uncalibrated"
        return (f"offline: verbatim / near-verbatim (word-pair overlap >= {NEAR_VERBATIM}) or embedding cosine "
                f">= {self.threshold:.3f} ({how}); number and negation guards")

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            for t, v in zip(todo, self.embedder.embed(todo)):
                self._cache[t] = np.asarray(v, dtype=np.float32)
        return [self._cache[t] for t in texts]

    def prefetch(self, pairs: Sequence[tuple[str, str]]) -> None:
        """Embed every text the pairs will need in one batch (much faster than one by one)."""
        texts = []
        for sentence, cited in pairs:
            texts.append(_VOICE.sub("", sentence))
            texts += cited_sentences(cited) or [cited]
        if texts:
            self._embed(texts)

    def features(self, sentence: str, cited_text: str) -> Features:
        sentence = _VOICE.sub("", sentence)
        s_tok, c_tok = tokens(sentence), tokens(cited_text)
        cands = cited_sentences(cited_text) or [cited_text]
        vecs = self._embed([sentence] + cands)
        cos = [float(vecs[0] @ v) for v in vecs[1:]]
        # The last candidate is the whole text; the negation guard compares with a sentence.
        closest = cands[int(np.argmax(cos[:-1]))] if len(cands) > 1 else cands[0]
        return Features(
            verbatim=_contains(c_tok, s_tok),
            overlap=bigram_overlap(sentence, cited_text),
            cosine=max(cos),
            numbers_ok=numbers(sentence) <= numbers(cited_text),
            negation_ok=negated(sentence) == negated(closest),
        )

    def verdict_from(self, f: Features, threshold: float | None = None) -> Verdict:
        t = self.threshold if threshold is None else threshold
        forced = f.forced()
        ok = forced if forced is not None else f.cosine >= t
        return Verdict(ok, f.reason(ok), 1.0 if f.verbatim else round(f.cosine, 4), self.name)

    def judge(self, sentence: str, cited_text: str) -> Verdict:
        if not cited_text.strip():
            return Verdict(False, "no-citation", 0.0, self.name)
        return self.verdict_from(self.features(sentence, cited_text))

    def calibrate(self, labels: Sequence[Label]) -> Agreement:
        """Fit the threshold on the labels; measure agreement in-sample and leave-one-out."""
        self.prefetch([(lb.sentence, lb.cited_text) for lb in labels])
        feats = [self.features(lb.sentence, lb.cited_text) for lb in labels]
        truth = [lb.supported for lb in labels]
        free = [i for i, f in enumerate(feats) if f.forced() is None]

        def fit(exclude: int | None) -> float:
            idx = [i for i in free if i != exclude]
            return calibrate_threshold([feats[i].cosine for i in idx], [truth[i] for i in idx])

        self.threshold = fit(None)
        self.calibrated = True
        pred = [self.verdict_from(f).supported for f in feats]
        loo_v = [self.verdict_from(f, fit(i) if i in free else self.threshold) for i, f in enumerate(feats)]
        loo = [v.supported for v in loo_v]
        conf = {"supported/supported": 0, "supported/unsupported": 0, "unsupported/supported": 0,
                "unsupported/unsupported": 0}  # label/judge
        mistakes = []
        for lb, v, f in zip(labels, loo_v, feats):
            name = {True: "supported", False: "unsupported"}
            conf[f"{name[lb.supported]}/{name[v.supported]}"] += 1
            if v.supported != lb.supported:
                mistakes.append({"sentence": lb.sentence, "label": "supported" if lb.supported else "unsupported",
                                 "judge": v.how, "cosine": round(f.cosine, 3), "note": lb.note})
        self.agreement = Agreement(
            n=len(labels), threshold=self.threshold,
            accuracy=sum(p == y for p, y in zip(pred, truth)) / len(truth), kappa=cohen_kappa(truth, pred),
            loo_accuracy=sum(p == y for p, y in zip(loo, truth)) / len(truth), loo_kappa=cohen_kappa(truth, loo),
            confusion=conf, mistakes=mistakes)
        return self.agreement


class RagasUnavailable(RuntimeError):
    pass


class RagasJudge:
    """Claim-level faithfulness of a whole answer by RAGAS, with the configured LLM."""

    name = "ragas"

    def __init__(self, settings):
        ok, why = self.available(settings)
        if not ok:
            raise RagasUnavailable(why)
        from ragas.llms import LlamaIndexLLMWrapper
        from ragas.metrics import Faithfulness

        from ..answer.llm import build_llm

        self.metric = Faithfulness(llm=LlamaIndexLLMWrapper(build_llm(settings)))

    @staticmethod
    def available(settings) -> tuple[bool, str]:
        if not settings.llm.configured:
            return False, "no LLM endpoint configured (settings.llm.base_url is empty)"
        try:
            import ragas  # noqa: F401
        except ImportError:
            return False, "ragas is not installed (pip install -e '.[eval-llm]')"
        return True, "ragas with the configured LLM"

    def score(self, question: str, answer_text: str, contexts: list[str]) -> float | None:
        import asyncio

        from ragas.dataset_schema import SingleTurnSample

        sample = SingleTurnSample(user_input=question, response=answer_text, retrieved_contexts=contexts)
        value = asyncio.run(self.metric.single_turn_ascore(sample))
        return None if value is None or value != value else float(value)
