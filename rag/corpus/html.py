"""HTML -> Document: the text a reader sees, in the block form the structure parser reads.

Web pages carry scripts, styles and navigation that must not end up in provisions or be
cited, so those are dropped. Headings become Markdown-style lines ("## Chapter I",
"### Article 1. Title") so the parser sees the same structure as in the Markdown corpus;
paragraphs, list items and table cells become blocks. Ordered lists get the number a
browser would show ("1.", "a."), because treaty pages often number paragraphs that way.
"""
from __future__ import annotations

import re
from pathlib import Path

from rag.model import Document, DocumentMeta

from ._meta import UN_SYMBOL, improve_meta, roman as _roman
from .errors import LoadError

DROP = {
    "script", "style", "noscript", "template", "nav", "svg", "iframe", "form", "button",
    "select", "textarea", "head", "canvas", "object", "embed", "audio", "video", "math",
}
BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "aside", "blockquote", "li",
    "dd", "dt", "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "ul", "ol", "dl",
    "figure", "figcaption", "address", "hr", "caption", "center", "details", "summary", "body",
    "html",
}
HEADINGS = {f"h{i}": i for i in range(1, 7)}
_MARKER = re.compile(r"^\s*(?:\d{1,3}[.)]|\(?[a-z]{1,4}\)|[a-z]\.|[\u2013\u2014\u2022-])\s")


def _hidden(el) -> bool:
    if el.has_attr("hidden") or el.get("aria-hidden") == "true":
        return True
    style = (el.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


def _list_marker(n: int, kind: str) -> str:
    if kind in ("a", "A"):
        s, k = "", n
        while k > 0:
            k, r = divmod(k - 1, 26)
            s = chr(ord("a") + r) + s
        label = s
    elif kind in ("i", "I"):
        label = _roman(n)
    else:
        label = str(n)
    return (label.upper() if kind in ("A", "I") else label) + "."


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.buf: list[str] = []

    def flush(self) -> None:
        raw = "".join(self.buf)
        self.buf = []
        lines = [re.sub(r"\s+", " ", ln).strip() for ln in raw.split("\n")]
        lines = [ln for ln in lines if ln]
        if lines:
            self.blocks.append("\n".join(lines))

    def walk(self, el) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import Comment, Declaration, Doctype, ProcessingInstruction

        for child in el.children:
            if isinstance(child, (Comment, Declaration, Doctype, ProcessingInstruction)):
                continue
            if isinstance(child, NavigableString):
                self.buf.append(str(child).replace("\n", " "))
                continue
            if not isinstance(child, Tag):
                continue
            name = (child.name or "").lower()
            if name in DROP or _hidden(child):
                continue
            if name == "br":
                self.buf.append("\n")
            elif name in HEADINGS:
                # "Article 1<br>Title" stays two lines: the parser reads the second as the title.
                self.flush()
                sub = _Walker()
                sub.walk(child)
                sub.flush()
                lines = "\n".join(sub.blocks).split("\n")
                if lines and lines[0]:
                    self.blocks.append("\n".join(["#" * HEADINGS[name] + " " + lines[0]] + lines[1:]))
            elif name in ("ol", "ul"):
                self.flush()
                self._list(child, ordered=name == "ol")
                self.flush()
            elif name in BLOCK:
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.walk(child)

    def _list(self, lst, ordered: bool) -> None:
        from bs4 import Tag

        kind = (lst.get("type") or "1") if ordered else ""
        try:
            n = int(lst.get("start", 1))
        except ValueError:
            n = 1
        for li in lst.find_all("li", recursive=False):
            if not isinstance(li, Tag) or _hidden(li):
                continue
            if li.get("value", "").strip().isdigit():
                n = int(li["value"])
            self.flush()
            if ordered and not _MARKER.match(li.get_text(" ")):
                self.buf.append(_list_marker(n, li.get("type") or kind) + " ")
            self.walk(li)
            self.flush()
            n += 1
        # Stray children that are not <li> (invalid but common).
        for child in lst.children:
            if isinstance(child, Tag) and child.name != "li" and child.name not in DROP:
                self.flush()
                self.walk(child)
                self.flush()


def _read(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise LoadError(path, f"cannot read file: {exc}") from exc
    if not raw.strip():
        raise LoadError(path, "empty file")
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError(path, "not an HTML file (binary content); check the file extension")
    if raw.startswith(b"%PDF-"):
        raise LoadError(path, "this is a PDF file with an .html name: rename it to .pdf")
    return raw


def html_to_text(raw: bytes) -> tuple[str, dict[str, str]]:
    """Return (text, facts) where facts may hold title, language, symbol, date."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "lxml")
    facts: dict[str, str] = {}
    if soup.title and soup.title.get_text(strip=True):
        facts["title"] = re.sub(r"\s+", " ", soup.title.get_text()).strip()
    html_el = soup.find("html")
    if html_el is not None:
        lang = html_el.get("lang") or html_el.get("xml:lang")
        if lang:
            facts["language"] = str(lang)
    for m in soup.find_all("meta"):
        name = (m.get("name") or m.get("property") or m.get("http-equiv") or "").lower()
        content = (m.get("content") or "").strip()
        if not content:
            continue
        if name in ("og:title", "dc.title", "citation_title") and "title" not in facts:
            facts["title"] = content
        elif name in ("content-language", "dc.language") and "language" not in facts:
            facts["language"] = content
        elif name in ("dc.identifier", "symbol", "citation_technical_report_number") and UN_SYMBOL.match(content):
            facts.setdefault("symbol", content)
        elif name in ("dc.date", "citation_date", "article:published_time") and re.match(r"\d{4}-\d{2}-\d{2}", content):
            facts.setdefault("date", content[:10])
    root = soup.find("main") or soup.body or soup
    if root is not soup.body and soup.body is not None and not root.get_text(strip=True):
        root = soup.body
    walker = _Walker()
    walker.walk(root)
    walker.flush()
    return "\n\n".join(walker.blocks), facts


def load(path: Path, meta: DocumentMeta) -> Document:
    path = Path(path)
    raw = _read(path)
    try:
        text, facts = html_to_text(raw)
    except LoadError:
        raise
    except Exception as exc:  # parser failure on a broken file
        raise LoadError(path, "cannot parse the HTML file (malformed or too deeply nested); save the page again",
                        detail=f"{type(exc).__name__}: {exc}") from exc
    if not text.strip():
        raise LoadError(path, "empty document: the HTML page has no visible text")
    meta = improve_meta(meta, path, title=facts.get("title"), symbol=facts.get("symbol"),
                        language=facts.get("language"), date=facts.get("date"))
    return Document(meta=meta, text=text + "\n")
