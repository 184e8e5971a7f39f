"""BM25 in segments: scores equal to a from-scratch index (and to bm25s, which it replaced),
an upload adds a segment instead of rebuilding, and the word/stem frequencies readers use."""
from __future__ import annotations

import bm25s
import numpy as np
import pytest

from rag.index.lexical import MAX_SEGMENTS, LexicalIndex, LexicalPart, tokenize
from rag.model import Chunk

TEXTS = {
    "untoc": ["Each State Party shall take appropriate measures to provide assistance and protection to victims.",
              "Each State Party shall establish procedures to provide access to compensation and restitution.",
              "Witnesses who give testimony shall be protected from intimidation."],
    "budapest": ["Illegal access: access to the whole or any part of a computer system without right.",
                 "Each Party shall adopt measures for the expeditious preservation of stored computer data."],
    "crc": ["A child means every human being below the age of eighteen years.",
            "States Parties shall promote the physical and psychological recovery of a child victim."],
    "lanzarote": ["Each Party shall assist victims in their physical and psycho-social recovery.",
                  "The solicitation of children for sexual purposes (grooming) shall be criminalised."],
}


def chunks_of(doc_id: str) -> list[Chunk]:
    return [Chunk(id=f"{doc_id}/p{i}#1", provision_id=f"{doc_id}/p{i}", doc_id=doc_id, label=f"{doc_id} {i}",
                  text=t, embed_text=f"{doc_id}\n{t}", start=0, end=len(t)) for i, t in enumerate(TEXTS[doc_id])]


@pytest.fixture(scope="module")
def parts() -> dict[str, LexicalPart]:
    return {d: LexicalPart.of(chunks_of(d)) for d in TEXTS}


QUERIES = ["assistance to victims", "victims recovery child", "computer data preservation", "compensation",
           "victims victims", "nothing matches this"]


def test_scores_equal_bm25s(parts):
    ix = LexicalIndex(parts=list(parts.values()))
    chunks = [c for d in TEXTS for c in chunks_of(d)]
    reference = bm25s.BM25()  # the library this index replaced: Lucene's BM25, k1 1.5, b 0.75
    reference.index([tokenize(c.embed_text) for c in chunks], show_progress=False)
    for q in QUERIES:
        tokens = tokenize(q)
        known = [t for t in tokens if t in reference.vocab_dict]
        expected = reference.get_scores(known) if known else np.zeros(len(chunks))
        np.testing.assert_allclose(ix.scores(tokens), expected, rtol=1e-5, atol=1e-6)


def test_an_upload_adds_a_segment_and_scores_do_not_depend_on_segments(parts):
    docs = list(parts.values())
    before = LexicalIndex(parts=docs[:-1])
    after = LexicalIndex(parts=docs, previous=before)
    assert len(after.segments) == 2 and after.segments[0] is before.segments[0]  # reused, not rebuilt
    scratch = LexicalIndex(parts=docs)
    assert len(scratch.segments) == 1
    for q in QUERIES:
        a = dict(after.search(q, 10))
        b = dict(scratch.search(q, 10))
        assert a.keys() == b.keys()
        assert all(abs(a[k] - b[k]) < 1e-5 for k in a)
    assert after.search("grooming", 3)[0][0].startswith("lanzarote/")


def test_a_removed_document_leaves_no_postings(parts):
    docs = list(parts.values())
    full = LexicalIndex(parts=docs)
    without = LexicalIndex(parts=[p for p in docs if p is not parts["budapest"]], previous=full)
    assert not any(cid.startswith("budapest/") for cid in without.ids)
    assert without.search("computer data preservation", 5) == []
    assert without.word_frequency("computer") == 0 and full.word_frequency("computer") == 2


def test_small_segments_are_merged(parts):
    ix = None
    many = []
    for n in range(MAX_SEGMENTS + 3):  # one upload at a time
        many.append(LexicalPart.of([c.model_copy(update={"id": f"{c.id}-{n}"}) for c in chunks_of("crc")]))
        ix = LexicalIndex(parts=many, previous=ix)
    assert len(ix.segments) <= MAX_SEGMENTS
    assert len(ix.ids) == 2 * (MAX_SEGMENTS + 3)


def test_word_and_stem_frequencies_count_chunks(parts):
    ix = LexicalIndex(parts=list(parts.values()))
    assert ix.word_frequency("victims") == 2  # as written: UNTOC and Lanzarote
    assert ix.word_frequency("victim") == 1  # CRC's "child victim"
    assert ix.stem_frequency(tokenize("victims")[0]) == 3  # stems: all three
    assert tokenize("shall") == [] and ix.stem_frequency("shall") == 0  # a stop word is never a stem
    assert ix.word_frequency("shall") == 7


def test_words_glued_at_a_line_break_are_two_words():
    """UNCAC's extracted text says "thisConvention" and "UnitedNations": a question saying "this
    Convention" or "United Nations" must find them."""
    from rag.index.lexical import tokenize

    assert tokenize("inform the UnitedNations under thisConvention") == tokenize(
        "inform the United Nations under this Convention")
    assert tokenize("bribery") == tokenize("Bribery")  # a capitalised word alone is not split


def test_a_misspelt_word_is_corrected_but_a_word_english_uses_is_not(parts):
    """A typo is read as the corpus word it stands for; a new word ("sexting") is a word, not a
    typo of a corpus word one letter away ("setting")."""
    ix = LexicalIndex(parts=list(parts.values()))
    assert ix.correct("compensaton for victms") == "compensation for victims"
    ix = LexicalIndex(parts=[LexicalPart.of([Chunk(id="x/p0#1", provision_id="x/p0", doc_id="x", label="x 0",
                                                   text="the setting of standards", embed_text="x",
                                                   start=0, end=24)])])
    assert ix.correct("the risks of sexting") == "the risks of sexting"
    assert ix.correct("the setinng of standards") == "the setting of standards"
