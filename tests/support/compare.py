"""Compare two renderings of one treaty provision by provision (for loader tests).

The Markdown corpus file is the reference: a loader is right when the structure parser
finds the same articles, titles, paragraphs and points in its output, with the same words.
Only whitespace and Markdown emphasis markers (`*inter alia*`) are ignored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from rag.model import Document, ParsedDocument
from rag.structure import parse_document

STRUCTURAL = {"article", "paragraph", "point", "subpoint", "chapter", "section", "title", "part"}


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("*", "")).strip()


def _article_body(text: str, title: str | None) -> str:
    """An article's text without its heading, which each format prints differently."""
    body = re.sub(r"^\s*#*\s*Article\s+\S+?\.?(?=\s|$)", "", text).lstrip()
    if title and norm(body).startswith(norm(title)):
        body = norm(body)[len(norm(title)):]
    return norm(body)


@dataclass(frozen=True)
class Node:
    kind: str
    number: str | None
    title: str | None
    text: str  # normalised; for divisions empty (their span includes everything below)


def table(parsed: ParsedDocument) -> dict[str, Node]:
    out: dict[str, Node] = {}
    for p in parsed.provisions:
        if p.kind not in STRUCTURAL:
            continue
        key = p.id.split("/", 1)[1]
        title = norm(p.title) if p.title else None
        if p.kind == "article":
            text = _article_body(p.text, p.title)
        elif p.kind in ("paragraph", "point", "subpoint"):
            text = norm(p.text)
        else:
            text = ""
        out[key] = Node(p.kind, p.number, title, text)
    return out


def differences(expected: Document, actual: Document, limit: int = 15) -> list[str]:
    """Human-readable differences between the provision trees of two documents."""
    actual = Document(meta=expected.meta, text=actual.text)  # same ids and labels
    a, b = table(parse_document(expected)), table(parse_document(actual))
    out: list[str] = []
    for key in list(a) + [k for k in b if k not in a]:
        if key not in b:
            out.append(f"{key}: missing from the loaded document")
        elif key not in a:
            out.append(f"{key}: not in the source ({b[key].kind} {b[key].text[:80]!r})")
        elif a[key] != b[key]:
            x, y = a[key], b[key]
            if (x.kind, x.number, x.title) != (y.kind, y.number, y.title):
                out.append(f"{key}: heading {x.kind, x.number, x.title} != {y.kind, y.number, y.title}")
            if x.text != y.text:
                i = next((i for i, (c, d) in enumerate(zip(x.text, y.text)) if c != d), min(len(x.text), len(y.text)))
                out.append(f"{key}: text differs at {i}:\n  source: ...{x.text[max(0, i - 50):i + 70]!r}"
                           f"\n  loaded: ...{y.text[max(0, i - 50):i + 70]!r}")
        if len(out) >= limit:
            out.append("...")
            break
    return out


def count(parsed_or_doc: ParsedDocument | Document, kind: str) -> int:
    parsed = parsed_or_doc if isinstance(parsed_or_doc, ParsedDocument) else parse_document(parsed_or_doc)
    return sum(1 for p in parsed.provisions if p.kind == kind)
