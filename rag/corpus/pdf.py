"""PDF -> Document for UN-style documents (single column).

Official UN texts arrive as PDFs whose text layer is full of page furniture: the document
symbol at the top of every page, job numbers, "3/41" page numbers and barcodes at the
bottom, words hyphenated across line ends, footnotes in a smaller font with superscript
references in the body. Left in, these end up inside provision texts and citations, so
this loader rebuilds the plain text the structure parser expects:

- furniture is removed when it sits in the top/bottom margin AND either repeats across
  pages (digits ignored) or has the shape of a symbol, job number, page number or barcode;
  the symbol found there fills `meta.symbol`;
- footnotes (smaller than body text, below the last body line) are moved to the end under
  "## Notes" as "[n] text"; superscript reference numbers are dropped from the body;
- lines are joined into blocks (one per paragraph, heading or subparagraph), a line-end
  hyphen is removed unless the document shows the word hyphenated elsewhere or the pieces
  look like a real compound;
- "Article 5" / "Chapter I" lines keep the title line that follows them in the same block.

Two-column layouts are out of scope: lines are read top to bottom across the full width.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rag.model import Document, DocumentMeta

from ._meta import UN_SYMBOL, improve_meta
from .budget import check_time
from .errors import LoadError

# Fractions of the page height where running headers and footers live: UN documents put
# them about half an inch from the edge, with body text starting about an inch in.
HEADER_ZONE = 0.075
FOOTER_ZONE = 0.065
_SUPERSCRIPT_CHARS = set("0123456789*\u2020\u2021\u00a7,")
_FURNITURE_ITEM = (
    r"(?:\d{1,4}\s*/\s*\d{1,4}"  # 3/41
    r"|-\s*\d{1,4}\s*-"  # - 3 -
    r"|\d{1,4}"  # lone page number
    r"|(?:Page|page)\s+\d{1,4}(?:\s+of\s+\d{1,4})?"
    r"|[A-Z]?\.?\d{2}-\d{4,6}(?:\s*\([A-Z]\))?"  # V.24-14054 (E), 24-14054
    r"|\*\d{5,10}\*"  # barcode text
    r"|\d{6}"  # processing dates next to the job number: 280824
    r"|[A-Z]{1,6}(?:\.\d+)?(?:/[A-Za-z0-9.\-]+)+)"  # A/AC.291/L.15
)
_FURNITURE = re.compile(rf"^{_FURNITURE_ITEM}(?:\s+{_FURNITURE_ITEM})*$")
HEADING_LABEL = re.compile(
    r"^(?:(?:Article|ARTICLE)\s+\d{1,3}(?:\s?(?:bis|ter|quater)|[A-Z])?"
    r"|(?:Chapter|CHAPTER|Part|PART|Section|SECTION|Title|TITLE)\s+(?:[IVXLC]+|\d{1,2})"
    r"|Preamble|PREAMBLE|Annex(?:\s+[IVXLC]+)?|ANNEX(?:\s+[IVXLC]+)?)"
    r"(?:\s*[.:\u2013\u2014-]\s*\S.*)?$"
)
_MARKER = re.compile(r"^(?:\d{1,3}\.\s|\(?[a-z]{1,4}\)\s|\([ivxlc]{1,6}\)\s|[a-z]\.\s|[\u2013\u2014\u2022-]\s)")
# Prefixes that English (and UN/CoE style) keeps hyphenated: "non-bank", "co-ordinate".
_HYPHEN_PREFIXES = {
    "non", "co", "cross", "self", "e", "ex", "sub", "trans", "anti", "post", "pre", "multi",
    "semi", "quasi", "cyber", "well", "intra", "extra",
}


@dataclass
class _Line:
    page: int
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    notes: list[tuple[str, str]] = field(default_factory=list)  # footnote lines: (number, text)
    segments: list[tuple[str, float, float]] = field(default_factory=list)  # (text, x0, x1)
    note_number: str = ""  # footnote line starting with a raised number


# --- opening ------------------------------------------------------------------------


def _check_file(path: Path) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(1024)
            fh.seek(max(0, size - 4096))
            tail = fh.read()
    except OSError as exc:
        raise LoadError(path, f"cannot read file: {exc}") from exc
    if size == 0:
        raise LoadError(path, "empty file (0 bytes)")
    if b"%PDF-" not in head:
        raise LoadError(path, "not a PDF file (no %PDF header); check the download or the file extension")
    if b"%%EOF" not in tail:
        raise LoadError(path, "truncated or damaged PDF (no end-of-file marker): download it again")


def _pdf_info(path: Path) -> tuple[str, str, str]:
    """Open with pypdf to refuse encrypted files early; return (password, title, language)."""
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(str(path), strict=False)
        password = ""
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:  # unsupported algorithm or missing crypto backend
                ok = 0
            if not ok:
                raise LoadError(path, "encrypted PDF: remove the password and try again")
        if len(reader.pages) == 0:
            raise LoadError(path, "PDF has no pages")
        title = ""
        try:
            info = reader.metadata
            title = str(info.title or "") if info else ""
        except Exception:
            title = ""
        lang = ""
        try:
            root = reader.trailer["/Root"]
            lang = str(root.get("/Lang", "") or "")
        except Exception:
            lang = ""
        return password, title, lang
    except LoadError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        raise LoadError(path, f"damaged PDF, cannot be read ({exc}): download it again") from exc


# --- characters -> lines ------------------------------------------------------------


def _cluster_lines(chars: list[dict]) -> list[list[dict]]:
    """Group characters into text lines by vertical overlap (superscripts join their line)."""
    lines: list[list[dict]] = []
    bands: list[tuple[float, float, float]] = []  # (top, bottom, size) of each line's largest char
    for ch in sorted(chars, key=lambda c: (c["top"], c["x0"])):
        top, bottom = ch["top"], ch["bottom"]
        placed = False
        for i in range(len(lines) - 1, max(-1, len(lines) - 4), -1):
            btop, bbottom, bsize = bands[i]
            overlap = min(bottom, bbottom) - max(top, btop)
            if overlap >= 0.5 * min(bottom - top, bbottom - btop):
                lines[i].append(ch)
                if ch["size"] > bsize:
                    bands[i] = (top, bottom, ch["size"])
                placed = True
                break
        if not placed:
            lines.append([ch])
            bands.append((top, bottom, ch["size"]))
    return lines


def _make_line(page: int, chars: list[dict], split_gap: float | None = None) -> _Line | None:
    chars = sorted(chars, key=lambda c: c["x0"])
    visible = [c for c in chars if c["text"].strip()]
    if not visible:
        return None
    sizes = Counter(round(c["size"], 1) for c in visible)
    main = sizes.most_common(1)[0][0]
    main_chars = [c for c in visible if abs(c["size"] - main) < 0.6]
    base = max(c["bottom"] for c in main_chars)
    top = min(c["top"] for c in main_chars)

    def raised_small(c: dict) -> bool:
        return c["size"] < 0.8 * main and c["bottom"] < base - 0.15 * main

    note_number = ""
    pieces: list[str] = []
    segments: list[tuple[str, float, float]] = []
    seg_start = None
    seg_x0 = 0.0
    prev_x1 = None
    last_kept_x1 = None
    pending_space = False
    leading = True
    for c in chars:
        t = c["text"]
        if not t.strip():
            pending_space = prev_x1 is not None
            continue
        if raised_small(c) and c["text"] in _SUPERSCRIPT_CHARS:
            if leading:
                note_number += t
            prev_x1 = c["x1"]
            continue  # a footnote reference: not part of the wording
        gap = c["x0"] - prev_x1 if prev_x1 is not None else 0.0
        if split_gap is not None and last_kept_x1 is not None and c["x0"] - last_kept_x1 > split_gap:
            segments.append(("".join(pieces[seg_start:]).strip(), seg_x0, last_kept_x1))
            seg_start = None
            pieces.append("\u0000")
        elif pieces and (pending_space or gap > 0.22 * c["size"]):
            pieces.append(" ")
        if seg_start is None:
            seg_start = len(pieces)
            seg_x0 = c["x0"]
        pieces.append(t)
        leading = False
        prev_x1 = c["x1"]
        last_kept_x1 = c["x1"]
        pending_space = False
    if seg_start is not None:
        segments.append(("".join(pieces[seg_start:]).strip(), seg_x0, last_kept_x1))
    text = "".join(pieces).replace("\u0000", "  ")
    text = re.sub(r"[^\S\n]+", " ", text).strip()
    if not text:
        return None
    bold = sum("bold" in c["fontname"].lower() for c in main_chars) > 0.6 * len(main_chars)
    kept = [c for c in visible if not (raised_small(c) and c["text"] in _SUPERSCRIPT_CHARS)] or visible
    return _Line(page=page, text=text, x0=min(c["x0"] for c in kept), x1=max(c["x1"] for c in kept),
                 top=top, bottom=base, size=main, bold=bold,
                 segments=[(re.sub(r"\s+", " ", s).strip(), a, b) for s, a, b in segments if s.strip()],
                 note_number=note_number)


def _page_lines(chars: list[dict], pno: int, height: float) -> list[_Line]:
    out = []
    for group in _cluster_lines(chars):
        probe = _make_line(pno, group)
        if probe is None:
            continue
        in_margin = probe.bottom < HEADER_ZONE * height or probe.top > (1 - FOOTER_ZONE) * height
        line = _make_line(pno, group, split_gap=2.5 * probe.size) if in_margin else probe
        if line is not None:
            out.append(line)
    return out


def _read_chars(path: Path, password: str) -> tuple[list[list[dict]], list[float], int]:
    """Characters of every page via pdfminer (pdfplumber's engine, without its per-object
    overhead, which made a 40-page document take half a minute).

    Overprinted duplicates (fake bold) are dropped; returns (chars per page, heights, images).
    """
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LTChar, LTContainer, LTImage
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage

    rm = PDFResourceManager(caching=True)
    device = PDFPageAggregator(rm, laparams=None)
    interpreter = PDFPageInterpreter(rm, device)
    pages: list[list[dict]] = []
    heights: list[float] = []
    images = 0
    with path.open("rb") as fh:
        for page in PDFPage.get_pages(fh, password=password, check_extractable=False):
            check_time()
            interpreter.process_page(page)
            layout = device.get_result()
            height = float(layout.height)
            chars: list[dict] = []
            seen: set[tuple] = set()
            stack = list(layout)
            while stack:
                obj = stack.pop()
                if isinstance(obj, LTChar):
                    text = obj.get_text()
                    if not text or not obj.upright:
                        continue
                    key = (text, round(obj.x0), round(obj.y1))
                    if key in seen:
                        continue
                    seen.add(key)
                    chars.append({"text": text, "fontname": obj.fontname or "", "size": float(obj.size),
                                  "x0": float(obj.x0), "x1": float(obj.x1),
                                  "top": height - float(obj.y1), "bottom": height - float(obj.y0)})
                elif isinstance(obj, LTImage):
                    images += 1
                elif isinstance(obj, LTContainer):
                    stack.extend(obj)
            pages.append(chars)
            heights.append(height)
    return pages, heights, images


# --- furniture, footnotes -----------------------------------------------------------


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", " ", text)).strip().lower()


def _strip_furniture(pages: list[list[_Line]], heights: list[float]) -> tuple[list[list[_Line]], str]:
    """Remove running headers and footers; return the pages and the symbol seen in headers."""
    n = len(pages)

    def zone(line: _Line, h: float) -> str | None:
        if line.bottom < HEADER_ZONE * h:
            return "top"
        if line.top > (1 - FOOTER_ZONE) * h:
            return "bottom"
        return None

    seen: Counter[tuple[str, str]] = Counter()
    for lines, h in zip(pages, heights):
        keys = set()
        for line in lines:
            z = zone(line, h)
            if z:
                for seg, _, _ in line.segments or [(line.text, 0, 0)]:
                    keys.add((z, _furniture_key(seg)))
        seen.update(keys)
    need = max(2, math.ceil(0.2 * n))
    symbols: Counter[str] = Counter()
    out: list[list[_Line]] = []
    for lines, h in zip(pages, heights):
        kept = []
        for line in lines:
            z = zone(line, h)
            if not z:
                kept.append(line)
                continue
            remaining = []
            for seg, a, b in line.segments or [(line.text, line.x0, line.x1)]:
                repeated = seen[(z, _furniture_key(seg))] >= need and not HEADING_LABEL.match(seg)
                furniture = repeated or bool(_FURNITURE.match(seg))
                if furniture:
                    if z == "top" and UN_SYMBOL.match(seg):
                        symbols[seg] += 1
                else:
                    remaining.append((seg, a, b))
            if remaining:
                line.text = " ".join(s for s, _, _ in remaining)
                line.x0, line.x1 = remaining[0][1], remaining[-1][2]
                kept.append(line)
        out.append(kept)
    symbol = symbols.most_common(1)[0][0] if symbols else ""
    return out, symbol


def _split_footnotes(lines: list[_Line], body_size: float) -> tuple[list[_Line], list[_Line]]:
    """Footnotes: smaller than body text and below every body-size line of the page."""
    body_bottom = max((ln.bottom for ln in lines if ln.size >= 0.93 * body_size), default=None)
    if body_bottom is None:
        return lines, []
    body, notes = [], []
    for ln in lines:
        if ln.size < 0.93 * body_size and ln.top > body_bottom:  # UN footnotes: 9pt on 10pt
            notes.append(ln)
        else:
            body.append(ln)
    return body, notes


# --- hyphenation --------------------------------------------------------------------

_TOKEN_STRIP = "\"'\u201c\u201d\u2018\u2019`.,;:()[]!?"


def _norm_token(tok: str) -> str:
    return tok.strip(_TOKEN_STRIP).lower()


class Vocabulary:
    """The document's own words, to decide whether a line-end hyphen is part of the word."""

    def __init__(self, lines: list[str]):
        self.words: set[str] = set()
        self.hyphenated: set[str] = set()
        self.prefixes: set[str] = set()
        prev_hyphen = False
        for text in lines:
            tokens = text.split()
            if not tokens:
                continue
            if prev_hyphen:
                tokens = tokens[1:]
            prev_hyphen = bool(re.search(r"[A-Za-z]-$", text))
            if prev_hyphen and tokens:
                tokens = tokens[:-1]
            for tok in tokens:
                w = _norm_token(tok)
                if not w:
                    continue
                if "-" in w.strip("-"):
                    self.hyphenated.add(w)
                    self.prefixes.add(w.split("-")[0])
                    self.words.update(p for p in w.split("-") if p)
                else:
                    self.words.add(w)

    def keep_hyphen(self, head: str, tail: str) -> bool:
        """head ends with '-' at a line end, tail starts the next line in lowercase."""
        h = _norm_token(head).rstrip("-")
        t = _norm_token(re.split(r"[\s]", tail, maxsplit=1)[0])
        t_first = t.split("-")[0]
        if not h or not t:
            return False
        if f"{h}-{t}" in self.hyphenated or f"{h}-{t_first}" in self.hyphenated:
            return True
        if "-" in h:  # "seven-day-a-" + "week": already a compound
            return True
        if h + t_first in self.words or h + t in self.hyphenated:
            return False
        if h in _HYPHEN_PREFIXES or h in self.prefixes:
            return True
        return len(h) >= 2 and len(t_first) >= 2 and h in self.words and t_first in self.words


def join_lines(a: str, b: str, vocab: Vocabulary) -> str:
    """Join two lines of one paragraph, undoing the typesetter's hyphenation."""
    if re.search(r"[A-Za-z]-$", a):
        if re.match(r"[a-z]", b):
            head = a.split()[-1]
            if vocab.keep_hyphen(head, b):
                return a + b
            return a[:-1] + b
        if re.match(r"[A-Z0-9]", b):  # "Trade-" + "Related", "Secretary-" + "General"
            return a + b
    return f"{a} {b}"


# --- lines -> blocks ----------------------------------------------------------------


def _mode(values: list[float], default: float) -> float:
    if not values:
        return default
    return Counter(round(v) for v in values).most_common(1)[0][0]


def _blocks(pages: list[list[_Line]], body_size: float, title: str) -> tuple[list[str], list[str]]:
    """Return (blocks, masthead lines): what precedes the title on page 1 is the UN masthead
    ("General Assembly", "Distr.: Limited", date), kept out of the text."""
    body_lines = [ln for p in pages for ln in p if abs(ln.size - body_size) < 0.6]
    left = _mode([ln.x0 for ln in body_lines], 72.0)
    right = _mode([ln.x1 for ln in body_lines], 520.0)
    center = (left + right) / 2
    justified = sum(abs(ln.x1 - right) < 2.5 for ln in body_lines) > 0.3 * max(len(body_lines), 1)
    diffs = []
    for p in pages:
        for a, b in zip(p, p[1:]):
            if abs(a.size - body_size) < 0.6 and abs(b.size - body_size) < 0.6:
                d = b.bottom - a.bottom
                if 0 < d < 3 * body_size:
                    diffs.append(d)
    leading = sorted(diffs)[len(diffs) // 2] if diffs else 1.2 * body_size

    def centered(ln: _Line) -> bool:
        return ln.x0 > left + 12 and abs((ln.x0 + ln.x1) / 2 - center) < 8

    def short(ln: _Line) -> bool:
        return ln.x1 < right - 2 * body_size

    vocab = Vocabulary([ln.text for p in pages for ln in p])
    blocks: list[dict] = []  # {"kind": "heading"|"body"|"title", "lines": [...]}
    prev: _Line | None = None
    title_norm = re.sub(r"\W+", " ", title).strip().lower()

    flat = [ln for p in pages for ln in p]
    # The document title on page 1, as "# title" (matched against the PDF's own title).
    title_idx: set[int] = set()
    if title_norm:
        first = [i for i, ln in enumerate(flat) if ln.page == 0 and ln.size > 1.1 * body_size]
        for s in range(len(first)):
            acc = ""
            for e in range(s, len(first)):
                if e > s and first[e] != first[e - 1] + 1:
                    break
                acc = (acc + " " + flat[first[e]].text).strip()
                if re.sub(r"\W+", " ", acc).strip().lower() == title_norm:
                    title_idx = set(first[s:e + 1])
                    break
            if title_idx:
                break

    masthead: list[str] = []
    for i, ln in enumerate(flat):
        if title_idx and i < min(title_idx):
            masthead.append(ln.text)
            continue
        same_page = prev is not None and prev.page == ln.page
        gap = (ln.bottom - prev.bottom) if same_page else 0.0
        big_gap = same_page and gap > 1.35 * leading + 0.5 * abs(ln.size - prev.size)
        is_label = bool(HEADING_LABEL.match(ln.text)) and (
            centered(ln) or ln.bold or ln.size > 1.05 * body_size or big_gap or prev is None
        )
        last = blocks[-1] if blocks else None
        if i in title_idx:
            if last and last["kind"] == "title":
                last["lines"].append(ln.text)
            else:
                blocks.append({"kind": "title", "lines": [ln.text]})
        elif is_label:
            blocks.append({"kind": "heading", "lines": [ln.text], "title": []})
        elif (
            last is not None and last["kind"] == "heading" and not big_gap
            and (ln.bold or centered(ln)) and not _MARKER.match(ln.text)
            and (prev is not None and gap <= 1.8 * leading or not same_page)
        ):
            last["title"].append(ln.text)
        else:
            new = (
                last is None
                or last["kind"] != "body"
                or big_gap
                or abs(ln.size - prev.size) > 0.15 * body_size
                or (prev.bold != ln.bold and (centered(ln) or centered(prev)))
                or (_MARKER.match(ln.text) and (short(prev) or re.search(r"[.;:]$", prev.text)))
                or (justified and short(prev) and re.search(r"[.;:!?\u201d\"')]$", prev.text))
            )
            if new:
                blocks.append({"kind": "body", "lines": [ln.text]})
            else:
                last["lines"].append(ln.text)
        prev = ln

    out: list[str] = []
    for blk in blocks:
        if blk["kind"] == "title":
            out.append("# " + " ".join(blk["lines"]))
        elif blk["kind"] == "heading":
            text = blk["lines"][0]
            if blk["title"]:
                text += "\n" + " ".join(blk["title"])
            out.append(text)
        else:
            text = blk["lines"][0]
            for nxt in blk["lines"][1:]:
                text = join_lines(text, nxt, vocab)
            out.append(text)
    return out, masthead


def _notes(note_lines: list[_Line], vocab: Vocabulary) -> list[str]:
    notes: list[list[str]] = []
    numbers: list[str] = []
    for ln in note_lines:
        if ln.note_number or not notes:
            notes.append([ln.text])
            numbers.append(ln.note_number.strip(","))
        else:
            notes[-1].append(ln.text)
    out = []
    for num, lines in zip(numbers, notes):
        text = lines[0]
        for nxt in lines[1:]:
            text = join_lines(text, nxt, vocab)
        out.append(f"[{num}] {text}" if num else text)
    return out


# --- entry point --------------------------------------------------------------------


def _masthead_date(lines: list[str]) -> str:
    from datetime import datetime

    for line in lines:
        m = re.search(r"\b(\d{1,2} [A-Z][a-z]+ \d{4})\b", line)
        if m:
            try:
                return datetime.strptime(m.group(1), "%d %B %Y").date().isoformat()
            except ValueError:
                continue
        m = re.search(r"\b(\d{4}-\d{2}-\d{2})\b", line)
        if m:
            return m.group(1)
    return ""


def pdf_to_text(path: Path) -> tuple[str, dict[str, str]]:
    """Return (text, facts): facts may hold symbol (running header), title, language, date."""
    _check_file(path)
    password, title, lang = _pdf_info(path)
    try:
        page_chars, heights, images = _read_chars(path, password)
        pages = [_page_lines(chars, pno, h) for pno, (chars, h) in enumerate(zip(page_chars, heights))]
    except LoadError:
        raise
    except Exception as exc:  # pdfminer raises many types on damaged files
        if "password" in str(exc).lower() or type(exc).__name__ == "PDFPasswordIncorrect":
            raise LoadError(path, "encrypted PDF: remove the password and try again") from exc
        raise LoadError(path, "damaged PDF, cannot be read: download it again",
                        detail=f"{type(exc).__name__}: {exc}") from exc

    n_chars = sum(len(c) for c in page_chars)
    unmapped = sum(1 for chars in page_chars for c in chars if c["text"].startswith("(cid:"))
    if n_chars and unmapped > 0.2 * n_chars:
        raise LoadError(path, "the PDF's fonts have no character map, so its text cannot be read: "
                              "export it again from the source or OCR it")
    visible = sum(len(ln.text) for p in pages for ln in p)
    if not any(pages) or (images >= len(pages) / 2 and visible < 30 * len(pages)):
        if images:
            raise LoadError(path, "scanned PDF without a text layer: OCR it first")
        raise LoadError(path, "empty document: the PDF contains no text")
    sizes: Counter[float] = Counter()
    for p in pages:
        for ln in p:
            sizes[ln.size] += len(ln.text)
    body_size = sizes.most_common(1)[0][0]

    pages, symbol = _strip_furniture(pages, heights)
    body_pages, note_lines = [], []
    for p in pages:
        b, n = _split_footnotes(p, body_size)
        body_pages.append(b)
        note_lines.extend(n)
    blocks, masthead = _blocks(body_pages, body_size, title)
    if not blocks:
        raise LoadError(path, "empty document: only page headers and footers, no body text")
    vocab = Vocabulary([ln.text for p in body_pages for ln in p])
    notes = _notes(note_lines, vocab)
    text = "\n\n".join(blocks)
    if notes:
        text += "\n\n## Notes\n\n" + "\n\n".join(notes)
    facts = {"symbol": symbol, "title": title, "language": lang, "date": _masthead_date(masthead)}
    return text + "\n", facts


def load(path: Path, meta: DocumentMeta) -> Document:
    path = Path(path)
    text, facts = pdf_to_text(path)
    meta = improve_meta(meta, path, title=facts["title"], symbol=facts["symbol"],
                        language=facts["language"], date=facts["date"])
    return Document(meta=meta, text=text)
