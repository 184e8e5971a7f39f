"""File -> Document, whatever the format; every failure is a LoadError a person can act on."""
from __future__ import annotations

import json
import logging
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..model import DocType, Document, DocumentMeta
from ..settings import Settings
from .errors import LoadError

log = logging.getLogger("rag.corpus")

TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
SUPPORTED = TEXT_SUFFIXES | {".pdf", ".html", ".htm", ".docx"}
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"


def path_text(path: Path | str) -> str:
    """A path as text that is valid UTF-8 (SQLite, Chroma, JSON and terminals need that).

    A file name that is not valid UTF-8 arrives from the OS with surrogate escapes; here its
    bad bytes become backslash escapes (the same on every run, so the document keeps its
    identity); valid names are unchanged."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


@dataclass
class Discovery:
    """What a walk over the given paths found: files to load, and everything it passed
    over with the reason (so `rag ingest` can report every skipped file)."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _skip_reason(entry: Path, roots: list[Path]) -> tuple[str | None, Path | None]:
    """(reason to skip, None) or (None, real path) for one directory entry; never opens it."""
    try:
        st = entry.lstat()
    except OSError as exc:
        return f"cannot read its file information ({exc.strerror})", None
    real = entry
    if stat.S_ISLNK(st.st_mode):
        try:
            real = entry.resolve(strict=True)
        except FileNotFoundError:
            return "broken symbolic link (its target does not exist)", None
        except (RuntimeError, OSError):
            return "symbolic link loop", None
        if not any(real == r or r in real.parents for r in roots):
            return "symbolic link to a location outside the folders given (not followed)", None
        try:
            st = real.stat()
        except OSError as exc:
            return f"cannot read its target ({exc.strerror})", None
        if stat.S_ISDIR(st.st_mode):
            return "symbolic link to a folder (not followed; its files are found through their real folder)", None
    if stat.S_ISDIR(st.st_mode):
        return None, real
    real = real.resolve()
    if not stat.S_ISREG(st.st_mode):
        kind = ("FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "socket" if stat.S_ISSOCK(st.st_mode)
                else "device" if stat.S_ISBLK(st.st_mode) or stat.S_ISCHR(st.st_mode) else "special file")
        return f"not a regular file: {kind}", None
    return None, real


def discover_all(paths: list[Path]) -> Discovery:
    """Expand folders into the supported files they hold (sorted), never leaving them.

    Why: a folder handed to `rag ingest` (or an upload folder) may hold links to system
    files, named pipes that block a reader forever, or link loops; each is skipped, with a
    reason, instead of being quoted in answers or hanging the run. Hidden entries, README.md
    and metadata sidecars (*.meta.json) are passed over silently: they are not documents."""
    out = Discovery()
    seen: set[Path] = set()
    for path in paths:
        path = Path(path)
        if not path.is_dir():
            out.files.append(path)  # named explicitly: the loader checks it
            continue
        roots = [Path(p).resolve() for p in paths if Path(p).is_dir()]
        start = len(out.files)
        stack = [path]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(folder.iterdir(), key=lambda p: os.fsencode(p.name))
            except OSError as exc:
                out.skipped.append((folder, f"cannot list the folder ({exc.strerror})"))
                continue
            subfolders = []
            for entry in entries:
                name = entry.name
                if name.startswith(".") or name.lower() == "readme.md" or name.lower().endswith(".meta.json"):
                    continue
                reason, real = _skip_reason(entry, roots)
                if reason:
                    out.skipped.append((entry, reason))
                elif real is not None and real.is_dir() and not entry.is_symlink():
                    subfolders.append(entry)
                elif entry.suffix.lower() not in SUPPORTED:
                    out.skipped.append((entry, f"unsupported file type {entry.suffix.lower() or '(none)'}"))
                elif real in seen:
                    out.skipped.append((entry, "the same file as another one found (a link to it)"))
                else:
                    seen.add(real)
                    out.files.append(entry)
            stack.extend(reversed(subfolders))
        out.files[start:] = sorted(out.files[start:], key=lambda p: os.fsencode(str(p)))
    return out


def discover(paths: list[Path]) -> list[Path]:
    """The files discover_all finds (what to load), without the skipped ones."""
    return discover_all(paths).files


def _sidecar_meta(path: Path) -> dict:
    side = path.with_name(path.stem + ".meta.json")
    if side.is_file():
        try:
            data = json.loads(side.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError) as exc:
            raise LoadError(path, f"unreadable metadata sidecar {side.name}: {exc}") from exc
    return {}


def _meta(path: Path, fields: dict) -> DocumentMeta:
    data = {k: v for k, v in fields.items() if v not in (None, "")}
    if "source_url" not in data and data.get("url"):
        data["source_url"] = data["url"]
    data.setdefault("id", slugify(path.stem))
    data["id"] = slugify(str(data["id"]))
    data.setdefault("title", path_text(path.stem).replace("_", " ").replace("-", " "))
    data = {k: (str(v) if k != "doc_type" else v) for k, v in data.items() if k in DocumentMeta.model_fields}
    if data.get("doc_type") not in {t.value for t in DocType}:
        data["doc_type"] = DocType.treaty if "convention" in data["title"].lower() else DocType.commentary
    data["path"] = path_text(path)
    return DocumentMeta(**data)


def _check_doc_type(path: Path, fields: dict) -> None:
    """A declared doc_type must be one we know (any case); a typo must not turn a treaty
    into a commentary silently."""
    if fields.get("doc_type") in (None, ""):
        return
    value = str(fields["doc_type"]).strip().lower()
    if value not in {t.value for t in DocType}:
        raise LoadError(path, f"unknown doc_type {fields['doc_type']!r}; use one of: "
                              + ", ".join(t.value for t in DocType))
    fields["doc_type"] = value


def decode_text(path: Path, raw: bytes) -> str:
    """Decode text files; reject binary ones instead of indexing garbage."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    nul = raw.find(b"\x00")
    if nul >= 0:  # anywhere: a text file padded with binary after its first pages is not text either
        raise LoadError(path, f"looks like a binary file, not text (a NUL byte at byte {nul:,})")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    text = raw.decode("cp1252", errors="replace")
    if text.count("\ufffd") > max(3, len(text) // 200):
        raise LoadError(path, "unknown text encoding: save the file as UTF-8 and try again")
    return text


def load_document(path: Path, settings: Settings) -> Document:
    path = Path(path)
    if not path.exists():
        raise LoadError(path, "file not found")
    if not path.is_file():
        raise LoadError(path, "not a regular file")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise LoadError(path, f"unsupported file type {suffix or '(none)'}; supported: "
                              + ", ".join(sorted(SUPPORTED)))
    size = path.stat().st_size
    if size == 0:
        raise LoadError(path, "empty file")
    if size > settings.max_file_mb * 1024 * 1024:
        raise LoadError(path, f"file is {size / 1e6:.1f} MB, over the {settings.max_file_mb} MB limit")
    check_container(path, suffix, settings)
    sidecar = _sidecar_meta(path)
    if suffix in TEXT_SUFFIXES:
        doc = _load_text(path, sidecar)
    else:
        _check_doc_type(path, sidecar)
        meta = _meta(path, sidecar)
        if suffix == ".pdf":
            from . import pdf as mod
        elif suffix in {".html", ".htm"}:
            from . import html as mod  # type: ignore[no-redef]
        else:
            from . import docx as mod  # type: ignore[no-redef]
        try:
            doc = mod.load(path, meta)
        except LoadError:
            raise
        except Exception as exc:  # a parser library choking on a corrupt file
            raise LoadError(path, f"could not read {suffix[1:].upper()} file: {exc}") from exc
    if not doc.text.strip():
        raise LoadError(path, "no text found in the document")
    limit = settings.limits.max_text_chars
    if len(doc.text) > limit:
        raise LoadError(path, f"the document holds {len(doc.text):,} characters of text, over the limit of "
                              f"{limit:,}; split it into smaller documents")
    return doc


def check_container(path: Path, suffix: str, settings: Settings) -> None:
    """Refuse a DOCX that expands too far (ZIP bomb) or a PDF with too many pages, from the
    container's own directory, before any parser reads the content."""
    limits = settings.limits
    if suffix == ".docx":
        import zipfile

        try:
            with zipfile.ZipFile(path) as z:
                infos = z.infolist()
        except (zipfile.BadZipFile, OSError):
            return  # not a ZIP at all: the DOCX loader says precisely what it is
        total = sum(i.file_size for i in infos)
        packed = max(1, sum(i.compress_size for i in infos))
        if total > limits.max_unzipped_mb * 1024 * 1024:
            raise LoadError(path, f"the Word file expands to {total / 1e6:,.0f} MB, over the limit of "
                                  f"{limits.max_unzipped_mb} MB")
        if total > 1024 * 1024 and total / packed > limits.max_zip_ratio:
            raise LoadError(path, f"the Word file expands {total / packed:,.0f} times (a ZIP bomb?); the limit "
                                  f"is {limits.max_zip_ratio:,.0f} times")
    elif suffix == ".pdf":
        from pypdf import PdfReader

        try:
            reader = PdfReader(str(path))
            pages = len(reader.pages)
        except Exception as exc:  # noqa: BLE001 - pypdf raises many types on broken files
            raise LoadError(path, "could not read the PDF file; export it again") from exc
        if pages > limits.max_pdf_pages:
            raise LoadError(path, f"the PDF has {pages:,} pages, over the limit of {limits.max_pdf_pages:,}")
        budget = limits.max_pdf_content_mb * 1024 * 1024
        try:
            content = _pdf_content_bytes(reader, budget)
        except Exception as exc:  # noqa: BLE001 - a broken stream: the PDF loader reports it
            log.info("PDF content size of %s not measured: %s", path, exc)
            return
        if content > budget:
            raise LoadError(path, f"the PDF's pages expand to over {limits.max_pdf_content_mb} MB of drawing "
                                  f"instructions, over the limit of {limits.max_pdf_content_mb} MB (a PDF bomb?)")


def _pdf_content_bytes(reader, budget: int) -> int:
    """Decompressed size of every page's content streams, inflating no more than `budget`+1
    bytes in all (a bomb is measured without being expanded). Streams under filters other
    than Flate count at their stored size."""
    import zlib

    from pypdf.generic import ArrayObject

    total = 0
    for page in reader.pages:
        contents = page.get("/Contents")
        if contents is None:
            continue
        contents = contents.get_object()
        for ref in contents if isinstance(contents, ArrayObject) else [contents]:
            stream = ref.get_object()
            raw = getattr(stream, "_data", b"") or b""
            filters = stream.get("/Filter")
            filters = [filters] if not isinstance(filters, ArrayObject) else list(filters)
            if filters == ["/FlateDecode"]:
                total += len(zlib.decompressobj().decompress(raw, budget - total + 1))
            else:
                total += len(raw)
            if total > budget:
                return total
    return total


def _load_text(path: Path, sidecar: dict) -> Document:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read file: {exc}") from exc
    text = decode_text(path, raw).replace("\r\n", "\n").replace("\r", "\n")
    fields: dict = {}
    if text.startswith("---\n") and not _FRONT_MATTER.match(text):
        raise LoadError(path, "front matter is not closed: add a line '---' after the metadata")
    m = _FRONT_MATTER.match(text)
    if m:
        try:
            fm = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError as exc:
            raise LoadError(path, f"invalid YAML front matter: {exc}") from exc
        if not isinstance(fm, dict):
            raise LoadError(path, "front matter must be a YAML mapping")
        for key in set(DocumentMeta.model_fields) | {"doc_type", "url"}:
            # One value each: a 1 KB list of YAML aliases (a "billion laughs") turned into text
            # here grew the process by gigabytes and held the ingestion for minutes.
            if isinstance(fm.get(key), (list, dict, set, tuple)):
                raise LoadError(path, f"front matter field {key!r} must be a single value, not a list or mapping")
        fields.update(fm)
        text = text[m.end():]
    fields.update(sidecar)
    _check_doc_type(path, fields)
    if "title" not in fields:
        h = re.search(r"^#\s+(.+)$", text, re.M)
        if h:
            fields["title"] = h.group(1).strip()
    return Document(meta=_meta(path, fields), text=text)
