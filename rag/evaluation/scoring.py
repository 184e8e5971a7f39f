"""Score one recorded run of one question: retrieval, refusal, verdict, citations, faithfulness.

Reads a UnitRun (from `runs`) and the Unit's gold; writes numbers into `run.metrics` and
the per-citation / per-sentence detail kept in results.json.
"""
from __future__ import annotations

from .gold import Unit
from .judge import OfflineJudge, RagasJudge, answer_claims, judge_verdict, lead_claim
from .metrics import (
    Locator,
    RetrievedItem,
    check_citations,
    citation_prf,
    cites_named,
    declined,
    given_verdict,
    retrieval_metrics,
)
from .runs import UnitRun


def score_retrieval(unit: Unit, run: UnitRun) -> None:
    if unit.gold and run.error is None:
        run.metrics.update(retrieval_metrics(run.ranked, unit.gold, unit.match))


def score_answer(unit: Unit, run: UnitRun, provision, locator: Locator, judge: OfflineJudge,
                 ragas: RagasJudge | None = None) -> None:
    """`provision` is `Index.provision`. A run without an answer (an error) gets no answer metrics."""
    answer = run.answer_obj
    if answer is None:
        return
    m = run.metrics
    checks = check_citations(answer, provision, run.retrieval)
    cited: list[RetrievedItem] = []
    run.citations = []
    for c, chk in zip(answer.citations, checks):
        prov = provision(c.provision_id)
        item = locator.locate(c.doc_id, prov.start, prov.end, prov.id) if prov else None
        if item:
            cited.append(item)
        run.citations.append({"provision": c.provision_id, "label": c.label, "exists": chk.exists,
                              "given": chk.given, "retrieved": chk.retrieved})
    # Refusals: `declined` = refused, or a not_addressed verdict.
    refused = declined(answer)
    m["answer.declined"] = 1.0 if refused else 0.0
    m["answer.refusal_correct"] = 1.0 if refused != unit.answerable else 0.0
    # Verdict.
    given = given_verdict(answer)
    if unit.verdict is not None:
        m["answer.verdict_correct"] = 1.0 if given == unit.verdict else 0.0
    # Citations.
    m["answer.citations"] = float(len(checks))
    m["answer.citations_valid"] = float(sum(c.valid for c in checks))
    m["answer.citation_validity"] = (m["answer.citations_valid"] / len(checks)) if checks else None
    prec, rec = (None, None)
    if unit.answerable:
        if refused:
            rec = 0.0
        else:
            prec, rec = citation_prf(cited, unit.gold, unit.match)
    m["answer.citation_precision"] = prec
    m["answer.citation_recall"] = rec
    named = unit.gold[0] if unit.coverage and unit.gold else None
    if named is not None:
        m["answer.named_cited"] = 1.0 if cites_named(cited, named) else 0.0
    # The verdict judged against the named provision's cited text.
    vs = judge_verdict(answer, named)
    if vs.supported is not None:
        m["answer.verdict_supported"] = 1.0 if vs.supported else 0.0
    # Faithfulness: the cited sentences, and the lead line.
    claims, uncited = answer_claims(answer)
    lead = lead_claim(answer)
    if lead is not None:
        uncited = max(0, uncited - 1)
    judge.prefetch([(cl.sentence, cl.cited_text) for cl in claims + ([lead] if lead else []) if cl.cited_text.strip()])
    verdicts = []
    if lead is not None:
        if vs.supported is not None:  # a yes/partly verdict: the lead line stands or falls with it
            verdicts.append({"sentence": lead.sentence, "cites": [], "supported": vs.supported, "how": "verdict",
                             "score": 1.0 if vs.supported else 0.0, "lead": True, "why": vs.why})
        elif answer.verdict is None:  # no verdict to score it by: judge the line against all it cites
            v = judge.judge(lead.sentence, lead.cited_text)
            verdicts.append({"sentence": lead.sentence, "cites": [], "supported": v.supported, "how": v.how,
                             "score": v.score, "lead": True})
        # a "no" / "not_addressed" lead claims an absence: verdict accuracy scores it, not the judge
    for cl in claims:
        v = judge.judge(cl.sentence, cl.cited_text)
        verdicts.append({"sentence": cl.sentence, "cites": cl.markers, "supported": v.supported, "how": v.how,
                         "score": v.score})
    supported = sum(v["supported"] for v in verdicts)
    run.faithfulness = {"judge": judge.name, "sentences": verdicts, "uncited_sentences": uncited,
                        "verdict": {"supported": vs.supported, "why": vs.why, "missing": vs.missing}}
    m["answer.claims"] = float(len(verdicts))
    m["answer.claims_supported"] = float(supported)
    m["answer.faithfulness"] = supported / len(verdicts) if verdicts else None
    if ragas is not None and not answer.refused:
        try:
            contexts = [c.text for c in answer.citations] or [p.chunk.text for p in answer.passages]
            m["answer.faithfulness_ragas"] = ragas.score(unit.question, answer.answer, contexts)
        except Exception as exc:  # noqa: BLE001 - an LLM judge failure must not stop the run
            run.error = f"ragas judge failed: {exc}"
