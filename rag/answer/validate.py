"""Check a model's answer against the passages it was given.

A model can cite passages it was never shown, cite nothing, or be talked into
repeating text planted in a passage. These pure functions decide what of a reply the
user may see: only sentences that cite a given passage, with `[P3]` keys rewritten
into provision labels such as `[UNTOC, Art. 25(2)]`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

REFUSAL = "The texts do not address this."
FALLBACK_NOTICE = (
    "The model's answer could not be verified against the texts; "
    "showing the extractive answer instead."
)

# --- sentences -----------------------------------------------------------------------

# Words whose trailing period does not end a sentence in legal prose.
_ABBREVIATIONS = {
    "art", "arts", "para", "paras", "no", "nos", "e.g", "i.e", "etc", "cf", "vol",
    "p", "pp", "ch", "chap", "sec", "secs", "mr", "mrs", "ms", "dr", "st", "v", "vs",
    "inc", "ltd", "co", "jr", "sr", "u.s", "u.n", "fig", "al", "approx", "ibid", "op",
    "cit", "subpara", "subparas", "res", "doc", "eds", "ed", "rev", "add", "corr",
}
_BULLET = re.compile(r"[ \t]*(?:[-*•–]|\d{1,3}[.)]|\(?[a-zA-Z]{1,4}\))[ \t]+")
_BULLET_ONLY = re.compile(r"[ \t]*(?:[-*•–]|\d{1,3}[.)]|\(?[a-zA-Z]{1,4}\))[ \t]*")
_END_PUNCT = re.compile(r"[.!?]+[\"'”’)]*")
_CITE_TAIL = re.compile(r"(?:[ \t]*\[[^\[\]\n]{1,120}\])+")
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets into the text that was split
    end: int
    text: str


def _is_abbreviation(line: str, dot: int) -> bool:
    """True when the '.' at `dot` closes an abbreviation or initial, not a sentence."""
    m = _WORD_BEFORE.search(line, 0, dot)
    if not m:
        return False
    word = m.group(1)
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with their spans; citation brackets after a full stop stay with it.

    Lines are split first (bullets and list items are sentences of their own), then each
    line at terminal punctuation followed by a space and a non-lowercase character.
    """
    out: list[Sentence] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        line_start = pos
        pos += len(line)
        body = line.rstrip("\r\n")
        bullet = _BULLET.match(body)
        cursor = bullet.end() if bullet else 0
        seg_start = cursor
        for m in _END_PUNCT.finditer(body, cursor):
            if m.start() < seg_start:
                continue
            if body[m.start()] == "." and m.end() - m.start() == 1 and _is_abbreviation(body, m.start()):
                continue
            end = m.end()
            tail = _CITE_TAIL.match(body, end)
            if tail:
                end = tail.end()
            rest = body[end:]
            stripped = rest.lstrip()
            if stripped and (len(stripped) == len(rest) or stripped[0].islower()):
                continue  # "25.2", "art. 5 of" ... : not a boundary
            _add(out, body, line_start, seg_start, end)
            seg_start = end
        _add(out, body, line_start, seg_start, len(body))
    return out


def _add(out: list[Sentence], body: str, offset: int, start: int, end: int) -> None:
    seg = body[start:end]
    lead = len(seg) - len(seg.lstrip())
    seg = seg.strip()
    if seg and any(ch.isalnum() for ch in seg):
        out.append(Sentence(offset + start + lead, offset + start + lead + len(seg), seg))


# --- citations -----------------------------------------------------------------------

_KEY = r"[Pp]\s*\d{1,3}"
_KEY_LIST = re.compile(rf"^\s*{_KEY}(?:\s*(?:,|;|&|\band\b)\s*{_KEY})*\s*$")
_BRACKET = re.compile(r"\[([^\[\]\n]{1,120})\]")
# A run of adjacent bracket groups, "[P1][P2]" or "[P1], [P2]", rendered as one.
_RUN = re.compile(r"[ \t]*\[[^\[\]\n]{1,120}\](?:[ \t]*,?[ \t]*\[[^\[\]\n]{1,120}\])*")


def _norm_key(raw: str) -> str:
    return "P" + re.sub(r"\D", "", raw)


def bracket_keys(content: str, label_keys: dict[str, str] | None = None) -> list[str] | None:
    """Keys named by one bracket's content, or None if it is not a citation.

    `label_keys` maps lower-cased provision labels to keys, so a model that cites
    "[UNTOC, Art. 24(1)]" instead of "[P1]" is still understood.
    """
    if _KEY_LIST.match(content):
        return [_norm_key(k) for k in re.findall(_KEY, content)]
    if label_keys:
        key = label_keys.get(" ".join(content.split()).lower())
        if key:
            return [key]
    return None


def parse_citations(text: str, label_keys: dict[str, str] | None = None) -> list[str]:
    """All keys cited in `text`, in order of appearance, duplicates kept."""
    keys: list[str] = []
    for m in _BRACKET.finditer(text):
        found = bracket_keys(m.group(1), label_keys)
        if found:
            keys.extend(found)
    return keys


def _group_labels(
    keys: list[str], labels: dict[str, str], shown: list[str]
) -> None:
    for key in keys:
        label = labels.get(key)
        if label and label not in shown:
            shown.append(label)


def render_citations(
    text: str,
    labels: dict[str, str],
    label_keys: dict[str, str] | None = None,
) -> str:
    """Replace citation runs by the labels of valid keys; drop runs with none valid."""

    def render_run(run: str, groups: list[list[str]]) -> str:
        shown: list[str] = []
        for keys in groups:
            _group_labels(keys, labels, shown)
        if not shown:
            return ""
        lead = run[: len(run) - len(run.lstrip(" \t"))]
        return f"{lead or ' '}[{'; '.join(shown)}]"

    def repl(m: re.Match[str]) -> str:
        run = m.group(0)
        parsed = [bracket_keys(g, label_keys) for g in _BRACKET.findall(run)]
        if all(p is not None for p in parsed):
            return render_run(run, [p or [] for p in parsed])

        # Mixed with ordinary brackets ("[sic][P1]"): render group by group.
        def one(g: re.Match[str]) -> str:
            keys = bracket_keys(g.group(1), label_keys)
            return g.group(0) if keys is None else render_run(" ", [keys])

        return _BRACKET.sub(one, run)

    return _RUN.sub(repl, text)


class StreamRenderer:
    """Rewrites citation keys in a token stream, holding back what may be half a run."""

    _HOLD = 120  # longest bracket content worth waiting for

    def __init__(self, labels: dict[str, str], label_keys: dict[str, str] | None = None):
        self._labels = labels
        self._label_keys = label_keys
        self._buf = ""

    def feed(self, delta: str) -> str:
        self._buf += delta
        cut = self._safe_prefix_len(self._buf)
        ready, self._buf = self._buf[:cut], self._buf[cut:]
        return render_citations(ready, self._labels, self._label_keys) if ready else ""

    def flush(self) -> str:
        ready, self._buf = self._buf, ""
        return render_citations(ready, self._labels, self._label_keys) if ready else ""

    def _safe_prefix_len(self, buf: str) -> int:
        cut = len(buf)
        opened = buf.rfind("[")
        if opened != -1 and "]" not in buf[opened:] and "\n" not in buf[opened:]:
            if len(buf) - opened <= self._HOLD:
                cut = opened
        head = buf[:cut]
        stripped = head.rstrip(" \t,")
        if stripped.endswith("]"):
            last = None
            for last in _RUN.finditer(stripped):
                pass
            if last is not None and last.end() == len(stripped):
                cut = last.start()  # a finished run may continue with "[P2]"
        # Spaces before held text go with it, so a dropped run takes its space along.
        return len(buf[:cut].rstrip(" \t"))


# --- validation ----------------------------------------------------------------------

_REFUSAL_RE = re.compile(
    r"\b(?:the\s+)?(?:texts?|passages?|provisions?)\s+(?:provided\s+)?"
    r"(?:do|does)\s*(?:not|n['’]t)\s+address",
    re.IGNORECASE,
)


def is_refusal(sentence: str) -> bool:
    return bool(_REFUSAL_RE.search(sentence))


@dataclass
class CheckedSentence:
    sentence: Sentence
    keys: list[str]  # valid keys cited, first-seen order, no duplicates
    invalid: list[str]
    refusal: bool


@dataclass
class Validation:
    ok: bool
    refused: bool
    sentences: list[CheckedSentence]
    cited: list[str]  # valid keys in order of first citation
    invalid: list[str]
    uncited: list[str]  # sentence texts without a valid citation (refusals excepted)
    reason: str = ""
    notices: list[str] = field(default_factory=list)


def validate_answer(
    text: str,
    valid_keys: set[str] | list[str],
    label_keys: dict[str, str] | None = None,
) -> Validation:
    """Decide whether a reply is usable: cited enough, and only with keys it was given."""
    valid = set(valid_keys)
    checked: list[CheckedSentence] = []
    cited: list[str] = []
    invalid: list[str] = []
    for s in split_sentences(text):
        keys: list[str] = []
        bad: list[str] = []
        for k in parse_citations(s.text, label_keys):
            target = keys if k in valid else bad
            if k not in target:
                target.append(k)
        checked.append(CheckedSentence(s, keys, bad, is_refusal(s.text) and not keys))
        cited.extend(k for k in keys if k not in cited)
        invalid.extend(k for k in bad if k not in invalid)

    claims = [c for c in checked if not c.refusal]
    uncited = [c.sentence.text for c in claims if not c.keys]
    notices: list[str] = []
    if invalid:
        notices.append(
            "Removed citations to passages the model was not given: " + ", ".join(invalid) + "."
        )

    def result(ok: bool, refused: bool = False, reason: str = "") -> Validation:
        return Validation(ok, refused, checked, cited, invalid, uncited, reason, notices)

    if not checked:
        return result(False, reason="the model returned an empty answer")
    if not cited:
        if any(c.refusal for c in checked):
            return result(True, refused=True)
        return result(False, reason="no sentence cites a passage it was given")
    if 2 * len(uncited) > len(claims):
        return result(
            False, reason=f"{len(uncited)} of {len(claims)} sentences cite no passage it was given"
        )
    if uncited:
        notices.append(
            f"Left out {len(uncited)} sentence(s) of the model's answer that cite no passage: "
            + " | ".join(f"“{u}”" for u in uncited)
        )
    return result(True)


def verified_text(
    text: str,
    validation: Validation,
    labels: dict[str, str],
    label_keys: dict[str, str] | None = None,
) -> str:
    """The reply with uncited sentences removed and keys rendered as labels."""
    drop = [c.sentence for c in validation.sentences if not c.keys and not c.refusal]
    kept = text
    for s in sorted(drop, key=lambda s: s.start, reverse=True):
        kept = kept[: s.start] + kept[s.end :]
    rendered = render_citations(kept, labels, label_keys)
    lines = [ln.rstrip() for ln in rendered.splitlines()]
    lines = [ln for ln in lines if not _BULLET_ONLY.fullmatch(ln)]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    out = re.sub(r"(?<=\S)[ \t]{2,}", " ", out)
    return out.strip()


def render_sentence(
    sentence: str, labels: dict[str, str], label_keys: dict[str, str] | None = None
) -> str:
    return " ".join(render_citations(sentence, labels, label_keys).split())


# --- support ---------------------------------------------------------------------------



def echoes(sentence: str, instructions: str, cited: str = "") -> bool:
    """The sentence repeats the model's instructions rather than the passages: most of its
    words (as stems) are the instructions' words, few are the cited passage's."""
    from ..index.lexical import tokenize

    words = [w for w in tokenize(re.sub(r"\[[^\]]*\]", " ", sentence)) if not w.isdigit()]
    if len(words) < 4:
        return False
    told, quoted = set(tokenize(instructions)), set(tokenize(cited))
    in_told = sum(w in told for w in words) / len(words)
    in_quoted = sum(w in quoted for w in words) / len(words)
    return in_told >= 0.7 and in_quoted < 0.5


def check_support(validation: Validation, cited_text: dict[str, str], supported, instructions: str) -> None:
    """Withdraw the citations of sentences that echo the instructions or that the judge finds
    unsupported by the passages they cite; such sentences are then dropped like uncited ones.
    A model's reply passes only sentence by sentence, never because it carries valid keys."""
    dropped_echo, dropped_unsupported = [], []
    for c in validation.sentences:
        if c.refusal or not c.keys:
            continue
        quoted = " ".join(cited_text.get(k, "") for k in c.keys)
        if echoes(c.sentence.text, instructions, quoted):
            dropped_echo.append(c.sentence.text)
            c.keys = []
        elif not supported(re.sub(r"\s*\[[^\[\]]*\]", "", c.sentence.text).strip(), quoted):  # markers aside
            dropped_unsupported.append(c.sentence.text)
            c.keys = []
    claims = [c for c in validation.sentences if not c.refusal]
    kept = [c for c in claims if c.keys]
    validation.cited = list(dict.fromkeys(k for c in kept for k in c.keys))
    validation.uncited = [c.sentence.text for c in claims if not c.keys]
    if dropped_echo:
        validation.notices.append(f"Left out {len(dropped_echo)} sentence(s) that repeat the model's instructions.")
    if dropped_unsupported:
        validation.notices.append(
            f"Left out {len(dropped_unsupported)} sentence(s) that the passages they cite do not support: "
            + " | ".join(f"\u201c{u}\u201d" for u in dropped_unsupported))
    if validation.ok and not validation.refused and (not kept or 2 * len(kept) < len(claims)):
        validation.ok = False
        validation.reason = (f"only {len(kept)} of {len(claims)} sentences are supported by the passages they cite")


_VERDICT_LINE = re.compile(r"^\s*\**verdict\**\s*:\s*\**\s*(yes|partly|no|not[ _]addressed)\b[^\n]*\n?", re.I | re.M)


def take_verdict(text: str) -> tuple[str | None, str]:
    """The model's "Verdict: ..." line (yes / partly / no / not_addressed), and the text without it."""
    m = _VERDICT_LINE.search(text)
    if m is None:
        return None, text
    return m.group(1).lower().replace(" ", "_"), text[: m.start()] + text[m.end():]
