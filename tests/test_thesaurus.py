"""The WordNet-derived thesaurus (rag/thesaurus.py) and how key concepts use it.

Why: a verdict compares the asker's words with a treaty's. An ordinary-English equivalent
("accused" / "charged") must count when judging one named provision, function words and words
of very many senses must never be the subject, and a loose equivalent must not make the texts
seem to mention a term they never use.
"""
from __future__ import annotations

from rag import thesaurus
from rag.answer.concepts import carried, key_concepts
from rag.answer.verdict import Paragraph, judge_coverage
from rag.index.lexical import tokenize

# ICCPR Art. 14(3)(f), verbatim.
INTERPRETER = [Paragraph("ICCPR, Art. 14(3)", [
    "In the determination of any criminal charge against him, everyone shall be entitled to the following "
    "minimum guarantees, in full equality: (f) To have the free assistance of an interpreter if he cannot "
    "understand or speak the language used in court."])]


def stem(word: str) -> str:
    return tokenize(word)[0]


def test_the_table_ships_in_the_package_and_knows_ordinary_english():
    assert thesaurus.is_english(stem("middleman")) and thesaurus.is_english(stem("anonymous"))
    assert not thesaurus.is_english("cryptocurr")  # not a WordNet 3.0 word
    assert ("charg",) in thesaurus.related(stem("accused"))  # synonym, 2nd sense of "accuse"
    assert ("anonym",) in thesaurus.related(stem("anonymity")) or ("anonym",) == tuple(tokenize("anonymity"))
    assert thesaurus.related("qqqzzz") == frozenset()


def test_irregular_forms_carry_their_base():
    assert ("steal",) in thesaurus.related(stem("stolen"))
    assert ("hold",) in thesaurus.related(stem("held"))


def test_words_of_very_many_senses_are_general_and_specific_words_are_not():
    assert all(thesaurus.is_general(stem(w)) for w in ("work", "carry", "hold", "make"))
    assert not any(thesaurus.is_general(stem(w)) for w in ("interpreter", "video", "wealth", "victim"))


def test_function_words_and_general_words_are_never_key_concepts():
    labels = [c.label for c in key_concepts("publicly insulting someone because of their colour")]
    assert labels == ["publicly", "insulting", "colour"]
    labels = [c.label for c in key_concepts("a person who knows how the system works to carry out the search")]
    assert "works" not in labels and "carry" not in labels and "search" in labels


def test_equivalents_decide_a_named_provisions_verdict_only_when_asked_for():
    plain = key_concepts("a free interpreter for the accused")
    loose = key_concepts("a free interpreter for the accused", ordinary=True)
    assert judge_coverage(plain, INTERPRETER).kind == "partly"  # "accused" is not in the text
    judged = judge_coverage(loose, INTERPRETER)  # ... but "charge" is
    assert judged.kind == "yes" and not judged.missing


def test_two_word_nouns_are_one_concept_when_asking_whether_the_texts_use_a_term():
    split = [c.label for c in key_concepts("artificial intelligence systems")]
    joined = [c.label for c in key_concepts("artificial intelligence systems", compounds=True)]
    assert split == ["artificial", "intelligence", "systems"]
    assert joined == ["artificial intelligence", "systems"]
    ai = key_concepts("artificial intelligence", compounds=True)
    assert carried(ai, "the collection of criminal intelligence by artificial means") == []
    assert len(carried(ai, "systems using artificial intelligence")) == 1


def test_a_derived_form_of_a_lay_word_finds_its_glossary_group():
    """ "complain" is not "complaint" to a stemmer; WordNet's derivational forms join them (not synonyms)."""
    from rag.expansion import _derived, expand
    from rag.index.lexical import tokenize

    assert "complaint" in _derived(tokenize("can I complain to the UN?"))
    assert "communication from individuals" in expand("Can I complain to the UN if my rights are violated?")
    assert _derived(tokenize("the cops")) == set()  # a short word's neighbours are synonyms, not its own forms


def test_a_lay_words_synonyms_the_texts_use_reach_the_lexical_search():
    """ "jail" is not the Covenant's word; "imprisoned" (ICCPR Art. 11, verbatim) is. WordNet's
    synonyms of a word the texts hardly use join the BM25 query as stems, only those the texts
    use, and none for a word of many senses ("put": place, pose, set ...)."""
    from rag.expansion import synonyms
    from rag.index.lexical import LexicalIndex, LexicalPart
    from rag.model import Chunk

    texts = {"art_11": "No one shall be imprisoned merely on the ground of inability to fulfil a contractual obligation.",
             "art_9": "Everyone has the right to liberty and security of person. No one shall be subjected to arbitrary "
                       "arrest or detention.",
             "art_14": "All persons shall be equal before the courts and tribunals."}
    chunks = [Chunk(id=f"iccpr/{a}#1", provision_id=f"iccpr/{a}", doc_id="iccpr", label=a, text=t, embed_text=t,
                    start=0, end=len(t)) for a, t in texts.items()]
    index = LexicalIndex([LexicalPart.of(chunks)])
    question = "can they put me in jail because I could not pay back what I owed?"
    extra = synonyms(question, index.stem_frequency)
    assert stem("imprisoned") in extra
    assert not {stem("place"), stem("set"), stem("pose")} & set(extra)
    assert index.search(question, 3) == []  # the asker's own words find nothing
    assert index.search(question, 3, stems=extra)[0][0] == "iccpr/art_11#1"
    assert synonyms("the arrest of a person", index.stem_frequency) == []  # the texts' own words need none


def test_direct_antonyms_are_the_adjectives_own_form():
    from rag.thesaurus import antonyms

    assert antonyms("private") == {"public"} and "domestic" in antonyms("foreign")
    assert antonyms("Private") == {"public"}
    assert antonyms("lives") == frozenset() and antonyms("records") == frozenset()
