"""A question's key concepts, and whether a sentence carries them.

A verdict is decided by words, not by cosine similarity: "Does Article 14 cover victim
rehabilitation?" has the key concepts *victim* and *rehabilitation*, and a sentence carries
*rehabilitation* when it says "rehabilitation" or a glossary equivalent ("recovery"), compared
as stems so "victims" carries "victim". Dense similarity may rank evidence elsewhere; it never
decides alone.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from ..glossary import GROUPS
from ..index.lexical import _STOP, _TOKEN, _stemmer, tokenize

# Words that frame a question rather than name its subject (stemmed when used).
_FRAME_WORDS = """
does do did doing done is are was were be been being can could may might will would shall should must has have had
what which who whom whose when where why how whether if than then so not no nor yes also too very much many more most
article articles art arts paragraph paragraphs para subparagraph point provision provisions convention conventions
protocol protocols treaty treaties covenant instrument text texts clause chapter section optional additional first
cover covers covered covering address addresses addressed addressing include includes included including deal deals
dealt mention mentions mentioned protect protects protected require requires required allow allows allowed permit
permits permitted oblige obliges obliged oblig say says said tell provide provides provided regulate regulates concern
concerns concerned apply applies applied talk talks refer refers contain contains set sets establish establishes
state states party parties signatory signatories government governments anything something everything any
all some about regarding concerning under within into onto upon there their them they it its this that these those me
my our us you your i we he she his her one ones own thing things way ways kind kinds type types matter same similar
similarly likewise equivalent former latter
merely only just actually really specifically explicitly expressly directly simply even still
criminalise criminalising criminalised criminalisation oblige obliges obliged obligation obligations
measure measures necessary legislative appropriate other such each every law laws domestic right rights
against between through across during without with from for to of in on at by as an a the and or but
un
""".split()


@lru_cache(maxsize=1)
def frame_stems() -> frozenset[str]:
    return frozenset(s for w in _FRAME_WORDS for s in tokenize(w))


@dataclass(frozen=True)
class Concept:
    """One thing the question asks about; carried by any of its alternatives (stem sequences)."""

    label: str  # as the asker wrote it, e.g. "rehabilitation"
    alternatives: frozenset[tuple[str, ...]]

    def carried_by(self, stems: list[str], stem_set: frozenset[str] | set[str]) -> bool:
        for alt in self.alternatives:
            if len(alt) == 1:
                if alt[0] in stem_set:
                    return True
            elif alt[0] in stem_set and _contains(stems, alt):
                return True
        return False


@lru_cache(maxsize=1)
def _glossary() -> tuple[list[tuple[tuple[str, ...], int]], dict[int, frozenset[tuple[str, ...]]]]:
    """(stemmed phrase, group) longest first, and group -> all its stemmed phrases."""
    phrases: list[tuple[tuple[str, ...], int]] = []
    groups: dict[int, frozenset[tuple[str, ...]]] = {}
    for gi, group in enumerate(GROUPS):
        stemmed = {tuple(tokenize(p)) for p in group} - {()}
        groups[gi] = frozenset(stemmed)
        phrases += [(s, gi) for s in stemmed]
    phrases.sort(key=lambda p: -len(p[0]))
    return phrases, groups


def _contains(hay: list[str], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(tuple(hay[i:i + n]) == needle for i in range(len(hay) - n + 1))


def key_concepts(topic: str, is_common: callable = lambda stem: False) -> list[Concept]:
    """The concepts a topic is about: glossary phrases first, then its other content words.

    `is_common(stem)` marks words too frequent in the texts to decide anything (e.g. a word in
    most provisions); they are dropped unless the glossary knows them."""
    text = topic.lower().replace("’", "'")
    spans = [(m.start(), m.end()) for m in _TOKEN.finditer(text) if m.group(0) not in _STOP]
    words = [text[a:b] for a, b in spans]
    stems = _stemmer().stemWords(words)
    frame = frame_stems()
    phrases, groups = _glossary()
    used = [False] * len(stems)
    found: list[tuple[int, Concept]] = []
    for phrase, gi in phrases:
        n = len(phrase)
        for i in range(len(stems) - n + 1):
            if tuple(stems[i:i + n]) == phrase and not any(used[i:i + n]):
                if n == 1 and phrase[0] in frame:
                    continue
                for j in range(i, i + n):
                    used[j] = True
                alts = set(groups[gi])
                for other, gj in phrases:  # a phrase in several groups carries all their members
                    if other == phrase and gj != gi:
                        alts |= groups[gj]
                found.append((i, Concept(text[spans[i][0]:spans[i + n - 1][1]], frozenset(alts))))
    for i, s in enumerate(stems):
        if used[i] or s in frame or s.isdigit() or len(s) < 2 or is_common(s):
            continue
        used[i] = True
        found.append((i, Concept(words[i], frozenset({(s,)}))))
    out: list[Concept] = []
    seen: set[frozenset] = set()
    for _, c in sorted(found, key=lambda x: x[0]):
        if c.alternatives not in seen:
            seen.add(c.alternatives)
            out.append(c)
    return out


def carried(concepts: Iterable[Concept], text: str) -> list[Concept]:
    stems = tokenize(text)
    stem_set = frozenset(stems)
    return [c for c in concepts if c.carried_by(stems, stem_set)]


def display(concepts: Iterable[Concept]) -> str:
    return ", ".join(c.label for c in concepts)
