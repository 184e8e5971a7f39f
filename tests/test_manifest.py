"""The committed manifest names the official sources; malformed manifests fail clearly."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from rag.corpus.manifest import (
    Manifest,
    ManifestError,
    UnknownDocumentError,
    load_manifest,
)
from rag.model import DocType, DocumentMeta
from rag.settings import REPO_ROOT, Settings

COMMITTED = REPO_ROOT / "corpus" / "manifest.toml"
DEV_CORPUS = REPO_ROOT / "corpus" / "documents"
UN_LANGUAGES = {"ar", "zh", "en", "fr", "ru", "es"}


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest(COMMITTED)


def _front_matter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---", 2)[1])


# --- the committed manifest ------------------------------------------------------------


def test_default_document_is_the_english_resolution(manifest: Manifest) -> None:
    default = manifest.get(Settings().default_document)
    assert default.id == "un-cybercrime-convention"
    assert default.language == "en"
    assert default.symbol == "A/RES/79/243"
    assert default.date == "2024-12-24"
    assert default.url == "https://docs.un.org/en/A/RES/79/243"
    assert default.doc_type is DocType.treaty


@pytest.mark.parametrize("symbol", ["A/RES/79/243", "A/AC.291/L.15"])
def test_un_texts_in_all_six_official_languages(manifest: Manifest, symbol: str) -> None:
    entries = [d for d in manifest.documents if d.symbol == symbol]
    assert {d.language for d in entries} == UN_LANGUAGES
    for d in entries:
        # The ODS address of that symbol in that language version.
        assert d.url == f"https://docs.un.org/{d.language}/{symbol}", d.id
        assert d.format.value == "pdf"
    assert {d.id for d in entries if d.symbol == "A/AC.291/L.15"} <= {
        f"a-ac-291-l-15-{lang}" for lang in UN_LANGUAGES
    }
    dates = {d.date for d in entries}
    assert dates == ({"2024-12-24"} if symbol == "A/RES/79/243" else {"2024-08-07"})


def test_language_ids_follow_the_convention(manifest: Manifest) -> None:
    for lang in UN_LANGUAGES - {"en"}:
        entry = manifest.get(f"un-cybercrime-convention-{lang}")
        assert entry.language == lang and entry.symbol == "A/RES/79/243"


def test_council_of_europe_and_untoc(manifest: Manifest) -> None:
    expected = {
        "budapest-convention": "ETS No. 185",
        "budapest-protocol-1": "ETS No. 189",
        "budapest-protocol-2": "CETS No. 224",
    }
    for doc_id, symbol in expected.items():
        entry = manifest.get(doc_id)
        assert entry.symbol == symbol
        assert entry.url.startswith("https://rm.coe.int/"), entry.url
        assert entry.publisher == "Council of Europe"
    untoc = manifest.get("untoc")
    assert untoc.symbol == "A/RES/55/25"
    assert untoc.url == "https://docs.un.org/en/A/RES/55/25"


def test_ids_unique_urls_https_and_files_distinct(manifest: Manifest) -> None:
    ids = manifest.ids()
    assert len(ids) == len(set(ids))
    assert all(d.url.startswith("https://") for d in manifest.documents)
    assert len({d.filename for d in manifest.documents}) == len(ids)
    assert all(not d.sha256 for d in manifest.documents)  # recorded on first download


def test_knowmad_submissions_listed_with_their_unodc_addresses(manifest: Manifest) -> None:
    text = (DEV_CORPUS / "knowmad-2024-08-commentary.md").read_text(encoding="utf-8")
    urls = re.findall(r"https://www\.unodc\.org/\S+?\.(?:pdf|PDF)", text)
    assert len(urls) >= 4
    by_url = {d.url: d for d in manifest.documents}
    for url in urls:
        assert url in by_url, f"submission {url} missing from the manifest"
        entry = by_url[url]
        assert entry.doc_type is DocType.submission
        assert entry.publisher == "Knowmad Institut"
        name = url.rsplit("/", 1)[1]
        if name.startswith("ES_"):
            assert entry.language == "es", entry.id


def test_documents_shared_with_the_dev_corpus_use_its_ids(manifest: Manifest) -> None:
    by_url = {d.url: d for d in manifest.documents}
    shared = 0
    for path in sorted(DEV_CORPUS.glob("*.md")):
        if path.name == "README.md":
            continue
        meta = _front_matter(path)
        entry = by_url.get(meta.get("source_url") or "")
        if entry is None:
            continue
        shared += 1
        assert entry.id == meta["id"], f"{entry.url}: manifest id {entry.id!r} != dev corpus id {meta['id']!r}"
        assert entry.symbol == meta["symbol"]
    assert shared >= 3  # budapest-convention, budapest-protocol-1, untoc at least
    assert {"budapest-convention", "budapest-protocol-1", "untoc"} <= set(manifest.ids())


def test_sidecar_metadata_is_a_document_meta(manifest: Manifest) -> None:
    entry = manifest.get("un-cybercrime-convention-fr")
    meta = DocumentMeta.model_validate(entry.document_meta().model_dump())
    assert meta.language == "fr" and meta.source_url == entry.url and meta.symbol == "A/RES/79/243"


def test_select_by_id_and_group(manifest: Manifest) -> None:
    group = [d.id for d in manifest.select(["a-res-79-243"])]
    assert len(group) == 6 and "un-cybercrime-convention" in group
    mixed = manifest.select(["untoc", "council-of-europe"])
    assert {d.id for d in mixed} >= {"untoc", "budapest-convention", "budapest-protocol-2"}
    assert [d.id for d in manifest.select(None)] == manifest.ids()
    with pytest.raises(UnknownDocumentError, match="unknown document or group 'budapest'.*budapest-convention"):
        manifest.select(["budapest"])


# --- malformed manifests ---------------------------------------------------------------

VALID = """
[[document]]
id = "doc-a"
title = "A"
doc_type = "treaty"
language = "en"
url = "https://example.org/a.pdf"
format = "pdf"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_valid_manifest(tmp_path: Path) -> None:
    m = load_manifest(_write(tmp_path, VALID))
    assert m.ids() == ["doc-a"] and m.path == tmp_path / "manifest.toml"


@pytest.mark.parametrize(
    "text, pattern",
    [
        (VALID + VALID, r"document #2: duplicate id 'doc-a' \(already used by document #1\)"),
        (VALID.replace('"treaty"', '"law"'), r"document #1 \(id 'doc-a'\): doc_type: .*treaty.*'law'"),
        (VALID.replace("https://", "ftp://"), r"url: URL scheme 'ftp' is not supported"),
        (VALID.replace("https://example.org/a.pdf", "file:///etc/passwd"), r"url: URL scheme 'file'"),
        (VALID.replace("https://example.org/a.pdf", "example.org/a.pdf"), r"url: .*not an absolute URL"),
        (VALID.replace('id = "doc-a"', 'id = "../evil"'), r"id: '../evil' is not a valid id"),
        (VALID.replace('language = "en"', 'language = "eng"'), r"language: 'eng' is not an ISO 639-1 code"),
        (VALID.replace('format = "pdf"', 'format = "exe"'), r"format: .*'exe'"),
        (VALID.replace('title = "A"\n', ""), r"title: required field is missing"),
        (VALID + 'colour = "red"\n', r"colour: unknown field"),
        (VALID + 'sha256 = "abc"\n', r"sha256: 'abc' is not a sha256"),
        (VALID + 'date = "24 Dec 2024"\n', r"date: '24 Dec 2024' is not an ISO date"),
        (VALID + 'group = "doc-a"\n', r"group name\(s\) doc-a also used as document id"),
        ("[[document]\nid=1", r"TOML syntax error"),
        ('[meta]\nx = 1\n' + VALID, r"unknown top-level key\(s\) meta"),
    ],
)
def test_malformed_manifest_errors_name_the_problem(tmp_path: Path, text: str, pattern: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ManifestError, match=pattern) as info:
        load_manifest(path)
    assert str(path) in str(info.value)


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    bad = VALID.replace('"treaty"', '"law"') + VALID.replace('id = "doc-a"', 'id = "doc-b"').replace("https", "gopher")
    with pytest.raises(ManifestError) as info:
        load_manifest(_write(tmp_path, bad))
    assert "document #1" in str(info.value) and "document #2 (id 'doc-b')" in str(info.value)


def test_missing_manifest_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="manifest not found at .*RAG_MANIFEST"):
        load_manifest(tmp_path / "nope.toml")
