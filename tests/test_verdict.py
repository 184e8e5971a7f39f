"""The verdict unit on small hand-made fixtures: a topic, a paragraph or two, an expected verdict.

Why: the verdict is what a reader sees first. It must follow the rules a lawyer would accept
(yes only when every key concept is carried, no only when none is, partly in between), from
the provision's words, whatever a similarity score says.
"""
from __future__ import annotations

import pytest

from rag.answer.concepts import carried, key_concepts
from rag.answer.verdict import Paragraph, carries_all, judge_coverage

WITNESSES = [
    Paragraph("UNTOC, Art. 24(1)", ["Each State Party shall take appropriate measures within its means to provide "
                                    "effective protection from potential retaliation or intimidation for witnesses "
                                    "in criminal proceedings who give testimony."]),
    Paragraph("UNTOC, Art. 24(4)", ["The provisions of this article shall also apply to victims insofar as they "
                                    "are witnesses."]),
]
RECOVERY = [Paragraph("Lanzarote Convention, Art. 14(1)", [
    "Each Party shall take the necessary legislative or other measures to assist victims, in the short and long "
    "term, in their physical and psycho-social recovery."])]


def labels(concepts):
    return [c.label for c in concepts]


def test_key_concepts_drop_the_question_frame():
    assert labels(key_concepts("Does Article 14 cover victim rehabilitation?")) == ["victim", "rehabilitation"]
    assert labels(key_concepts("does the convention require the states parties to protect journalists")) == [
        "journalists"]


def test_glossary_phrases_are_one_concept_in_the_askers_words():
    concepts = key_concepts("stored e-mails")
    assert labels(concepts) == ["stored", "e-mails"]
    assert labels(key_concepts("child pornography online")) == ["child pornography", "online"]


def test_concepts_match_stems_and_glossary_equivalents():
    concepts = key_concepts("victim rehabilitation")
    assert labels(carried(concepts, RECOVERY[0].sentences[0])) == ["victim", "rehabilitation"]
    assert carried(key_concepts("sexual exploitation"), "No sentence about that.") == []


def test_common_words_can_be_dropped_by_frequency_but_glossary_concepts_stay():
    assert labels(key_concepts("vessels and victims", is_common=lambda s: s in ("vessel", "victim"))) == ["victims"]


def test_yes_when_one_paragraph_carries_every_concept():
    judged = judge_coverage(key_concepts("victim rehabilitation"), RECOVERY, title="Assistance to victims")
    assert judged.kind == "yes"
    assert judged.evidence and judged.evidence[0][1].startswith("Each Party shall take")


def test_partly_when_the_subject_is_touched_but_a_key_concept_is_missing():
    judged = judge_coverage(key_concepts("compensation of witnesses"), WITNESSES, title="Protection of witnesses")
    assert judged.kind == "partly"
    assert labels(judged.carried) == ["witnesses"] and labels(judged.missing) == ["compensation"]
    assert all("witness" in s for _, s in judged.evidence)


def test_no_when_no_sentence_carries_any_concept():
    judged = judge_coverage(key_concepts("extradition of nationals"), RECOVERY, title="Assistance to victims")
    assert judged.kind == "no" and judged.evidence == []
    assert labels(judged.missing) == ["extradition", "nationals"]


def test_concepts_split_over_paragraphs_are_only_partly_covered():
    paragraphs = [Paragraph("A(1)", ["Victims shall be heard."]), Paragraph("A(2)", ["Compensation is due."])]
    judged = judge_coverage(key_concepts("compensation for victims"), paragraphs)
    assert judged.kind == "partly"
    paragraphs = [Paragraph("A(1)", ["Victims shall obtain compensation."])]
    assert judge_coverage(key_concepts("compensation for victims"), paragraphs).kind == "yes"


def test_a_verdict_needs_a_concept():
    with pytest.raises(ValueError):
        judge_coverage([], RECOVERY)


def test_carries_all():
    concepts = key_concepts("stored e-mails")
    assert carries_all(concepts, "search or similarly access stored computer data")
    assert not carries_all(concepts, "real-time collection of traffic data")


@pytest.mark.parametrize("question, article, topic", [
    ("Does Article 14 cover victim rehabilitation?", "14", "victim rehabilitation"),
    ("Is victim compensation covered by Article 25 of UNTOC?", "25", "victim compensation"),
    ("Are witnesses protected under Article 24 of UNTOC?", "24", "witnesses"),
    ("Under Article 16 of UNTOC, can extradition be refused for fiscal offences?", "16",
     "extradition be refused for fiscal offences"),
    ("does crc article 19 protect children against neglect", "19", "children against neglect"),
    ("Does the Budapest Convention's Article 6 criminalise the possession of passwords?", "6",
     "the possession of passwords"),
    ("Is Article 5 of the CRC about parents?", "5", "parents"),
])
def test_coverage_questions_are_recognised_in_their_usual_forms(question, article, topic):
    from rag.answer.extractive import coverage_question

    m = coverage_question(question)
    assert m is not None and m.group("art") == article and m.group("topic").strip(" ?") == topic


@pytest.mark.parametrize("question", ["What does Article 25(2) of UNTOC say?",
                                      "Does the Budapest Convention protect journalists?"])
def test_other_questions_are_not_coverage_questions(question):
    from rag.answer.extractive import coverage_question

    assert coverage_question(question) is None


def test_a_provision_that_names_the_subject_only_to_exclude_it_is_a_no():
    paragraphs = [Paragraph("Lanzarote Convention, Art. 18(3)", [
        "The provisions of paragraph 1.a are not intended to govern consensual sexual activities between minors."])]
    judged = judge_coverage(key_concepts("consensual sexual activity between minors"), paragraphs)
    assert judged.kind == "no" and judged.excluded and judged.evidence  # the excluding sentence is the evidence


def test_a_negated_obligation_about_the_subject_still_covers_it():
    paragraphs = [Paragraph("UNCAC, Art. 46(8)", [
        "States Parties shall not decline to render mutual legal assistance pursuant to this article on the "
        "ground of bank secrecy."])]
    assert judge_coverage(key_concepts("bank secrecy"), paragraphs).kind == "yes"


SURVEILLANCE = [Paragraph("UNTOC, Art. 20(1)", [
    "If permitted by the basic principles of its domestic legal system, each State Party shall, within its "
    "possibilities and under the conditions prescribed by its domestic law, take the necessary measures to allow "
    "for the appropriate use of controlled delivery and, where it deems appropriate, for the use of other special "
    "investigative techniques, such as electronic or other forms of surveillance."])]
PRESERVATION = [Paragraph("Budapest Convention, Art. 16(1)", [
    "Each Party shall adopt such legislative and other measures as may be necessary to enable its competent "
    "authorities to order or similarly obtain the expeditious preservation of specified computer data."])]


def test_a_permission_answers_a_question_about_an_obligation_only_partly():
    concepts = key_concepts("electronic surveillance")
    asked_required = judge_coverage(concepts, SURVEILLANCE, obligation=True)
    assert asked_required.kind == "partly" and asked_required.permissive and asked_required.evidence
    assert judge_coverage(concepts, SURVEILLANCE).kind == "yes"  # "does it mention ...?" is a yes


def test_the_standard_wording_of_an_obligation_is_not_a_permission():
    judged = judge_coverage(key_concepts("preservation of computer data"), PRESERVATION, obligation=True)
    assert judged.kind == "yes" and not judged.permissive  # "as may be necessary" obliges


@pytest.mark.parametrize("question, expected", [
    ("Does Article 20 of UNTOC require states to permit electronic surveillance?", True),
    ("Must parties criminalise grooming under Article 23?", True),
    ("Does Article 20 of UNTOC mention electronic surveillance?", False),
    ("Does Lanzarote Article 12 make reporting compulsory for doctors?", True),
    ("Is reporting mandatory under Article 12?", True),
])
def test_questions_asking_for_an_obligation_are_recognised(question, expected):
    from rag.answer.verdict import asks_obligation

    assert asks_obligation(question) is expected


def test_with_the_exception_of_names_the_subject_only_to_exclude_it():
    paragraphs = [Paragraph("Budapest Convention, Art. 10(1)", [
        "Each Party shall establish as criminal offences the infringement of copyright, with the exception of any "
        "moral rights conferred by such conventions, where such acts are committed wilfully."])]
    judged = judge_coverage(key_concepts("moral rights of authors"), paragraphs)
    assert judged.kind == "no" and judged.excluded


TAX = [Paragraph("UNCAC, Art. 12(4)", [
    "Each State Party shall disallow the tax deductibility of expenses that constitute bribes, the latter being one "
    "of the constituent elements of the offences established in accordance with articles 15 and 16 of this "
    "Convention and, where appropriate, other expenses incurred in furtherance of corrupt conduct."])]


def test_a_qualification_of_a_later_part_does_not_make_an_obligation_a_permission():
    # "shall disallow ... bribes" obliges; "where appropriate" qualifies only the other expenses.
    judged = judge_coverage(key_concepts("tax deduction of bribes"), TAX, obligation=True)
    assert judged.kind == "yes" and not judged.permissive
    # What is said only after the qualification is said only as a permission.
    later = judge_coverage(key_concepts("corrupt conduct"), TAX, obligation=True)
    assert later.kind == "partly" and later.permissive


def test_a_condition_before_the_obligation_makes_the_whole_sentence_permissive():
    from rag.answer.verdict import permissive_only

    sentence = SURVEILLANCE[0].sentences[0]  # "If permitted by ... each State Party shall ..."
    assert permissive_only(sentence, key_concepts("controlled delivery"))
    assert not permissive_only(PRESERVATION[0].sentences[0], key_concepts("preservation"))


@pytest.mark.parametrize("question", [
    "Does Article 29 of the Budapest Convention waive the dual criminality requirement for preservation requests?",
    "Does UNTOC Article 18 list the requirements of a request for mutual legal assistance?",
])
def test_a_requirement_named_as_the_subject_is_not_a_question_about_an_obligation(question):
    from rag.answer.verdict import asks_obligation

    assert not asks_obligation(question)


def test_an_obligation_whose_specific_subject_comes_after_the_qualification_is_a_permission():
    from rag.answer.verdict import permissive_only

    sentence = ("Each State Party shall take appropriate measures to ensure that the relevant anti-corruption bodies "
                "referred to in this Convention are known to the public and shall provide access to such bodies, "
                "where appropriate, for the reporting, including anonymously, of any incidents that may be "
                "considered to constitute an offence established in accordance with this Convention.")
    assert permissive_only(sentence, key_concepts("anonymous reporting to anti-corruption bodies"))


@pytest.mark.parametrize("question", [
    "Is there a requirement to criminalise attempt under the Budapest Convention?",
    "Does UNCAC contain a requirement that states protect whistleblowers?",
])
def test_a_requirement_asked_for_is_a_question_about_an_obligation(question):
    from rag.answer.verdict import asks_obligation

    assert asks_obligation(question)


PROMOTED_POINTS = [Paragraph("CRC, Art. 40(3)", [
    "States Parties shall seek to promote the establishment of laws, procedures, authorities and institutions "
    "specifically applicable to children alleged as, accused of, or recognized as having infringed the penal law, "
    "and, in particular:",
    "a) The establishment of a minimum age below which children shall be presumed not to have the capacity to "
    "infringe the penal law;"])]
REQUIRED_POINTS = [Paragraph("Budapest Convention, Art. 35(1)", [
    "Such assistance shall include facilitating, or, if permitted by its domestic law and practice, directly "
    "carrying out the following measures:",
    "c) the collection of evidence, the provision of legal information, and locating of suspects."])]


def test_a_point_says_what_its_lead_in_says_of_it():
    # "shall seek to promote ... in particular: (a) a minimum age": promoted, not required
    judged = judge_coverage(key_concepts("minimum age"), PROMOTED_POINTS, obligation=True)
    assert judged.kind == "partly" and judged.permissive
    # a lead-in that obliges first ("shall include facilitating, or, if permitted, ...") requires its points
    judged = judge_coverage(key_concepts("locating suspects"), REQUIRED_POINTS, obligation=True)
    assert judged.kind == "yes" and not judged.permissive


@pytest.mark.parametrize("question, topic", [
    ("Is a right to compensation for victims found in Art. 24 UNTOC?", "a right to compensation for victims"),
    ("Is the right to privacy enshrined in Article 17 of the ICCPR?", "the right to privacy"),
])
def test_found_in_and_enshrined_in_ask_whether_a_provision_carries_it(question, topic):
    from rag.answer.extractive import coverage_question

    m = coverage_question(question)
    assert m is not None and m.group("topic").strip(" ?") == topic


def test_case_law_and_a_court_of_first_instance_keep_their_nouns():
    assert "case" in labels(key_concepts("references to case law"))
    assert "instance" in labels(key_concepts("a court of first instance"))


def test_a_passive_obligation_names_who_is_bound_and_to_do_what():
    from rag.answer.extractive import coverage_question

    m = coverage_question("Is a country required by Article 4 of the OPSC to have jurisdiction over its nationals?")
    assert m is not None and m.group("art") == "4"
    assert m.group("topic") == "a country have jurisdiction over its nationals"
    m = coverage_question("Is corporal punishment allowed under Article 19 to be used by parents?")
    assert m is None or "corporal punishment" in m.group("topic")  # "allowed" is not an obligation form


def test_an_article_named_before_a_yes_no_question_is_the_one_asked_about():
    from rag.answer.extractive import yes_no_about_article

    read = yes_no_about_article("Art 27 Lanzarote: do states have to withdraw parental rights?", {})
    assert read is not None and read.art == "27" and "withdraw parental rights" in read.topic
    assert yes_no_about_article("Articles 27 and 28 Lanzarote: do states have to criminalise it?", {}) is None
    assert yes_no_about_article("Art 27, Art 28 - do states have to criminalise it?", {}) is None


def test_the_ages_and_lengths_of_time_a_text_states():
    from rag.answer.extractive import stated_figures

    assert stated_figures("persons who have not attained the age of fifteen years") == {"age": {15}}
    assert stated_figures("recruiting children under 18") == {"age": {18}}
    assert stated_figures("recruiting under-18s into the army") == {"age": {18}}  # the age group as a noun
    assert stated_figures("under 18 months") == {"month": {18}}
    assert stated_figures("up to a maximum of ninety days, and within six months") == {"day": {90}, "month": {6}}
    assert stated_figures("Article 38 of the Convention") == {}


@pytest.mark.parametrize("question, refused", [
    ("What did the Lanzarote Committee of the Parties decide at its last session?", True),
    ("When did the UNCAC implementation review mechanism finish its second cycle?", True),
    ("What did the NGO group say about the surveillance powers?", False),
    ("What did the Ad Hoc Committee conclude, according to the Knowmad commentary?", False),
    ("What did the ad-hoc committee conclude?", False),
    ("What did the body of the text say about consent?", False),
])
def test_what_a_treaty_body_later_did_is_told_from_what_a_commentary_says(question, refused):
    from rag.answer.extractive import _body_acts

    assert _body_acts(question) is refused


def test_short_names_hold_the_whole_full_name_and_no_determiner():
    from rag.answer.extractive import short_names

    assert short_names("The Conference of the States Parties to the Convention (hereinafter the Conference of the "
                       "Parties) shall meet") == (("Conference of the States Parties", "Conference of the Parties"),)
    assert short_names("Any Party (hereafter the Party) may") == ()
    assert short_names("the Implementation Review Board (hereinafter the \u201cBoard\u201d) shall") == \
        (("Implementation Review Board", "Board"),)


def test_ages_keep_their_sense_and_a_bound_covers_the_ages_it_bounds():
    from rag.answer.extractive import _age_met, age_bounds

    crc_38 = ("States Parties shall refrain from recruiting any person who has not attained the age of fifteen years "
              "into their armed forces.")
    assert age_bounds(crc_38) == {(15, "below")}
    assert age_bounds("persons below eighteen years of age") == {(18, "below")}
    assert age_bounds("those persons who have attained the age of fifteen years") == {(15, "above")}
    assert age_bounds("a crime committed by a 16 year old") == {(16, "exact")}
    assert _age_met((16, "exact"), {(18, "below")}) and not _age_met((25, "exact"), {(18, "below")})
    assert _age_met((16, "below"), {(18, "below")}) and not _age_met((18, "below"), {(15, "below")})
    assert _age_met((18, "exact"), {(18, "exact")}) and not _age_met((16, "exact"), {(18, "above")})
