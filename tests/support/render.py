"""Render corpus Markdown into the formats users actually bring: UN-style PDF, HTML, DOCX.

The official UN texts cannot be downloaded here, so the loaders are tested on files these
renderers produce from the development corpus, in the layout of UN documents: running
header with the document symbol, footer with job number and "page/total", justified text
with words hyphenated across line ends, footnotes in a smaller font at the page bottom with
superscript markers in the body, "Article N" headings with the title on the next line.

Only markup is interpreted (headings, `*emphasis*`); the wording is drawn exactly as it is
in the source, so a loader's output can be compared with the Markdown provision by provision.
"""
from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .corpus import dev_corpus

def corpus_source(doc_id: str) -> Path:
    """A corpus document's Markdown file; a missing corpus fails the test (never skips it)."""
    import pytest

    path = dev_corpus() / f"{doc_id}.md"
    if not path.is_file():
        pytest.fail(f"development corpus file not found: {path} (set RAG_CORPUS_DIR)", pytrace=False)
    return path


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_DIV = re.compile(r"^(Chapter|Section|Title|Part)\s+([IVXLC]+|\d+)\.?\s*(.*)$")
_ART = re.compile(r"^(Article\s+\d+\w*)\.?\s*(.*)$")
_NUM = re.compile(r"^(\d{1,3}\.)\s+(.*)$")
_SUB = re.compile(r"^(\([a-z]{1,4}\)|[a-z]{1,4}\)|[a-z]\.|[\u2013\u2014-])\s+(.*)$")


# --- Markdown -> elements -----------------------------------------------------------


@dataclass
class Element:
    kind: str  # title | division | article | para
    label: str = ""  # "Article 5", "Chapter I", "Preamble"
    text: str = ""  # heading title or paragraph text
    marker: str = ""  # "1.", "(a)", "a)", "–" for paragraphs
    level: int = 0  # Markdown heading level


@dataclass
class Source:
    meta: dict
    elements: list[Element] = field(default_factory=list)


def read_markdown(md_path: Path) -> Source:
    text = Path(md_path).read_text(encoding="utf-8")
    meta: dict = {}
    m = _FRONT.match(text)
    if m:
        meta = yaml.safe_load(m.group(1)) or {}
        text = text[m.end():]
    src = Source(meta=meta)
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        h = re.match(r"^(#{1,6})\s+(.*)$", line)
        if h:
            level, body = len(h.group(1)), h.group(2).strip()
            if level == 1:
                src.elements.append(Element("title", text=body, level=1))
                continue
            am = _ART.match(body)
            dm = _DIV.match(body)
            if am:
                src.elements.append(Element("article", am.group(1), am.group(2), level=level))
            elif dm:
                src.elements.append(Element("division", f"{dm.group(1)} {dm.group(2)}", dm.group(3), level=level))
            else:
                src.elements.append(Element("division", body, "", level=level))
            continue
        nm = _NUM.match(line)
        sm = _SUB.match(line)
        if nm:
            src.elements.append(Element("para", text=nm.group(2), marker=nm.group(1)))
        elif sm:
            src.elements.append(Element("para", text=sm.group(2), marker=sm.group(1)))
        else:
            src.elements.append(Element("para", text=line))
    return src


def _runs(text: str) -> list[list[tuple[str, str]]]:
    """Split text into words; each word is a list of (text, style) runs; `*x*` is italic."""
    words: list[list[tuple[str, str]]] = []
    italic = False
    for token in text.split():
        runs: list[tuple[str, str]] = []
        for i, piece in enumerate(token.split("*")):
            if i > 0:
                italic = not italic
            if piece:
                runs.append((piece, "i" if italic else "r"))
        if runs:
            words.append(runs)
    return words


# --- UN-style PDF -------------------------------------------------------------------

PAGE_W, PAGE_H = 595.27, 841.89  # A4
LEFT, RIGHT = 72.0, PAGE_W - 72.0
TAB = 28.0
BODY, LEAD, GAP = 10.0, 12.0, 6.0
FN_SIZE, FN_LEAD = 8.0, 9.5
SUP_SIZE, SUP_RISE = 6.0, 3.5
TOP_Y = PAGE_H - 82.0  # first body baseline
BOTTOM_Y = 72.0  # lowest body baseline (footer sits below)
FONTS = {"r": "Times-Roman", "i": "Times-Italic", "b": "Times-Bold", "sup": "Times-Roman"}


def footnote_text(n: int, symbol: str) -> str:
    """Footnotes mimic UN references; tests check none of this leaks into provisions."""
    if n % 2:
        return f"See {symbol}/Add.{n}, para. {n + 2}."
    return (f"Official Records of the General Assembly, Seventy-ninth Session, Supplement No. {n} "
            f"(A/79/{n}), chap. III, sect. B, para. {n * 3}; see also the report of the "
            f"Ad Hoc Committee on its resumed session, document {symbol}/Add.{n}.")


@dataclass
class _Line:
    x: float
    width: float  # available width (for justification)
    words: list[list[tuple[str, str]]]
    justify: bool
    size: float = BODY
    centered: bool = False
    notes: list[int] = field(default_factory=list)  # footnote numbers referenced on this line
    tabbed: bool = False  # first word is a paragraph marker drawn before a tab stop


class _UNLayout:
    """Greedy line breaking with forced hyphenation, page flow with footnotes."""

    def __init__(self, symbol: str, hyphenate_every: int = 2, long_word: int = 12):
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.sw = stringWidth
        self.symbol = symbol
        self.hyphenate_every = hyphenate_every
        self.long_word = long_word
        self.opportunities = 0
        self.pages: list[list[tuple]] = [[]]
        self.notes_on_page: list[list[int]] = [[]]
        self.y = TOP_Y
        self.footnotes: dict[int, list[str]] = {}
        self.hyphenated: list[str] = []  # words split by the renderer, for test diagnostics

    # widths
    def word_width(self, word: list[tuple[str, str]], size: float = BODY) -> float:
        return sum(self.sw(t, FONTS[s], SUP_SIZE if s == "sup" else size) for t, s in word)

    def space(self, size: float = BODY) -> float:
        return self.sw(" ", FONTS["r"], size)

    def wrap(self, words: list[list[tuple[str, str]]], first_x: float, cont_x: float,
             size: float = BODY, hyphenate: bool = True) -> list[_Line]:
        lines: list[_Line] = []
        x0, cur, cur_w = first_x, [], 0.0
        queue = list(words)
        while queue:
            word = queue.pop(0)
            ww = self.word_width(word, size)
            need = ww + (self.space(size) if cur else 0)
            avail = RIGHT - x0
            if cur_w + need <= avail or not cur:
                cur.append(word)
                cur_w += need
                continue
            split = self._split(word, avail - cur_w - self.space(size), size) if hyphenate else None
            if split:
                head, tail = split
                cur.append(head)
                queue.insert(0, tail)
            else:
                queue.insert(0, word)
            lines.append(_Line(x0, RIGHT - x0, cur, justify=True, size=size))
            x0, cur, cur_w = cont_x, [], 0.0
        if cur:
            lines.append(_Line(x0, RIGHT - x0, cur, justify=False, size=size))
        return lines

    def _split(self, word, room: float, size: float):
        """Hyphenate a long word at the line end: sometimes at a new point, or at its own hyphen."""
        if len(word) != 1 or word[0][1] != "r":
            return None
        text = word[0][0]
        m = re.fullmatch(r"([A-Za-z]+(?:-[A-Za-z]+)*)([,.;:)\u201d\"']*)", text)
        if not m:
            return None
        core, punct = m.group(1), m.group(2)
        if "-" in core:  # a real compound: typesetters break after its hyphen
            parts = core.split("-")
            for k in range(len(parts) - 1, 0, -1):
                head = "-".join(parts[:k]) + "-"
                if self.sw(head, FONTS["r"], size) <= room:
                    self.hyphenated.append(core)
                    return [(head, "r")], [("-".join(parts[k:]) + punct, "r")]
            return None
        if len(core) <= self.long_word:
            return None
        self.opportunities += 1
        if self.opportunities % self.hyphenate_every:
            return None
        for k in range(len(core) - 4, 3, -1):
            head = core[:k] + "-"
            if self.sw(head, FONTS["r"], size) <= room:
                self.hyphenated.append(core)
                return [(head, "r")], [(core[k:] + punct, "r")]
        return None

    # page flow
    def _fn_height(self, notes: list[int]) -> float:
        if not notes:
            return 0.0
        n_lines = sum(len(self.footnotes[n]) for n in notes)
        return 10.0 + n_lines * FN_LEAD

    def new_page(self) -> None:
        self.pages.append([])
        self.notes_on_page.append([])
        self.y = TOP_Y

    def place(self, line: _Line, gap_before: float = 0.0, keep_with_next: float = 0.0) -> None:
        notes = self.notes_on_page[-1] + line.notes
        y = self.y - (gap_before if self.pages[-1] else 0.0)
        floor = BOTTOM_Y + self._fn_height(notes) + keep_with_next
        if y < floor and self.pages[-1]:
            self.new_page()
            y = self.y
        self.pages[-1].append(("line", y, line))
        self.notes_on_page[-1].extend(line.notes)
        self.y = y - line.size * 1.2

    def add_footnote(self, n: int) -> None:
        text = footnote_text(n, self.symbol)
        words = _runs(text)
        lines = self.wrap(words, LEFT + 12, LEFT + 12, size=FN_SIZE, hyphenate=False)
        self.footnotes[n] = [" ".join(t for w in ln.words for t, _ in w) for ln in lines]


def _superscript(word: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
    return word + [(str(n), "sup")]


def render_un_pdf(md_path: Path, out: Path, symbol: str = "A/AC.291/L.15",
                  job: str = "V.24-14054 (E)", *, footnote_every: int = 7,
                  hyphenate_every: int = 2, long_word: int = 12) -> dict:
    """Render a corpus Markdown file as a UN-style PDF; returns facts the tests check against.

    Returned: {"pages", "footnotes" (n -> text), "hyphenated" (words broken across lines,
    at a hyphen of their own or at an inserted one)}. `long_word`: only longer words get an
    inserted hyphen, at every `hyphenate_every`-th chance.
    """
    from reportlab.pdfgen.canvas import Canvas

    src = read_markdown(md_path)
    title = str(src.meta.get("title") or Path(md_path).stem)
    lay = _UNLayout(symbol, hyphenate_every=hyphenate_every, long_word=long_word)
    note_no = 0
    para_no = 0

    def heading_lines(label: str, text: str, font: str, size: float, gap: float) -> None:
        lines = [_Line(0, 0, [[(label, "r")]], justify=False, size=size, centered=True)]
        if text:
            for ln in lay.wrap([[(w, "b")] for w in text.split()], LEFT + 36, LEFT + 36, size=size,
                               hyphenate=False):
                ln.centered = True
                lines.append(ln)
        for i, ln in enumerate(lines):
            ln.words = [[(t, "b" if (font == "b" or i > 0) else s) for t, s in w] for w in ln.words]
            lay.place(ln, gap_before=gap if i == 0 else 0.0,
                      keep_with_next=(len(lines) - i) * LEAD + 2 * LEAD)

    first_page_masthead(lay, symbol, title, src.meta)
    for el in src.elements:
        if el.kind == "title":
            continue  # already in the masthead
        if el.kind == "division":
            heading_lines(el.label, el.text, "b", 11.0, 18.0)
            lay.y -= GAP
            continue
        if el.kind == "article":
            heading_lines(el.label, el.text, "r", BODY, 14.0)
            lay.y -= GAP
            continue
        para_no += 1
        words = _runs(el.text)
        notes_here: list[int] = []
        if footnote_every and para_no % footnote_every == 0 and len(words) > 6:
            note_no += 1
            idx = 3 if para_no % 2 else len(words) - 1  # mid-sentence or after the full stop
            words[idx] = _superscript(words[idx], note_no)
            lay.add_footnote(note_no)
            notes_here.append(note_no)
        if el.marker:
            indent = 0.0 if re.fullmatch(r"\d+\.", el.marker) else TAB
            marker_line_x = LEFT + indent
            lines = lay.wrap(words, LEFT + indent + TAB, LEFT + indent)
            lines[0].words.insert(0, [(el.marker, "r")])
            lines[0].x = marker_line_x
            lines[0].width = RIGHT - marker_line_x
            lines[0].tabbed = True
        else:
            lines = lay.wrap(words, LEFT + TAB, LEFT)
        for n in notes_here:
            for ln in lines:
                if any(s == "sup" and t == str(n) for w in ln.words for t, s in w):
                    ln.notes.append(n)
        for i, ln in enumerate(lines):
            lay.place(ln, gap_before=GAP if i == 0 else 0.0)

    total = len(lay.pages)
    canvas = Canvas(str(out), pagesize=(PAGE_W, PAGE_H))
    canvas.setTitle(title)
    canvas.setAuthor("United Nations")
    canvas.setSubject(symbol)
    for pno, items in enumerate(lay.pages, start=1):
        _draw_furniture(canvas, pno, total, symbol, job, title)
        for kind, *rest in items:
            if kind == "line":
                y, line = rest
                _draw_line(canvas, lay, line, y)
            elif kind == "text":
                x, y, font, size, text, align = rest
                canvas.setFont(font, size)
                {"l": canvas.drawString, "r": canvas.drawRightString, "c": canvas.drawCentredString}[align](x, y, text)
        notes = lay.notes_on_page[pno - 1]
        if notes:
            y = BOTTOM_Y - 4 + lay._fn_height(notes)
            canvas.setLineWidth(0.5)
            canvas.line(LEFT, y, LEFT + 72, y)
            y -= 10.0
            for n in notes:
                for i, text in enumerate(lay.footnotes[n]):
                    if i == 0:
                        canvas.setFont("Times-Roman", SUP_SIZE)
                        canvas.drawString(LEFT + 4, y + 3, str(n))
                    canvas.setFont("Times-Roman", FN_SIZE)
                    canvas.drawString(LEFT + 12, y, text)
                    y -= FN_LEAD
        canvas.showPage()
    canvas.save()
    return {"pages": total, "footnotes": {n: " ".join(t) for n, t in lay.footnotes.items()},
            "hyphenated": lay.hyphenated}


def _un_date(value) -> str:
    """UN mastheads print dates as "7 August 2024"."""
    from datetime import date

    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        return "7 August 2024"
    return f"{d.day} {d.strftime('%B')} {d.year}"


def first_page_masthead(lay: _UNLayout, symbol: str, title: str, meta: dict) -> None:
    page = lay.pages[0]
    page.append(("text", LEFT, PAGE_H - 70, "Helvetica-Bold", 16, "General Assembly", "l"))
    y = PAGE_H - 96
    for text in ("Distr.: Limited", _un_date(meta.get("date")), "", "Original: English"):
        if text:
            page.append(("text", RIGHT, y, "Times-Roman", BODY, text, "r"))
        y -= LEAD
    lay.y = y - 12
    for ln in lay.wrap([[(w, "b")] for w in title.split()], LEFT, LEFT, size=14.0, hyphenate=False):
        ln.justify = False
        lay.place(ln)
    lay.y -= 12


def _draw_furniture(canvas, pno: int, total: int, symbol: str, job: str, title: str) -> None:
    canvas.setLineWidth(0.75)
    if pno == 1:
        canvas.setFont("Helvetica", 11)
        canvas.drawString(LEFT, PAGE_H - 44, "United Nations")
        canvas.setFont("Helvetica-Bold", 16)
        canvas.drawRightString(RIGHT, PAGE_H - 44, symbol)
        canvas.line(LEFT, PAGE_H - 50, RIGHT, PAGE_H - 50)
        canvas.setFont("Helvetica-Bold", 8)
        canvas.drawString(LEFT, 34, job)
        canvas.setFont("Courier", 12)
        digits = re.sub(r"\D", "", job)
        canvas.drawRightString(RIGHT, 34, f"*{digits}*")
        return
    canvas.setFont("Helvetica-Bold", 8)
    left_side = pno % 2 == 0  # even pages: symbol left, page number left
    if left_side:
        canvas.drawString(LEFT, PAGE_H - 44, symbol)
    else:
        canvas.drawRightString(RIGHT, PAGE_H - 44, symbol)
    canvas.line(LEFT, PAGE_H - 50, RIGHT, PAGE_H - 50)
    canvas.setFont("Helvetica", 8)
    short_job = job.split(" ")[0]
    if left_side:
        canvas.drawString(LEFT, 34, f"{pno}/{total}")
        canvas.drawRightString(RIGHT, 34, short_job)
    else:
        canvas.drawString(LEFT, 34, short_job)
        canvas.drawRightString(RIGHT, 34, f"{pno}/{total}")


def _draw_line(canvas, lay: _UNLayout, line: _Line, y: float) -> None:
    words = list(line.words)
    x = line.x
    if line.tabbed:  # marker, then the text at the tab stop
        marker = words.pop(0)
        canvas.setFont(FONTS["r"], line.size)
        canvas.drawString(x, y, marker[0][0])
        x += TAB
    natural = sum(lay.word_width(w, line.size) for w in words) + lay.space(line.size) * max(len(words) - 1, 0)
    avail = RIGHT - x
    if line.centered:
        x = (LEFT + RIGHT) / 2 - natural / 2
    tx = canvas.beginText(x, y)
    if line.justify and not line.centered and len(words) > 1:
        tx.setWordSpace((avail - natural) / (len(words) - 1))
    for i, word in enumerate(words):
        if i:
            tx.setFont(FONTS["r"], line.size)
            tx.textOut(" ")
        for text, style in word:
            if style == "sup":
                tx.setFont(FONTS["sup"], SUP_SIZE)
                tx.setRise(SUP_RISE)
                tx.textOut(text)
                tx.setRise(0)
            else:
                tx.setFont(FONTS[style], line.size)
                tx.textOut(text)
    canvas.drawText(tx)


# --- error-case PDFs ----------------------------------------------------------------


def render_encrypted_pdf(out: Path, user_password: str = "secret") -> None:
    """A PDF that cannot be opened without a password."""
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen.canvas import Canvas

    enc = StandardEncryption(user_password, ownerPassword="owner-" + user_password, strength=128)
    c = Canvas(str(out), pagesize=(PAGE_W, PAGE_H), encrypt=enc)
    c.setFont("Times-Roman", 10)
    c.drawString(LEFT, TOP_Y, "Article 1. This text is behind a password.")
    c.showPage()
    c.save()


def render_image_only_pdf(out: Path, pages: int = 2) -> None:
    """A 'scanned' PDF: each page is a picture of text, with no text layer."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    c = Canvas(str(out), pagesize=(PAGE_W, PAGE_H))
    for p in range(pages):
        img = Image.new("L", (600, 800), 255)
        draw = ImageDraw.Draw(img)
        draw.text((40, 40), f"Article {p + 1}", fill=0)
        for i in range(30):
            draw.text((40, 80 + i * 20), "Each State Party shall adopt such measures " * 2, fill=0)
        c.drawImage(ImageReader(img), 0, 0, width=PAGE_W, height=PAGE_H)
        c.showPage()
    c.save()


# --- HTML ---------------------------------------------------------------------------


def _inline_html(text: str) -> str:
    out, italic = [], False
    for i, piece in enumerate(text.split("*")):
        if i:
            out.append("</em>" if italic else "<em>")
            italic = not italic
        out.append(html_lib.escape(piece, quote=False))
    if italic:
        out.append("</em>")
    return "".join(out)


def render_html(md_path: Path, out: Path) -> None:
    """A treaty page as a web site serves it: navigation, scripts, styles around the text."""
    src = read_markdown(md_path)
    meta = src.meta
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html_lib.escape(str(meta.get("language") or "en"))}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{html_lib.escape(str(meta.get('title') or ''))}</title>",
        f'<meta name="description" content="{html_lib.escape(str(meta.get("title") or ""))}">',
        f'<meta name="dc.identifier" content="{html_lib.escape(str(meta.get("symbol") or ""))}">',
        "<style>body { font-family: serif } .nav a { color: red }</style>",
        "<script>var tracker = 'SCRIPT-TEXT-MUST-NOT-APPEAR'; function go(){ return 1 < 2; }</script>",
        "</head>",
        "<body>",
        '<nav class="nav"><ul><li><a href="/">Home</a></li><li><a href="/treaties">NAV-TEXT-MUST-NOT-APPEAR</a></li></ul></nav>',
        "<main><article>",
    ]
    for el in src.elements:
        if el.kind == "title":
            parts.append(f"<h1>{_inline_html(el.text)}</h1>")
        elif el.kind in ("division", "article"):
            level = min(max(el.level, 2), 6)
            head = el.label + (f". {el.text}" if el.text else "")
            parts.append(f"<h{level}>{_inline_html(head)}</h{level}>")
        else:
            text = (f"{el.marker} " if el.marker else "") + el.text
            # Wrap long paragraphs in the source the way HTML editors do.
            parts.append("<p>\n  " + _inline_html(text).replace(". ", ".\n  ", 2) + "\n</p>")
    parts += [
        "</article></main>",
        "<script>document.write('SCRIPT-TEXT-MUST-NOT-APPEAR')</script>",
        "<noscript>NOSCRIPT-TEXT-MUST-NOT-APPEAR</noscript>",
        "</body></html>",
    ]
    Path(out).write_text("\n".join(parts), encoding="utf-8")


# --- DOCX ---------------------------------------------------------------------------


def render_docx(md_path: Path, out: Path, *, auto_numbering: bool = True) -> None:
    """A treaty as a Word file: Heading styles, and numbered paragraphs as real Word lists.

    With auto_numbering the "1." is not in the paragraph text but generated by Word's
    numbering (numbering.xml), as in drafts circulated by delegations; the loader must
    reproduce the visible number.
    """
    import docx
    from docx.oxml.ns import qn
    from docx.oxml import OxmlElement

    src = read_markdown(md_path)
    d = docx.Document()
    cp = d.core_properties
    cp.title = str(src.meta.get("title") or "")
    cp.subject = str(src.meta.get("symbol") or "")
    cp.language = str(src.meta.get("language") or "en")

    numbering = d.part.numbering_part.element
    abstract_id = 90

    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), str(abstract_id))
    lvl = OxmlElement("w:lvl")
    lvl.set(qn("w:ilvl"), "0")
    for tag, val in (("w:start", "1"), ("w:numFmt", "decimal"), ("w:lvlText", "%1.")):
        e = OxmlElement(tag)
        e.set(qn("w:val"), val)
        lvl.append(e)
    abstract.append(lvl)
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)

    next_num_id = [100]

    def new_list(start: int) -> int:
        num_id = next_num_id[0]
        next_num_id[0] += 1
        num = OxmlElement("w:num")
        num.set(qn("w:numId"), str(num_id))
        a = OxmlElement("w:abstractNumId")
        a.set(qn("w:val"), str(abstract_id))
        num.append(a)
        ov = OxmlElement("w:lvlOverride")
        ov.set(qn("w:ilvl"), "0")
        so = OxmlElement("w:startOverride")
        so.set(qn("w:val"), str(start))
        ov.append(so)
        num.append(ov)
        numbering.append(num)
        return num_id

    def add_runs(par, text: str) -> None:
        italic = False
        for i, piece in enumerate(text.split("*")):
            if i:
                italic = not italic
            if piece:
                run = par.add_run(piece)
                run.italic = italic or None

    current: tuple[int, int] | None = None  # (numId, last number) of the open list
    for el in src.elements:
        if el.kind == "title":
            d.add_heading(el.text, level=0)
            continue
        if el.kind in ("division", "article"):
            head = el.label + (f". {el.text}" if el.text else "")
            d.add_heading(head, level=min(max(el.level - 1, 1), 9))
            current = None
            continue
        num = re.fullmatch(r"(\d+)\.", el.marker or "")
        if auto_numbering and num:
            n = int(num.group(1))
            if current is None or n != current[1] + 1:
                current = (new_list(n), n)
            else:
                current = (current[0], n)
            par = d.add_paragraph(style="List Number")
            ppr = par._p.get_or_add_pPr()
            numpr = OxmlElement("w:numPr")
            ilvl = OxmlElement("w:ilvl")
            ilvl.set(qn("w:val"), "0")
            nid = OxmlElement("w:numId")
            nid.set(qn("w:val"), str(current[0]))
            numpr.append(ilvl)
            numpr.append(nid)
            ppr.append(numpr)
            add_runs(par, el.text)
        else:
            par = d.add_paragraph()
            add_runs(par, (f"{el.marker} " if el.marker else "") + el.text)
    d.save(str(out))
