"""Text loading: front matter, encodings, and a clear LoadError for every bad file.

Why: users drop arbitrary files into the corpus folder; a bad one must be reported with a
reason they can act on, never indexed as garbage and never crash the whole ingestion.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from rag.corpus.errors import LoadError
from rag.corpus.loaders import discover, load_document
from rag.model import DocType

TREATY = "### Article 1. Purpose\n\nThe purpose of this Convention is to promote cooperation.\n"


@pytest.fixture
def settings(settings_factory):
    return settings_factory()


def write(path: Path, data: str | bytes) -> Path:
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def load_error(path: Path, settings) -> LoadError:
    with pytest.raises(LoadError) as info:
        load_document(path, settings)
    err = info.value
    assert err.path.name == path.name
    assert str(err).startswith(path.name + ": ")  # names the file, then the reason
    return err


def test_corpus_front_matter(corpus_files, settings):
    doc = load_document(corpus_files["untoc"], settings)
    assert doc.id == "untoc"
    m = doc.meta
    assert (m.title, m.short_title, m.symbol) == (
        "United Nations Convention against Transnational Organized Crime", "UNTOC", "A/RES/55/25")
    assert m.date == "2000-11-15" and m.doc_type is DocType.treaty and m.language == "en"
    assert m.source_url.startswith("https://") and m.path == str(corpus_files["untoc"])
    assert not doc.text.startswith("---") and "### Article 1." in doc.text
    knowmad = load_document(corpus_files["knowmad-2024-08-commentary"], settings)
    assert knowmad.meta.doc_type is DocType.commentary


def test_every_corpus_file_loads_with_its_id(corpus_files, settings):
    for doc_id, path in corpus_files.items():
        doc = load_document(path, settings)
        assert doc.id == doc_id and doc.meta.title and doc.hash


def test_hash_ignores_the_path_but_not_the_text(tmp_path, settings):
    a = load_document(write(tmp_path / "a.md", "---\nid: x\ntitle: X\n---\n" + TREATY), settings)
    b = load_document(write(tmp_path / "b.md", "---\nid: x\ntitle: X\n---\n" + TREATY), settings)
    c = load_document(write(tmp_path / "c.md", "---\nid: x\ntitle: X\n---\n" + TREATY + "More.\n"), settings)
    assert a.hash == b.hash != c.hash


def test_without_front_matter_id_and_title_come_from_the_file(tmp_path, settings):
    doc = load_document(write(tmp_path / "My Draft_Text.txt", "# The Draft Convention\n\n" + TREATY), settings)
    assert doc.id == "my-draft-text"
    assert doc.meta.title == "The Draft Convention"


def test_crlf_is_normalised(tmp_path, settings):
    doc = load_document(write(tmp_path / "w.md", ("---\nid: w\n---\n" + TREATY).replace("\n", "\r\n").encode()),
                        settings)
    assert "\r" not in doc.text and doc.id == "w"


def test_empty_file(tmp_path, settings):
    assert "empty" in load_error(write(tmp_path / "empty.md", b""), settings).message


def test_whitespace_only_file(tmp_path, settings):
    assert "no text" in load_error(write(tmp_path / "blank.md", "   \n\n \n"), settings).message


def test_front_matter_only(tmp_path, settings):
    assert "no text" in load_error(write(tmp_path / "fm.md", "---\nid: x\ntitle: X\n---\n"), settings).message


def test_binary_file_with_txt_suffix(tmp_path, settings):
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    assert "binary" in load_error(write(tmp_path / "image.txt", data), settings).message


def test_cp1252_text_decodes(tmp_path, settings):
    text = "---\nid: cp\ntitle: Caf\u00e9 treaty\n---\n### Article 1. D\u00e9finitions\n\n" \
           "\u201cComputer system\u201d means a device \u2013 or a group of devices.\n"
    doc = load_document(write(tmp_path / "cp.md", text.encode("cp1252")), settings)
    assert doc.meta.title == "Caf\u00e9 treaty"
    assert "\u201cComputer system\u201d means a device \u2013 or" in doc.text
    assert "\ufffd" not in doc.text


def test_undecodable_garbage_is_rejected(tmp_path, settings):
    data = b"Article 1 " + bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]) * 200
    err = load_error(write(tmp_path / "garbage.txt", data), settings)
    assert "encoding" in err.message and "UTF-8" in err.message


def test_utf16_with_bom_decodes(tmp_path, settings):
    text = "---\nid: u16\ntitle: \u00c9tat treaty\n---\n" + TREATY
    for enc in ("utf-16-le", "utf-16-be"):
        bom = "\ufeff".encode(enc)
        doc = load_document(write(tmp_path / f"{enc}.md", bom + text.encode(enc)), settings)
        assert doc.id == "u16" and doc.meta.title == "\u00c9tat treaty"
        assert doc.text.startswith("### Article 1.")


def test_utf8_bom_is_dropped(tmp_path, settings):
    doc = load_document(write(tmp_path / "bom.md", b"\xef\xbb\xbf---\nid: b\n---\n" + TREATY.encode()), settings)
    assert doc.id == "b" and not doc.text.startswith("\ufeff")


def test_file_over_the_size_limit(tmp_path, settings_factory):
    settings = settings_factory(max_file_mb=1)
    path = write(tmp_path / "big.md", TREATY * (1_100_000 // len(TREATY) + 1))
    err = load_error(path, settings)
    assert "1 MB" in err.message and "limit" in err.message


def test_unsupported_suffix(tmp_path, settings):
    err = load_error(write(tmp_path / "notes.rtf", "{\\rtf1 hello}"), settings)
    assert ".rtf" in err.message and ".md" in err.message and ".pdf" in err.message


def test_missing_file(tmp_path, settings):
    assert "not found" in load_error(tmp_path / "nope.md", settings).message


def test_directory_is_not_a_file(tmp_path, settings):
    (tmp_path / "folder.md").mkdir()
    assert "not a regular file" in load_error(tmp_path / "folder.md", settings).message


def test_malformed_yaml_front_matter(tmp_path, settings):
    err = load_error(write(tmp_path / "bad.md", "---\nid: x\ntitle: [unclosed\n---\n" + TREATY), settings)
    assert "front matter" in err.message and "YAML" in err.message


def test_front_matter_that_is_not_a_mapping(tmp_path, settings):
    err = load_error(write(tmp_path / "list.md", "---\n- a\n- b\n---\n" + TREATY), settings)
    assert "mapping" in err.message


def test_sidecar_metadata_overrides(tmp_path, settings):
    write(tmp_path / "draft.txt", TREATY)
    write(tmp_path / "draft.meta.json", '{"id": "draft-x", "title": "Draft X", "doc_type": "submission"}')
    doc = load_document(tmp_path / "draft.txt", settings)
    assert (doc.id, doc.meta.title, doc.meta.doc_type) == ("draft-x", "Draft X", DocType.submission)


def test_unreadable_sidecar(tmp_path, settings):
    write(tmp_path / "d.txt", TREATY)
    write(tmp_path / "d.meta.json", "{not json")
    assert "sidecar" in load_error(tmp_path / "d.txt", settings).message


def test_discover_skips_hidden_readme_and_unsupported(tmp_path):
    for name in ("a.md", "b.txt", "README.md", ".hidden.md", "c.rtf", "sub/d.md", ".git/e.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        write(tmp_path / name, TREATY)
    found = [p.relative_to(tmp_path).as_posix() for p in discover([tmp_path])]
    assert found == ["a.md", "b.txt", "sub/d.md"]


def test_unclosed_front_matter(tmp_path, settings):
    err = load_error(write(tmp_path / "unclosed.md", "---\nid: real-id\ntitle: Real\n\n" + TREATY), settings)
    assert "front matter" in err.message


def test_doc_type_is_case_insensitive(tmp_path, settings):
    doc = load_document(write(tmp_path / "p.md", "---\nid: p\ntitle: Additional Protocol\ndoc_type: Treaty\n---\n"
                              + TREATY), settings)
    assert doc.meta.doc_type is DocType.treaty


def test_invalid_doc_type_is_an_error(tmp_path, settings):
    err = load_error(write(tmp_path / "p.md", "---\nid: p\ntitle: A Protocol\ndoc_type: treatise\n---\n" + TREATY),
                     settings)
    assert "doc_type" in err.message and "treaty" in err.message


# -- discovery stays inside the folders given and says what it passed over -----------------------

def test_discover_never_follows_a_symlink_out_and_reports_every_skip(tmp_path):
    import os

    from rag.corpus.loaders import discover_all

    docs, outside = tmp_path / "docs", tmp_path / "outside"
    (docs / "sub").mkdir(parents=True)
    outside.mkdir()
    write(docs / "a.md", TREATY)
    write(docs / "sub" / "b.md", TREATY)
    write(outside / "secret.md", TREATY)
    write(docs / "notes.rtf", TREATY)
    (docs / "leak.md").symlink_to(outside / "secret.md")
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    (docs / "outdir").symlink_to(outside, target_is_directory=True)
    (docs / "inside.md").symlink_to(docs / "a.md")
    (docs / "loop.md").symlink_to(docs / "loop2.md")
    (docs / "loop2.md").symlink_to(docs / "loop.md")
    (docs / "gone.md").symlink_to(docs / "nothing.md")
    os.mkfifo(docs / "pipe.md")
    found = discover_all([docs])
    assert [p.relative_to(docs).as_posix() for p in found.files] == ["a.md", "sub/b.md"]
    why = {p.name: reason for p, reason in found.skipped}
    assert "outside the folders given" in why["leak.md"] and "outside" in why["passwd.txt"]
    assert "outside" in why["outdir"] and "loop" in why["loop.md"] and "loop" in why["loop2.md"]
    assert "FIFO" in why["pipe.md"] and "broken" in why["gone.md"]
    assert "unsupported file type .rtf" == why["notes.rtf"]
    assert "same file" in why["inside.md"]
    # A link into another folder that was also given is inside: it is read (once).
    both = discover_all([docs, outside])
    names = {p.name for p in both.files}
    assert len(both.files) == 3 and {"a.md", "b.md"} < names and len(names & {"leak.md", "secret.md"}) == 1
