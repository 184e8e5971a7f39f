"""Checking and storing uploaded files before they are ingested.

The uploaded name is never used as a path: the stored file is
`<upload_dir>/<content hash>/<slug of the name><allowed suffix>`, so the same file uploaded
twice lands on the same path (and is reported unchanged), and no name can escape the folder.
"""
from __future__ import annotations

import hashlib
import logging
import re
import shutil
import zipfile
from pathlib import Path

ALLOWED = {".pdf", ".docx", ".html", ".htm", ".txt", ".md", ".markdown"}
log = logging.getLogger("rag.ui")
_ABS_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][^\s/\\'\"<>:]+){2,}[/\\]?")


def user_text(text: str) -> str:
    """Text fit to show an app user: no server paths (an absolute path is cut to its last
    part), no lone surrogates (they break Gradio's event stream)."""
    text = _ABS_PATH.sub(lambda m: Path(m.group(0).rstrip("/\\")).name or "…", text)
    return text.encode("utf-8", "replace").decode("utf-8")


class UploadError(ValueError):
    """An uploaded file is refused; the message says why and what to do."""


def safe_stem(name: str) -> str:
    stem = Path(str(name).replace("\\", "/")).name
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:60].strip("-")
    return slug or "document"


def suffix_of(name: str) -> str:
    base = Path(str(name).replace("\\", "/")).name
    return ("." + base.rsplit(".", 1)[1].lower()) if "." in base else ""


def _sniff(path: Path, suffix: str) -> None:
    """The content must match the extension; catches renamed or corrupt files early."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if suffix == ".pdf":
        if not head.lstrip()[:5] == b"%PDF-":
            raise UploadError("this is not a PDF file (it does not start with %PDF-); "
                              "export the document as PDF again, or upload it in its real format")
        return
    if suffix == ".docx":
        try:
            with zipfile.ZipFile(path) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            log.info("upload refused as DOCX: %s", exc)
            raise UploadError("this is not a Word .docx file (not a readable ZIP archive); "
                              "save it as .docx and try again") from exc
        if "word/document.xml" not in names:
            raise UploadError("this ZIP file is not a Word .docx document (no word/document.xml)")
        return
    # Text formats (.txt, .md, .html): no NUL bytes, decodable.
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadError(f"this is a binary file, not {suffix[1:].upper()} text; "
                          "upload the document as PDF, DOCX, HTML, TXT or Markdown")


def check_upload(path: Path, original_name: str, max_mb: int) -> str:
    """Validate an uploaded temp file; returns its (lower-case) suffix."""
    suffix = suffix_of(original_name)
    if suffix not in ALLOWED:
        raise UploadError(f"file type {suffix or '(no extension)'} is not supported; "
                          f"upload one of: {', '.join(sorted(ALLOWED))}")
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        log.warning("upload %s unreadable: %s", path, exc)
        raise UploadError("the upload could not be read; try again") from exc
    if size == 0:
        raise UploadError("the file is empty")
    if size > max_mb * 1024 * 1024:
        raise UploadError(f"the file is {size / 1e6:.1f} MB; the upload limit is {max_mb} MB")
    _sniff(Path(path), suffix)
    return suffix


def store_upload(path: Path, original_name: str, upload_dir: Path) -> Path:
    """Copy a checked upload into the upload folder under a generated, safe name."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    root = Path(upload_dir).resolve()
    folder = root / digest.hexdigest()[:16]
    target = folder / (safe_stem(original_name) + suffix_of(original_name))
    if target.resolve().parent != folder:  # cannot happen with a slug, but never trust it
        raise UploadError("refused an unsafe file name")
    folder.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(target)
    return target


def discard(stored: Path, upload_dir: Path) -> None:
    """Remove a stored upload that failed ingestion (and its folder if now empty)."""
    root = Path(upload_dir).resolve()
    stored = Path(stored).resolve()
    if stored.parent.parent != root:
        return
    stored.unlink(missing_ok=True)
    try:
        stored.parent.rmdir()
    except OSError:
        pass
