"""Evaluation metrics on small hand-built cases whose values were worked out by hand.

Why: every quality number the project reports comes from these functions; a wrong
nDCG denominator or a paragraph that fails to match its whole-article chunk would
silently misreport the product and its baselines.
"""
from __future__ import annotations

import json
import math

import pytest

from rag.evaluation.gold import GoldError, GoldRef, load_gold, load_many
from rag.evaluation.harness import DEFAULT_QUESTIONS, check_thresholds
from rag.evaluation.metrics import (
    Locator,
    RetrievedItem,
    check_citations,
    citation_prf,
    cohen_kappa,
    percentile,
    ranking_metrics,
    refusal_stats,
    relevance,
    retrieval_metrics,
)
from rag.model import Answer, Chunk, Citation, Document, DocumentMeta, Passage
from rag.structure import parse_document

L3 = 1 / math.log2(3)  # discount at rank 2
L5 = 1 / math.log2(5)  # discount at rank 4

TOY = """## Chapter I. General

### Article 1. Definitions

For the purposes of this Convention:

a) "thing" means an object of any kind;

b) "other thing" means anything else.

### Article 2. Powers

1. Each Party shall adopt measures to do the first thing.

2. Each Party shall adopt measures to do the second thing.

3. Each Party shall adopt measures to do the third thing.

## Chapter II. Final

### Article 3. Signature

This Convention shall be open for signature.
"""


# -- ranking metrics -----------------------------------------------------------------

def test_all_match_two_gold_found_at_ranks_2_and_4():
    m = ranking_metrics([set(), {0}, set(), {1}, set()], n_gold=2, match="all")
    assert (m["hit@1"], m["hit@3"], m["hit@5"], m["hit@10"]) == (0, 0, 1, 1)
    assert (m["recall@1"], m["recall@3"], m["recall@5"]) == (0, 0.5, 1)
    assert m["mrr@1"] == 0 and m["mrr@3"] == 0.5 and m["mrr@10"] == 0.5
    assert m["ndcg@3"] == pytest.approx(L3 / (1 + L3))
    assert m["ndcg@5"] == pytest.approx((L3 + L5) / (1 + L3))


def test_any_match_counts_only_the_first_gold_found():
    m = ranking_metrics([set(), set(), {1}, {0}], n_gold=2, match="any")
    assert (m["hit@1"], m["hit@3"]) == (0, 1)
    assert m["recall@3"] == 1  # "any": one alternative is the whole answer
    assert m["mrr@3"] == pytest.approx(1 / 3)
    assert m["ndcg@3"] == pytest.approx(0.5)  # 1/log2(4) against an ideal of 1
    assert m["ndcg@5"] == pytest.approx(0.5)  # the second alternative adds nothing


def test_one_item_matching_several_gold_earns_them_all_but_ndcg_is_capped():
    m = ranking_metrics([{0, 1}], n_gold=2, match="all")
    assert m["hit@1"] == 1 and m["recall@1"] == 1 and m["mrr@1"] == 1
    assert m["ndcg@1"] == 1.0


def test_nothing_found_is_zero_everywhere():
    m = ranking_metrics([set()] * 10, n_gold=1, match="all")
    assert set(m.values()) == {0.0}


def test_no_gold_is_an_error():
    with pytest.raises(ValueError, match="without gold"):
        ranking_metrics([set()], n_gold=0, match="all")


# -- locating retrieved text ---------------------------------------------------------

@pytest.fixture(scope="module")
def toy():
    doc = Document(meta=DocumentMeta(id="toy", title="Toy Convention", short_title="Toy"), text=TOY)
    parsed = parse_document(doc)
    return parsed, Locator({"toy": parsed}.get)


def _span(parsed, pid):
    p = parsed.by_id()[pid]
    return p.start, p.end


def test_a_paragraph_span_is_that_paragraph(toy):
    parsed, loc = toy
    item = loc.locate("toy", *_span(parsed, "toy/art_2/para_2"))
    assert (item.provision_id, item.unit_id, item.article, item.paragraph, item.covers) == (
        "toy/art_2/para_2", "toy/art_2", "2", "2", ("2",))


def test_a_whole_article_chunk_covers_every_paragraph(toy):
    parsed, loc = toy
    item = loc.locate("toy", *_span(parsed, "toy/art_2"))
    assert item.provision_id == "toy/art_2" and item.covers == ("1", "2", "3")
    rel = relevance([item], [GoldRef("toy", "2", "3"), GoldRef("toy", "2", "1")], "paragraph")
    assert rel == [frozenset({0, 1})]


def test_a_span_across_articles_goes_to_the_article_holding_most_of_it(toy):
    parsed, loc = toy
    a1_end = parsed.by_id()["toy/art_1"].end
    p2_end = parsed.by_id()["toy/art_2/para_2"].end
    item = loc.locate("toy", a1_end - 10, p2_end)
    assert item.unit_id == "toy/art_2"
    assert item.covers == ("1", "2")  # clipped to article 2, paragraph 3 not reached


def test_a_span_over_everything_is_located_not_dropped(toy):
    parsed, loc = toy
    item = loc.locate("toy", 0, len(TOY))
    assert item is not None and item.unit_id.startswith("toy/art_")


def test_unknown_document_is_none(toy):
    _, loc = toy
    assert loc.locate("nope", 0, 10) is None


def test_passage_target_inside_chunk_is_the_target_but_larger_target_keeps_the_chunk(toy):
    parsed, loc = toy
    s, e = _span(parsed, "toy/art_2")
    whole = Chunk(id="toy/art_2#1", provision_id="toy/art_2", doc_id="toy", label="Toy, Art. 2", text="x",
                  embed_text="x", start=s, end=e)
    item = loc.from_passage(Passage(chunk=whole, reason="reference", target="toy/art_2/para_3"))
    assert item.provision_id == "toy/art_2/para_3" and item.covers == ("3",)
    s, e = _span(parsed, "toy/art_2/para_1")
    part = Chunk(id="toy/art_2/para_1#1", provision_id="toy/art_2/para_1", doc_id="toy", label="Toy, Art. 2(1)",
                 text="x", embed_text="x", start=s, end=e)
    item = loc.from_passage(Passage(chunk=part, reason="reference", target="toy/art_2"))
    assert item.provision_id == "toy/art_2/para_1"


def _item(doc, unit, article, prov, covers=()):
    return RetrievedItem(doc_id=doc, provision_id=prov, unit_id=unit, article=article, paragraph=None,
                         covers=tuple(covers))


def test_null_article_and_null_paragraph_widen_the_gold():
    a2p1 = _item("toy", "toy/art_2", "2", "toy/art_2/para_1", ["1"])
    pre = _item("toy", "toy/preamble", None, "toy/preamble")
    other = _item("other", "other/art_2", "2", "other/art_2/para_1", ["1"])
    assert relevance([a2p1, pre, other], [GoldRef("toy")], "paragraph") == [frozenset({0}), frozenset({0}),
                                                                          frozenset()]
    assert relevance([a2p1], [GoldRef("toy", "2", None)], "paragraph") == [frozenset({0})]
    assert relevance([a2p1], [GoldRef("toy", "2", "3")], "paragraph") == [frozenset()]
    assert relevance([a2p1], [GoldRef("toy", "2", "3")], "article") == [frozenset({0})]


def test_duplicates_are_dropped_per_level():
    p1a = _item("toy", "toy/art_2", "2", "toy/art_2/para_1", ["1"])
    p1b = _item("toy", "toy/art_2", "2", "toy/art_2/para_1", ["1"])  # second chunk of the same paragraph
    p3 = _item("toy", "toy/art_2", "2", "toy/art_2/para_3", ["3"])
    gold = [GoldRef("toy", "2", "3")]
    assert relevance([p1a, p1b, p3], gold, "article") == [frozenset({0})]
    assert relevance([p1a, p1b, p3], gold, "paragraph") == [frozenset(), frozenset({0})]
    m = retrieval_metrics([p1a, p1b, p3], gold, "all")
    assert m["article.mrr@10"] == 1.0 and m["paragraph.mrr@10"] == 0.5
    assert m["paragraph.hit@1"] == 0.0 and m["paragraph.hit@3"] == 1.0


def test_two_gold_paragraphs_of_one_article_are_one_article_gold():
    p2 = _item("toy", "toy/art_2", "2", "toy/art_2/para_2", ["2"])
    m = retrieval_metrics([p2], [GoldRef("toy", "2", "2"), GoldRef("toy", "2", "3")], "all")
    assert m["article.hit@1"] == 1.0 and m["article.recall@1"] == 1.0
    assert m["paragraph.hit@1"] == 0.0 and m["paragraph.recall@1"] == 0.5


# -- answers -------------------------------------------------------------------------

def test_refusal_stats_by_hand():
    # (answerable, refused): 2 right refusals, 1 wrong refusal, 1 missed refusal, 2 right answers.
    rs = refusal_stats([(False, True), (False, True), (True, True), (False, False), (True, False), (True, False)])
    assert rs.accuracy == pytest.approx(4 / 6)
    assert rs.precision == pytest.approx(2 / 3)
    assert rs.recall == pytest.approx(2 / 3)
    empty = refusal_stats([(True, False)])
    assert empty.precision is None and empty.recall is None and empty.accuracy == 1.0


def test_citation_checks_need_existence_and_a_given_passage(toy):
    parsed, _ = toy
    provs = parsed.by_id()
    s, e = _span(parsed, "toy/art_2")
    chunk = Chunk(id="toy/art_2#1", provision_id="toy/art_2", doc_id="toy", label="Toy, Art. 2", text="x",
                  embed_text="x", start=s, end=e)

    def cite(pid):
        return Citation(provision_id=pid, doc_id="toy", label=pid, text="x")

    answer = Answer(question="q", answer="a", passages=[Passage(chunk=chunk)],
                    citations=[cite("toy/art_2/para_2"), cite("toy/art_1"), cite("toy/art_9")])
    checks = check_citations(answer, provs.get)
    assert [(c.exists, c.given, c.valid) for c in checks] == [(True, True, True), (True, False, False),
                                                              (False, False, False)]


def test_citation_precision_and_recall_at_article_level():
    a2 = _item("toy", "toy/art_2", "2", "toy/art_2/para_1")
    a2b = _item("toy", "toy/art_2", "2", "toy/art_2/para_2")
    a3 = _item("toy", "toy/art_3", "3", "toy/art_3")
    gold = [GoldRef("toy", "2", "1"), GoldRef("toy", "1", None)]
    assert citation_prf([a2, a2b, a3], gold, "all") == (0.5, 0.5)
    assert citation_prf([a2, a3], gold, "any") == (0.5, 1.0)
    assert citation_prf([], gold, "all") == (None, 0.0)


def test_percentile_and_kappa_by_hand():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10, 20, 30, 40, 50], 95) == pytest.approx(48.0)
    assert percentile([], 50) is None
    # po = 3/4, pe = 0.5*0.25 + 0.5*0.75 = 0.5 -> kappa = 0.5
    assert cohen_kappa([True, True, False, False], [True, False, False, False]) == pytest.approx(0.5)


def test_threshold_check_names_each_metric_below_its_minimum():
    summary = {"dev": {"article.hit@5": 0.7, "answer.faithfulness": None, "article.mrr@10": 0.9}}
    failures, notes = check_thresholds(summary, {"dev": {"article.hit@5": 0.8, "article.mrr@10": 0.85,
                                                         "answer.faithfulness": 0.5},
                                                 "heldout": {"article.hit@5": 0.5}})
    assert len(failures) == 2
    assert any("article.hit@5" in f and "0.700" in f for f in failures)
    assert any("answer.faithfulness" in f and "not measured" in f for f in failures)
    assert notes and "heldout" in notes[0]


# -- gold files ----------------------------------------------------------------------

def test_the_real_gold_files_load_with_conversations_as_turns():
    items = load_many(DEFAULT_QUESTIONS)
    lines = sum(1 for p in DEFAULT_QUESTIONS for line in p.read_text(encoding="utf-8").splitlines() if line.strip())
    assert len(items) == lines >= 200  # one item per line: dev with the spent first sealed set (243)
    conv = [i for i in items if i.is_conversation]
    assert conv and all(u.uid == f"{i.id}#{u.turn}" for i in conv for u in i.units)
    assert {i.split for i in items} == {"dev"}
    assert all(u.gold for i in items for u in i.units if u.answerable)
    units = [u for i in items for u in i.units]
    # Coverage kinds carry their verdict (derived when the line has none); unanswerables their topic.
    assert all(u.verdict == "yes" for u in units if u.kind == "coverage_yes")
    assert all(u.verdict == "no" for u in units if u.kind == "coverage_no")
    assert all(u.topic in ("near", "far") for u in units if not u.answerable)
    assert "sealed.jsonl" not in {p.name for p in DEFAULT_QUESTIONS}


@pytest.mark.parametrize("line, message", [
    ("not json", "not valid JSON"),
    (json.dumps({"id": "q1", "kind": "lookup", "question": "x", "answerable": True, "match": "some", "gold": []}),
     "'match'"),
    (json.dumps({"id": "q1", "kind": "lookup", "question": "x", "answerable": True, "match": "all", "gold": []}),
     "at least one gold"),
    (json.dumps({"id": "q1", "kind": "lookup", "question": "x", "answerable": True, "match": "all",
                 "gold": [{"doc_id": "d", "article": None, "paragraph": "2"}]}), "paragraph but no article"),
    (json.dumps({"id": "q1", "kind": "conversation", "turns": []}), "non-empty list"),
    (json.dumps({"id": "q1", "kind": "coverage_partly", "question": "x", "answerable": True, "match": "all",
                 "gold": [{"doc_id": "d", "article": "1"}], "verdict": "maybe"}), "'verdict'"),
    (json.dumps({"id": "q1", "kind": "unanswerable", "question": "x", "answerable": False, "match": "all",
                 "gold": [], "topic": "close"}), "'topic'"),
    (json.dumps({"id": "q1", "kind": "lay", "question": "x", "answerable": True, "match": "all",
                 "gold": [{"doc_id": "d", "article": "1"}], "topic": "near"}), "unanswerable questions only"),
])
def test_bad_gold_lines_name_file_and_line(tmp_path, line, message):
    f = tmp_path / "dev.jsonl"
    f.write_text("\n" + line + "\n")
    with pytest.raises(GoldError, match=message) as exc:
        load_gold(f)
    assert "dev.jsonl:2" in str(exc.value)


def test_duplicate_ids_across_files_are_rejected(tmp_path):
    line = json.dumps({"id": "q1", "kind": "unanswerable", "question": "x", "answerable": False, "match": "all",
                       "gold": []})
    (tmp_path / "a.jsonl").write_text(line)
    (tmp_path / "b.jsonl").write_text(line)
    with pytest.raises(GoldError, match="also in"):
        load_many([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    with pytest.raises(GoldError, match="not found"):
        load_gold(tmp_path / "missing.jsonl")
