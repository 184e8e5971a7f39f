"""How questions name provisions and documents.

Why: a named provision is looked up, not searched, so a misparsed "Art. 25(2)" or a
reference attached to the wrong treaty returns a confidently wrong citation.
"""
from __future__ import annotations

import pytest

from rag.corpus.loaders import load_document
from rag.references import find_documents, parse_references


@pytest.fixture(scope="module")
def metas(corpus_files, tmp_path_factory):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path_factory.mktemp("refs"))
    return {doc_id: load_document(path, settings).meta for doc_id, path in corpus_files.items()}


def refs(question: str, metas) -> list[tuple]:
    return [(r.article, r.paragraph, r.point, r.subpoint, r.doc_id)
            for r in parse_references(question, metas).references]


@pytest.mark.parametrize("question, expected", [
    ("What does Art. 25(2) of UNTOC say?", [("25", "2", None, None, "untoc")]),
    ("what is article 1 d of the budapest convention", [("1", None, "d", None, "budapest-convention")]),
    ("Article 1.d of the Budapest Convention", [("1", None, "d", None, "budapest-convention")]),
    ("What is the Budapest Convention's article 32 about?", [("32", None, None, None, "budapest-convention")]),
    ("Explain Article 14(2)(a)", [("14", "2", "a", None, None)]),
    ("Article 1(c)(ii) of the Budapest Convention", [("1", None, "c", "ii", "budapest-convention")]),
    ("Compare articles 5 and 6 of the ICCPR", [("5", None, None, None, "iccpr"), ("6", None, None, None, "iccpr")]),
    ("What do Articles 5, 6 and 7 of the CRC say?",
     [("5", None, None, None, "crc"), ("6", None, None, None, "crc"), ("7", None, None, None, "crc")]),
    ("Article 3, paragraph 1 of UNTOC", [("3", "1", None, None, "untoc")]),
    ("Art 25 para 2 UNTOC", [("25", "2", None, None, "untoc")]),
    ("article 3 (1)(b) of the Palermo Convention", [("3", "1", "b", None, "untoc")]),
    ("Does the ICCPR article 19 protect speech?", [("19", None, None, None, "iccpr")]),
    ("Under article 1 a person who hacks is liable?", [("1", None, None, None, None)]),  # "a" is English here
    ("What does ARTICLE 23 of the Lanzarote Convention require?", [("23", None, None, None, "lanzarote-convention")]),
])
def test_reference_phrasings(metas, question, expected):
    assert refs(question, metas) == expected


def test_paragraph_alone_is_kept_for_the_conversation(metas):
    parsed = parse_references("What does paragraph 2 say?", metas)
    assert parsed.references == [] and parsed.paragraph_only == "2"
    assert parse_references("And para. 3?", metas).paragraph_only == "3"


def test_no_reference_in_a_plain_question(metas):
    parsed = parse_references("Is grooming a crime in 2024?", metas)
    assert parsed.references == [] and parsed.paragraph_only is None and parsed.documents == []


@pytest.mark.parametrize("question, doc_ids", [
    ("What does UNTOC say about witnesses?", ["untoc"]),
    ("the Palermo Convention and the Merida Convention", ["untoc", "uncac"]),
    ("Does the First Optional Protocol to the ICCPR allow complaints?", ["iccpr-op1"]),
    ("What does the ICCPR say?", ["iccpr"]),
    ("Knowmad's view on human rights", ["knowmad-2024-08-commentary"]),
    ("How does the Convention on the Rights of the Child define a child?", ["crc"]),
    # A protocol named through any short name of its parent, not only its parent's full title.
    ("does art 6 of the additional protocol to the budapest convention cover genocide denial?",
     ["budapest-protocol-1"]),
    ("does the second additional protocol to the budapest convention cover subscriber information?",
     ["budapest-convention"]),
    ("the optional protocol to the crc on the sale of children", ["crc-opsc"]),
    # ...or with its parent in the possessive
    ("Who may complain under the ICCPR's First Optional Protocol?", ["iccpr-op1"]),
    ("Does the CRC’s optional protocol cover child prostitution?", ["crc-opsc"]),
    # ...after its parent without "to the", and a first protocol called "first" in every form
    ("first optional protocol iccpr, art 12 - what does it provide", ["iccpr-op1"]),
    ("Does Article 8 of the first additional protocol to the Budapest Convention extend its powers?",
     ["budapest-protocol-1"]),
    # ...while the parent named alone is still the parent.
    ("Does the Budapest Convention cover illegal access?", ["budapest-convention"]),
])
def test_documents_named_in_questions(metas, question, doc_ids):
    assert [d.doc_id for d in find_documents(question, metas)] == doc_ids


def test_each_reference_takes_the_document_that_follows_it(metas):
    q = "What do Article 2 of the Budapest Convention and Article 23 of the Lanzarote Convention say?"
    assert refs(q, metas) == [("2", None, None, None, "budapest-convention"),
                              ("23", None, None, None, "lanzarote-convention")]


def test_subparagraph_words_are_not_counted_twice(metas):
    assert refs("article 15, paragraph 2, subparagraph (a) of UNCAC", metas) == [("15", "2", "a", None, "uncac")]


def test_a_protocol_named_after_its_parent_s_short_name_is_the_protocol(metas):
    # "the budapest additional protocol" is the First Additional Protocol, not the Convention's Article 6
    refs = parse_references("does art 6 of the budapest additional protocol require it?", metas)
    assert [(r.doc_id, r.article) for r in refs.references] == [("budapest-protocol-1", "6")]
    refs = parse_references("what does art 6 of the budapest convention say?", metas)
    assert [(r.doc_id, r.article) for r in refs.references] == [("budapest-convention", "6")]


def test_a_repeated_reference_is_parsed_once(metas):
    """A pasted or hostile question may repeat a reference hundreds of times; each one is a lookup."""
    question = "art. 1 art. 2 of UNTOC, art. 1 again, and Article 25(2) of UNTOC? " * 40
    assert refs(question, metas) == [("1", None, None, None, "untoc"), ("2", None, None, None, "untoc"),
                                     ("25", "2", None, None, "untoc")]
    # different paragraphs of one article, or one article of two treaties, stay apart
    assert len(refs("Article 25(1) and Article 25(2) of UNTOC", metas)) == 2
    assert {r[4] for r in refs("Article 14 of the ICCPR and Article 14 of the Lanzarote Convention", metas)} \
        == {"iccpr", "lanzarote-convention"}
