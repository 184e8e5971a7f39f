"""Verdicts and refusals as a reader sees them, on the whole shipped corpus (the session index).

Why: a confident wrong conclusion is the worst thing the product can do. The same question
must get the same verdict however the document is given; a "no" must cite the named article
so the reader can check it; the texts' silence must be said, not papered over.
"""
from __future__ import annotations

import pytest

from rag.model import Turn
from rag.references import find_documents


@pytest.fixture(scope="module")
def qa(corpus_index):
    return corpus_index


def cited_articles(answer):
    return {c.provision_id.split("/para_")[0] for c in answer.citations}


def assert_not_addressed(answer, reason: str) -> None:
    """Refused as "not addressed", saying why in the asker's terms."""
    assert answer.refused and answer.verdict.kind == "not_addressed", answer.answer
    assert reason in answer.answer


def test_same_verdict_whether_the_document_is_named_assumed_or_carried_over(qa):
    named = qa.ask("Does Article 14 of the Lanzarote Convention cover victim rehabilitation?")
    assumed = qa.ask("Does Article 14 cover victim rehabilitation?")
    first = qa.ask("What does the Lanzarote Convention say about assistance to victims?")
    carried_over = qa.ask("Does Article 14 cover victim rehabilitation?", [Turn.from_answer(first)])
    for answer in (named, assumed, carried_over):
        assert answer.verdict is not None and answer.verdict.kind == "yes", answer.answer
        assert "lanzarote-convention/art_14" in cited_articles(answer)
        assert answer.answer.startswith("Yes.")
    assert any("Assumed" in n for n in assumed.notices)


def test_a_no_cites_the_named_article_and_where_the_subject_is_instead(qa):
    answer = qa.ask("Does Article 2 of the Budapest Convention cover extradition?")
    assert answer.verdict.kind == "no", answer.answer
    assert answer.answer.startswith("No. Budapest Convention, Art. 2")
    articles = cited_articles(answer)
    assert "budapest-convention/art_2" in articles  # what Article 2 is about, to check the "no"
    assert "budapest-convention/art_24" in articles  # where extradition is addressed
    assert answer.verdict.instead and answer.verdict.evidence


def test_partly_says_what_is_carried_and_what_is_not(qa):
    answer = qa.ask("Does Article 24 of UNTOC cover compensation of witnesses?")
    assert answer.verdict.kind == "partly", answer.answer
    assert "witnesses" in answer.verdict.carried and "compensation" in answer.verdict.missing
    assert "untoc/art_24" in cited_articles(answer)


@pytest.mark.parametrize("question, reason", [
    ("How many states have ratified the Budapest Convention?", "ratified"),
    ("Does the Budapest Convention regulate cryptocurrency exchanges?", "cryptocurrency"),
    ("What prison term in years does the Lanzarote Convention set for solicitation of children?", "years"),
])
def test_questions_the_texts_do_not_answer_are_not_addressed(qa, question, reason):
    answer = qa.ask(question)
    assert answer.refused and answer.verdict.kind == "not_addressed", answer.answer
    assert reason in answer.answer
    assert answer.related or answer.citations  # the closest provisions are still shown


def test_an_unstated_number_says_what_the_texts_do_set(qa):
    answer = qa.ask("What prison term in years does the Lanzarote Convention set for solicitation of children?")
    assert "What they do say" in answer.answer
    assert any(c.provision_id.startswith("lanzarote-convention/art_27") for c in answer.citations), answer.answer


@pytest.mark.parametrize("question", [
    "What does UNTOC say about the protection of witnesses?",
    "How does the CRC protect children from economic exploitation?",
    "Is grooming a crime?",
])
def test_answerable_questions_are_answered(qa, question):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer
    assert answer.citations


def test_a_subject_phrase_is_not_a_document_name(qa):
    metas = qa.index.documents
    assert [d.doc_id for d in find_documents("Does UNTOC protect the rights of the child?", metas)] == ["untoc"]
    assert {d.doc_id for d in find_documents(
        "Compare UNTOC and the Convention on the Rights of the Child on victims", metas)} == {"untoc", "crc"}
    assert [d.doc_id for d in find_documents("what do the rights of the child say about play", metas)] == ["crc"]


def test_a_standalone_question_after_another_treaty_is_not_a_follow_up(qa):
    first = qa.ask("What does the Budapest Convention say about illegal access?")
    query, passages = qa.retrieve("What is an organized criminal group?", [Turn.from_answer(first)])
    assert not query.follow_up and query.doc_scope == []
    assert passages[0].chunk.provision_id.startswith("untoc/art_2"), [p.chunk.provision_id for p in passages[:3]]
    follow, _ = qa.retrieve("and does the CRC say the same?", [Turn.from_answer(first)])
    assert follow.follow_up and follow.doc_scope == ["crc"]


def test_a_similar_rule_in_another_treaty_is_a_follow_up(qa):
    first = qa.ask("What does the Lanzarote Convention require for the statute of limitation on child sexual "
                   "abuse offences?")
    query, passages = qa.retrieve("does UNCAC have a similar rule?", [Turn.from_answer(first)])
    assert query.follow_up and query.doc_scope == ["uncac"]
    assert any(p.chunk.provision_id.startswith("uncac/art_29") for p in passages[:3]), \
        [p.chunk.provision_id for p in passages[:3]]
    # A comparison word with a subject of its own does not by itself refer back to the earlier turn
    # (the retriever may still find, from evidence, that the earlier turn's documents carry it).
    other = qa.ask("What does Article 16 of UNTOC say about extradition?")
    read = qa.retriever.reader.read("Is interception likewise criminalised?", [Turn.from_answer(other)])
    assert not read.follow_up


def test_a_concept_in_most_of_a_treaty_does_not_decide_its_articles(qa):
    """'children' is in most CRC provisions: Article 34 (sexual exploitation) does not cover the
    sale of children, which Article 35 does."""
    answer = qa.ask("Does Article 34 of the CRC cover the sale of children?")
    assert answer.verdict.kind == "no", answer.answer
    assert "CRC, Art. 35" in answer.verdict.instead


def test_a_missing_article_is_named_as_asked(qa):
    answer = qa.ask("What does CRC Article 4000 say?")
    assert any("Article 4000" in n for n in answer.notices), answer.notices
    assert not answer.citations


def test_a_subject_the_same_treaty_puts_in_another_article_is_a_no(qa):
    """UNTOC Art. 24 (witnesses) names victims in passing; compensation of victims is Art. 25's.
    What the two share is incidental: "no, it is in Art. 25", not "partly"."""
    answer = qa.ask("Does UNTOC Article 24 deal with compensation to victims?")
    assert answer.verdict.kind == "no", answer.answer
    assert any(label.startswith("UNTOC, Art. 25") for label in answer.verdict.instead), answer.verdict.instead
    assert "untoc/art_24" in cited_articles(answer)


def test_a_permission_is_not_an_obligation(qa):
    answer = qa.ask("Does Article 20 of UNTOC oblige states to use electronic surveillance?")
    assert answer.verdict.kind == "partly", answer.answer
    assert "does not require it" in answer.answer and "untoc/art_20" in cited_articles(answer)


def test_any_verb_reads_as_a_coverage_question_once_the_document_is_named(qa):
    answer = qa.ask("Does Article 37 of the CRC rule out capital punishment for offences committed by children?")
    assert answer.verdict is not None and answer.verdict.kind == "yes", answer.answer
    assert "crc/art_37" in cited_articles(answer)


def test_the_article_named_first_and_asked_about_as_it_is_a_coverage_question(qa):
    # "<article> - does it <verb> <subject>?" gets a verdict like "Does <article> <verb> <subject>?"
    first = qa.ask("crc article 37 - does it rule out capital punishment for offences committed by children?")
    usual = qa.ask("Does Article 37 of the CRC rule out capital punishment for offences committed by children?")
    assert first.verdict is not None and first.verdict.kind == usual.verdict.kind == "yes", first.answer
    assert "crc/art_37" in cited_articles(first)


@pytest.mark.parametrize("question, reason", [
    ("What does the EU Digital Services Act require of online platforms?", "Digital Services Act"),
    ("What fines does the GDPR impose on data controllers?", "GDPR"),
    ("In what year did France ratify the Lanzarote Convention?", "ratified"),
    # named by a commentary is not contained: the Act's own rules are not in the texts
    ("What penalties does the EU Cybersecurity Act impose on companies that suffer a data breach?",
     "they only mention it"),
    ("Which states have made the Article 41 declaration under the ICCPR?", "which states signed"),
    ("How many individual complaints has the Human Rights Committee received up to now?", "which states signed"),
])
def test_another_instrument_or_a_fact_no_treaty_records_is_not_addressed(qa, question, reason):
    assert_not_addressed(qa.ask(question), reason)


def test_what_a_text_says_about_an_instrument_it_mentions_is_answered(qa):
    answer = qa.ask("What does the Knowmad commentary say about the EU Cybersecurity Act?")
    assert not answer.refused and any("knowmad" in c.provision_id for c in answer.citations), answer.answer


def test_a_number_the_named_provision_does_not_state_is_not_invented(qa):
    answer = qa.ask("How many years in prison does Article 3 of the Budapest Convention require?")
    assert answer.refused and answer.verdict.kind == "not_addressed", answer.answer
    assert "What Budapest Convention, Art. 3 does say" in answer.answer
    assert "budapest-convention/art_3" in cited_articles(answer)  # the provision is still quoted


def test_a_protocol_named_through_its_parents_abbreviation(qa):
    metas = qa.index.documents
    found = find_documents("Article 9 of the Optional Protocol to the CRC on the sale of children", metas)
    assert [d.doc_id for d in found] == ["crc-opsc"]


@pytest.mark.parametrize("question, reason", [
    ("At what age can children be held criminally responsible under the CRC?", "sets an age"),
    ("How long does the Human Rights Committee take to examine a communication?", "sets a length of time"),
    # a time limit asked for in other words than "how long", and a date of an event
    ("Is there a time limit for a person to send a communication to the Human Rights Committee "
     "under the ICCPR Optional Protocol?", "sets a time limit"),
    ("whats the max prison sentence for grooming under the lanzarote convention", "sets a length of time"),
    ("In what year did the Convention on the Rights of the Child come into force?", "do not record"),
])
def test_an_age_or_a_length_of_time_the_texts_do_not_set_is_not_addressed(qa, question, reason):
    answer = qa.ask(question)
    assert answer.refused and answer.verdict.kind == "not_addressed", answer.answer
    assert reason in answer.answer


@pytest.mark.parametrize("question, provision", [
    ("Up to what age is a person a child under the CRC?", "crc/art_1"),
    ("How long can the expedited preservation of computer data last under the Budapest Convention?",
     "budapest-convention/art_16"),
])
def test_an_age_or_a_length_of_time_the_texts_set_is_answered(qa, question, provision):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer
    assert provision in cited_articles(answer)


def test_a_follow_up_with_its_own_subject_does_not_inherit_a_refused_word(qa):
    first = qa.ask("What does the CRC say about locking up children?")
    assert first.refused  # "locking" is not a word of the texts
    answer = qa.ask("can a 16 year old be sentenced to life imprisonment without possibility of release?",
                    [Turn.from_answer(first)])
    assert not answer.refused, answer.answer
    assert "crc/art_37" in cited_articles(answer)


def test_a_commentary_asked_about_an_article_quotes_where_it_discusses_it(qa):
    answer = qa.ask("What does the Knowmad Institut say about Article 14 of the UN cybercrime convention?")
    assert not answer.refused, answer.answer
    assert answer.citations and all(c.doc_id == "knowmad-2024-08-commentary" for c in answer.citations)
    assert any("Article 14" in c.text for c in answer.citations)


@pytest.mark.parametrize("question, provision", [
    ("Is a person who was unlawfully detained entitled to compensation under Article 9 of the ICCPR?", "iccpr/art_9"),
    ("Can a Party under Art. 25 of the Budapest Convention make an urgent request by fax?",
     "budapest-convention/art_25"),
])
def test_any_yes_no_question_about_one_named_article_gets_a_verdict(qa, question, provision):
    answer = qa.ask(question)
    assert answer.verdict is not None and answer.verdict.kind == "yes", answer.answer
    assert provision in cited_articles(answer)


@pytest.mark.parametrize("question, reason", [
    ("Does the Budapest Convention entitle victims of hacking to compensation?", "together"),
    ("Does UNTOC say anything about drones carrying narcotics across frontiers?", "drones"),
    ("Has any state invoked Article 41 of the ICCPR?", "how states have applied them"),
    ("What is the age of sexual consent under the Lanzarote Convention?", "sets an age"),
])
def test_a_document_that_only_shares_words_with_the_subject_does_not_address_it(qa, question, reason):
    assert_not_addressed(qa.ask(question), reason)


def test_a_document_that_carries_all_but_one_concept_of_a_long_subject_answers_it(qa):
    answer = qa.ask("Does the ICCPR allow governments to suspend rights in a national emergency?")
    assert not answer.refused, answer.answer
    assert "iccpr/art_4" in cited_articles(answer)


# Regressions found by probing the rules above with new questions (a reviewer's, not gold ones).
def test_a_general_word_that_is_the_whole_subject_is_kept(qa):
    answer = qa.ask("Is a child's right to play protected by Article 24 of the CRC?")
    assert answer.verdict is not None and answer.verdict.kind in ("no", "partly"), answer.answer
    assert "crc/art_31" in cited_articles(answer)  # where play is addressed


@pytest.mark.parametrize("question", [
    "Is it lawful to execute pregnant women under Article 6 of the ICCPR?",  # a judgement, not a coverage
    "Are articles 3 and 4 of the Budapest Convention similar?",  # two articles
])
def test_questions_that_are_not_coverage_questions_get_no_verdict(qa, question):
    answer = qa.ask(question)
    assert answer.verdict is None or answer.verdict.kind != "yes", answer.answer


@pytest.mark.parametrize("question, provision", [
    ("At what age can children be recruited into the armed forces under the CRC?", "crc/art_38"),
    ("Under how many years of age is a person considered a child under the CRC?", "crc/art_1"),
    ("What value does the ICCPR place on the family?", "iccpr/art_23"),
    ("How many States Parties must have made declarations under Article 41 of the ICCPR for it to come into force?",
     "iccpr/art_41"),
    ("is it a crime to show a 10 year old pornography?", None),
])
def test_ages_values_and_counts_the_texts_state_are_not_refused(qa, question, provision):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer
    if provision:
        assert provision in cited_articles(answer)


def test_a_commentary_outside_the_search_scope_is_not_quoted(qa):
    from rag.model import Filters
    answer = qa.ask("What does the Knowmad commentary say about Article 14?", filters=Filters(doc_ids=["iccpr"]))
    assert all(c.doc_id == "iccpr" for c in answer.citations), answer.answer


def test_a_subject_in_the_provisions_own_words_is_a_qualified_yes_however_the_document_is_given(qa):
    """Art. 12(4) UNCAC disallows "the tax deductibility of expenses that constitute bribes": the
    asker's "writing off" is not its wording, and one missing word no longer forces a hedge. The
    yes says which word the provision does not use, and does not depend on how UNCAC was named."""
    question = "Does Article 12 {}stop companies from writing off bribes against their taxes?"
    named = qa.ask(question.format("of UNCAC "))
    first = qa.ask("What does the Convention against Corruption say about the private sector?")
    carried_over = qa.ask(question.format(""), [Turn.from_answer(first)])
    for answer in (named, carried_over):
        assert answer.verdict.kind == "yes", answer.answer
        assert "not in these words" in answer.answer.splitlines()[0]
        assert answer.verdict.missing and answer.verdict.signals["frac_best"] < 1
        assert any(c.provision_id == "uncac/art_12/para_4" for c in answer.citations)


def test_a_subject_that_only_shares_its_context_with_the_article_is_a_no(qa):
    """Art. 9 Budapest is about child pornography: "online" and "children" are context, not the
    subject (grooming), which the Lanzarote Convention carries in another article."""
    answer = qa.ask("Does Article 9 of the Budapest Convention cover online grooming of children?")
    assert answer.verdict.kind == "no", answer.answer
    assert "budapest-convention/art_9" in cited_articles(answer)


@pytest.mark.parametrize("question, reason", [
    ("Has the Russian Federation ratified the Lanzarote Convention?", "ratified"),
    ("Is the Optional Protocol on the sale of children widely ratified?", "ratified"),
    ("When did the Convention on the Rights of the Child come into force?", "when"),
    ("How many requests for mutual legal assistance have been refused under UNTOC since 2010?", "applied"),
    ("Who is the current chair of the Human Rights Committee?", "offices"),
    ("how big are the fines under Article 13 of the Budapest Convention?", "amount"),
    ("What does General Comment No. 13 of the Committee on the Rights of the Child say about Article 19 of the CRC?",
     "treaty body's reading"),
])
def test_facts_of_the_world_and_other_bodies_readings_are_not_addressed(qa, question, reason):
    """A state's ratification (with "the" in its name), how far a treaty has spread, its date of
    entry into force, counts of what happened under it, who holds an office now, the size of a fine,
    a treaty body's General Comment: none of it is in the treaty's text."""
    assert_not_addressed(qa.ask(question), reason)


@pytest.mark.parametrize("question, provision", [
    ("How many ratifications does the Budapest Convention need to enter into force?", "budapest-convention/art_36"),
    ("How many members does the Human Rights Committee have?", "iccpr/art_28"),
])
def test_what_the_final_clauses_and_institutions_articles_set_is_answered(qa, question, provision):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer
    assert provision in cited_articles(answer)


def test_a_weighed_yes_still_needs_an_obligation_when_one_is_asked(qa):
    """UNTOC Art. 26(3): "shall consider providing for the possibility" of immunity. However well
    the article matches the subject, it does not *require* it."""
    answer = qa.ask("under untoc art 26, do states have to give immunity from prosecution to gang members "
                    "who cooperate with police?")
    assert answer.verdict.kind == "partly", answer.answer
    assert "does not require it" in answer.answer.splitlines()[0]


@pytest.mark.parametrize("question, provision", [
    ("What does Article 15 of the ICCPR say about retroactive changes to the Criminal Code?", "iccpr/art_15"),
    ("How many member states have to ratify the Lanzarote Convention for it to enter into force?",
     "lanzarote-convention/art_45"),
    ("Can current members of the Committee on the Rights of the Child be re-elected?", "crc/art_43"),
])
def test_a_generic_code_or_an_institutions_question_is_not_refused(qa, question, provision):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer
    assert provision in cited_articles(answer)


def test_a_yes_carried_by_the_title_quotes_the_provision(qa):
    """Art. 2 is titled "Illegal access": the yes still quotes and cites the article itself."""
    answer = qa.ask("Does Article 2 of the Budapest Convention cover illegal access?")
    assert answer.verdict.kind == "yes" and answer.verdict.evidence, answer.answer
    assert "budapest-convention/art_2" in cited_articles(answer)


def test_an_instrument_opening_the_question_is_named_without_the_question_words(qa):
    answer = qa.ask("Does the EU Cybersecurity Act appear in any of the texts?")
    assert not answer.refused and any("knowmad" in c.provision_id for c in answer.citations), answer.answer


@pytest.mark.parametrize("question, provision", [
    # the texts' own word for a time limit answers it: "brought promptly before a judge"
    ("how quickly must an arrested person be brought before a judge under the ICCPR?", "iccpr/art_9"),
    # a condition opening the question does not count as its subject
    ("If a state wants to denounce UNTOC, how long after the notification does the denunciation take "
     "effect?", "untoc/art_40"),
    ("What is the deadline for the receiving State to reply to an inter-state communication under the ICCPR?",
     "iccpr/art_41"),
    ("Is there a time limit for bringing a detained person before a judge under the ICCPR?", "iccpr/art_9"),
    # a date asked of a rule, not of an event
    ("When does an amendment to the CRC come into force for the States that accepted it?", "crc/art_50"),
])
def test_a_time_limit_the_texts_set_is_answered(qa, question, provision):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer
    assert provision in cited_articles(answer)


def test_an_inflected_everyday_word_is_not_a_term_the_texts_lack(qa):
    # "slaps" is not a whole word of the model's vocabulary, "slap" is: the asker's wording, not a gap
    answer = qa.ask("a teacher slaps pupils in class - do children's rights under the CRC protect them?")
    assert not answer.refused, answer.answer
    assert "never use the term" not in answer.answer


@pytest.mark.parametrize("question, missing", [
    ("Does Article 10 of the OPSC cover both the repatriation of child victims and compensation for them?",
     "compensation"),
    ("Does Article 14 of the ICCPR guarantee both a public hearing and a jury trial?", "jury"),  # no text says "jury"
])
def test_both_parts_asked_for_must_both_be_said_for_a_yes(qa, question, missing):
    answer = qa.ask(question)
    assert answer.verdict.kind == "partly", answer.answer
    assert missing in answer.verdict.missing


def test_a_partly_points_to_a_provision_that_carries_more_of_the_subject(qa):
    # UNCAC Art. 15 is about public officials; bribery in private companies is Art. 21, in other words
    answer = qa.ask("Does Article 15 of UNCAC cover bribery within private companies?")
    assert answer.verdict.kind in ("partly", "no"), answer.answer
    assert "uncac/art_21" in cited_articles(answer), answer.answer
    assert "do not address" not in answer.answer


@pytest.mark.parametrize("question, name", [
    ("What does the UNTOC Migrant Smuggling Protocol require states to criminalise?", "migrant smuggling protocol"),
    ("How does the Montreal Protocol regulate ozone?", "montreal protocol"),
    ("Does the Second Optional Protocol to the ICCPR abolish the death penalty?", "second optional protocol"),
    # described in lower case: a sibling protocol of a corpus treaty that is not indexed
    ("what does the untoc trafficking protocol say about victims' consent?", "trafficking protocol"),
    ("does the firearms protocol require marking of guns?", "firearms protocol"),
    # a later protocol in lower case: the corpus holds only first ones
    ("what does the second optional protocol to the iccpr require of states?", "second optional protocol"),
])
def test_a_protocol_no_indexed_document_is_named_as_outside_the_texts(qa, question, name):
    answer = qa.ask(question)
    assert answer.refused and answer.verdict.kind == "not_addressed", answer.answer
    assert name in answer.answer.lower()


@pytest.mark.parametrize("question, doc", [
    ("Does the optional protocol on the sale of children cover child prostitution?", "crc-opsc"),
    ("what does the budapest protocol say about racist material?", "budapest-protocol-1"),
    # "protocol" as an ordinary word, and the corpus's own protocol described by what it does
    ("Can police obtain internet protocol addresses of subscribers under the Budapest Convention?",
     "budapest-convention"),
    ("Under the individual complaints protocol, can the Committee consider a case already examined by "
     "another international body?", "iccpr-op1"),
])
def test_the_corpus_own_protocols_are_not_outside_the_texts(qa, question, doc):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer
    assert any(c.doc_id == doc for c in answer.citations)


@pytest.mark.parametrize("question, reason", [
    ("What fine in euros does Article 13 of the Budapest Convention set for companies held liable?", "euros"),
    ("What prison term does Article 16 UNCAC prescribe for bribing a foreign public official?",
     "sets a length of time"),
    ("How much are Human Rights Committee members paid under Article 35 ICCPR?", "sets an amount"),
])
def test_a_figure_the_named_provision_does_not_state_is_not_addressed(qa, question, reason):
    answer = qa.ask(question)
    assert answer.refused and answer.verdict.kind == "not_addressed", answer.answer
    assert reason in answer.answer
    assert answer.citations  # what the provision does say is quoted, so the reader can check


def test_what_happened_at_the_latest_meeting_is_not_in_the_texts(qa):
    answer = qa.ask("Where was the latest session of the Conference of the States Parties to UNCAC held?")
    assert answer.refused and answer.verdict.kind == "not_addressed", answer.answer


@pytest.mark.parametrize("question, kind, said", [
    # no sentence states a time, and none speaks of one: the provision sets none
    ("Does Article 2 of the ICCPR Optional Protocol fix a time limit for sending a communication?", "no",
     "does not set a time limit"),
    # it speaks of a minimum age but states no figure
    ("Does Article 40 of the CRC set the minimum age of criminal responsibility?", "partly",
     "speaks of an age but does not state one"),
])
def test_a_figure_asked_of_a_named_provision_is_decided_by_whether_it_states_one(qa, question, kind, said):
    answer = qa.ask(question)
    assert answer.verdict is not None and answer.verdict.kind == kind, answer.answer
    assert said in answer.answer
    assert answer.citations and answer.citations[0].article == answer.verdict.provision.split("Art. ")[1]


def test_a_figure_the_named_provision_states_keeps_its_yes(qa):
    answer = qa.ask("Does Article 29 of the Budapest Convention set a minimum period for keeping preserved data?")
    assert answer.verdict.kind == "yes", answer.answer
    assert "sixty days" in " ".join(c.text for c in answer.citations)


def test_points_say_what_their_lead_in_says_of_them(qa):
    # OPSC Art. 4(2): "Each State Party may take such measures ... in the following cases: (a) When the
    # alleged offender is a national of that State": permitted, not required.
    answer = qa.ask("Is a State required by Article 4 of the OPSC to take jurisdiction when the victim is one "
                    "of its nationals?")
    assert answer.verdict is not None and answer.verdict.kind == "partly", answer.answer
    answer = qa.ask("Art 27 Lanzarote: do states have to withdraw parental rights from convicted offenders?")
    assert answer.verdict is not None and answer.verdict.kind == "partly", answer.answer  # 27(4) "may adopt"


_BODIES_LATER = "do not record what committees, conferences"  # what a treaty body later decided
_STATES_DID = "treaty texts do not record what happened to them"  # what states did under a treaty


@pytest.mark.parametrize("question, reason", [
    ("What did the Lanzarote Committee of the Parties recommend in its last report?", _BODIES_LATER),
    ("When did the UNCAC review mechanism start its first cycle?", _BODIES_LATER),
    ("What did the UN General Assembly decide about the convention in its last session?", _BODIES_LATER),
    ("What reservation did France make to Article 22 of the Budapest Convention?", _STATES_DID),
    ("Which countries voted against adopting UNCAC?", _STATES_DID),
    ("Has any country ever turned down a request under Article 29 of the Budapest Convention as political?",
     _STATES_DID),
    ("How many petitions has the Human Rights Committee examined since the Protocol entered into force?", _STATES_DID),
    ("In what precise year did the Lanzarote Convention enter into force?", _STATES_DID),
    ("What recommendations has the UNCAC Conference of the States Parties adopted at its session in 2019?",
     _BODIES_LATER),
    ("Which article of the German Criminal Code implements Article 3 of the Budapest Convention?",
     "do not contain the rules of the German Criminal Code"),
    ("Which domestic courts have applied Article 2 of the Budapest Convention?", _STATES_DID),
    # a standard no text names, beside a named provision that is quoted instead
    ("Which hashing standard (SHA-256?) does Article 19 of the Budapest Convention require for seized data?",
     "never use the term \u201cSHA-256\u201d"),
    ("untoc art 14 - what percentage of confiscated proceeds goes to the victims?", "sets a percentage"),
])
def test_what_bodies_and_states_later_did_is_not_in_the_texts(qa, question, reason):
    assert_not_addressed(qa.ask(question), reason)


def test_the_drafting_committee_is_not_a_body_whose_acts_the_texts_lack(qa):
    answer = qa.ask("What did the Ad Hoc Committee conclude about human rights safeguards?")
    assert _BODIES_LATER not in answer.answer


def test_chat_shorthand_is_read_as_the_words_it_stands_for(qa):
    typed = "my 13 yo keeps getting dms from an adult who wants to meet her irl, is that a crime?"
    answer = qa.ask(typed)
    assert not answer.refused, answer.answer
    assert any(c.doc_id == "lanzarote-convention" and c.article == "23" for c in answer.citations)
    assert answer.question == typed  # the answer keeps the question as it was typed


def test_a_document_s_short_names_and_its_word_for_a_complaint_are_its_own(qa):
    from rag.answer.extractive import short_names

    op1 = qa.index.parsed("iccpr-op1").document.text
    assert ("Human Rights Committee", "Committee") in short_names(op1)  # "(hereinafter referred to as the Committee)"
    # the Protocol says "the Committee" and "communication"; the asker, "Human Rights Committee" and "complaint"
    answer = qa.ask("Under Article 3 of the ICCPR Optional Protocol, are anonymous complaints to the Human Rights "
                    "Committee inadmissible?")
    assert answer.verdict.kind == "yes", answer.answer
    # a word the named article uses for the subject decides, though the concept's other word is everywhere
    answer = qa.ask("Does Article 7 of the ICCPR Optional Protocol preserve the right of petition of colonial peoples?")
    assert answer.verdict.kind == "yes", answer.answer


def test_a_figure_the_provision_states_differently_is_a_no(qa):
    answer = qa.ask("Does Article 16 of the Budapest Convention allow preservation orders of up to 180 days?")
    assert answer.verdict.kind == "no", answer.answer
    assert "90 days, not 180" in answer.answer
    assert any(c.article == "16" and "ninety days" in c.text for c in answer.citations)
    assert qa.ask("Does Article 16 of the Budapest Convention allow preservation orders of up to 90 days?"
                  ).verdict.kind == "yes"



@pytest.mark.parametrize("question, kind, said", [
    ("Does CRC article 1 define a child?", "yes", "defines \u201cchild\u201d"),
    ("Does Article 1 of the Budapest Convention define traffic data?", "yes", "defines \u201ctraffic data\u201d"),
    # "Sale of children means ..." defines another term, though it uses the word
    ("Does Article 2 of the OPSC define the term child?", "no", "does not define \u201cchild\u201d: it defines"),
    ("Does Article 2 of UNTOC define money laundering?", "no", "does not define \u201cmoney laundering\u201d"),
    ("Does Article 2 of UNTOC define what counts as a serious crime?", "yes", "defines \u201cserious crime\u201d"),
])
def test_a_provision_defines_a_term_only_when_it_says_what_that_term_means(qa, question, kind, said):
    answer = qa.ask(question)
    assert answer.verdict.kind == kind, answer.answer
    assert said in answer.answer


@pytest.mark.parametrize("question", [
    "Does Article 1 of the CRC define a child as anyone under 18?",  # what the definition says
    "Does Article 1 of the Budapest Convention define computer data broadly?",
    "Is money laundering as defined in national law covered by Article 6 of UNTOC?",
])
def test_a_question_about_what_a_definition_says_is_judged_by_its_words(qa, question):
    answer = qa.ask(question)
    assert answer.verdict is not None and "does not define" not in answer.answer, answer.answer


def test_a_condition_before_a_coverage_question_is_part_of_its_subject(qa):
    from rag.answer.extractive import yes_no_about_article

    read = yes_no_about_article("If a State refuses to extradite its own national, does Article 16 oblige it to "
                                "prosecute?", {})
    assert read is not None and read.group("art") == "16"
    assert "prosecute" in read.group("topic") and "extradite its own national" in read.group("topic")
    lead = yes_no_about_article("CRC art 9: if the State detains a parent, must it tell the child where?", {})
    assert lead is not None and lead.group("art") == "9" and "detains a parent" in lead.group("topic")
    # Art. 37(a) speaks of offences by persons under eighteen: not a yes for a 25-year-old
    adult = qa.ask("If the offender is 25 years old, does Article 37 of the CRC prohibit life imprisonment "
                   "without possibility of release?")
    assert adult.verdict.kind != "yes", adult.answer


def test_a_corpus_document_named_inside_a_title_case_phrase_is_not_another_instrument(qa):
    answer = qa.ask("Which Article Of The Budapest Convention Covers Law Enforcement Access?")
    assert not answer.refused, answer.answer


@pytest.mark.parametrize("question, kind", [
    # Art. 37(a): "offences committed by persons below eighteen years of age"
    ("Does Article 37 of the CRC rule out life imprisonment without release for an offence committed at 15 years of "
     "age?", "yes"),
    ("Does Article 37 of the CRC forbid the death penalty for an offence committed by a 20 year old?", "no"),
    ("Does Article 37 of the CRC forbid the death penalty for persons over 18?", "no"),  # below 18, not over
    # Art. 38 bars recruiting under 15; its range "attained fifteen but not eighteen" allows the older ones
    ("Does Article 38 of the CRC prohibit recruiting a 16-year-old into the armed forces?", "no"),
    ("Does Article 38 of the CRC prohibit recruiting children aged 14 to 17?", "no"),
])
def test_an_age_asked_about_is_met_by_the_bound_the_provision_states(qa, question, kind):
    answer = qa.ask(question)
    assert answer.verdict.kind == kind, answer.answer
    if kind == "no":
        assert "states an age" in answer.answer
    if "20 year old" in question:
        assert "states an age of 18, not 20" in answer.answer


@pytest.mark.parametrize("question", [
    "Which courts have jurisdiction under Article 15 of UNCAC?",
    "What tribunal must review the sentence of a person who has been convicted, under Article 14(5) of the ICCPR?",
    "What does Article 16 of the Budapest Convention say about preservation for up to 90 days?",
    "What proportion of States Parties must accept an amendment under Article 51 of the ICCPR?",  # "two-thirds"
    "What is the threshold for a serious crime under Article 2 of UNTOC?",  # "at least four years"
    "What does Article 35 of the Budapest Convention say about the 24/7 network?",
])
def test_a_named_provision_that_answers_is_not_refused_for_its_figures_courts_or_numbers(qa, question):
    answer = qa.ask(question)
    assert not answer.refused, answer.answer


def test_the_article_first_then_a_yes_no_question_without_a_dash_is_a_coverage_question():
    from rag.answer.extractive import loose_coverage_question

    read = loose_coverage_question("iccpr art 19 does it protect the freedom to hold opinions?", {})
    assert read is not None and read.group("art") == "19" and "opinions" in read.group("topic")
    # asked what, not whether
    assert loose_coverage_question("iccpr art 10 para 3, what does it say about prisons?", {}) is None
    assert loose_coverage_question("Art. 4(2) ICCPR: which articles does it make non-derogable?", {}) is None
    assert loose_coverage_question("iccpr art 6 art 7 does it ban torture?", {}) is None  # which one is "it"?


def test_an_age_the_provision_bounds_otherwise_is_a_no(qa):
    """Art. 38 bars recruiting under fifteen; asked about "anyone under 18", the range sentence that
    mentions eighteen ("priority to those who are oldest") does not make it a yes."""
    answer = qa.ask("Does Article 38 of the CRC bar recruiting anyone under 18?")
    assert answer.verdict.kind == "no", answer.answer
    assert "states an age of 15, not 18" in answer.answer


def test_a_misspelt_subject_is_judged_as_the_word_it_stands_for(qa):
    answer = qa.ask("crc art 27 - does it cover getting child suport from a parent abroad?")
    assert answer.verdict.kind in ("yes", "partly"), answer.answer
    assert "support" in answer.verdict.carried and "suport" not in answer.answer, answer.answer


def test_an_example_of_the_subject_does_not_hold_back_the_subjects_yes(qa):
    """Art. 9(5) prohibits advertising the Protocol's offences; the example the asker gives is an
    illustration, and a subject without its example is what the verdict is about."""
    answer = qa.ask("Does Article 9 of the OPSC address advertising of the offences it covers, e.g. ads "
                    "selling children online?")
    assert answer.verdict.kind == "yes", answer.answer
    assert "CRC Optional Protocol (OPSC), Art. 9(5)" in answer.answer


def test_address_the_noun_is_not_a_subject_verb():
    """ "whose name and address is on my account" names an address; it does not ask whether the
    texts address "is on my account ... ask that"."""
    from rag.answer.extractive import _SUBJECT

    assert _SUBJECT.search("they asked whose name and address is on my account") is None
    assert _SUBJECT.search("can they get my IP address from the provider") is None
    assert _SUBJECT.search("Does UNTOC address drones?").group("subject") == "drones"


def test_a_provision_that_says_the_opposite_of_the_subject_is_a_no(qa):
    """UNCAC Art. 15 is on bribery of *public* officials: asked about bribes inside private firms,
    the answer is no, shown by the sentence that says "public" (WordNet's direct antonyms)."""
    answer = qa.ask("Does Article 15 of UNCAC make it an offence to bribe a manager of a private firm?")
    assert answer.verdict.kind == "no", answer.answer
    assert answer.answer.startswith("No. UNCAC, Art. 15 speaks of \u201cpublic\u201d, not \u201cprivate\u201d")
    assert "uncac/art_15" in cited_articles(answer)


@pytest.mark.parametrize("question", [
    # both words asked: the provision's "public" is no contrast
    "Does Article 15 of UNCAC cover bribes to public officials as well as private ones?",
    # "lives" is a verb here, not the adjective "live" (opposite "recorded")
    "Can a witness who lives abroad be heard by video under Article 18 of UNTOC?",
])
def test_an_opposite_is_not_read_where_the_question_does_not_ask_for_it(qa, question):
    answer = qa.ask(question)
    assert "speaks of \u201c" not in answer.answer, answer.answer


def test_a_negated_opposite_is_no_contrast(qa):
    """Art. 36(2)(b): the victim may be heard "without being present", which says "absent"."""
    answer = qa.ask("Does Article 36 of the Lanzarote Convention let the child victim be absent from the courtroom?")
    assert "speaks of \u201cpresent\u201d" not in answer.answer, answer.answer
    assert answer.verdict.kind != "no", answer.answer
