"""Retrieval over the whole development corpus (the session index).

Why: the answer can only cite what retrieval returns. Named provisions must come first and
exactly; filters must never leak; lay wording must still reach the formal provision; and a
follow-up must stay in the treaty the conversation is about.
"""
from __future__ import annotations

import pytest

from rag.model import DocType, Filters, Turn
from rag.retrieve import Retriever, TreatyRetriever


@pytest.fixture(scope="module")
def qa(corpus_index):
    return corpus_index


def retrieve(qa, question, conversation=None, filters=None):
    return qa.retrieve(question, conversation, filters)


def top_ids(passages, n):
    return [p.chunk.provision_id for p in passages[:n]]


@pytest.mark.parametrize("question, target", [
    ("What does Article 25(2) of UNTOC say?", "untoc/art_25/para_2"),
    ("What does Article 1(d) of the Budapest Convention say?", "budapest-convention/art_1/para_1/point_d"),
    ("Quote article 23 of the Lanzarote Convention", "lanzarote-convention/art_23"),
    pytest.param("What does the Budapest Convention's article 1 (c)(ii) cover?",
                 "budapest-convention/art_1/para_1/point_c/sub_ii"),
])
def test_named_provision_comes_first(qa, question, target):
    query, passages = retrieve(qa, question)
    first = passages[0]
    assert first.reason == "reference" and first.target == target
    prov = qa.index.provision(target)
    assert first.chunk.doc_id == prov.doc_id
    assert first.chunk.start < prov.end and prov.start < first.chunk.end  # the chunk holds the provision
    assert query.notices == []


def test_a_whole_article_returns_all_its_chunks_in_order(qa):
    _, passages = retrieve(qa, "What does Article 14 of the ICCPR say?")
    named = [p for p in passages if p.reason == "reference"]
    expected = [c.id for c in qa.index.chunks_of_provision("iccpr/art_14")]
    assert [p.chunk.id for p in named] == expected and len(expected) > 3


def test_ambiguous_article_names_the_assumed_document(qa):
    answer = qa.ask("What does Article 14 say?")
    query, passages = retrieve(qa, "What does Article 14 say?")
    assumed = query.assumed_document
    assert assumed in qa.index.documents
    assert answer.assumed_document == assumed
    name = qa.index.documents[assumed].cite_name
    assert any("Assumed" in n and name in n for n in query.notices), query.notices
    assert any("Assumed" in n and name in n for n in answer.notices), answer.notices
    named = [p for p in passages if p.reason == "reference"]
    assert named and {p.chunk.doc_id for p in named} == {assumed}


def test_missing_article_is_reported(qa):
    query, passages = retrieve(qa, "What does Article 99 of UNTOC say?")
    assert any("UNTOC" in n and "99" in n for n in query.notices), query.notices
    assert not [p for p in passages if p.reason == "reference"]


def test_missing_paragraph_notice_is_readable(qa):
    query, passages = retrieve(qa, "What does Article 25(9) of UNTOC say?")
    assert passages[0].reason == "reference" and passages[0].target == "untoc/art_25"
    (notice,) = query.notices
    assert "paragraph 9" in notice or "(9)" in notice.replace("25(9)", "")


@pytest.mark.parametrize("filters", [
    Filters(doc_ids=["lanzarote-convention"]),
    Filters(doc_ids=["untoc", "uncac"]),
    Filters(doc_types=[DocType.commentary]),
    Filters(doc_types=[DocType.treaty], doc_ids=["untoc", "knowmad-2024-08-commentary"]),
    Filters(languages=["en"], doc_ids=["crc"]),
])
def test_filters_are_respected(qa, filters):
    _, passages = retrieve(qa, "How are victims protected?", filters=filters)
    assert passages
    for p in passages:
        assert filters.admits(p.chunk.metadata), (p.reason, p.chunk.id)


@pytest.mark.parametrize("doc_ids", [["lanzarote-convention"], ["untoc", "crc"]])
def test_document_filter_chooses_the_article(qa, doc_ids):
    query, passages = retrieve(qa, "What does Article 14 say?", filters=Filters(doc_ids=doc_ids))
    named = [p for p in passages if p.reason == "reference"]
    assert named and {p.chunk.doc_id for p in named} == {query.assumed_document}
    assert all(p.chunk.doc_id in doc_ids for p in passages)


def test_a_language_without_documents_returns_nothing(qa):
    _, passages = retrieve(qa, "How are victims protected?", filters=Filters(languages=["fr"]))
    assert passages == []


@pytest.mark.parametrize("filters", [Filters(doc_types=[DocType.commentary]), Filters(languages=["fr"])])
def test_named_provisions_respect_type_and_language_filters(qa, filters):
    _, passages = retrieve(qa, "What does Article 25(2) of UNTOC say?", filters=filters)
    assert all(filters.admits(p.chunk.metadata) for p in passages), [p.chunk.id for p in passages]


def test_filtered_out_document_notice_is_truthful(qa):
    query, passages = retrieve(qa, "What does Article 25(2) of UNTOC say?",
                               filters=Filters(doc_ids=["lanzarote-convention"]))
    assert all(p.chunk.doc_id == "lanzarote-convention" for p in passages)
    assert query.notices and not any("has no Article 25" in n for n in query.notices)


@pytest.mark.parametrize("question, expected", [
    ("Is grooming a crime?", "lanzarote-convention/art_23"),
    ("Are whistleblowers protected?", "uncac/art_33"),
    ("Is hacking into someone's computer a crime?", "budapest-convention/art_2"),
])
def test_lay_questions_find_formal_provisions(qa, question, expected):
    _, passages = retrieve(qa, question)
    assert any(pid.startswith(expected) for pid in top_ids(passages, 3)), top_ids(passages, 5)


def test_definition_questions_find_the_definition(qa):
    _, passages = retrieve(qa, "What does computer data mean?")
    assert any(pid.startswith("budapest-convention/art_1") for pid in top_ids(passages, 2))
    _, passages = retrieve(qa, "What is the definition of a child in the CRC?")
    assert top_ids(passages, 1) == ["crc/art_1"]


def test_cross_references_are_added(qa):
    _, passages = retrieve(qa, "What does Article 3(1) of UNTOC say?")
    cross = [p for p in passages if p.reason == "cross_reference"]
    assert cross
    referenced = set()
    for p in passages:
        if p.reason != "cross_reference":
            prov = qa.index.provision(p.chunk.provision_id)
            referenced |= set(prov.refs)
            for cid in prov.children:
                referenced |= set(qa.index.provision(cid).refs)
    for p in cross:
        assert any(p.chunk.provision_id == r or p.chunk.provision_id.startswith(r + "/") for r in referenced), \
            p.chunk.id
    assert any(p.chunk.provision_id.startswith(("untoc/art_5", "untoc/art_6")) for p in cross)
    ids = [p.chunk.id for p in passages]
    assert len(ids) == len(set(ids))


def test_comparison_gets_both_documents(qa):
    query, passages = retrieve(qa, "Compare the Budapest Convention and the Lanzarote Convention on child pornography")
    assert set(query.doc_scope) == {"budapest-convention", "lanzarote-convention"}
    top = {p.chunk.doc_id for p in passages[:4]}
    assert top == {"budapest-convention", "lanzarote-convention"}


def test_follow_up_stays_in_the_treaty(qa):
    first = qa.ask("How does UNTOC protect victims?")
    assert first.doc_scope == ["untoc"]
    query, passages = retrieve(qa, "and what about witnesses?", [Turn.from_answer(first)])
    assert query.follow_up and query.doc_scope == ["untoc"]
    assert {p.chunk.doc_id for p in passages} == {"untoc"}
    assert any(pid.startswith("untoc/art_24") for pid in top_ids(passages, 3)), top_ids(passages, 5)


@pytest.mark.parametrize("reply", ["ok and what about witnesses?", "Thanks! And what about witnesses?",
                                   "right, and what about witnesses?"])
def test_a_reply_that_acknowledges_the_answer_first_is_still_a_follow_up(qa, reply):
    first = qa.ask("How does UNTOC protect victims?")
    query, _ = retrieve(qa, reply, [Turn.from_answer(first)])
    assert query.follow_up and query.doc_scope == ["untoc"]


def test_an_acknowledged_new_question_is_not_a_follow_up(qa):
    first = qa.ask("How does UNTOC protect victims?")
    query, _ = retrieve(qa, "ok so can the police search my phone without a warrant?", [Turn.from_answer(first)])
    assert not query.follow_up and query.doc_scope == []
    query, _ = retrieve(qa, "Right and wrong: what does the Budapest Convention say about illegal access?",
                        [Turn.from_answer(first)])
    assert not query.follow_up


def test_follow_up_paragraph_of_the_article_just_discussed(qa):
    first = qa.ask("What does Article 25 of UNTOC say?")
    _, passages = retrieve(qa, "What does paragraph 2 say?", [Turn.from_answer(first)])
    assert passages[0].reason == "reference" and passages[0].target == "untoc/art_25/para_2"


def test_a_new_question_is_not_a_follow_up(qa):
    first = qa.ask("How does UNTOC protect victims?")
    query, _ = retrieve(qa, "What does Article 2 of the Budapest Convention criminalise?", [Turn.from_answer(first)])
    assert not query.follow_up and query.doc_scope == ["budapest-convention"]


def test_presets_change_the_strategy(qa):
    for preset in ("dense", "lexical", "hybrid", "no-expansion"):
        retriever = Retriever(qa.index, qa.settings.preset(preset))
        passages = retriever.run(retriever.resolve("illegal interception of computer data")).passages
        assert any(pid.startswith("budapest-convention/art_3") for pid in top_ids(passages, 3)), preset
        if preset == "dense":
            assert all(p.lexical is None for p in passages if p.reason == "search")
        if preset == "lexical":
            assert all(p.dense is None for p in passages if p.reason == "search")
    plain = Retriever(qa.index, qa.settings.preset("no-references"))
    passages = plain.run(plain.resolve("What does Article 25(2) of UNTOC say?")).passages
    assert passages and all(p.reason not in ("reference", "cross_reference") for p in passages)


def test_treaty_retriever_is_a_llama_index_retriever(qa):
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import NodeWithScore

    retriever = TreatyRetriever(qa.retriever, filters=Filters(doc_ids=["untoc"]), top_k=4)
    assert isinstance(retriever, BaseRetriever)
    nodes = retriever.retrieve("What does Article 25(2) of UNTOC say?")
    assert nodes and all(isinstance(n, NodeWithScore) for n in nodes)
    first = nodes[0]
    assert first.node.node_id.startswith("untoc/art_25")
    assert first.node.metadata["retrieved_because"] == "reference"
    assert "compensation and restitution" in first.node.get_content()
    assert all(n.node.metadata["doc_id"] == "untoc" for n in nodes)


def test_article_vectors_are_the_mean_of_their_paragraphs(qa):
    """Each row of the article-level list is one article (all its chunks, in text order) and
    its score is the cosine to the normalised mean of those chunks' stored vectors."""
    import numpy as np

    question = "can you be locked up because you owe someone money?"
    rows = qa.index.article_search(question, 5, frozenset({"iccpr"}))
    assert rows and all(ids for ids, _ in rows)
    q = qa.index.embedder.embed_array([question])[0]
    for ids, score in rows:
        chunks = [qa.index.chunks[i] for i in ids]
        assert {c.doc_id for c in chunks} == {"iccpr"}
        assert len({c.metadata.get("article") for c in chunks}) == 1
        assert [c.start for c in chunks] == sorted(c.start for c in chunks)
        vecs = qa.index.store.embeddings(ids)
        mean = np.mean([vecs[i][1] for i in ids], axis=0)
        assert score == pytest.approx(float(mean @ q / np.linalg.norm(mean)), abs=1e-4)
    assert [s for _, s in rows] == sorted((s for _, s in rows), reverse=True)
    assert qa.index.chunks[rows[0][0][0]].metadata["article"] == "11"  # imprisonment for debt


def test_article_level_list_reaches_an_article_no_paragraph_matches(qa):
    """Lay wording that no single paragraph matches well, but the article as a whole does."""
    question = "can you be locked up because you owe someone money?"
    without = Retriever(qa.index, qa.settings.with_overrides(retrieval={"article_weight": 0.0}))
    with_ = Retriever(qa.index, qa.settings)
    assert "iccpr/art_11" not in top_ids(without.run(without.resolve(question)).passages, 5)
    assert "iccpr/art_11" in top_ids(with_.run(with_.resolve(question)).passages, 5)


def test_article_search_keeps_to_the_allowed_documents(qa):
    rows = qa.index.article_search("protection of witnesses", 10, frozenset({"untoc", "uncac"}))
    assert rows and {qa.index.chunks[ids[0]].doc_id for ids, _ in rows} <= {"untoc", "uncac"}
    _, passages = retrieve(qa, "protection of witnesses", filters=Filters(doc_ids=["crc"]))
    assert passages and all(p.chunk.doc_id == "crc" for p in passages)


def test_a_question_naming_many_articles_looks_up_only_the_first_few(qa):
    """Each named provision costs a search: sixty of them are not sixty searches, and the reader is
    told which were not looked up rather than shown a silent truncation."""
    cap = qa.settings.retrieval.max_references
    question = "What do " + ", ".join(f"Article {n}" for n in range(1, 61)) + " of UNTOC say about victims?"
    query, passages = retrieve(qa, question)
    looked_up = {p.target.split("/")[1] for p in passages if p.reason == "reference"}
    assert looked_up and looked_up <= {f"art_{n}" for n in range(1, cap + 1)}
    assert any("60 provisions" in n and f"first {cap}" in n for n in query.notices), query.notices
