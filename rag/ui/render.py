"""Answer / Citation / Provision -> escaped HTML or Markdown.

Pure functions, so the escaping that keeps a hostile document's content inert can be unit
tested without a browser. Every piece of text that came from a document, a user or a file
name goes through `esc` before it is placed in HTML.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence

from ..model import UPLOAD_PREFIX, Answer, Citation, DocType, DocumentMeta, Provision

SOURCE_TYPES = {
    DocType.treaty.value: "Treaty",
    DocType.submission.value: "Submission",
    DocType.commentary.value: "Commentary",
}

# Characters a client-side template engine could interpret ("${...}", "{{...}}", backticks)
# are turned into entities too, so escaped text stays text whatever renders it.
_EXTRA = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;", "\\": "&#92;"})


def esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True).translate(_EXTRA)


def _type_value(source_type: DocType | str) -> str:
    return source_type.value if isinstance(source_type, DocType) else str(source_type)


def type_badge(source_type: DocType | str, uploaded: bool = False) -> str:
    value = _type_value(source_type)
    name = SOURCE_TYPES.get(value, value.title() or "Document")
    css = value if value in SOURCE_TYPES else "other"
    extra = '<span class="badge badge-uploaded">Uploaded</span>' if uploaded else ""
    return f'<span class="badge badge-{css}">{esc(name)}</span>{extra}'


def is_upload(doc_id: str) -> bool:
    """Uploaded documents live in their own id namespace (see rag.index.ingest.upload_id)."""
    return str(doc_id).startswith(UPLOAD_PREFIX)


# -- highlighting ------------------------------------------------------------------------
def _sentence_pattern(sentence: str) -> re.Pattern[str] | None:
    words = sentence.split()
    if not words:
        return None
    return re.compile(r"\s+".join(re.escape(w) for w in words))


def sentence_spans(text: str, sentences: Iterable[str]) -> list[tuple[int, int]]:
    """Where the supporting sentences occur in the provision text (whitespace-tolerant), merged."""
    spans: list[tuple[int, int]] = []
    for s in sentences:
        pat = _sentence_pattern(s)
        if pat is None:
            continue
        m = pat.search(text)
        if m:
            spans.append((m.start(), m.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def highlight(text: str, sentences: Iterable[str], tag: str = "mark") -> str:
    """Escaped text with each supporting sentence wrapped in <mark>."""
    out, pos = [], 0
    for a, b in sentence_spans(text, sentences):
        out.append(esc(text[pos:a]))
        out.append(f"<{tag}>{esc(text[a:b])}</{tag}>")
        pos = b
    out.append(esc(text[pos:]))
    return "".join(out)


def _paragraphs(escaped: str) -> str:
    """Blank-line separated blocks -> <p>, single newlines -> <br>; input already escaped."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", escaped) if b.strip()]
    return "".join(f"<p>{b.replace(chr(10), '<br>')}</p>" for b in blocks)


# -- answer ------------------------------------------------------------------------------
_MARKER = re.compile(r"\[([^\[\]\n]{1,200})\]")


def _chipify(line: str, keys: Mapping[str, Citation]) -> str:
    """Escape a line of answer text, turning "[<citation label>]" markers into chips."""
    out, pos = [], 0
    for m in _MARKER.finditer(line):
        cit = keys.get(m.group(1)) or keys.get(m.group(1).strip())
        if cit is None:
            continue
        out.append(esc(line[pos:m.start()]))
        num = f'<span class="chip-key">{esc(cit.key)}</span>' if cit.key else ""
        out.append(f'<span class="cite-chip" title="{esc(cit.doc_title)}">{num}{esc(cit.label)}</span>')
        pos = m.end()
    out.append(esc(line[pos:]))
    return "".join(out)


def _citation_keys(answer: Answer) -> dict[str, Citation]:
    keys: dict[str, Citation] = {}
    for c in answer.citations:
        keys.setdefault(c.label, c)
        if c.key:
            keys.setdefault(c.key, c)
    return keys


VERDICT_TEXT = {
    "yes": "Yes", "partly": "Partly", "no": "No", "not_addressed": "Not addressed by the texts",
}


def verdict_badge(answer: Answer) -> str:
    """The conclusion first: a coloured badge naming the verdict and the provision judged."""
    v = answer.verdict
    if v is None:
        return ""
    what = f" — {esc(v.provision)}" if v.provision else ""
    title = esc(v.reason)
    return (f'<div class="verdict verdict-{esc(v.kind)}" title="{title}">'
            f'<span class="verdict-kind">{esc(VERDICT_TEXT.get(v.kind, v.kind))}</span>{what}</div>')


def answer_html(answer: Answer) -> str:
    """The chat bubble for a final answer: text with citation chips, notices, mode."""
    keys = _citation_keys(answer)
    parts: list[str] = []
    badge = verdict_badge(answer)
    if badge:
        parts.append(badge)
    if answer.refused:
        parts.append('<div class="refusal-title">Not answered from the texts</div>')
    items: list[str] = []
    for raw in answer.answer.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith(("- ", "* ")):
            items.append(f"<li>{_chipify(line[2:], keys)}</li>")
            continue
        if items:
            parts.append("<ul>" + "".join(items) + "</ul>")
            items = []
        parts.append(f"<p>{_chipify(line, keys)}</p>")
    if items:
        parts.append("<ul>" + "".join(items) + "</ul>")
    for n in answer.notices:
        parts.append(f'<div class="notice">{esc(n)}</div>')
    meta = [f"mode: {esc(answer.mode)}"]
    if answer.citations:
        meta.append(f"{len(answer.citations)} cited provision{'s' if len(answer.citations) != 1 else ''}")
    if "total" in answer.timings:
        meta.append(f"{answer.timings['total']:.1f} s")
    parts.append(f'<div class="answer-meta">{" · ".join(meta)}</div>')
    cls = "answer refused" if answer.refused else "answer"
    return f'<div class="{cls}">' + "".join(parts) + "</div>"


def streaming_html(text: str) -> str:
    """Partial answer while it streams in: plain escaped text."""
    return f'<div class="answer streaming">{_paragraphs(esc(text))}</div>'


def message_html(text: str, kind: str = "error") -> str:
    """A message from the app itself (e.g. a QuestionError), not an answer."""
    return f'<div class="app-message app-{esc(kind)}">{esc(text)}</div>'


def question_html(text: str) -> str:
    return f'<div class="question">{_paragraphs(esc(text))}</div>'


# -- evidence ----------------------------------------------------------------------------
def citation_card(c: Citation, related: bool = False) -> str:
    """One evidence card: label, document title, type badge, provision text with marks."""
    value = _type_value(c.source_type)
    key = f'<span class="chip-key">{esc(c.key)}</span>' if c.key and not related else ""
    body = _paragraphs(highlight(c.text, [] if related else c.sentences))
    cls = "card related" if related else "card"
    return (
        f'<div class="{cls} card-{esc(value)}" data-provision="{esc(c.provision_id)}">'
        f'<div class="card-head">{key}<span class="card-label">{esc(c.label)}</span>{type_badge(c.source_type, is_upload(c.doc_id))}</div>'
        f'<div class="card-doc">{esc(c.doc_title)}</div>'
        f'<blockquote class="card-text">{body}</blockquote>'
        f'<button class="open-article" data-pid="{esc(c.provision_id)}" type="button">Read the whole article</button>'
        "</div>"
    )


def evidence_html(answer: Answer | None) -> str:
    """The evidence panel beside the chat for the latest answer."""
    if answer is None:
        return ('<div class="evidence-empty">Ask a question: the provisions that support the answer '
                "appear here, with the quoted sentences highlighted.</div>")
    parts: list[str] = []
    for n in answer.notices:
        parts.append(f'<div class="notice">{esc(n)}</div>')
    if answer.refused:
        parts.append('<div class="refusal-note">The indexed texts do not answer this question. '
                     "The closest provisions are listed below as related, not as support.</div>")
    if answer.citations:
        parts.append(f'<h3 class="evidence-h">Cited provisions ({len(answer.citations)})</h3>')
        parts += [citation_card(c) for c in answer.citations]
    if answer.related:
        parts.append(f'<h3 class="evidence-h related-h">Related, not cited ({len(answer.related)})</h3>')
        parts.append('<div class="related-list">' + "".join(citation_card(c, related=True) for c in answer.related)
                     + "</div>")
    if not parts:
        parts.append('<div class="evidence-empty">No provisions were found for this question.</div>')
    return '<div class="evidence">' + "".join(parts) + "</div>"


# -- reading the source ------------------------------------------------------------------
def article_html(article: Provision | None, meta: DocumentMeta | None = None,
                 cited: Provision | None = None) -> str:
    """A whole article; the cited part (if it lies inside) is marked."""
    if article is None:
        return '<div class="reader-empty">Open an article from an evidence card or the table of contents.</div>'
    text = article.text
    if cited is not None and cited.id != article.id and article.start <= cited.start and cited.end <= article.end:
        a, b = cited.start - article.start, cited.end - article.start
        body = esc(text[:a]) + f'<mark class="cited">{esc(text[a:b])}</mark>' + esc(text[b:])
    else:
        body = esc(text)
    doc = meta.title if meta else article.doc_id
    badge = type_badge(meta.doc_type, meta.uploaded) if meta else ""
    chapter = f'<div class="reader-chapter">{esc(article.chapter)}</div>' if article.chapter else ""
    title = f" — {esc(article.title)}" if article.title else ""
    return (
        f'<div class="reader" data-provision="{esc(article.id)}">'
        f'<div class="reader-doc">{esc(doc)} {badge}</div>{chapter}'
        f'<h3 class="reader-title">{esc(article.label)}{title}</h3>'
        f'<div class="reader-text">{_paragraphs(body)}</div></div>'
    )


def toc_html(meta: DocumentMeta | None, units: Sequence[Provision]) -> str:
    """Table of contents: structural headings, and articles as clickable entries."""
    if meta is None:
        return '<div class="reader-empty">Choose a document to see its contents.</div>'
    rows: list[str] = [f'<div class="toc-doc">{esc(meta.title)} {type_badge(meta.doc_type, meta.uploaded)}</div>']
    for p in units:
        if p.kind in ("article", "preamble", "section", "heading"):
            name = p.label.split(", ", 1)[-1] if p.kind == "article" else (p.title or p.label)
            title = f" {esc(p.title)}" if p.title and p.kind == "article" else ""
            rows.append(f'<button class="toc-item" type="button" data-pid="{esc(p.id)}">'
                        f'<span class="toc-num">{esc(name)}</span>{title}</button>')
        else:
            rows.append(f'<div class="toc-head toc-{esc(p.kind)}">{esc(p.title or p.label)}</div>')
    if len(rows) == 1:
        rows.append('<div class="reader-empty">This document has no articles or sections.</div>')
    return '<nav class="toc">' + "".join(rows) + "</nav>"


def doc_choices(documents: Mapping[str, DocumentMeta]) -> list[tuple[str, str]]:
    """(display, doc_id) pairs for dropdowns; Gradio escapes dropdown text itself."""
    items = sorted(documents.values(), key=lambda m: (_type_value(m.doc_type) != "treaty", m.cite_name.lower()))
    return [(f"{m.cite_name} ({SOURCE_TYPES.get(_type_value(m.doc_type), 'Document').lower()}"
             f"{', uploaded' if m.uploaded else ''})", m.id) for m in items]


# -- start screen ------------------------------------------------------------------------
def example_questions(documents: Mapping[str, DocumentMeta], contents: Mapping[str, Sequence[Provision]],
                      limit: int = 6) -> list[str]:
    """Questions about articles that really are in the index: one or two per treaty."""
    specific: list[str] = []
    lay: list[str] = []
    treaties = [m for m in documents.values() if _type_value(m.doc_type) == "treaty"]
    treaties.sort(key=lambda m: m.cite_name.lower())
    for m in treaties:
        arts = [p for p in contents.get(m.id, []) if p.kind == "article" and p.title and p.number]
        if not arts:
            continue
        # Past the opening definitions: substantive articles make more telling examples.
        art = arts[min(len(arts) - 1, max(2, len(arts) // 4))]
        specific.append(f"What does {m.cite_name} Article {art.number} ({art.title}) say?")
        if len(arts) > 4:
            other = arts[len(arts) // 2]
            lay.append(f"What does the {m.cite_name} say about {other.title[0].lower()}{other.title[1:]}?")
    n_specific = max(1, limit - min(len(lay), limit // 2))
    return (specific[:n_specific] + lay)[:limit]


# -- export ------------------------------------------------------------------------------
def markdown_export(answer: Answer) -> str:
    """The answer with every citation's label, document and quoted text, as Markdown."""
    lines = [f"# {answer.question.strip()}", ""]
    if answer.verdict is not None:
        v = answer.verdict
        lines += [f"**Verdict: {VERDICT_TEXT.get(v.kind, v.kind)}**"
                  + (f" ({v.provision})" if v.provision else "") + (f" — {v.reason}" if v.reason else ""), ""]
    if answer.refused:
        lines += ["_Not answered from the texts._", ""]
    lines += [answer.answer.strip(), ""]
    if answer.notices:
        lines += ["> " + n for n in answer.notices] + [""]
    if answer.citations:
        lines += ["## Sources", ""]
        for c in answer.citations:
            key = f"[{c.key}] " if c.key else ""
            lines.append(f"- {key}**{c.label}** — {c.doc_title} ({_type_value(c.source_type)}"
                         f"{', uploaded' if is_upload(c.doc_id) else ''}; `{c.provision_id}`)")
            for t in c.text.strip().splitlines():
                if t.strip():
                    lines.append(f"  > {t.strip()}")
            if c.sentences:
                lines.append("  Supporting: " + " ".join(f"“{s}”" for s in c.sentences))
            lines.append("")
    if answer.related:
        lines += ["## Related, not cited", ""]
        lines += [f"- {c.label} — {c.doc_title} (`{c.provision_id}`)" for c in answer.related]
        lines.append("")
    lines.append(f"_Answer mode: {answer.mode}_")
    return "\n".join(lines).strip() + "\n"


# -- uploads -----------------------------------------------------------------------------
def ingest_results_html(rows: Sequence[Mapping[str, object]]) -> str:
    """Per-file upload results: name, status, document id, details or error."""
    if not rows:
        return ""
    body = []
    for r in rows:
        status = str(r.get("status", ""))
        ok = status in ("ingested", "updated", "unchanged")
        detail = r.get("error") or r.get("detail") or ""
        body.append(
            f'<tr class="{"ok" if ok else "bad"}"><td class="up-name">{esc(r.get("name", ""))}</td>'
            f'<td class="up-status">{esc(status)}</td><td class="up-doc">{esc(r.get("doc_id") or "")}</td>'
            f'<td class="up-detail">{esc(detail)}</td></tr>'
        )
    return ('<table class="upload-results"><thead><tr><th>File</th><th>Result</th><th>Document</th>'
            "<th>Details</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>")
