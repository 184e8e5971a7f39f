"""Shared by the file loaders: fill metadata the dispatcher could only guess from the name."""
from __future__ import annotations

import re
from pathlib import Path

from rag.model import DocumentMeta

# UN document symbols: A/AC.291/L.15, A/RES/79/243, CTOC/COP/2020/3, E/CN.15/2024/L.3/Rev.1
UN_SYMBOL = re.compile(r"^(?:[A-Z]{1,6}(?:\.\d+)?)(?:/[A-Za-z0-9.\-]+)+$")
_JUNK_TITLE = re.compile(r"(?i)(microsoft word|\.docx?$|\.pdf$|^untitled|^document\d*$|^\s*$)")


def _is_placeholder(title: str, meta: DocumentMeta, path: Path) -> bool:
    """True for the title the dispatcher derives from a file name ("my_file" -> "my file")."""
    derived = {meta.id, path.stem, path.name, path.stem.replace("_", " ").replace("-", " ")}
    return not title.strip() or title.strip() in derived


def improve_meta(
    meta: DocumentMeta,
    path: Path,
    *,
    title: str | None = None,
    symbol: str | None = None,
    language: str | None = None,
    date: str | None = None,
) -> DocumentMeta:
    """Return meta with blanks (and a file-name placeholder title) filled from the file itself.

    Values from a sidecar win: the file's own metadata is often stale or generic.
    """
    update: dict[str, str] = {}
    title = re.sub(r"\s+", " ", title or "").strip()
    if title and not _JUNK_TITLE.search(title) and not UN_SYMBOL.match(title):
        if _is_placeholder(meta.title, meta, path):
            update["title"] = title
    if symbol and not meta.symbol:
        update["symbol"] = symbol.strip()
    if language:
        lang = language.strip().split("-")[0].split("_")[0].lower()
        if re.fullmatch(r"[a-z]{2,3}", lang) and (not meta.language or (meta.language == "en" and lang != "en")):
            update["language"] = lang
    if date and not meta.date:
        update["date"] = date
    if not meta.path:
        update["path"] = str(path)
    return meta.model_copy(update=update) if update else meta


def roman(n: int) -> str:
    """Lower-case roman numeral, as list numbering prints it."""
    vals = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
            (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out
