"""Provision tree -> chunks that fit the embedding model.

The unit is the paragraph: a short article is embedded whole, a long paragraph is split
at its points (each group keeps the paragraph's lead-in as context), then at sentences.
The article number and title are part of every embedded text, because questions name
them ("Article 14", "solicitation of children") far more often than the body does.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from ..corpus.budget import check_time
from ..model import Chunk, ParsedDocument, Provision
from ..settings import ChunkSettings
from ..tokens import count_tokens

# Bump whenever chunk boundaries or embedded texts change: an index built by another chunker
# version is rebuilt rather than mixed (its chunk ids and vectors no longer match).
CHUNKER_VERSION = "3"

_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z\u201c\"'(\[]|\d+\.)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:https?://|mailto:)[^)]*\)")
_HEADING_HASHES = re.compile(r"(?m)^\s*#{1,6}\s*")


def clean_text(text: str) -> str:
    """What a reader should see: Markdown link targets and heading hashes removed."""
    text = _MD_LINK.sub(r"\1", text)
    text = _HEADING_HASHES.sub("", text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Typed text (a question) starts its sentences in lower case as often as not; an abbreviation's full
# stop ("art. 5", "para. 2", "e.g. the") ends no sentence.
_TYPED_SENTENCE_END = re.compile(r"(?<!\barts\.)(?<!\bart\.)(?<!\bpara\.)(?<!\bparas\.)(?<!\bno\.)(?<!\bnos\.)"
                                 r"(?<!\be\.g\.)(?<!\bi\.e\.)(?<!\bvs\.)(?<!\bcf\.)(?<=[.;!?])\s+", re.I)


def split_sentences(text: str, typed: bool = False) -> list[str]:
    """A text's sentences; `typed`: a user's text, whose sentences may start in lower case."""
    return [s.strip() for s in (_TYPED_SENTENCE_END if typed else _SENTENCE_END).split(text) if s.strip()]


_ANSWER_SENTENCE = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z\u201c\"'(]|\d+\.\s)|\n+")


def sentence_spans(text: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    """Quotable sentences of text[lo:hi]: (start, end, cleaned text); list items count as one.

    Shared by the extractive answerer and ingestion (which pre-embeds them)."""
    out: list[tuple[int, int, str]] = []
    pos = lo
    for piece in _ANSWER_SENTENCE.split(text[lo:hi]):
        if not piece:
            continue
        start = text.find(piece, pos, hi)
        if start < 0:
            continue
        end = start + len(piece)
        pos = end
        shown = clean_text(piece)
        if len(re.findall(r"[A-Za-z]{2,}", shown)) >= 4:
            out.append((start, end, shown))
    return out


def heading_for(parsed: ParsedDocument, prov: Provision) -> str:
    meta = parsed.document.meta
    if prov.article:
        head = f"{meta.cite_name}, Article {prov.article}"
        if prov.article_title:
            head += f". {prov.article_title}"
        return head
    if prov.kind in ("text", "section") and prov.chapter:
        return f"{meta.cite_name}: {prov.chapter}"
    if prov.kind == "preamble":
        return f"{meta.cite_name}, Preamble"
    return meta.cite_name


class Chunker:
    def __init__(self, settings: ChunkSettings, model_tokens: Callable[[str], int] | None = None,
                 model_limit: int = 256):
        self.settings = settings
        # The embedding model's own tokenizer, when given: tiktoken undercounts some scripts
        # (Russian text is ~2x more wordpieces), and the model silently cuts what exceeds it.
        self.model_tokens = model_tokens
        self.model_limit = model_limit

    def run(self, parsed: ParsedDocument) -> list[Chunk]:
        self.parsed = parsed
        self.idx = parsed.by_id()
        chunks: list[Chunk] = []
        for prov in parsed.provisions:
            check_time()
            parent = self.idx.get(prov.parent_id) if prov.parent_id else None
            if prov.kind == "article":
                chunks += self._article(prov)
            elif prov.kind in ("preamble", "heading") or (prov.kind == "text" and parent is not None):
                chunks += self._leaf(prov, prov.start, prov.end)
        # Ids are stable under edits elsewhere in the document: provision id + ordinal.
        seen: dict[str, int] = {}
        for c in chunks:
            n = seen.get(c.provision_id, 0) + 1
            seen[c.provision_id] = n
            c.id = f"{c.provision_id}#{n}"
        return chunks

    # -- units -----------------------------------------------------------------------
    def _article(self, art: Provision) -> list[Chunk]:
        body = self._body(art)
        head_tokens = count_tokens(heading_for(self.parsed, art))
        if count_tokens(clean_text(art.text)) <= self.settings.short_article_tokens or not art.children:
            if head_tokens + count_tokens(clean_text(body[2])) <= self.settings.max_tokens:
                return [self._make(art, body[0], body[1])]
        out: list[Chunk] = []
        # Text of the article not inside any paragraph (rare: a lead-in before "1.").
        first_child = min((self.idx[c].start for c in art.children), default=art.end)
        if body[0] < first_child and clean_text(self.parsed.document.text[body[0]:first_child]):
            out += self._leaf(art, body[0], first_child)
        for cid in art.children:
            out += self._paragraph(self.idx[cid])
        return out

    def _body(self, art: Provision) -> tuple[int, int, str]:
        """The article without its heading line(s): the heading goes into the context."""
        text = self.parsed.document.text
        nl = text.find("\n", art.start)
        start = art.end if nl == -1 or nl >= art.end else nl + 1
        if art.title and text[start:art.end].lstrip().startswith(art.title):
            nl2 = text.find("\n", start + text[start:].find(art.title))
            start = art.end if nl2 == -1 or nl2 >= art.end else nl2 + 1
        while start < art.end and text[start].isspace():
            start += 1
        return start, art.end, text[start:art.end]

    def _paragraph(self, para: Provision) -> list[Chunk]:
        if self._fits(para, para.text) or not para.children:
            return self._leaf(para, para.start, para.end)
        # Split at points: groups of points, each with the paragraph's lead-in as context.
        first = self.idx[para.children[0]].start
        lead = clean_text(self.parsed.document.text[para.start:first])
        if not _has_words(lead):
            lead = ""
        out: list[Chunk] = []
        if lead and not self._fits(para, lead):
            out += self._leaf(para, para.start, first)
            lead = ""
        group: list[Provision] = []
        prev_end = None
        for cid in para.children:
            child = self.idx[cid]
            gap_start = prev_end if prev_end is not None else child.start
            gap = self.parsed.document.text[gap_start:child.start]
            prev_end = child.end
            if _has_words(clean_text(gap)):  # text between points must not be lost
                if group:
                    out += self._group(para, group, lead)
                    group = []
                out += self._leaf(para, gap_start + len(gap) - len(gap.lstrip()), child.start, context=lead)
            candidate = group + [child]
            span = self.parsed.document.text[candidate[0].start:child.end]
            if group and not self._fits(para, span, context=lead):
                out += self._group(para, group, lead)
                group = [child]
            else:
                group = candidate
        if group:
            out += self._group(para, group, lead)
        # Closing words after the last point belong to the paragraph.
        last_end = self.idx[para.children[-1]].end
        tail = self.parsed.document.text[last_end:para.end]
        if clean_text(tail):
            out += self._leaf(para, last_end + (len(tail) - len(tail.lstrip())), para.end, context=lead)
        return out

    def _group(self, para: Provision, group: list[Provision], lead: str) -> list[Chunk]:
        owner = group[0] if len(group) == 1 else para
        start, end = group[0].start, group[-1].end
        if not self._fits(owner, self.parsed.document.text[start:end], context=lead):
            return self._leaf(owner, start, end, context=lead)
        return [self._make(owner, start, end, context=lead)]

    def _leaf(self, prov: Provision, start: int, end: int, context: str = "") -> list[Chunk]:
        """A span that must be split at sentences (greedily) if it does not fit."""
        text = self.parsed.document.text[start:end]
        if not _has_words(clean_text(text)):
            return []  # a bare "1." before its points, or whitespace
        if self._fits(prov, text, context):
            return [self._make(prov, start, end, context)]
        out: list[Chunk] = []
        pieces = _sentence_spans(text, start)
        cur_start = cur_end = None
        for s, e in pieces:
            if cur_start is None:
                cur_start, cur_end = s, e
                continue
            if self._fits(prov, self.parsed.document.text[cur_start:e], context):
                cur_end = e
            else:
                out += self._hard(prov, cur_start, cur_end, context)
                cur_start, cur_end = s, e
        if cur_start is not None:
            out += self._hard(prov, cur_start, cur_end, context)
        return out

    def _hard(self, prov: Provision, start: int, end: int, context: str) -> list[Chunk]:
        """Last resort for one over-long sentence: cut at word boundaries."""
        text = self.parsed.document.text
        if self._fits(prov, text[start:end], context):
            return [self._make(prov, start, end, context)]
        out, cur = [], start
        while cur < end:
            lo, hi = cur + 1, end
            while lo < hi:  # the longest prefix that fits
                mid = (lo + hi + 1) // 2
                if self._fits(prov, text[cur:mid], context):
                    lo = mid
                else:
                    hi = mid - 1
            cut = lo
            if cut < end:
                # Even pieces, not a full piece and a scrap: aim for the remaining length / parts.
                parts = -(-(end - cur) // max(1, cut - cur))
                cut = min(cut, cur + -(-(end - cur) // parts) + 20)
                space = text.rfind(" ", cur, cut)
                cut = space if space > cur else cut
            out.append(self._make(prov, cur, cut, context))
            cur = cut
            while cur < end and text[cur].isspace():
                cur += 1
        return out

    # -- helpers ---------------------------------------------------------------------
    def _fits(self, prov: Provision, text: str, context: str = "") -> bool:
        embed = self._embed_text(prov, clean_text(text), context)
        if count_tokens(embed) > self.settings.max_tokens:
            return False
        return self.model_tokens is None or self.model_tokens(embed) <= self.model_limit - 2

    def _embed_text(self, prov: Provision, text: str, context: str) -> str:
        head = heading_for(self.parsed, prov)
        if context:
            head += "\n" + context
        return f"{head}\n{text}"

    def _make(self, prov: Provision, start: int, end: int, context: str = "") -> Chunk:
        doc = self.parsed.document
        meta = doc.meta
        text = clean_text(doc.text[start:end])
        embed = self._embed_text(prov, text, context)
        md: dict[str, str | int | float | bool] = {
            "doc_id": doc.id,
            "doc_title": meta.title,
            "short_title": meta.cite_name,
            "doc_type": meta.doc_type.value,
            "language": meta.language,
            "provision_id": prov.id,
            "label": prov.label,
            "kind": prov.kind,
            "article": prov.article or "",
            "article_title": prov.article_title or "",
            "paragraph": prov.paragraph or "",
            "point": prov.point or "",
            "chapter": prov.chapter or "",
            "start": start,
            "end": end,
        }
        return Chunk(id=prov.id, provision_id=prov.id, doc_id=doc.id, label=prov.label,
                     text=text, embed_text=embed, start=start, end=end, metadata=md)


_TRAILING_MARKER = re.compile(r"\s\(?(?:[a-z]|\d{1,3}|[ivx]{1,4})[.)]$")


def _has_words(text: str) -> bool:
    return bool(re.search(r"[^\W\d_]{2,}", text))


def _sentence_spans(text: str, offset: int) -> list[tuple[int, int]]:
    spans, prev = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((offset + prev, offset + m.start()))
        prev = m.end()
    spans.append((offset + prev, offset + len(text.rstrip())))
    # A list marker ("a.", "1.", "(ii)") that ended up at a sentence's end belongs to the next one.
    for i in range(len(spans) - 1):
        s, e = spans[i]
        m = _TRAILING_MARKER.search(text[s - offset:e - offset])
        if m and m.start() > 0:
            spans[i] = (s, s + len(text[s - offset:s - offset + m.start()].rstrip()))
            spans[i + 1] = (s + m.start() + (len(m.group(0)) - len(m.group(0).lstrip())), spans[i + 1][1])
    merged: list[tuple[int, int]] = []
    carry = None  # a bare "1." is glued to the sentence it numbers
    for s, e in spans:
        if e <= s:
            continue
        if carry is not None:
            s, carry = carry, None
        if not _has_words(text[s - offset:e - offset]):
            carry = s
            continue
        merged.append((s, e))
    if carry is not None and merged:
        merged[-1] = (merged[-1][0], offset + len(text.rstrip()))
    return merged
