"""A question's key concepts, and whether a sentence carries them.

A verdict is decided by words, not by cosine similarity: "Does Article 14 cover victim
rehabilitation?" has the key concepts *victim* and *rehabilitation*, and a sentence carries
*rehabilitation* when it says "rehabilitation" or a glossary equivalent ("recovery"), compared
as stems so "victims" carries "victim". A word the glossary does not know is also carried by its
ordinary-English equivalents (thesaurus.py: "accused" by "charged"). Function words ("because",
"someone", "up") and words of very many senses ("work", "carry") frame a question and are never
key concepts. Dense similarity may rank evidence elsewhere; it never
decides alone.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .. import thesaurus
from ..glossary import GROUPS
from ..index.lexical import _STOP, _TOKEN, _stemmer, tokenize

# Words that frame a question rather than name its subject (stemmed when used).
_FRAME_WORDS = """
does do did doing done is are was were be been being can could may might will would shall should must has have had
what which who whom whose when where why how whether if than then so not no nor yes also too very much many more most
article articles art arts paragraph paragraphs para subparagraph point provision provisions convention conventions
protocol protocols treaty treaties covenant instrument text texts clause chapter section optional additional first
commentary commentaries
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
""".split() + """
above after afterwards again ago almost along already although always among amongst another anybody
anyone anyhow anyway anywhere around away back because before beforehand behind below beside besides
beyond both come comes came coming either else elsewhere enough ever everybody everyone everywhere
except few get gets got getting go goes going gone went give gives gave given hence here hereby
herein hers herself him himself however indeed instead itself keep kept let lets like likely make
makes made making meanwhile mine myself neither never nevertheless nobody none noone nothing now
nowhere often once otherwise ours ourselves out over overall perhaps please put quite rather seem
seems seemed several since somebody somehow someone somewhere sometime sometimes soon take takes
took taken thereby therefore therein thereupon though thus together toward towards unless until up
use used uses using via well whatever whenever wherever while whoever whole yet yourself yourselves
off ok okay lot lots basically literally sort anymore define defines defined dont doesnt didnt cant
couldnt wouldnt shouldnt wont isnt arent wasnt werent havent hasnt hes shes im ive youre theyre
thats whats theres country countries person persons
people individual individuals entitle entitles entitled sure
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


def key_concepts(topic: str, is_common: callable = lambda stem: False, ordinary: bool = False,
                 compounds: bool = False, is_rare: callable = lambda stem: True) -> list[Concept]:
    """The concepts a topic is about: glossary phrases first, then its other content words.

    `is_common(stem)` marks words too frequent in the texts to decide anything (e.g. a word in
    most provisions); they are dropped unless the glossary knows them. With `ordinary`, a word
    is also carried by its ordinary-English equivalents (thesaurus.py) that are rare in the texts
    (`is_rare(stem)`): an equivalent found in many provisions ("information" for "data",
    "available" for "access") would be carried by chance. That is for judging one named provision
    or document; across the whole corpus ("do the texts mention X anywhere?") it would always find
    one, so it is off by default. A word of very many senses ("work", "carry") is dropped unless
    the topic would keep fewer than two other concepts ("the right to play": "play" stays).
    With `compounds`, a two-word noun of WordNet ("artificial intelligence") is one concept, for
    asking whether the texts use a term at all (a text that says "criminal intelligence" does not
    speak of artificial intelligence)."""
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
    if compounds:
        for i in range(len(stems) - 1):
            pair = (stems[i], stems[i + 1])
            if not used[i] and not used[i + 1] and thesaurus.is_compound(pair) \
                    and not any(s in frame for s in pair):
                used[i] = used[i + 1] = True
                found.append((i, Concept(text[spans[i][0]:spans[i + 1][1]], frozenset({pair}))))
    general: list[tuple[int, Concept]] = []
    for i, s in enumerate(stems):
        if used[i] or s in frame or s.isdigit() or len(s) < 2 or is_common(s):
            continue
        used[i] = True
        alts = {(s,)} | (_equivalents(s, frame, is_common, is_rare) if ordinary else set())
        (general if thesaurus.is_general(s) else found).append((i, Concept(words[i], frozenset(alts))))
    if len(found) < 2:
        found += general
    out: list[Concept] = []
    seen: set[frozenset] = set()
    for _, c in sorted(found, key=lambda x: x[0]):
        if c.alternatives not in seen:
            seen.add(c.alternatives)
            out.append(c)
    return out


def _equivalents(stem: str, frame: frozenset[str], is_common: callable, is_rare: callable) -> set[tuple[str, ...]]:
    """A stem's ordinary-English equivalents (thesaurus.py) that can carry it: no frame or common
    word, and rare in the texts unless it shares the stem's first letters ("sex" -> "sexual")."""
    return {alt for alt in thesaurus.related(stem)
            if not any(w in frame or is_common(w) for w in alt)
            and (any(is_rare(w) for w in alt) or alt[0][:4] == stem[:4])}


def carried(concepts: Iterable[Concept], text: str) -> list[Concept]:
    stems = tokenize(text)
    stem_set = frozenset(stems)
    return [c for c in concepts if c.carried_by(stems, stem_set)]


def display(concepts: Iterable[Concept]) -> str:
    return ", ".join(c.label for c in concepts)
