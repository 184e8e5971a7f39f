"""Lay words -> the treaties' own terms, from the glossary (rag/glossary.py).

A word of the question that the texts use rarely or never ("kids", "hacking", "jail",
"police") adds the members of its glossary group that the texts do use ("child", "illegal
access", "deprivation of liberty", "competent authorities"), so a lay question finds formal
provisions. Words the texts use often add nothing. For the lexical search only, such a word also
adds its ordinary-English synonyms that the texts use (WordNet, `synonyms`: "jail" -> "imprison").
The evaluation measures the effect of both (preset "no-expansion").
"""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from . import thesaurus
from .glossary import GROUPS
from .index.lexical import tokenize

_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def _phrases() -> list[tuple[tuple[str, ...], int, str]]:
    """(stemmed phrase, group, phrase): matched by stems, so "whistleblowers" finds "whistleblower"."""
    return [(tuple(tokenize(p)), gi, p) for gi, group in enumerate(GROUPS) for p in group if tokenize(p)]


def _derived(stems: list[str]) -> set[str]:
    """Derivational forms of the question's words (WordNet, thesaurus.py) that share their first five
    letters: "complain" -> "complaint", "imprison" -> "imprisonment". Not synonyms: those would
    carry every sense of a word into the search."""
    out: set[str] = set()
    for s in stems:
        if len(s) >= 5:
            out.update(r[0] for r in thesaurus.related(s) if len(r) == 1 and r[0][:5] == s[:5] and r[0] != s)
    return out


# A word of more senses ("put" 16, "take" 44) has synonyms for senses the question does not mean.
SYNONYM_SENSES = 6
RARE = 5  # a word in fewer chunks than this is not the texts' usual term for the concept


def synonyms(question: str, stem_frequency: Callable[[str], int]) -> list[str]:
    """Stems of the ordinary-English synonyms (WordNet, thesaurus.py) of the question's lay words
    that the texts do use: "jail" -> "imprison", "salary" -> "remuner". A lay word is one the texts
    use in fewer than RARE chunks; a synonym counts only when the texts use every stem of it. For
    the lexical search only: stems, and no new sense reaches the dense query."""
    out: list[str] = []
    present = set(tokenize(question))
    for s in sorted(present):
        if len(s) < 3 or stem_frequency(s) >= RARE or thesaurus.senses(s) > SYNONYM_SENSES:
            continue
        for r in sorted(thesaurus.related(s)):
            if all(len(w) >= 3 and stem_frequency(w) > 0 for w in r) and not (set(r) & present):
                out.extend(w for w in r if w not in out)
    return out


def expand(question: str, frequency: Callable[[str], int] | None = None) -> str:
    """The treaty terms that the question's lay words stand for (empty if none).

    `frequency(word)`: in how many chunks the texts use a word; without it every glossary
    word counts as lay and every member as a treaty term."""
    q = question.lower()
    stems = tokenize(question)
    present = set(stems)
    derived = _derived(stems) - present
    extra: list[str] = []
    for phrase, gi, surface in _phrases():
        n = len(phrase)
        if n == 1 and phrase[0] in derived:
            pass  # "complain" finds the glossary's "complaint"
        elif phrase[0] not in present or not any(tuple(stems[i:i + n]) == phrase for i in range(len(stems) - n + 1)):
            continue
        words = _WORD.findall(surface.lower())
        if frequency is not None and all(frequency(w) >= RARE for w in words):
            continue  # the texts' own term: nothing to translate
        for member in GROUPS[gi]:
            used = frequency is None or all(frequency(w) > 0 for w in _WORD.findall(member.lower()))
            if member.lower() not in q and used and member not in extra:
                extra.append(member)
    return " ".join(extra)
