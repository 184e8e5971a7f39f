"""Text -> provision tree: preamble, divisions, articles, paragraphs, points.

Works on the text every loader produces: one block per line, headings on their own line
with or without Markdown hashes ("### Article 14. Title", "Article 14" + title on the next
line, "ARTICLE 14", "CHAPTER IV" + title line). Documents without articles (commentaries,
submissions) are split by headings and paragraphs instead.

Every provision gets a stable hierarchical id (`untoc/art_25/para_2`) and a citation
label (`UNTOC, Art. 25(2)`). Offsets point into Document.text so any answer can show the
exact source text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Document, ParsedDocument, Provision

_HASHES = re.compile(r"^\s*(#{1,6})\s*")
_ARTICLE = re.compile(
    r"^(?:Article|ARTICLE|Art\.)\s+(\d{1,3}(?:\s?(?:bis|ter|quater)|[A-Z])?)\b"
    r"(?:\s*[.:\u2013\u2014-]\s*(?P<title>.*?)|\s*)$"
)
_DIVISION = re.compile(
    r"^(?P<kind>Chapter|CHAPTER|Part|PART|Section|SECTION|Title|TITLE)\s+"
    r"(?P<num>[IVXLC]+|\d{1,2})\b\.?(?:\s*[.:\u2013\u2014-]?\s*(?P<title>.*))?$"
)
_PREAMBLE = re.compile(r"^(?:Preamble|PREAMBLE)\s*$")
_PARA = re.compile(r"^\s*(\d{1,3})\.(?:\s+|$|(?=[A-Z\u201c\"']))")
_L_AS_ONE = re.compile(r"^\s*(l)\.\s+(?=[A-Z])")  # OCR artefact: "l." for "1." (UNCAC art. 66)
_POINT = re.compile(r"^\s*(?:\(?([a-z]{1,2}|[ivxlc]{1,6})\)\s*(?=\S)|([a-z])\.\s*(?=[A-Z]))")
_DASH = re.compile(r"^\s*[\u2013\u2014\u2022-]\s+")
_RUN_ON_PARA = re.compile(r"(?<=[.;:])\s+(\d{1,3})\.\s+(?=[A-Z\u201c\"'])")
_ROMAN = re.compile(r"^(?:x{0,2})(?:ix|iv|v?i{0,3})$")

DIVISION_RANK = {"part": 0, "chapter": 1, "section": 2, "title": 3}


@dataclass
class _Line:
    start: int  # offset of first non-space char of the content
    end: int  # offset after last non-space char
    text: str  # content with hashes stripped
    level: int  # number of leading '#' (0 = none)


def _lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pos = 0
    for raw in text.splitlines(keepends=True):
        body = raw.rstrip("\r\n")
        stripped = body.strip()
        if stripped:
            lead = len(body) - len(body.lstrip())
            level = 0
            m = _HASHES.match(body)
            content_off = lead
            if m:
                level = len(m.group(1))
                content_off = m.end()
            content = body[content_off:].rstrip()
            out.append(_Line(pos + content_off, pos + content_off + len(content), content, level))
        pos += len(raw)
    return out


def _roman_value(s: str) -> int:
    vals = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    total = 0
    for a, b in zip(s, s[1:] + " "):
        v = vals[a]
        total += -v if b != " " and vals.get(b, 0) > v else v
    return total


def _is_titleish(line: _Line) -> bool:
    """A short line that reads like a heading's title rather than body text."""
    t = line.text
    return (
        0 < len(t) <= 250
        and line.level == 0
        and not t.endswith((".", ";", ":", ","))
        and not _PARA.match(t)
        and not _POINT.match(t)
        and not _DASH.match(t)
        and not _ARTICLE.match(t)
        and not _DIVISION.match(t)
    )


class _Builder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.name = doc.meta.cite_name
        self.provs: list[Provision] = []
        self.index: dict[str, Provision] = {}

    def add(self, *, pid: str, kind: str, start: int, parent: Provision | None, **kw) -> Provision:
        base, n = pid, 2
        while pid in self.index:  # duplicated numbering (annexes, typos): keep ids unique
            pid = f"{base}~{n}"
            n += 1
        p = Provision(id=pid, doc_id=self.doc.id, kind=kind, start=start, end=start, text="",
                      parent_id=parent.id if parent else None, **kw)
        if parent:
            parent.children.append(pid)
        self.provs.append(p)
        self.index[pid] = p
        return p

    def extend(self, node: Provision | None, end: int) -> None:
        while node is not None:
            if end > node.end:
                node.end = end
            node = self.index.get(node.parent_id) if node.parent_id else None

    def finish(self) -> ParsedDocument:
        text = self.doc.text
        for p in self.provs:
            p.text = text[p.start:p.end]
        return ParsedDocument(document=self.doc, provisions=self.provs)


def parse_document(doc: Document) -> ParsedDocument:
    lines = _lines(doc.text)
    b = _Builder(doc)
    root = b.add(pid=doc.id, kind="document", start=0, parent=None, label=b.name,
                 title=doc.meta.title)
    has_articles = any(_article_heading(ln) for ln in lines)
    if has_articles:
        _parse_treaty(lines, b, root)
    else:
        _parse_sections(lines, b, root)
    root.end = max((p.end for p in b.provs), default=0)
    parsed = b.finish()
    _link_references(parsed)
    return parsed


def _article_heading(line: _Line) -> re.Match | None:
    if line.level == 1:
        return None
    m = _ARTICLE.match(line.text)
    if not m:
        return None
    if line.level == 0 and len(line.text) > 160:
        return None
    return m


def _division_heading(line: _Line) -> re.Match | None:
    if line.level == 1 or len(line.text) > 200:
        return None
    m = _DIVISION.match(line.text)
    if m and m.group("kind").lower() == "title" and line.level == 0 and not m.group("num").isdigit():
        return None
    return m


def _parse_treaty(lines: list[_Line], b: _Builder, root: Provision) -> None:
    name = b.name
    doc_id = b.doc.id
    divisions: list[tuple[int, Provision]] = []  # open division stack (rank, node)
    article: Provision | None = None
    para: Provision | None = None
    point: Provision | None = None
    sub: Provision | None = None
    other: Provision | None = None  # a non-division heading section (e.g. "Notes", "Annex")
    preamble: Provision | None = None
    dash_count = 0
    consumed: set[int] = set()

    def container() -> Provision:
        return divisions[-1][1] if divisions else root

    def chapter_label() -> str | None:
        for rank, node in reversed(divisions):
            if node.kind in ("chapter", "part"):
                return f"{node.kind.capitalize()} {node.number}" + (f". {node.title}" if node.title else "")
        return None

    def art_label(art: Provision, *parts: str) -> str:
        return f"{name}, Art. {art.number}" + "".join(f"({p})" for p in parts if p)

    for i, line in enumerate(lines):
        if i in consumed:
            continue
        if line.level == 1 and not _ARTICLE.match(line.text):
            continue  # document title
        am = _article_heading(line)
        if am:
            number = am.group(1).replace(" ", "")
            title = (am.group("title") or "").strip() or None
            if title is None and i + 1 < len(lines) and _is_titleish(lines[i + 1]):
                title = lines[i + 1].text.strip()
                consumed.add(i + 1)
            article = b.add(pid=f"{doc_id}/art_{number}", kind="article", start=line.start,
                            parent=container(), number=number, title=title,
                            label=f"{name}, Art. {number}", chapter=chapter_label(),
                            article=number, article_title=title)
            para = point = sub = other = None
            dash_count = 0
            b.extend(article, lines[i + 1].end if (i + 1) in consumed else line.end)
            continue
        if _PREAMBLE.match(line.text) and line.level != 1:
            preamble = preamble or b.add(pid=f"{doc_id}/preamble", kind="preamble", start=line.start,
                                         parent=root, label=f"{name}, Preamble", title="Preamble")
            article = para = point = sub = other = None
            b.extend(preamble, line.end)
            continue
        dm = _division_heading(line)
        if dm:
            kind = dm.group("kind").lower()
            rank = DIVISION_RANK[kind]
            num = dm.group("num")
            title = (dm.group("title") or "").strip() or None
            if title is None and i + 1 < len(lines) and _is_titleish(lines[i + 1]) and len(lines[i + 1].text) <= 120:
                title = lines[i + 1].text.strip()
                consumed.add(i + 1)
            while divisions and divisions[-1][0] >= rank:
                divisions.pop()
            parent = container()
            pid = (parent.id if parent is not root else doc_id) + f"/{kind}_{num}"
            node = b.add(pid=pid, kind=kind, start=line.start, parent=parent, number=num, title=title,
                         label=f"{name}, {kind.capitalize()} {num}")
            divisions.append((rank, node))
            article = para = point = sub = other = None
            b.extend(node, lines[i + 1].end if (i + 1) in consumed else line.end)
            continue
        if line.level >= 2:  # some other heading: Notes, Annex, ...
            slug = re.sub(r"[^a-z0-9]+", "_", line.text.lower()).strip("_")[:40] or "section"
            other = b.add(pid=f"{doc_id}/{slug}", kind="heading", start=line.start, parent=root,
                          title=line.text, label=f"{name}, {line.text}")
            article = para = point = sub = None
            divisions.clear()
            b.extend(other, line.end)
            continue

        if article is None:
            target = other
            if target is None:
                preamble = preamble or b.add(pid=f"{doc_id}/preamble", kind="preamble", start=line.start,
                                             parent=root, label=f"{name}, Preamble", title="Preamble")
                target = preamble
            b.extend(target, line.end)
            continue

        # Inside an article: paragraphs, points, dashes, plain text.
        segments = _split_run_on(line, para)
        for seg_start, seg_end, seg_text in segments:
            pm = _PARA.match(seg_text) or (_L_AS_ONE.match(seg_text) if para is None else None)
            if pm and _plausible_para(int(pm.group(1).replace("l", "1")), para, article, b):
                num = pm.group(1).replace("l", "1")
                para = b.add(pid=f"{article.id}/para_{num}", kind="paragraph", start=seg_start,
                             parent=article, number=num, label=art_label(article, num),
                             chapter=article.chapter, article=article.number,
                             article_title=article.title, paragraph=num)
                point = sub = None
                dash_count = 0
                b.extend(para, seg_end)
                continue
            mm = _POINT.match(seg_text)
            if mm:
                marker = mm.group(1) or mm.group(2)
                if para is None:  # unnumbered article with points: implicit paragraph 1
                    para = b.add(pid=f"{article.id}/para_1", kind="paragraph",
                                 start=_body_start(article, b, seg_start), parent=article, number=None,
                                 label=article.label, chapter=article.chapter, article=article.number,
                                 article_title=article.title, paragraph=None)
                if mm.group(2) and point is not None:  # "a." items inside a point: one level down
                    holder = sub or point
                    node = b.add(pid=f"{holder.id}/item_{marker}", kind="subpoint", start=seg_start,
                                 parent=holder, number=marker,
                                 label=art_label(article, para.number or "", point.number,
                                                 sub.number if sub else "", marker),
                                 chapter=article.chapter, article=article.number,
                                 article_title=article.title, paragraph=para.number, point=point.number)
                    b.extend(node, seg_end)
                    continue
                is_sub = _is_subpoint(marker, point, sub)
                if is_sub and point is not None:
                    sub = b.add(pid=f"{point.id}/sub_{marker}", kind="subpoint", start=seg_start,
                                parent=point, number=marker,
                                label=art_label(article, para.number or "", point.number, marker),
                                chapter=article.chapter, article=article.number,
                                article_title=article.title, paragraph=para.number, point=point.number)
                    b.extend(sub, seg_end)
                else:
                    point = b.add(pid=f"{para.id}/point_{marker}", kind="point", start=seg_start,
                                  parent=para, number=marker,
                                  label=art_label(article, para.number or "", marker),
                                  chapter=article.chapter, article=article.number,
                                  article_title=article.title, paragraph=para.number, point=marker)
                    sub = None
                    b.extend(point, seg_end)
                dash_count = 0
                continue
            if _DASH.match(seg_text):
                dash_count += 1
                parent = point or para or article
                node = b.add(pid=f"{parent.id}/indent_{dash_count}", kind="subpoint" if point else "point",
                             start=seg_start, parent=parent, number=f"indent {dash_count}",
                             label=f"{parent.label}, indent {dash_count}", chapter=article.chapter,
                             article=article.number, article_title=article.title,
                             paragraph=para.number if para else None,
                             point=point.number if point else None)
                b.extend(node, seg_end)
                continue
            # Plain text: closing words of a paragraph, or an article's own body.
            point = sub = None
            b.extend(para or article, seg_end)


def _body_start(article: Provision, b: _Builder, fallback: int) -> int:
    """Start of an article's first body line (the lead-in before its first point)."""
    text = b.doc.text
    heading_end = article.end
    nxt = text.find("\n", heading_end)
    if nxt == -1 or nxt >= fallback:
        return fallback
    m = re.search(r"\S", text[nxt:fallback])
    return nxt + m.start() if m else fallback


def _plausible_para(num: int, para: Provision | None, article: Provision, b: _Builder) -> bool:
    """Numbered paragraphs count up from 1; anything else is text that starts with a number."""
    if para is None or para.number is None:
        return num == 1 or not any(b.index[c].kind == "paragraph" for c in article.children)
    return int(para.number) < num <= int(para.number) + 3


def _split_run_on(line: _Line, para: Provision | None) -> list[tuple[int, int, str]]:
    """Split "1. ... 2. ..." run together on one line, only at sequential numbers."""
    text = line.text
    first = _PARA.match(text)
    if not first:
        return [(line.start, line.end, text)]
    expected = int(first.group(1)) + 1
    cuts = []
    for m in _RUN_ON_PARA.finditer(text):
        if int(m.group(1)) == expected:
            cuts.append(m.start(1))
            expected += 1
    if not cuts:
        return [(line.start, line.end, text)]
    out, prev = [], 0
    for c in cuts + [len(text)]:
        seg = text[prev:c].rstrip()
        out.append((line.start + prev, line.start + prev + len(seg), seg))
        prev = c
    return out


def _is_subpoint(marker: str, point: Provision | None, sub: Provision | None) -> bool:
    """Decide whether "(i)" is the ninth letter or a roman-numbered subpoint."""
    if point is None or not _ROMAN.match(marker) or not marker:
        return False
    prev_letter = point.number or ""
    if len(marker) == 1 and len(prev_letter) == 1 and ord(marker) == ord(prev_letter) + 1:
        if sub is None:
            return False  # (h) then (i): the next letter
    if sub is not None and sub.number and _ROMAN.match(sub.number):
        return _roman_value(marker) == _roman_value(sub.number) + 1 or marker == "i"
    return marker == "i"


def _parse_sections(lines: list[_Line], b: _Builder, root: Provision) -> None:
    """Commentaries and submissions: sections by headings, then paragraphs."""
    name = b.name
    doc_id = b.doc.id
    body = [ln for ln in lines if ln.level != 1]
    headings = [ln for ln in body if ln.level >= 2 or _is_plain_heading(ln)]
    section: Provision | None = None
    n_sec = 0
    n_para = 0
    for line in body:
        if line in headings:
            n_sec += 1
            n_para = 0
            section = b.add(pid=f"{doc_id}/sec_{n_sec}", kind="section", start=line.start, parent=root,
                            number=str(n_sec), title=line.text.strip(), label=f"{name}, §{n_sec}")
            b.extend(section, line.end)
            continue
        if section is None:
            n_sec += 1
            section = b.add(pid=f"{doc_id}/sec_{n_sec}", kind="section", start=line.start, parent=root,
                            number=str(n_sec), title=None, label=f"{name}, §{n_sec}")
        n_para += 1
        only_one = not headings
        label = f"{name}, ¶{n_para}" if only_one else f"{name}, §{section.number} ¶{n_para}"
        p = b.add(pid=f"{section.id}/para_{n_para}", kind="text", start=line.start, parent=section,
                  number=str(n_para), label=label, chapter=section.title, paragraph=str(n_para))
        b.extend(p, line.end)


def _is_plain_heading(line: _Line) -> bool:
    t = line.text.strip()
    return (
        len(t) <= 80
        and len(t.split()) <= 10
        and t[:1].isupper()
        and not t.endswith((".", ";", ":", ",", "?", "!", ")"))
        and not _DASH.match(t)
        and "http" not in t
    )


# --- cross-references -------------------------------------------------------------

_REF_ARTICLES = re.compile(
    r"\b[Aa]rticles?\s+(?P<nums>\d{1,3}(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|\s+(?:through|to)\s+)\d{1,3})*)"
    r"(?:\s*,\s*paragraphs?\s+(?P<paras>\d{1,2}(?:(?:\s*,\s*|\s+and\s+|\s+or\s+)\d{1,2})*))?"
    r"(?P<tail>\s+of\s+(?:the\s+)?(?P<of>[^,.;]{0,60}))?"
)
_REF_PARAS_HERE = re.compile(
    r"\bparagraphs?\s+(?P<paras>\d{1,2}(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|\s+(?:through|to)\s+)\d{1,2})*)"
    r"\s+of\s+this\s+article"
)


def _numbers(spec: str) -> list[str]:
    out: list[str] = []
    for m in re.finditer(r"(\d+)(?:\s+(?:through|to)\s+(\d+))?", spec):
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        out.extend(str(n) for n in range(a, min(b, a + 30) + 1))
    return out


def _own_document(of: str | None) -> bool:
    if not of:
        return True
    of = of.strip().lower()
    return of.startswith(("this ", "the present ", "present ")) or of in {"this convention", "this protocol"}


def _link_references(parsed: ParsedDocument) -> None:
    """Record, on each leaf-ish provision, the provisions it refers to in its own document."""
    idx = parsed.by_id()
    doc_id = parsed.document.id
    for p in parsed.provisions:
        if p.kind not in ("article", "paragraph", "point", "subpoint") or not p.article:
            continue
        if p.kind == "article" and p.children:
            continue  # refs live on the paragraphs
        refs: list[str] = []
        for m in _REF_ARTICLES.finditer(p.text):
            if not _own_document(m.group("of")) and "paragraph" not in (m.group("of") or ""):
                continue
            for n in _numbers(m.group("nums")):
                target = f"{doc_id}/art_{n}"
                if m.group("paras"):
                    for k in _numbers(m.group("paras")):
                        if f"{target}/para_{k}" in idx:
                            refs.append(f"{target}/para_{k}")
                elif target in idx and n != p.article:
                    refs.append(target)
        for m in _REF_PARAS_HERE.finditer(p.text):
            for k in _numbers(m.group("paras")):
                target = f"{doc_id}/art_{p.article}/para_{k}"
                if target in idx and target != p.id and not p.id.startswith(target + "/"):
                    refs.append(target)
        p.refs = list(dict.fromkeys(refs))
