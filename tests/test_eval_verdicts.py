"""The answer-level metrics added for verdicts, on small hand-made Answer objects.

Why: the report used to say refusal 0.92 and citation validity 1.000 while verdicts were
wrong and near-topic questions were answered; these metrics must tell. Each is checked
by hand on an answer built in the test, without an index or a model.
"""
from __future__ import annotations

import json

import pytest

from rag.evaluation.gold import GoldRef, load_gold
from rag.evaluation.judge import judge_verdict, key_words, lead_claim
from rag.evaluation.metrics import (
    check_citations,
    declined,
    given_verdict,
    refusal_split,
    verdict_stats,
)
from rag.model import Answer, Chunk, Citation, Passage, Provision, Verdict

ART14_1 = ("Each Party shall take the necessary legislative or other measures to assist victims, in the short "
           "and long term, in their physical and psycho-social recovery.")


def _answer(kind=None, refused=False, **kw) -> Answer:
    v = Verdict(kind=kind, **kw) if kind else None
    return Answer(question="q", answer="a", verdict=v, refused=refused)


def test_given_verdict_reads_refusals_as_not_addressed_and_none_as_none():
    assert given_verdict(_answer("yes")) == "yes"
    assert given_verdict(_answer(refused=True)) == "not_addressed"
    assert given_verdict(_answer()) is None
    assert declined(_answer("not_addressed")) and declined(_answer(refused=True)) and not declined(_answer("no"))


def test_verdict_accuracy_confidently_wrong_and_hedge_by_hand():
    pairs = [("yes", "yes"), ("yes", "no"), ("yes", "partly"), ("yes", None),  # right, wrong-way, hedge, none
             ("no", "no"), ("no", "yes"),  # right, wrong-way
             ("partly", "partly"),  # right (not in the yes/no denominators)
             ("not_addressed", "not_addressed"), ("not_addressed", "yes")]
    vs = verdict_stats(pairs)
    assert vs.n == 9 and vs.n_coverage == 7
    assert vs.accuracy == pytest.approx(4 / 9)
    assert vs.coverage_accuracy == pytest.approx(3 / 7)
    assert vs.confidently_wrong == pytest.approx(2 / 6)
    assert vs.hedge == pytest.approx(1 / 6)
    assert vs.missing == pytest.approx(1 / 7)
    empty = verdict_stats([(None, "yes")])
    assert empty.accuracy is None and empty.confidently_wrong is None


def test_refusals_split_near_far_and_answerable():
    rows = [(False, "near", True), (False, "near", False), (False, "near", False),  # 1 of 3 near refused
            (False, "far", True), (False, "far", True),  # both far refused
            (True, None, True), (True, None, False), (True, None, False), (True, None, False),  # 1 of 4 refused
            (False, None, True)]  # no topic: in neither
    sp = refusal_split(rows)
    assert sp.near_refused == pytest.approx(1 / 3) and sp.n_near == 3
    assert sp.far_refused == 1.0 and sp.n_far == 2
    assert sp.answerable_refused == pytest.approx(1 / 4) and sp.n_answerable == 4


def _prov(pid: str, start: int, end: int) -> Provision:
    return Provision(id=pid, doc_id="toy", kind="paragraph", label=pid, start=start, end=end, text="x")


def _passage(cid: str, start: int, end: int) -> Passage:
    return Passage(chunk=Chunk(id=cid, provision_id=cid, doc_id="toy", label=cid, text="x", embed_text="x",
                               start=start, end=end))


def test_citation_validity_excludes_passages_the_answerer_added():
    provs = {"toy/a": _prov("toy/a", 0, 100), "toy/b": _prov("toy/b", 200, 300)}
    retrieved = [_passage("toy/a", 0, 100)]
    added = _passage("toy/b", 200, 300)  # found by the answerer's own topic search
    answer = Answer(question="q", answer="a", passages=retrieved + [added],
                    citations=[Citation(provision_id=p, doc_id="toy", label=p, text="x") for p in provs])
    checks = check_citations(answer, provs.get, retrieved)
    assert [(c.given, c.retrieved, c.valid) for c in checks] == [(True, True, True), (True, False, False)]
    # Without the retrieval passages, the old rule (any passage the answerer had) applies.
    assert all(c.valid for c in check_citations(answer, provs.get))


def _coverage_answer(kind: str, subject: str, evidence: list[str], article: str = "14") -> Answer:
    cit = Citation(provision_id=f"lanzarote/art_{article}/para_1", doc_id="lanzarote", article=article,
                   paragraph="1", label=f"Lanzarote Convention, Art. {article}(1)", text=ART14_1)
    return Answer(question="Does Article 14 cover victim recovery?", answer=f"{kind.title()}. ...",
                  citations=[cit], verdict=Verdict(kind=kind, subject=subject, evidence=evidence,
                                                   provision="Lanzarote Convention, Art. 14"))


def test_a_yes_is_supported_only_when_the_named_provisions_evidence_carries_the_subject():
    named = GoldRef("lanzarote", "14", None)
    ok = judge_verdict(_coverage_answer("yes", "psycho-social recovery of victims", [ART14_1]), named)
    assert ok.supported is True
    # The cited sentence does not carry "compensation": a "yes" is unsupported, a "partly" is supported.
    no = judge_verdict(_coverage_answer("yes", "compensation of victims", [ART14_1]), named)
    assert no.supported is False and no.missing == ["compensation"]
    assert judge_verdict(_coverage_answer("partly", "compensation of victims", [ART14_1]), named).supported
    # Evidence that is not in the cited text of the named provision.
    assert not judge_verdict(_coverage_answer("yes", "victims", ["Victims shall be compensated."]), named).supported
    # The named provision is not cited at all (the answer cites Art. 15).
    assert not judge_verdict(_coverage_answer("yes", "recovery", [ART14_1], article="15"), named).supported
    # Without gold, the verdict's own provision label decides what is "named".
    assert judge_verdict(_coverage_answer("yes", "recovery", [ART14_1]), None).supported
    # Absence claims and missing verdicts are not judged here.
    assert judge_verdict(_coverage_answer("no", "recovery", []), named).supported is None
    assert judge_verdict(Answer(question="q", answer="a"), named).supported is None
    assert key_words("compensation of witnesses") == ["compensation", "witnesses"]


def test_the_lead_line_is_a_claim_against_everything_cited():
    cit = Citation(provision_id="p", doc_id="d", label="D, Art. 1", text="Text.")
    a = Answer(question="q", answer="Yes. D, Art. 1 addresses stored data:\n- Text. [D, Art. 1]", citations=[cit])
    lead = lead_claim(a)
    assert lead is not None and lead.sentence == "Yes. D, Art. 1 addresses stored data" and lead.citations == [cit]
    assert lead_claim(Answer(question="q", answer="Text. [D, Art. 1]", citations=[cit])) is None
    assert lead_claim(Answer(question="q", answer="The texts do not address this.", refused=True)) is None


def test_loader_derives_verdicts_and_reads_topics(tmp_path):
    rows = [
        {"id": "q1", "kind": "coverage_yes", "question": "a?", "answerable": True, "match": "all",
         "gold": [{"doc_id": "d", "article": "1", "paragraph": None}]},
        {"id": "q2", "kind": "coverage_partly", "question": "b?", "answerable": True, "match": "all",
         "gold": [{"doc_id": "d", "article": "2", "paragraph": None}]},
        {"id": "q3", "kind": "coverage_no", "question": "c?", "answerable": True, "match": "any", "verdict": "partly",
         "gold": [{"doc_id": "d", "article": "3", "paragraph": None}]},
        {"id": "q4", "kind": "unanswerable", "question": "d?", "answerable": False, "match": "all", "gold": [],
         "topic": "near", "verdict": "not_addressed"},
        {"id": "q5", "kind": "lay", "question": "e?", "answerable": True, "match": "all",
         "gold": [{"doc_id": "d", "article": "4", "paragraph": None}]},
    ]
    f = tmp_path / "x.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    units = [u for it in load_gold(f) for u in it.units]
    assert [u.verdict for u in units] == ["yes", "partly", "partly", "not_addressed", None]
    assert [u.coverage for u in units] == [True, True, True, False, False]
    assert units[3].topic == "near"


ORDER = ["gold", "metrics", "judge", "configs", "runs", "scoring", "aggregate", "thresholds", "results", "report",
         "baselines", "harness", "cli"]


def test_evaluation_modules_import_only_earlier_ones():
    """questions -> runs -> metrics -> report, no cycle: each module imports only modules
    before it in ORDER (baselines is imported lazily by configs, report lazily by harness)."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "rag" / "evaluation"
    lazy = {("configs", "baselines"), ("harness", "report")}
    for name in ORDER:
        text = (root / f"{name}.py").read_text(encoding="utf-8")
        for dep in re.findall(r"^\s*from \.(\w+) import", text, re.M):
            assert dep in ORDER, f"{name} imports unknown module {dep}"
            if (name, dep) in lazy:
                continue
            assert ORDER.index(dep) < ORDER.index(name), f"{name} imports {dep}, which comes later in the flow"


def test_a_lead_line_that_only_names_the_quoted_provision_is_no_claim():
    cit = Citation(provision_id="p", doc_id="untoc", label="UNTOC, Art. 25(2)", text="Text.")
    assert lead_claim(Answer(question="q", answer="In UNTOC, Art. 25(2):\n- Text. [UNTOC, Art. 25(2)]",
                             citations=[cit])) is None
    cit2 = Citation(provision_id="b", doc_id="budapest-convention", label="Budapest Convention, Art. 1(d)", text="T.")
    assert lead_claim(Answer(question="q", answer="In Budapest Convention, Art. 1(d):\n- T. [Budapest Convention, Art. 1(d)]",
                             citations=[cit2])) is None
    assert lead_claim(Answer(question="q", answer="The texts address this in UNTOC, Art. 25(2) and "
                             "Budapest Convention, Art. 1(d):\n- Text. [UNTOC, Art. 25(2)]",
                             citations=[cit, cit2])) is None
    # says what was found, not what the provisions say
    assert lead_claim(Answer(question="q", answer="The closest provisions found are UNTOC, Art. 25(2); none of them "
                             "uses most of the question's own terms:\n- Text. [UNTOC, Art. 25(2)]", citations=[cit])) is None
    claim = lead_claim(Answer(question="q", answer="Yes. UNTOC, Art. 25(2) addresses compensation of victims:\n"
                              "- Text. [UNTOC, Art. 25(2)]", citations=[cit]))
    assert claim is not None and "compensation" in claim.sentence
