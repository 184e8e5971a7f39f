"""The offline faithfulness judge: its rules, its calibration, and the hand labels.

Why: faithfulness is a headline number and a CI gate. The judge must say "supported"
for quoted provision text and "unsupported" for the distortions embeddings miss
(a changed number, a flipped negation), and its cut-off must be fitted the way the
report says. The embedding model is the real bundled one.
"""
from __future__ import annotations

import json
from collections import Counter

import pytest

from rag.evaluation.harness import LABELS
from rag.evaluation.judge import (
    LabelError,
    OfflineJudge,
    RagasJudge,
    answer_claims,
    bigram_overlap,
    calibrate_threshold,
    load_labels,
    negated,
    normalise,
    numbers,
)
from rag.index.embedder import Embedder
from rag.model import Answer, Citation
from rag.settings import Settings

B16_2 = ("2.   Where a Party gives effect to paragraph 1 above by means of an order to a person to preserve specified "
         "stored computer data in the person's possession or control, the Party shall adopt such legislative and other "
         "measures as may be necessary to oblige that person to preserve and maintain the integrity of that computer "
         "data for a period of time as long as necessary, up to a maximum of ninety days, to enable the competent "
         "authorities to seek its disclosure. A Party may provide for such an order to be subsequently renewed.")
O8_2 = ("2.   States Parties shall ensure that uncertainty as to the actual age of the victim shall not prevent the "
        "initiation of criminal investigations, including investigations aimed at establishing the age of the victim.")


@pytest.fixture(scope="module")
def judge():
    return OfflineJudge(Embedder(Settings().embedding), threshold=0.8)


# -- text rules ----------------------------------------------------------------------

def test_normalise_undoes_conversion_artefacts():
    assert normalise("``computer system'' and com- munication") == '"computer system" and communication'


def test_numbers_read_words_and_digits_but_not_article_references():
    assert numbers("up to a maximum of ninety days") == {90}
    assert numbers("Under Article 16(2), 90 days") == {90}
    assert numbers("Arts. 20 and 21 allow it") == set()


def test_negation_is_a_negated_predicate_not_any_not():
    assert negated("shall not prevent the initiation")
    assert negated("No one shall be tried twice")
    assert negated("(b) No child shall be deprived")
    assert not negated("for a period not less than sixty days")
    assert not negated("access without right")


def test_bigram_overlap_is_share_of_sentence_word_pairs():
    assert bigram_overlap("a b c", "x a b c y") == 1.0
    assert bigram_overlap("a b c", "a b x") == 0.5


# -- verdicts (real embedding model) -------------------------------------------------

def test_verbatim_quote_is_supported(judge):
    v = judge.judge("A Party may provide for such an order to be subsequently renewed.", B16_2)
    assert v.supported and v.how == "verbatim" and v.judge == "offline"


def test_wrong_number_is_unsupported(judge):
    v = judge.judge("The person must preserve the data for up to sixty days to enable the authorities to seek its "
                    "disclosure.", B16_2)
    assert not v.supported and v.how == "number"


def test_flipped_negation_is_unsupported_even_when_nearly_verbatim(judge):
    v = judge.judge("Uncertainty as to the actual age of the victim shall prevent the initiation of criminal "
                    "investigations.", O8_2)
    assert not v.supported and v.how == "negation"


def test_unrelated_claim_is_unsupported_and_missing_citation_is_unsupported(judge):
    v = judge.judge("Football clubs must publish their annual accounts.", B16_2)
    assert not v.supported and v.how == "below-threshold"
    assert judge.judge("Anything at all.", "   ").how == "no-citation"


# -- calibration ---------------------------------------------------------------------

def test_threshold_is_the_midpoint_that_separates_the_labels():
    assert calibrate_threshold([0.2, 0.4, 0.6, 0.8], [False, False, True, True]) == pytest.approx(0.5)


def test_ties_go_to_the_higher_threshold():
    # candidates: <0.2 (acc 1/3), 0.35 (2/3), 0.7 (1/3), >0.9 (2/3): the higher of the two best wins.
    t = calibrate_threshold([0.2, 0.5, 0.9], [False, True, False])
    assert t > 0.9


def test_calibration_fits_threshold_and_reports_leave_one_out_agreement(judge):
    labels = load_labels(LABELS)
    j = OfflineJudge(judge.embedder)
    ag = j.calibrate(labels)
    assert j.calibrated and j.threshold == ag.threshold
    assert ag.n == len(labels) == sum(ag.confusion.values())
    assert 0 <= ag.loo_accuracy <= 1 and -1 <= ag.loo_kappa <= 1
    assert len(ag.mistakes) == ag.confusion["supported/unsupported"] + ag.confusion["unsupported/supported"]
    # in-sample agreement is recomputable from the fitted threshold
    preds = [j.judge(lb.sentence, lb.cited_text).supported for lb in labels]
    assert ag.accuracy == pytest.approx(sum(p == lb.supported for p, lb in zip(preds, labels)) / len(labels))


# -- the hand labels -----------------------------------------------------------------

def test_hand_labels_cover_the_required_cases():
    labels = load_labels(LABELS)
    assert len(labels) >= 40
    kinds = Counter(lb.supported for lb in labels)
    assert kinds[True] >= 15 and kinds[False] >= 15
    notes = " ".join(lb.note for lb in labels).lower()
    for case in ("extractive", "paraphrase", "wrong number", "negation", "wrong actor", "art."):
        assert case in notes, f"no hand label for: {case}"


def test_bad_label_files_are_rejected(tmp_path):
    f = tmp_path / "l.jsonl"
    f.write_text(json.dumps({"sentence": "s", "cited_text": "c", "label": "maybe"}) + "\n")
    with pytest.raises(LabelError, match="l.jsonl:1"):
        load_labels(f)
    with pytest.raises(LabelError, match="not found"):
        load_labels(tmp_path / "none.jsonl")


# -- answers -> claims ---------------------------------------------------------------

def test_claims_take_markers_from_their_line_and_skip_connecting_text():
    text = ("The texts address this in UNTOC, Art. 25(2):\n"
            "- Each State Party shall establish procedures. They shall be appropriate. [UNTOC, Art. 25(2)]\n"
            "- EFF (commentary) states: The draft is an expansive surveillance tool. [EFF ¶2]\n"
            "- An invented sentence. [UNCAC, Art. 99]")
    cits = [Citation(provision_id="untoc/art_25/para_2", doc_id="untoc", label="UNTOC, Art. 25(2)", text="t1"),
            Citation(provision_id="eff/sec_1/para_2", doc_id="eff", label="EFF ¶2", text="t2")]
    claims, uncited = answer_claims(Answer(question="q", answer=text, citations=cits))
    assert uncited == 1
    assert [c.sentence for c in claims] == ["Each State Party shall establish procedures.",
                                            "They shall be appropriate.",
                                            "The draft is an expansive surveillance tool.",
                                            "An invented sentence."]
    assert [c.cited_text for c in claims] == ["t1", "t1", "t2", ""]
    assert answer_claims(Answer(question="q", answer="The texts do not address this.", refused=True)) == ([], 0)


def test_ragas_judge_says_why_it_is_unavailable():
    ok, why = RagasJudge.available(Settings())
    assert not ok and "base_url" in why
    ok, why = RagasJudge.available(Settings().with_overrides(llm={"base_url": "http://127.0.0.1:9/v1"}))
    try:
        import ragas  # noqa: F401
    except ImportError:
        assert not ok and "not installed" in why and "eval-llm" in why
    else:
        assert ok


def test_a_subjects_function_words_are_not_what_a_verdict_must_carry():
    from rag.evaluation.judge import key_words

    words = key_words("someone who streams child abuse images online without downloading anything")
    assert "someone" not in words and "without" not in words and "anything" not in words
    assert {"streams", "child", "abuse", "images", "online", "downloading"} <= set(words)
