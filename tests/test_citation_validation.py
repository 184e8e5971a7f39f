"""Citation parsing, sentence splitting and answer validation (pure functions)."""
from __future__ import annotations

import pytest

from rag.answer.validate import (
    REFUSAL,
    StreamRenderer,
    parse_citations,
    render_citations,
    split_sentences,
    validate_answer,
    verified_text,
)

LABELS = {
    "P1": "UNTOC, Art. 24(1)",
    "P2": "UNTOC, Art. 25(2)",
    "P3": "UNTOC, Art. 24(3)",
}


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("Witnesses are protected [P3].", ["P3"]),
        ("Both apply [P1, P2].", ["P1", "P2"]),
        ("Both apply [P1][P2].", ["P1", "P2"]),
        ("Both apply [p1; P 2] and [P1 and P3].", ["P1", "P2", "P1", "P3"]),
        ("An ordinary bracket [sic] and [Art. 5] are not citations.", []),
        ("Keys outside brackets (P1) or bare P2 are not citations.", []),
        ("[P12] leads.", ["P12"]),
    ],
)
def test_parse_citations(text: str, keys: list[str]) -> None:
    assert parse_citations(text) == keys


def test_labels_in_brackets_count_as_citations_of_their_key() -> None:
    label_keys = {"untoc, art. 24(1)": "P1"}
    assert parse_citations("Protected [UNTOC,  Art. 24(1)].", label_keys) == ["P1"]
    assert parse_citations("Protected [UNTOC, Art. 99].", label_keys) == []


def test_split_sentences_keeps_abbreviations_and_trailing_citations() -> None:
    text = (
        "Under Art. 25 of the Convention, e.g. in para. 2, victims get compensation. [P2] "
        "The U.N. text says 2.5 times more.\n"
        "- Relocation agreements are considered [P3].\n"
        "1. Witnesses are protected [P1]"
    )
    sentences = [s.text for s in split_sentences(text)]
    assert sentences == [
        "Under Art. 25 of the Convention, e.g. in para. 2, victims get compensation. [P2]",
        "The U.N. text says 2.5 times more.",
        "Relocation agreements are considered [P3].",
        "Witnesses are protected [P1]",
    ]
    for s in split_sentences(text):
        assert text[s.start : s.end] == s.text


def test_split_sentences_does_not_split_before_lowercase() -> None:
    text = "States Parties shall cooperate, cf. art. 27. each of them shall act. Then stop."
    assert [s.text for s in split_sentences(text)] == [
        "States Parties shall cooperate, cf. art. 27. each of them shall act.",
        "Then stop.",
    ]


def test_all_cited_is_valid() -> None:
    v = validate_answer("Witnesses are protected [P1]. Victims too [P2].", LABELS)
    assert v.ok and not v.refused
    assert v.cited == ["P1", "P2"]
    assert v.uncited == [] and v.invalid == [] and v.notices == []


def test_unknown_keys_are_removed_and_reported() -> None:
    text = "Witnesses are protected [P1, P7]. Victims too [P2]. Everyone is safe [P9]."
    v = validate_answer(text, LABELS)
    assert v.ok
    assert v.invalid == ["P7", "P9"]
    assert any("P7, P9" in n for n in v.notices)
    assert v.uncited == ["Everyone is safe [P9]."]  # its only citation was invalid
    out = verified_text(text, v, LABELS)
    assert out == "Witnesses are protected [UNTOC, Art. 24(1)]. Victims too [UNTOC, Art. 25(2)]."


def test_no_valid_citation_fails() -> None:
    v = validate_answer("Witnesses are protected. Victims too [P8].", LABELS)
    assert not v.ok
    assert "no sentence" in v.reason


def test_more_than_half_uncited_fails_but_half_passes() -> None:
    bad = validate_answer("One [P1]. Two. Three.", LABELS)
    assert not bad.ok and "2 of 3" in bad.reason
    half = validate_answer("One [P1]. Two.", LABELS)
    assert half.ok
    assert half.uncited == ["Two."]
    assert any("Two." in n for n in half.notices)
    assert verified_text("One [P1]. Two.", half, LABELS) == "One [UNTOC, Art. 24(1)]."


def test_empty_reply_fails() -> None:
    assert not validate_answer("  \n ", LABELS).ok


@pytest.mark.parametrize(
    "reply",
    [REFUSAL, "The passages do not address this question.", "Sorry. The texts don't address it."],
)
def test_refusals(reply: str) -> None:
    v = validate_answer(reply, LABELS)
    assert v.ok and v.refused


def test_partial_refusal_with_citations_is_an_answer() -> None:
    text = "The texts do not address fines. Victims may get compensation [P2]."
    v = validate_answer(text, LABELS)
    assert v.ok and not v.refused
    assert v.uncited == []  # the refusal sentence needs no citation
    assert verified_text(text, v, LABELS).startswith("The texts do not address fines.")


def test_verified_text_merges_runs_and_drops_empty_bullets() -> None:
    text = (
        "Two provisions apply:\n"
        "- Witnesses [P1][P3], and again [P1, P1].\n"
        "- HACKED\n"
        "- Victims [P2].\n"
    )
    v = validate_answer(text, LABELS)
    assert v.ok  # 2 of 4 uncited: not more than half
    out = verified_text(text, v, LABELS)
    assert out == (
        "- Witnesses [UNTOC, Art. 24(1); UNTOC, Art. 24(3)], and again [UNTOC, Art. 24(1)].\n"
        "- Victims [UNTOC, Art. 25(2)]."
    )
    assert "HACKED" not in out and "[P" not in out


def test_render_keeps_ordinary_brackets() -> None:
    assert render_citations("As written [sic][P2] here [P9].", LABELS) == (
        "As written [sic] [UNTOC, Art. 25(2)] here."
    )


def test_stream_renderer_matches_whole_text_rendering_for_any_chunking() -> None:
    text = (
        "Witnesses are protected [P1]. Victims[P2][P3] too, [P9] and [sic] "
        "also [P1, P2]. Open [P1 at end"
    )
    expected = render_citations(text, LABELS)
    for size in range(1, 12):
        r = StreamRenderer(LABELS)
        pieces = [r.feed(text[i : i + size]) for i in range(0, len(text), size)]
        out = "".join(pieces) + r.flush()
        assert out == expected, size
        assert not any("[P1]" in p for p in pieces)


def test_the_models_verdict_line_is_taken_out_and_read():
    from rag.answer.validate import take_verdict

    kind, rest = take_verdict("Verdict: partly\nArticle 24 protects witnesses [P1].")
    assert kind == "partly" and rest.strip() == "Article 24 protects witnesses [P1]."
    assert take_verdict("**Verdict:** not addressed\nThe texts do not address this.")[0] == "not_addressed"
    assert take_verdict("No verdict line here [P1].") == (None, "No verdict line here [P1].")


def test_sentences_echoing_the_instructions_or_unsupported_are_withdrawn():
    from rag.answer.prompt import SYSTEM_PROMPT
    from rag.answer.validate import check_support, validate_answer

    text = ("The passages only cite sentences with the passage key in square brackets such as [P1]. "
            "Witnesses are protected from retaliation [P1]. The moon is made of cheese [P1].")
    v = validate_answer(text, {"P1"})
    assert v.ok
    cited = {"P1": "Each State Party shall provide effective protection from potential retaliation for witnesses."}
    check_support(v, cited, lambda s, c: "moon" not in s, SYSTEM_PROMPT)
    kept = [c.sentence.text for c in v.sentences if c.keys]
    assert kept == ["Witnesses are protected from retaliation [P1]."]
    assert not v.ok  # one supported sentence of three: the extractive answer is shown instead
    assert any("instructions" in n for n in v.notices) and any("do not support" in n for n in v.notices)
