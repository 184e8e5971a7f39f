"""The manifest of official documents: what the product knows about and where to get it.

The manifest is data (corpus/manifest.toml), validated strictly on load so that a typo in
an id, a language code or a URL fails with a message naming the entry, not later as a
confusing download or ingestion error.
"""
from __future__ import annotations

import re
import tomllib
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rag.model import DocType, DocumentMeta

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]*$")
DATE_PATTERN = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class ManifestError(ValueError):
    """The manifest file is missing or malformed; the message names file and entry."""


class UnknownDocumentError(ManifestError):
    """A requested id or group is not in the manifest."""


class FileFormat(str, Enum):
    pdf = "pdf"
    html = "html"
    docx = "docx"
    txt = "txt"
    md = "md"


class ManifestEntry(BaseModel):
    """One official document and its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    title: str
    short_title: str = ""
    symbol: str = ""
    date: str = ""
    publisher: str = ""
    doc_type: DocType
    language: str
    url: str
    format: FileFormat
    sha256: str = ""
    group: str = ""
    notes: str = ""

    @field_validator("id", "group")
    @classmethod
    def _slug(cls, value: str, info: Any) -> str:
        # Ids become file names: keep them to a safe, portable alphabet.
        if value == "" and info.field_name == "group":
            return value
        if not ID_PATTERN.match(value):
            raise ValueError(
                f"{value!r} is not a valid {info.field_name}: use lowercase letters, digits "
                "and '-' (e.g. 'un-cybercrime-convention-fr')"
            )
        return value

    @field_validator("title")
    @classmethod
    def _title(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("title must not be empty")
        return value.strip()

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z]{2}", value):
            raise ValueError(f"{value!r} is not an ISO 639-1 code (two lowercase letters, e.g. 'en')")
        return value

    @field_validator("date")
    @classmethod
    def _date(cls, value: str) -> str:
        if value and not DATE_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", value)
        if scheme and scheme.group(1).lower() not in ("http", "https"):
            raise ValueError(f"URL scheme {scheme.group(1)!r} is not supported in {value!r}; use https or http")
        if not re.match(r"^https?://[^/?#]+", value, re.IGNORECASE):
            raise ValueError(f"{value!r} is not an absolute URL (expected https://host/...)")
        return value

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str) -> str:
        value = value.strip().lower()
        if value and not SHA256_PATTERN.match(value):
            raise ValueError(f"{value!r} is not a sha256 hex digest (64 hex characters) or empty")
        return value

    @property
    def filename(self) -> str:
        return f"{self.id}.{self.format.value}"

    @property
    def host(self) -> str:
        return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]+)", self.url).group(1)  # type: ignore[union-attr]

    def document_meta(self) -> DocumentMeta:
        """The metadata the ingestion loaders attach to this document (via the sidecar)."""
        return DocumentMeta(
            id=self.id,
            title=self.title,
            short_title=self.short_title,
            symbol=self.symbol,
            date=self.date,
            publisher=self.publisher,
            doc_type=self.doc_type,
            language=self.language,
            source_url=self.url,
        )


class Manifest(BaseModel):
    documents: list[ManifestEntry] = Field(default_factory=list)
    path: Path | None = None

    def ids(self) -> list[str]:
        return [d.id for d in self.documents]

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for d in self.documents:
            if d.group:
                out.setdefault(d.group, []).append(d.id)
        return out

    def get(self, doc_id: str) -> ManifestEntry:
        for d in self.documents:
            if d.id == doc_id:
                return d
        raise UnknownDocumentError(self._unknown_message(doc_id))

    def select(self, names: list[str] | None = None) -> list[ManifestEntry]:
        """Entries named by id or group, in manifest order; all entries when `names` is empty."""
        if not names:
            return list(self.documents)
        groups = self.groups()
        wanted: set[str] = set()
        for name in names:
            if name in groups:
                wanted.update(groups[name])
            elif any(d.id == name for d in self.documents):
                wanted.add(name)
            else:
                raise UnknownDocumentError(self._unknown_message(name))
        return [d for d in self.documents if d.id in wanted]

    def _unknown_message(self, name: str) -> str:
        close = [i for i in self.ids() + list(self.groups()) if name in i or i in name][:5]
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        return (
            f"unknown document or group {name!r} in manifest {self.path or '(in memory)'}.{hint} "
            "Run `rag corpus list` to see the known ids."
        )


def _describe(errors: ValidationError, index: int, raw: Any) -> str:
    label = f"document #{index + 1}"
    if isinstance(raw, dict) and isinstance(raw.get("id"), str):
        label += f" (id {raw['id']!r})"
    parts = []
    for err in errors.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "entry"
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field (typo?)"
        elif err["type"] == "enum":
            msg = f"{msg} (got {err.get('input')!r})"
        parts.append(f"{loc}: {msg}")
    return f"{label}: " + "; ".join(parts)


def parse_manifest(data: dict[str, Any], source: str = "(in memory)") -> Manifest:
    unknown = sorted(set(data) - {"document"})
    if unknown:
        raise ManifestError(
            f"{source}: unknown top-level key(s) {', '.join(unknown)}; "
            "documents are listed as [[document]] tables"
        )
    raw_docs = data.get("document", [])
    if not isinstance(raw_docs, list):
        raise ManifestError(f"{source}: 'document' must be an array of tables ([[document]])")
    problems: list[str] = []
    entries: list[ManifestEntry] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_docs):
        try:
            entry = ManifestEntry.model_validate(raw)
        except ValidationError as exc:
            problems.append(_describe(exc, i, raw))
            continue
        if entry.id in seen:
            problems.append(
                f"document #{i + 1}: duplicate id {entry.id!r} (already used by document #{seen[entry.id] + 1})"
            )
            continue
        seen[entry.id] = i
        entries.append(entry)
    clashes = sorted(set(seen) & {e.group for e in entries if e.group})
    if clashes:
        problems.append(f"group name(s) {', '.join(clashes)} also used as document id(s); rename one")
    if problems:
        raise ManifestError(f"{source}: invalid manifest:\n  - " + "\n  - ".join(problems))
    return Manifest(documents=entries)


def load_manifest(path: Path | str) -> Manifest:
    """Read and validate a manifest TOML file; raises ManifestError with an actionable message."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(
            f"manifest not found at {path}; set `manifest` in rag.toml or RAG_MANIFEST to its location"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: not UTF-8 text ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: TOML syntax error: {exc}") from exc
    manifest = parse_manifest(data, str(path))
    manifest.path = path
    return manifest
