"""Fetch the official documents named in the manifest into the corpus directory.

Users run this once (and again after the sources change); the machine may well be
offline, so every failure is a per-document result with a message saying what to do,
never a traceback. Files only ever appear under their final name complete and verified.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Iterator

import httpx
from pydantic import BaseModel, Field
from tqdm import tqdm

from rag.corpus.manifest import FileFormat, Manifest, ManifestEntry, load_manifest
from rag.settings import Settings

CHECKSUMS_FILE = ".checksums.json"
SIDECAR_SUFFIX = ".meta.json"
USER_AGENT = "treaty-rag/0.1 (official-corpus download)"
MB = 1024 * 1024
SNIFF_BYTES = 2048
CHUNK_BYTES = 64 * 1024
RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


class Status(str, Enum):
    downloaded = "downloaded"
    present = "present"
    failed = "failed"
    changed = "changed"


class DocumentResult(BaseModel):
    id: str
    status: Status
    path: Path
    url: str = ""
    bytes: int = 0
    sha256: str = ""
    error: str = ""  # why it failed, or why a changed file was not kept
    note: str = ""  # informational (e.g. "re-downloaded, unchanged")
    kept: bool = True  # for `changed`: whether the new content is now at `path`


class DownloadReport(BaseModel):
    corpus_dir: Path
    results: list[DocumentResult] = Field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for r in self.results:
            out[r.status.value] += 1
        return out

    @property
    def ok(self) -> bool:
        """True when every requested document is now present with accepted content."""
        return all(
            r.status in (Status.downloaded, Status.present) or (r.status is Status.changed and r.kept)
            for r in self.results
        )

    def by_id(self) -> dict[str, DocumentResult]:
        return {r.id: r for r in self.results}


class _Failure(Exception):
    """A per-document failure; `retry` marks transient ones worth another attempt."""

    def __init__(self, message: str, retry: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after


# ---------------------------------------------------------------------------------------
# Checksums and sidecars


def sidecar_path(corpus_dir: Path, doc_id: str) -> Path:
    return corpus_dir / f"{doc_id}{SIDECAR_SUFFIX}"


def read_checksums(corpus_dir: Path) -> dict[str, dict[str, Any]]:
    path = corpus_dir / CHECKSUMS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OSError(
            f"{path} is unreadable ({exc}); delete it to re-record checksums on the next download"
        ) from exc
    return data if isinstance(data, dict) else {}


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write_checksums(corpus_dir: Path, data: dict[str, dict[str, Any]]) -> None:
    _atomic_write_text(corpus_dir / CHECKSUMS_FILE, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_sidecar(corpus_dir: Path, entry: ManifestEntry) -> Path:
    """Metadata the loaders cannot get from a PDF/HTML file itself; rewritten only when it differs."""
    path = sidecar_path(corpus_dir, entry.id)
    meta = entry.document_meta().model_dump(mode="json", exclude={"path", "owner"})  # official: no owner
    text = json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        _atomic_write_text(path, text)
    return path


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(CHUNK_BYTES), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------
# Content checks


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()[:512]
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in start


def check_content(fmt: FileFormat, head: bytes, content_type: str) -> None:
    """Reject bodies that are not the promised format: error pages, login walls, viewers."""
    ctype = content_type.split(";")[0].strip().lower()
    html_reason = (
        "the server returned an HTML page (probably an error, login or viewer page) "
        f"instead of a {fmt.value.upper()} file"
    )
    if fmt is FileFormat.pdf:
        if b"%PDF-" not in head[:1024]:
            if _looks_like_html(head) or ctype in ("text/html", "application/xhtml+xml"):
                raise _Failure(html_reason)
            raise _Failure(f"not a PDF: the file does not start with %PDF (Content-Type {ctype or 'missing'})")
    elif fmt is FileFormat.docx:
        if not head.startswith(b"PK\x03\x04"):
            if _looks_like_html(head) or ctype in ("text/html", "application/xhtml+xml"):
                raise _Failure(html_reason)
            raise _Failure(f"not a DOCX file: no ZIP signature (Content-Type {ctype or 'missing'})")
    else:
        if head.startswith(b"%PDF-") or head.startswith(b"PK\x03\x04") or b"\x00" in head:
            raise _Failure(f"expected {fmt.value} text but received a binary file (Content-Type {ctype or 'missing'})")
        try:
            # The sniffed head may end inside a multi-byte character.
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:
                raise _Failure(f"expected UTF-8 {fmt.value} text; the content is not UTF-8") from exc
        if fmt is FileFormat.html and not _looks_like_html(head) and ctype not in ("text/html", "application/xhtml+xml"):
            raise _Failure(f"expected an HTML page but received Content-Type {ctype or 'missing'} without HTML markup")
        if fmt in (FileFormat.txt, FileFormat.md) and _looks_like_html(head):
            raise _Failure(html_reason)


# ---------------------------------------------------------------------------------------
# One document


def _offline_message(entry: ManifestEntry, target: Path, exc: Exception) -> str:
    return (
        f"could not reach {entry.host}: {exc or type(exc).__name__} — you appear to be offline; "
        f"place the file at {target} manually"
    )


def _stream_once(
    client: httpx.Client,
    entry: ManifestEntry,
    target: Path,
    max_bytes: int,
    timeout: float,
    file_bar: tqdm,
) -> tuple[Path, int, str]:
    """One GET into a temp file next to `target`; returns (temp path, bytes, sha256)."""
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            with client.stream("GET", entry.url, follow_redirects=True, timeout=timeout) as resp:
                if resp.status_code >= 400:
                    retry_after = resp.headers.get("retry-after")
                    raise _Failure(
                        f"{entry.host} answered HTTP {resp.status_code} {resp.reason_phrase} for {resp.url}",
                        retry=resp.status_code in RETRY_STATUS,
                        retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
                    )
                declared = resp.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > max_bytes:
                    raise _Failure(
                        f"file is {int(declared) / MB:.1f} MB, over the {max_bytes / MB:g} MB limit "
                        "(raise max_file_mb in the settings if this is expected)"
                    )
                file_bar.reset(total=int(declared) if declared and declared.isdigit() else None)
                content_type = resp.headers.get("content-type", "")
                digest = hashlib.sha256()
                size = 0
                head = b""
                checked = False
                for chunk in resp.iter_bytes(CHUNK_BYTES):
                    if not checked:
                        head += chunk
                        if len(head) < SNIFF_BYTES:
                            continue
                        check_content(entry.format, head, content_type)
                        checked = True
                        chunk, head = head, b""
                    size += len(chunk)
                    if size > max_bytes:
                        raise _Failure(
                            f"file exceeds the {max_bytes / MB:g} MB limit; download aborted "
                            "(raise max_file_mb in the settings if this is expected)"
                        )
                    digest.update(chunk)
                    fh.write(chunk)
                    file_bar.update(len(chunk))
                if not checked:
                    if not head:
                        raise _Failure(f"{entry.host} returned an empty file")
                    check_content(entry.format, head, content_type)
                    size = len(head)
                    if size > max_bytes:
                        raise _Failure(f"file exceeds the {max_bytes / MB:g} MB limit")
                    digest.update(head)
                    fh.write(head)
                    file_bar.update(size)
            fh.flush()
            os.fsync(fh.fileno())
        return tmp, size, digest.hexdigest()
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fetch(
    client: httpx.Client,
    entry: ManifestEntry,
    target: Path,
    max_bytes: int,
    timeout: float,
    retries: int,
    backoff: float,
    file_bar: tqdm,
) -> tuple[Path, int, str]:
    """Bounded retries with exponential backoff on timeouts, dropped connections and 5xx."""
    attempts = retries + 1
    for attempt in range(attempts):
        last = attempt == attempts - 1
        try:
            return _stream_once(client, entry, target, max_bytes, timeout, file_bar)
        except _Failure as exc:
            if not exc.retry or last:
                if exc.retry:
                    raise _Failure(f"{exc} (gave up after {attempts} attempts)") from exc
                raise
            wait = exc.retry_after if exc.retry_after is not None else backoff * 2**attempt
        except httpx.ConnectTimeout as exc:
            if last:
                raise _Failure(
                    f"{_offline_message(entry, target, exc)} (connection timed out {attempts} times)"
                ) from exc
            wait = backoff * 2**attempt
        except httpx.TimeoutException as exc:
            if last:
                raise _Failure(
                    f"{entry.host} did not respond within {timeout:g}s ({attempts} attempts); "
                    f"try again later or place the file at {target} manually"
                ) from exc
            wait = backoff * 2**attempt
        except httpx.ConnectError as exc:
            # Refused / no route / DNS failure: retrying an offline machine only wastes time.
            raise _Failure(_offline_message(entry, target, exc)) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            if last:
                raise _Failure(
                    f"connection to {entry.host} broke off during the download ({exc or type(exc).__name__}; "
                    f"{attempts} attempts); try again later or place the file at {target} manually"
                ) from exc
            wait = backoff * 2**attempt
        except httpx.TooManyRedirects as exc:
            raise _Failure(f"{entry.url} redirects in a loop ({exc})") from exc
        except httpx.HTTPError as exc:
            raise _Failure(f"download from {entry.host} failed: {exc or type(exc).__name__}") from exc
        time.sleep(min(max(wait, 0.0), 60.0))
    raise AssertionError("unreachable")  # pragma: no cover


def _download_one(
    client: httpx.Client,
    entry: ManifestEntry,
    corpus_dir: Path,
    checksums: dict[str, dict[str, Any]],
    *,
    force: bool,
    max_bytes: int,
    timeout: float,
    retries: int,
    backoff: float,
    file_bar: tqdm,
) -> DocumentResult:
    target = corpus_dir / entry.filename
    recorded = checksums.get(entry.id, {}).get("sha256", "")
    base = dict(id=entry.id, path=target, url=entry.url)
    shipped = corpus_dir / f"{entry.id}.md"
    if not force and entry.format.value != "md" and shipped.is_file() and not target.is_file():
        return DocumentResult(status=Status.present, bytes=shipped.stat().st_size, sha256=_sha256_file(shipped),
                              note="the text ships with the product (Markdown); --force fetches the official "
                                   "file as well (remove the .md to index that one instead)",
                              **{**base, "path": shipped})

    if target.is_file() and not force:
        sha = _sha256_file(target)
        note = ""
        if not recorded:
            checksums[entry.id] = _record(entry, sha, target.stat().st_size)
            note = "checksum recorded for a file placed manually"
        elif recorded != sha:
            note = "local file differs from the recorded checksum; use --force to re-download the official copy"
        write_sidecar(corpus_dir, entry)
        return DocumentResult(status=Status.present, bytes=target.stat().st_size, sha256=sha, note=note, **base)

    file_bar.set_description(entry.id)
    try:
        tmp, size, sha = _fetch(client, entry, target, max_bytes, timeout, retries, backoff, file_bar)
    except _Failure as exc:
        return DocumentResult(status=Status.failed, error=str(exc), **base)

    expected = entry.sha256 or recorded
    if expected and sha != expected:
        source = "the manifest's" if entry.sha256 else "the checksum recorded on first download"
        if force:
            os.replace(tmp, target)
            _fsync_dir(corpus_dir)
            checksums[entry.id] = _record(entry, sha, size)
            write_sidecar(corpus_dir, entry)
            return DocumentResult(
                status=Status.changed, bytes=size, sha256=sha, kept=True,
                note=f"content differs from {source} ({expected[:12]}…); kept the new file (--force)", **base,
            )
        tmp.unlink(missing_ok=True)
        return DocumentResult(
            status=Status.changed, bytes=size, sha256=sha, kept=False,
            error=(
                f"the source changed: sha256 {sha[:12]}… differs from {source} {expected[:12]}…; "
                "the new file was not kept — check the source and rerun with --force to accept it"
            ),
            **base,
        )
    os.replace(tmp, target)
    _fsync_dir(corpus_dir)
    checksums[entry.id] = _record(entry, sha, size)
    write_sidecar(corpus_dir, entry)
    note = "re-downloaded, unchanged" if recorded else ""
    return DocumentResult(status=Status.downloaded, bytes=size, sha256=sha, note=note, **base)


def _record(entry: ManifestEntry, sha: str, size: int) -> dict[str, Any]:
    return {
        "sha256": sha,
        "bytes": size,
        "url": entry.url,
        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------
# Public entry points


def download_corpus(
    settings: Settings,
    ids: list[str] | None = None,
    *,
    force: bool = False,
    progress: bool = True,
    client: httpx.Client | None = None,
    manifest: Manifest | None = None,
    timeout: float = 30.0,
    retries: int = 3,
    backoff: float = 1.0,
) -> DownloadReport:
    """Fetch the manifest documents (ids or group names; all when None) missing from corpus_dir.

    Raises ManifestError/UnknownDocumentError for a bad manifest or unknown ids (before any
    network traffic); every network or content problem is a per-document result instead.
    """
    manifest = manifest or load_manifest(settings.manifest)
    entries = manifest.select(ids)
    corpus_dir = Path(settings.corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    checksums = read_checksums(corpus_dir)
    max_bytes = settings.max_file_mb * MB
    report = DownloadReport(corpus_dir=corpus_dir)

    own_client = client is None
    if own_client:
        client = httpx.Client(
            follow_redirects=True,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "*/*"},
        )
    assert client is not None
    overall = tqdm(total=len(entries), unit="doc", desc="corpus", disable=not progress, position=0)
    file_bar = tqdm(unit="B", unit_scale=True, unit_divisor=1024, disable=not progress, position=1, leave=False)
    try:
        for entry in entries:
            result = _download_one(
                client, entry, corpus_dir, checksums,
                force=force, max_bytes=max_bytes, timeout=timeout,
                retries=retries, backoff=backoff, file_bar=file_bar,
            )
            report.results.append(result)
            _write_checksums(corpus_dir, checksums)
            overall.set_postfix_str(f"{entry.id}: {result.status.value}")
            overall.update(1)
    finally:
        file_bar.close()
        overall.close()
        if own_client:
            client.close()
    return report


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def format_report(report: DownloadReport) -> str:
    """Human-readable outcome for `rag corpus download`."""
    lines: list[str] = []
    width = max((len(r.id) for r in report.results), default=2)
    for r in report.results:
        size = _human_bytes(r.bytes) if r.bytes else "-"
        sha = f"sha256 {r.sha256[:12]}" if r.sha256 else ""
        status = r.status.value if r.kept or r.status is not Status.changed else "changed (not kept)"
        lines.append(f"{status:<19} {r.id:<{width}}  {size:>9}  {sha}".rstrip())
        if r.error:
            lines.append(f"{'':<19} ! {r.error}")
        if r.note:
            lines.append(f"{'':<19}   {r.note}")
    counts = report.counts()
    summary = ", ".join(f"{counts[s.value]} {s.value}" for s in Status)
    lines.append(f"{summary} — files in {report.corpus_dir}")
    if not report.ok:
        lines.append("Some documents are missing; see the messages above.")
    return "\n".join(lines)


def _presence(corpus_dir: Path, entry: ManifestEntry) -> str:
    path = local_copy(corpus_dir, entry)
    if path is None:
        return "no"
    return "yes" if path.name == entry.filename else "shipped (md)"


def format_manifest(manifest: Manifest, corpus_dir: Path | str) -> str:
    """Table for `rag corpus list`: which official documents exist and which are on disk."""
    corpus_dir = Path(corpus_dir)
    header = ("id", "lang", "type", "format", "present", "symbol", "group")
    rows = [
        (
            e.id,
            e.language,
            e.doc_type.value,
            e.format.value,
            _presence(corpus_dir, e),
            e.symbol,
            e.group,
        )
        for e in manifest.documents
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip()

    present = sum(1 for r in rows if r[4] != "no")
    out = [line(header), line(tuple("-" * w for w in widths))]
    out += [line(r) for r in rows]
    out.append(f"{present} of {len(rows)} documents present in {corpus_dir}")
    return "\n".join(out)


def iter_missing(manifest: Manifest, corpus_dir: Path) -> Iterator[ManifestEntry]:
    """Entries with no text in corpus_dir yet (e.g. to tell the user what to fetch)."""
    for e in manifest.documents:
        if local_copy(corpus_dir, e) is None:
            yield e


def local_copy(corpus_dir: Path, entry: ManifestEntry) -> Path | None:
    """The entry's text on disk: the downloaded file, or the Markdown text shipped with the product.

    A shipped text (corpus/documents/<id>.md) carries the same id, so fetching the official
    PDF beside it would index the treaty twice under one id."""
    for path in (corpus_dir / entry.filename, corpus_dir / f"{entry.id}.md"):
        if path.is_file():
            return path
    return None
