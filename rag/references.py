"""Finding what a question names: documents ("the Budapest Convention's", "UNTOC") and
provisions ("Article 14", "Art. 25(2)", "article 1 d", "articles 5 and 6").

Named provisions are looked up, not searched: retrieval is then deterministic.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from .model import DocumentMeta

# Curated names people use that are not in the documents' own titles.
ALIASES: dict[str, list[str]] = {
    "un-cybercrime-convention": [
        "un convention against cybercrime", "un cybercrime convention", "un cybercrime treaty",
        "united nations convention against cybercrime", "cybercrime convention of the un",
        "un convention on cybercrime", "a/res/79/243", "uncc",
    ],
    "budapest-convention": ["budapest convention", "budapest", "convention on cybercrime", "ets 185",
                            "ets no. 185", "coe cybercrime convention"],
    "budapest-protocol-1": ["first additional protocol", "additional protocol to the convention on cybercrime",
                            "budapest protocol", "racism and xenophobia protocol", "ets 189",
                            "protocol on racist and xenophobic acts", "additional protocol"],
    "budapest-protocol-2": ["second additional protocol", "cets 224"],
    "lanzarote-convention": ["lanzarote convention", "lanzarote", "cets 201"],
    "untoc": ["untoc", "palermo convention", "organized crime convention", "organised crime convention",
              "convention against transnational organized crime"],
    "uncac": ["uncac", "convention against corruption", "corruption convention", "merida convention"],
    "iccpr": ["iccpr", "covenant on civil and political rights", "the covenant", "civil and political rights"],
    "iccpr-op1": ["first optional protocol to the iccpr", "optional protocol to the iccpr", "iccpr-op1",
                  "iccpr optional protocol", "optional protocol to the international covenant"],
    "crc": ["crc", "convention on the rights of the child", "rights of the child", "uncrc"],
    "crc-opsc": ["opsc", "crc-opsc", "optional protocol on the sale of children",
                 "optional protocol to the convention on the rights of the child", "crc optional protocol",
                 "sale of children protocol"],
    "eff-2024-01-ngo-redlines": ["eff", "electronic frontier foundation", "ngo redlines", "redlines"],
    "knowmad-2024-08-commentary": ["knowmad", "knowmad institut", "knowmad institute"],
}

_NUM = r"\d{1,5}(?!\d)"  # whole numbers: "Article 4000" is Article 4000, never 400
_REF = re.compile(
    r"\b(?:articles?|arts?\.?)\s*(?P<art>" + _NUM + r")"
    r"(?P<rest>(?:\s*\(\s*[0-9a-z]{1,4}\s*\))*"  # (2)(a)(ii)
    r"(?:\s*,?\s*(?:paragraph|para\.?|§)\s*\d{1,2})?"  # , paragraph 2
    r"(?:\s*,?\s*(?:sub-?paragraph|point|letter|lit\.?)\s*\(?[a-z]{1,4}\)?)?"  # , subparagraph (a)
    r"(?:[ .]+(?:[a-z]|[ivx]{1,4})\b(?![a-z']))?)",  # "article 1 d", "1.d"
    re.I,
)
_PARA_ONLY = re.compile(r"\b(?:paragraph|para\.?)\s*(?P<para>\d{1,2})(?P<rest>(?:\s*\(\s*[a-z]{1,4}\s*\))?)", re.I)
_LETTER_WORDS = {"a", "i"}  # "article 1 a" vs "article 1 a person": checked in context below


@dataclass
class Reference:
    """A provision named in a question: article, then optional paragraph/point/subpoint."""

    article: str
    paragraph: str | None = None
    point: str | None = None
    subpoint: str | None = None
    doc_id: str | None = None  # the document named next to it, if any
    span: tuple[int, int] = (0, 0)

    def describe(self) -> str:
        s = f"Article {self.article}"
        for part in (self.paragraph, self.point, self.subpoint):
            if part:
                s += f"({part})"
        return s


@dataclass
class DocumentMention:
    doc_id: str
    span: tuple[int, int]


@dataclass
class QuestionRefs:
    references: list[Reference] = field(default_factory=list)
    documents: list[DocumentMention] = field(default_factory=list)
    paragraph_only: str | None = None  # "what does paragraph 2 say?" (article from context)

    @property
    def doc_ids(self) -> list[str]:
        return list(dict.fromkeys(d.doc_id for d in self.documents))


_PROTOCOL_OF = re.compile(r"^(?:the )?(?P<head>(?:\w+ ){0,3}protocol) to (?:the )?(?P<parent>.+)$")


class _AliasTable:
    """Every name of every indexed document, built once per set of documents.

    Names are found by their first word (a dict lookup per word of the question), so finding
    the documents a question names costs the same with 11 documents or 1,000."""

    def __init__(self, metas: dict[str, DocumentMeta]):
        pairs: list[tuple[str, str]] = []
        for doc_id, meta in metas.items():
            names = set(ALIASES.get(doc_id, []))
            for n in (meta.short_title, meta.title, doc_id, meta.symbol):
                if n and len(n) >= 3:
                    names.add(n.lower())
            pairs += [(n, doc_id) for n in sorted(names)]
        # A protocol is named through any short name of its parent as often as through its full
        # title: "optional protocol to the convention on the rights of the child" -> "... to the crc",
        # "additional protocol to the convention on cybercrime" -> "... to the budapest convention".
        short: dict[str, list[str]] = {}
        for n, d in pairs:
            if len(n.split()) <= 3 and n.replace(" ", "").isalpha() and n not in SUBJECT_LIKE \
                    and not n.startswith("the "):
                short.setdefault(d, []).append(n)
        long: dict[str, list[tuple[str, str]]] = {}  # first word -> (title of 3+ words, its document)
        for n, d in pairs:
            if len(n.split()) >= 3:
                long.setdefault(_first_word(n), []).append((n, d))
        for n, doc_id in list(pairs):
            for m in _WORD_START.finditer(n):  # every word start of n: a title may follow "(" or ","
                for title, other in long.get(m.group(0), ()):
                    if other != doc_id and title != n and n.startswith(title, m.start()) and "protocol" in n:
                        pairs += [(n.replace(title, abbr), doc_id) for abbr in short.get(other, [])]
        # ... with its parent in the possessive ("the ICCPR's First Optional Protocol"), after it
        # without "to the" ("first optional protocol iccpr") or before it ("the budapest additional
        # protocol"); and a first protocol as "first" in every form ("the first additional protocol
        # to the budapest convention").
        firsts = {d for n, d in pairs if n.startswith("first ") and "protocol" in n}
        for n, doc_id in list(pairs):
            if doc_id in firsts and re.match(r"(?:optional|additional) protocol\b", n):
                pairs.append((f"first {n}", doc_id))
        for n, doc_id in list(pairs):
            m = _PROTOCOL_OF.match(n)
            if m:
                pairs += [(f"{m.group('parent')}{mark}s {m.group('head')}", doc_id) for mark in ("'", "\u2019")]
                pairs.append((f"{m.group('head')} {m.group('parent')}", doc_id))
                pairs.append((f"{m.group('parent')} {m.group('head')}", doc_id))  # "the budapest additional protocol"
        pairs = list(dict.fromkeys(pairs))
        # Longest first, so "first optional protocol to the iccpr" wins over "iccpr".
        self.pairs: list[tuple[str, str]] = sorted(pairs, key=lambda p: -len(p[0]))
        self.by_first: dict[str, list[tuple[int, str, str]]] = {}  # first word -> (rank, name, doc)
        for rank, (name, doc_id) in enumerate(self.pairs):
            self.by_first.setdefault(_first_word(name), []).append((rank, name, doc_id))

    def matches(self, q: str) -> list[tuple[int, int, int, str]]:
        """(rank, start, end, doc_id) of every name in lower-cased `q`, between word boundaries."""
        out = []
        for m in _WORD_START.finditer(q):
            i = m.start()
            for rank, name, doc_id in self.by_first.get(m.group(0), ()):
                end = i + len(name)
                if q.startswith(name, i) and (end == len(q) or not _ALNUM(q[end])):
                    out.append((rank, i, end, doc_id))
        return out


_WORD_START = re.compile(r"(?<![a-z0-9])(?:[a-z0-9]+|[^a-z0-9\s])")


def _first_word(name: str) -> str:
    m = _WORD_START.match(name)
    return m.group(0) if m else name[:1]


def _ALNUM(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("0" <= ch <= "9")


_TABLES: dict[tuple, _AliasTable] = {}
_TABLES_LOCK = threading.Lock()  # questions run on several threads


def _alias_table(metas: dict[str, DocumentMeta]) -> _AliasTable:
    key = tuple((d, m.short_title, m.title, m.symbol) for d, m in metas.items())
    with _TABLES_LOCK:
        table = _TABLES.get(key)
    if table is None:
        table = _AliasTable(metas)  # built outside the lock; two threads may both build one
        with _TABLES_LOCK:
            while len(_TABLES) >= 4:  # one per index snapshot in use; old snapshots are dropped
                _TABLES.pop(next(iter(_TABLES)))
            _TABLES[key] = table
    return table


# Names that are also ordinary subject matter: "does UNTOC protect the rights of the child?" asks
# about a subject, not about the CRC. Such a phrase names a document only when written as a
# title (capitalised) or when no other document is named.
SUBJECT_LIKE = frozenset({
    "rights of the child", "civil and political rights", "additional protocol", "the covenant",
    "corruption convention", "organized crime convention", "organised crime convention", "redlines",
    "ngo redlines",
})


_OTHER_ORDINAL = re.compile(r"\b(?:second|third|fourth|2nd|3rd|4th)\s+$")


def find_documents(question: str, metas: dict[str, DocumentMeta]) -> list[DocumentMention]:
    q = question.lower()
    taken = [False] * len(q)
    found: list[tuple[DocumentMention, bool]] = []  # (mention, read as a title for sure)
    for rank, start, end, doc_id in sorted(_alias_table(metas).matches(q)):  # longest name first
        another_protocol = bool(_OTHER_ORDINAL.search(q, 0, start)) and "protocol" in q[start:end] \
            and not q[start:end].startswith(("first", "second", "third"))
        if any(taken[start:end]) or another_protocol:
            continue  # "the second additional protocol to ..." is not the (first) additional protocol
        for i in range(start, end):
            taken[i] = True
        name = q[start:end]
        titled = name not in SUBJECT_LIKE or _title_cased(question[start:end])
        found.append((DocumentMention(doc_id, (start, end)), titled))
    named_elsewhere = {d.doc_id for d, titled in found if titled}
    keep = [d for d, titled in found if titled or not (named_elsewhere - {d.doc_id})]
    return sorted(keep, key=lambda d: d.span)


def _title_cased(text: str) -> bool:
    """'Rights of the Child' (a title) rather than 'rights of the child' (a subject)."""
    words = [w for w in re.findall(r"[A-Za-z]+", text) if len(w) > 3]
    return bool(words) and all(w[0].isupper() for w in words)


def find_unindexed(question: str, metas: dict[str, DocumentMeta]) -> list[str]:
    """Documents the product knows by name (ALIASES) that are named but not in the index."""
    q = question.lower()
    missing = []
    for doc_id, names in ALIASES.items():
        if doc_id in metas:
            continue
        if any(re.search(r"(?<![a-z0-9])" + re.escape(n) + r"(?![a-z0-9])", q) for n in names):
            missing.append(doc_id)
    return missing


def _parts(rest: str) -> list[str]:
    parts = re.findall(r"\(\s*([0-9a-z]{1,4})\s*\)", rest, re.I)
    m = re.search(r"(?:paragraph|para\.?|§)\s*(\d{1,2})", rest, re.I)
    if m:
        parts.insert(0, m.group(1))
    m = re.search(r"(?:sub-?paragraph|point|letter|lit\.?)\s*\(?([a-z]{1,4})\)?", rest, re.I)
    if m:
        parts.append(m.group(1))
    m = re.search(r"[ .]+([a-z]|[ivx]{1,4})$", rest.strip() and rest.rstrip(), re.I)
    if m and not re.search(r"\(", rest):
        parts.append(m.group(1))
    return list(dict.fromkeys(p.lower() for p in parts))  # "(a)" and "subparagraph (a)" once


def parse_references(question: str, metas: dict[str, DocumentMeta]) -> QuestionRefs:
    docs = find_documents(question, metas)
    refs: list[Reference] = []
    for m in _REF.finditer(question):
        rest = m.group("rest") or ""
        tail = rest.strip(" .").lower()
        # "article 1 a person ..." : a lone "a"/"i" followed by more words is English, not a point.
        if tail in _LETTER_WORDS and re.match(r"\s+[a-z]{2,}", question[m.end():], re.I):
            rest = ""
        parts = _parts(rest)
        ref = Reference(article=m.group("art"), span=(m.start(), m.end()))
        numeric = [p for p in parts if p.isdigit()]
        letters = [p for p in parts if not p.isdigit()]
        if numeric:
            ref.paragraph = numeric[0]
        if letters:
            ref.point = letters[0]
            if len(letters) > 1:
                ref.subpoint = letters[1]
        ref.doc_id = _nearest_doc(ref.span, docs, question)
        refs.append(ref)
    # "articles 5 and 6": the extra numbers after "and"/","
    for m in re.finditer(r"\barticles\s+(\d{1,3})((?:\s*(?:,|and|or)\s*\d{1,3})+)", question, re.I):
        for n in re.findall(r"\d{1,3}", m.group(2)):
            refs.append(Reference(article=n, span=(m.start(), m.end()),
                                  doc_id=_nearest_doc((m.start(), m.end()), docs, question)))
    # "art. 1 art. 2 art. 1 ..." said twice is looked up once: each lookup costs a search, and a
    # pasted or hostile question may repeat a reference hundreds of times.
    unique: dict[tuple, Reference] = {}
    for r in refs:
        unique.setdefault((r.doc_id, r.article, r.paragraph, r.point, r.subpoint), r)
    refs = list(unique.values())
    para_only = None
    if not refs:
        pm = _PARA_ONLY.search(question)
        if pm:
            para_only = pm.group("para")
    return QuestionRefs(references=refs, documents=docs, paragraph_only=para_only)


def _nearest_doc(span: tuple[int, int], docs: list[DocumentMention], question: str) -> str | None:
    """The document named closest to a reference ("Article 14 of the Lanzarote Convention",
    "the Budapest Convention's article 32"); None when no document is named."""
    if not docs:
        return None
    for d in docs:  # "Article 23 of the Lanzarote Convention"
        if d.span[0] >= span[1] and re.fullmatch(r"\W*(?:of|in|under)?\s*(?:the)?\s*", question[span[1]:d.span[0]]):
            return d.doc_id
    for d in reversed(docs):  # "the Budapest Convention's article 32", "UNTOC art. 5"
        if d.span[1] <= span[0] and re.fullmatch(r"(?:['\u2019]s)?\s*", question[d.span[1]:span[0]]):
            return d.doc_id
    best = min(docs, key=lambda d: min(abs(d.span[0] - span[1]), abs(span[0] - d.span[1])))
    return best.doc_id


def strip_documents(text: str, doc_ids: list[str], metas) -> str:
    """The topic of an earlier question without its document names (for "does X have the same?")."""
    out = text
    for m in sorted(find_documents(text, metas), key=lambda d: -d.span[0]):
        before = re.sub(r"(?:\b(?:the|of|in|under)\s*)+$", "", out[: m.span[0]], flags=re.I)
        after = re.sub(r"^['\u2019]s\b", "", out[m.span[1]:])
        out = before + after
    return re.sub(r"\s+", " ", out).strip()
