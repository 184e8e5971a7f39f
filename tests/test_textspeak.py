"""Chat shorthand spelled out before a question is read (rag/textspeak.py).

Why: "ppl", "bc" and "dms" are not terms the texts lack; reading them as such refused everyday
questions. Legal abbreviations and bracketed point letters must survive untouched.
"""
from __future__ import annotations

import pytest

from rag.textspeak import spell_out


@pytest.mark.parametrize("typed, read", [
    ("can they lock me up bc i cant pay", "can they lock me up because i cant pay"),
    ("ppl sharing pics of kids", "people sharing pictures of kids"),
    ("my 12 yo gets DMs from a stranger", "my 12 year old gets direct messages from a stranger"),
    ("Ppl say u can", "people say you can"),
    ("he won't bring him back and I can't", "he will not bring him back and I cannot"),
    ("Doesn't it apply?", "Does not it apply?"),
    ("a 15yo and a 14 y/o", "a 15 year old and a 14 year old"),
    ("can u meet w/ them irl?", "can you meet with them in real life?"),
    ("is the govt allowed to read my msgs", "is the government allowed to read my messages"),
])
def test_shorthand_is_spelled_out(typed, read):
    assert spell_out(typed) == read


@pytest.mark.parametrize("text", [
    "What does art 5 para 2 say?",
    "Article 2(u) of UNCAC",
    "U.S. law and the U.N.",
    "Does Article 16 cover preservation?",
    "What does Article 2 u say?", "point u of Article 3", "IRL, PWD and SB 1047", "U Thant",
    "write to info@un.org", 'the word "info"',
])
def test_legal_abbreviations_and_ordinary_text_are_left_alone(text):
    assert spell_out(text) == text
