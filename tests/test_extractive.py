"""Extractive answers: every sentence verbatim from the provision it cites.

Why: the offline answer's whole promise is faithfulness. A sentence that is not in the
cited provision, a commentary's opinion presented as treaty text, or an off-topic question
answered with whatever was closest would each break it.
"""
from __future__ import annotations

import re

import pytest

from rag.answer.extractive import NOT_ADDRESSED
from rag.api import QuestionError
from rag.model import Answer, DocType

LINE = re.compile(r"^- (?P<body>.+) \[(?P<label>[^\[\]]+)\]$")
VOICE = re.compile(r"^(?P<who>.+?) \((?P<type>commentary|submission)\) states: ")


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def qa(corpus_index):
    return corpus_index


def sentence_lines(answer: Answer) -> list[tuple[str, str, str | None]]:
    """(sentence, label, attributed author) for each quoted line; the other lines are section leads
    ("Yes. ...:", "... is addressed instead in ...:"), which quote nothing."""
    lines = answer.answer.splitlines()
    out = []
    for line in lines[1:]:
        if not line.startswith("- "):
            continue
        m = LINE.match(line)
        assert m, f"not a cited sentence line: {line!r}"
        body, who = m.group("body"), None
        v = VOICE.match(body)
        if v:
            who, body = v.group("who"), body[v.end():]
        out.append((body, m.group("label"), who))
    return out


def assert_verbatim(answer: Answer) -> None:
    by_label = {c.label: c for c in answer.citations}
    lines = sentence_lines(answer)
    assert lines, answer.answer
    for sentence, label, who in lines:
        cit = by_label.get(label)
        assert cit is not None, f"label {label!r} is not among the citations"
        assert norm(sentence) in norm(cit.text), (sentence, cit.provision_id)
        assert sentence in cit.sentences
        if cit.source_type is DocType.treaty:
            assert who is None, f"treaty text attributed to {who!r}"
        else:
            assert who, f"{cit.source_type.value} sentence shown without its author: {sentence!r}"
    assert {c.label for c in answer.citations} == {label for _, label, _ in lines}
    assert [c.key for c in answer.citations] == [str(n) for n in range(1, len(answer.citations) + 1)]


QUESTIONS = [
    "What does Article 25(2) of UNTOC say?",
    "What does Article 14 of the ICCPR say?",
    "Are whistleblowers protected?",
    "Is grooming a crime?",
    "How does UNTOC protect witnesses?",
    "What is illegal interception under the Budapest Convention?",
    "What does the Knowmad Institut say about human rights risks?",
    "What do NGOs say about the scope of the cybercrime treaty?",
    "Does Article 14 of the Lanzarote Convention cover rehabilitation?",
    "What is the definition of a child in the CRC?",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_sentence_is_verbatim_from_its_citation(qa, question):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer
    assert answer.mode == "extractive"
    assert_verbatim(answer)
    cited = {c.provision_id for c in answer.citations}
    assert not cited & {c.provision_id for c in answer.related}  # support and related kept apart
    for c in answer.citations:
        prov = qa.index.provision(c.provision_id)
        assert prov is not None and c.doc_id == prov.doc_id and c.article == prov.article
        assert c.doc_title == qa.index.documents[c.doc_id].title


def test_named_provision_is_quoted(qa):
    answer = qa.ask("What does Article 25(2) of UNTOC say?")
    assert answer.answer.splitlines()[0] == "In UNTOC, Art. 25(2):"
    (cit,) = answer.citations
    assert (cit.provision_id, cit.article, cit.paragraph, cit.label) == (
        "untoc/art_25/para_2", "25", "2", "UNTOC, Art. 25(2)")
    assert "compensation and restitution" in answer.answer


def test_off_topic_question_is_refused_with_related_provisions(qa):
    answer = qa.ask("How do I bake sourdough bread?")
    assert answer.refused and answer.verdict.kind == "not_addressed"
    assert answer.answer.startswith("The texts do not address this")
    assert answer.citations == []
    assert answer.related and all(c.sentences == [] for c in answer.related)


def test_a_missing_article_is_not_answered_with_other_provisions(qa):
    answer = qa.ask("What does Article 99 of UNTOC say?")
    assert any("99" in n for n in answer.notices)
    assert answer.citations == [] and not answer.answer.startswith("The texts address this")


def test_coverage_yes(qa):
    answer = qa.ask("Does Article 14 of the Lanzarote Convention cover rehabilitation?")
    assert answer.answer.startswith("Yes")
    assert not answer.refused
    assert all(c.provision_id.startswith("lanzarote-convention/art_14") for c in answer.citations)
    assert re.search(r"recovery|rehabilitation", answer.answer)


def test_coverage_no(qa):
    answer = qa.ask("Does Article 14 of the Lanzarote Convention cover compensation?")
    assert answer.answer.startswith("No. Lanzarote Convention, Art. 14"), answer.answer
    assert answer.verdict.kind == "no" and answer.verdict.missing == ["compensation"]
    # the "no" is checkable: Article 14's own opening is cited, never as support for compensation
    art14 = [c for c in answer.citations if c.provision_id.startswith("lanzarote-convention/art_14")]
    assert art14 and all("compensation" not in s.lower() for c in art14 for s in c.sentences)


def test_coverage_no_points_elsewhere_when_the_treaty_has_it(qa):
    answer = qa.ask("Does Article 24 of UNTOC cover compensation?")
    lead = answer.answer.splitlines()[0]
    assert lead.startswith("No. UNTOC, Art. 24"), lead
    assert "UNTOC, Art. 25(2)" in answer.verdict.instead and not answer.refused
    assert "addressed instead in UNTOC, Art. 25(2)" in answer.answer
    assert_verbatim(answer)


def test_commentary_is_attributed(qa):
    answer = qa.ask("What does the Knowmad Institut say about human rights risks?")
    assert answer.citations and all(c.source_type is DocType.commentary for c in answer.citations)
    for line in answer.answer.splitlines()[1:]:
        assert line.startswith("- Knowmad Institut (commentary) states: "), line


def test_mixed_sources_attribute_only_the_commentary(qa):
    answer = qa.ask("What do NGOs say about the scope of the cybercrime treaty?")
    assert any(c.source_type is not DocType.treaty for c in answer.citations)
    assert_verbatim(answer)  # checks the attribution line by line


def test_stream_ends_with_the_answer(qa):
    items = list(qa.stream("What does Article 25(2) of UNTOC say?"))
    assert isinstance(items[-1], Answer)
    assert all(isinstance(i, str) for i in items[:-1]) and "".join(items[:-1]).strip()
    final = items[-1]
    assert set(final.timings) >= {"resolve", "retrieve", "answer", "total"}
    assert final.resolved_question and final.doc_scope == ["untoc"]


@pytest.mark.parametrize("question, fragment", [
    ("", "type a question"),
    ("   \n\t ", "type a question"),
    ("x" * 50_000, "50,000"),
])
def test_bad_questions(qa, question, fragment):
    with pytest.raises(QuestionError) as info:
        qa.ask(question)
    assert fragment in str(info.value)


def test_question_at_the_limit_is_accepted(qa):
    limit = qa.settings.app.max_question_chars
    question = ("Are whistleblowers protected? " * 200)[:limit]
    assert isinstance(qa.ask(question), Answer)
    with pytest.raises(QuestionError):
        qa.ask(question + " more")


def test_empty_index_and_empty_corpus_is_a_question_error(settings_factory, tmp_path):
    from rag.api import TreatyQA

    empty = tmp_path / "no-documents"
    empty.mkdir()
    with pytest.raises(QuestionError, match="corpus folder holds no documents"):
        TreatyQA(settings_factory(corpus_dir=empty)).ask("Are whistleblowers protected?")


def test_first_question_builds_the_index_from_the_corpus(settings_factory, copy_corpus):
    """A fresh install: the first question builds the index, then answers from it."""
    from rag.api import TreatyQA
    from rag.index.ingest import build_info

    folder = copy_corpus({"iccpr-op1.md": "iccpr-op1"})
    settings = settings_factory(corpus_dir=folder)
    qa = TreatyQA(settings)
    assert qa.index.is_empty()
    answer = qa.ask("What does Article 3 of the Optional Protocol to the ICCPR say?")
    assert not qa.index.is_empty()
    assert qa.index.registry.build_info() == build_info(settings)
    assert any(c.provision_id.startswith("iccpr-op1/art_3") for c in answer.citations)


def test_index_built_by_another_model_is_rebuilt_not_mixed(settings_factory, copy_corpus):
    from rag.api import TreatyQA

    folder = copy_corpus({"iccpr-op1.md": "iccpr-op1"})
    settings = settings_factory(corpus_dir=folder)
    qa = TreatyQA(settings)
    qa.ensure_index()
    qa.index.registry.set_build_info({**qa.index.registry.build_info(), "chunker": "0"})
    assert "chunker" in (qa.index.mismatch() or "")
    report = TreatyQA(settings).ensure_index()
    assert report is not None and report.ok  # rebuilt from the corpus
    assert TreatyQA(settings).index.mismatch() is None


def test_an_answer_found_by_meaning_more_than_by_words_is_led_as_the_closest_provisions(qa):
    """What a reader takes as the conclusion must not claim more than the evidence: passages that
    carry few of the question's terms are "the closest provisions found", not what "the texts address"."""
    lay = qa.ask("could a man with a record for hurting kids be taken on as a football trainer?")
    assert not lay.refused and lay.answer.startswith("The closest provisions found are"), lay.answer
    assert lay.answerability["wcov_best"] < 0.5
    worded = qa.ask("what protection do witnesses get under UNTOC?")
    assert worded.answer.startswith("The texts address this in UNTOC, Art. 24"), worded.answer
