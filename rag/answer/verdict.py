"""Coverage verdicts: does a named provision carry the subject asked about?

Rules a lawyer would accept, decided from the provision's words (see concepts.py):
- yes: one paragraph of the provision carries every key concept of the subject;
- partly: the provision carries some key concepts but no paragraph carries them all;
- no: none of its sentences carries any key concept, or it names the subject only to exclude it
  ("with the exception of", "not intended to govern");
- a question that asks whether the subject is *required* gets "partly" when the provision
  carries it only as a permission or under a condition ("may", "shall consider", "where
  appropriate").
The answerer (extractive.py) adds what needs more than the provision: "yes" when the only
concepts missing are ordinary words no text uses (the asker's wording, not the treaty's); and a
"partly" is weighed (weigh.py): how specific the carried and missing concepts are, how the
provision matches the subject against the provisions found elsewhere, and whether another article
carries the subject in full decide whether it stays "partly" or is, clearly, a "yes" in the
provision's own words or a "no" (what the two share is incidental). The evidence is the sentences that decide it; for "no", the provision's title and
opening, so the reader can check the "no" at a glance.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..model import VerdictKind
from .concepts import Concept, carried
from .weigh import specificity


# Explicit exclusion, not any negation: "shall not decline ... on the ground of bank secrecy" covers
# bank secrecy; "are not intended to govern consensual activities" excludes them.
_NEGATED = re.compile(r"\bnot\s+(?:be\s+)?(?:intended\s+to\s+(?:govern|apply|cover)|appl(?:y|icable)|cover(?:ed)?|"
                      r"govern(?:ed)?)\b|\bshall\s+not\s+apply\b|\bexcluded\s+from\b|\bwith\s+the\s+exception\s+of\b",
                      re.I)
# Wording that permits, invites or conditions instead of obliging: "may", "shall consider", "shall
# endeavour", "encourage", "where appropriate", "subject to its domestic law"; and lifting an obstacle
# ("shall ensure that confidentiality rules do not constitute an obstacle to the possibility of
# reporting") enables what it does not require ("shall provide for the possibility" obliges). A
# provision that says a thing only this way does not *require* it. "as may be necessary" is the
# standard wording of an obligation ("shall adopt such measures as may be necessary"), not a permission.
_WEAK = re.compile(r"\b(?:may(?!\s+be\s+necessary)|might|shall\s+consider|consider\s+\w+ing|endeavou?r|encourage[sd]?|"
                   r"(?:an\s+)?obstacle\s+to\s+the\s+possibility|"
                   r"seek\s+to|(?:where|when|as|if)\s+(?:it\s+deems\s+)?appropriate|to\s+the\s+extent\s+(?:possible|"
                   r"appropriate)|(?:if|where)\s+permitted\s+by|within\s+(?:its|their)\s+(?:means|possibilities)|"
                   r"subject\s+to\s+(?:its|their)\s+(?:domestic\s+law|basic\s+principles|legal\s+system))\b", re.I)
# "the dual criminality requirement" names a subject; "does it require" asks for an obligation.
_ASKS_OBLIGATION = re.compile(r"\b(?:requir(?!ements?\b)\w*|(?:a|any|no)\s+requirements?\b|requirements?\s+(?:to|that)\b|"
                              r"oblig\w*|must|mandat\w*|compulsor\w*|compel\w*|ha(?:ve|s)\s+to|need\s+to|bound\s+to)\b", re.I)


# The wording of an obligation: "shall" (not "shall consider", "shall endeavour"), "must", "undertake to".
_STRONG = re.compile(r"\b(?:shall(?!\s+(?:consider|endeavou?r|seek|strive|take\s+into))|must|undertakes?\s+to)\b", re.I)


def permissive_only(sentence: str, concepts: list[Concept] | None = None) -> bool:
    """Does the sentence say its subject only as a permission or a condition ("may", "shall consider")?

    A sentence whose first word of obligation is a permission or condition ("Where appropriate, each
    State Party shall ...", "may") is permissive. One that obliges first and qualifies a later part
    ("shall disallow the tax deductibility of bribes and, where appropriate, other expenses") is
    permissive for the `concepts` when the most specific of those it carries comes only after the
    qualification."""
    weak = _WEAK.search(sentence)
    if weak is None:
        return False
    strong = _STRONG.search(sentence)
    if strong is None or weak.start() < strong.start():
        return True
    if not concepts:
        return False
    said = carried(concepts, sentence)
    if not said:
        return False
    before = carried(said, sentence[:weak.start()])
    # The subject's most specific concept decides: "shall provide access to such bodies, where
    # appropriate, for the reporting, including anonymously" obliges access to the bodies, not
    # anonymous reporting.
    return not before or max(said, key=specificity) not in before


# A lead-in that lists conditions ("may be transferred if the following conditions are met:", "may
# only be refused if:") makes its points required, not permitted.
_CONDITIONS = re.compile(r"\b(?:if|unless|provided|conditions?|only|where|when)\b[^.;:]*:\s*$", re.I)


def _lead_in(paragraph: "Paragraph", sentence: str) -> str:
    """The paragraph's own lead-in (its first sentence, ending in ':') when the sentence is one of
    its points, or ''. Only the paragraph's: a point's own lead-in ("(a) Take measures to provide for
    the seizure, as appropriate, of:") speaks for its sub-points, not for the points beside it."""
    first = paragraph.sentences[0] if paragraph.sentences else ""
    if not first.rstrip().endswith(":") or first == sentence or _CONDITIONS.search(first):
        return ""
    return first


def permissive_evidence(evidence: list[tuple["Paragraph", str]], concepts: list[Concept]) -> bool:
    """Does every sentence of the evidence say the subject only permissively? A point says what its
    lead-in says of it: after "States Parties shall seek to promote ..., in particular:", "(a) the
    establishment of a minimum age" is promoted, not required; after "Such assistance shall include
    facilitating, or, if permitted by its domestic law, directly carrying out:", a point is required
    (the lead-in obliges first). The sentences that carry the subject's most specific concept decide:
    "shall ... confiscate the proceeds of offences" does not oblige what "may adopt ... withdrawal of
    parental rights" only permits."""
    if not evidence:
        return False
    said = [c for c in concepts if any(carried([c], s) for _, s in evidence)]
    if said:
        key = max(said, key=specificity)
        evidence = [(p, s) for p, s in evidence if carried([key], s)] or evidence
    return all(permissive_only(s, concepts) or permissive_only(_lead_in(p, s) or "") for p, s in evidence)


def asks_obligation(question: str) -> bool:
    """Does the question ask whether something is required (not only mentioned or allowed)?"""
    return bool(_ASKS_OBLIGATION.search(question))


@dataclass
class Paragraph:
    """A paragraph of the named provision (or the whole provision when it has none)."""

    label: str
    sentences: list[str]
    provision_id: str = ""


@dataclass
class CoverageJudgement:
    kind: VerdictKind
    carried: list[Concept] = field(default_factory=list)
    missing: list[Concept] = field(default_factory=list)
    evidence: list[tuple[Paragraph, str]] = field(default_factory=list)  # (paragraph, sentence)
    excluded: bool = False  # "no" because the provision expressly excludes the subject
    permissive: bool = False  # "partly": the provision carries the subject, but only as a permission


def judge_coverage(concepts: list[Concept], paragraphs: list[Paragraph], title: str = "",
                   max_evidence: int = 3, obligation: bool = False) -> CoverageJudgement:
    """Judge a provision against the subject's key concepts. The article title counts as part
    of every paragraph (a title "Assistance to victims" carries *victim*). With `obligation`
    (the question asks whether it is *required*), a provision that carries the subject only in
    permissive wording ("may", "shall consider") is "partly"."""
    if not concepts:
        raise ValueError("a coverage verdict needs at least one key concept")
    from_title = set(map(id, carried(concepts, title))) if title else set()
    union: set[int] = set(from_title)
    best: tuple[int, int] = (-1, -1)  # (concepts carried by the paragraph, -index)
    best_para = None
    per_sentence: list[tuple[Paragraph, str, set[int]]] = []
    for i, para in enumerate(paragraphs):
        in_para: set[int] = set(from_title)
        for s in para.sentences:
            got = set(map(id, carried(concepts, s)))
            per_sentence.append((para, s, got))
            in_para |= got
        union |= in_para
        if (len(in_para), -i) > best:
            best, best_para = (len(in_para), -i), para
    all_ids = {id(c) for c in concepts}
    has = [c for c in concepts if id(c) in union]
    missing = [c for c in concepts if id(c) not in union]
    sentence_hits = [(p, s, got) for p, s, got in per_sentence if got]
    if best[0] == len(all_ids) and best_para is not None and (sentence_hits or from_title == all_ids):
        kind: VerdictKind = "yes"
        pool = [x for x in sentence_hits if x[0] is best_para] or sentence_hits
    elif sentence_hits:
        kind = "partly"
        pool = sentence_hits
        if not missing:  # every concept somewhere, but never together in one paragraph
            missing = [c for c in concepts if id(c) not in _carried_by(best_para, per_sentence, from_title)]
    else:
        kind = "no"
        pool = []
    excluded = permissive = False
    if kind in ("yes", "partly") and pool and all(_NEGATED.search(s) for _, s, _ in pool):
        # "The provisions of paragraph 1 are not intended to govern X": the provision names X only
        # to exclude it, which is a "no" a reader can check, not a "yes".
        kind, excluded = "no", True
    elif kind == "yes" and obligation:
        full = [x for x in pool if len(x[2]) == len(all_ids)] or pool
        if permissive_evidence([(p, s) for p, s, _ in full], concepts):
            kind, permissive = "partly", True
    pool = sorted(pool, key=lambda x: -len(x[2]))[:max_evidence]
    order = {id(s): n for n, (_, s, _) in enumerate(per_sentence)}
    pool.sort(key=lambda x: order.get(id(x[1]), 0))
    return CoverageJudgement(kind=kind, carried=has, missing=missing,
                             evidence=[(p, s) for p, s, _ in pool], excluded=excluded, permissive=permissive)


def _carried_by(para, per_sentence, from_title: set[int]) -> set[int]:
    out = set(from_title)
    for p, _, got in per_sentence:
        if p is para:
            out |= got
    return out


def carries_all(concepts: list[Concept], text: str) -> bool:
    return len(carried(concepts, text)) == len(concepts)
