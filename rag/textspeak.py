"""Chat shorthand spelled out before a question is read: "ppl" -> "people", "bc" -> "because",
"won't" -> "will not".

People type questions the way they type messages. The texts never use these forms, so a question
with "dms" or "ppl" was read as asking about a term the texts do not know, and refused. The table
is general text-message and internet shorthand (the forms dictionaries of SMS abbreviations list).
A form is replaced only as a whole word typed in lower or mixed case: in capitals it is an acronym
("IRL", "PWD", "SB 1047", "U Thant"). Forms that are also ordinary words or legal abbreviations
("art", "para", "pm", "re", "cos", "diff") are not in the table, and nothing is replaced inside an
address, a quotation mark or brackets, or where a point is named ("point u", "Article 2 u").
"""
from __future__ import annotations

import re

SHORTHAND: dict[str, str] = {
    "u": "you", "ur": "your", "urs": "yours", "ya": "you", "pls": "please", "plz": "please",
    "ppl": "people", "peeps": "people", "bc": "because", "b/c": "because", "bcoz": "because",
    "bcuz": "because", "cuz": "because", "coz": "because",
    "govt": "government", "gov't": "government", "govts": "governments", "gvt": "government",
    "dm": "direct message", "dms": "direct messages", "dm'd": "messaged", "dmed": "messaged",
    "msg": "message", "msgs": "messages", "txt": "text", "txts": "texts",
    "pic": "picture", "pics": "pictures", "vid": "video", "vids": "videos", "info": "information",
    "irl": "in real life", "w/": "with", "w/o": "without", "b4": "before", "thru": "through",
    "tho": "though", "altho": "although", "wanna": "want to", "gonna": "going to", "gotta": "have to",
    "hafta": "have to", "kinda": "kind of", "sorta": "sort of", "dunno": "do not know",
    "idk": "I do not know", "imo": "in my opinion", "imho": "in my opinion", "btw": "by the way",
    "asap": "as soon as possible", "abt": "about", "smth": "something", "sth": "something",
    "smb": "somebody", "smn": "someone", "sm1": "someone", "any1": "anyone",
    "some1": "someone", "every1": "everyone", "no1": "no one", "bf": "boyfriend", "gf": "girlfriend",
    "bday": "birthday", "yrs": "years", "thx": "thanks",
    "acct": "account", "2day": "today", "2morrow": "tomorrow",
    "tmrw": "tomorrow", "nvm": "never mind", "rly": "really", "srsly": "seriously", "ofc": "of course",
    "obv": "obviously", "convo": "conversation", "gov": "government",
}
# Negative contractions, whose stems ("won" of "won't") would read as words of the subject.
_CONTRACTIONS = [(re.compile(r"\b([Ww])on['\u2019]t\b"), r"\1ill not"), (re.compile(r"\b([Cc])an['\u2019]t\b"), r"\1annot"),
                 (re.compile(r"\b(\w+)n['\u2019]t\b"), r"\1 not")]
# "my 12 yo", "a 15yo", "14 y/o": an age.
_AGE = re.compile(r"\b(\d{1,2})\s*(?:yo|y/o|y\.o\.?|yrs? old)(?![\w/])", re.I)
_WORD = re.compile(r"(?<![\w/'(\[\"\u201c`@#?=&.-])(" +
                   "|".join(sorted(map(re.escape, SHORTHAND), key=len, reverse=True)) +
                   r")(?![\w/')\]\"\u201d`@=-])(?!\.\w)", re.I)
# A letter after a provision's number or a point's name is a point: "Article 2 u", "point u", "lit. u".
_POINT_BEFORE = re.compile(r"(?:\b(?:art(?:icle)?s?|para(?:graph)?s?|sub-?paragraph|point|letter|lit|section|annex|"
                           r"item|no)\.?\s*[\d.()]*|\d[\d.()]*)\s*$", re.I)


def spell_out(question: str) -> str:
    """The question with chat shorthand written out; unchanged when it has none."""
    text = _AGE.sub(lambda m: f"{m.group(1)} year old", question)
    for pattern, full in _CONTRACTIONS:
        text = pattern.sub(full, text)

    def one(m: re.Match) -> str:
        form = m.group(1)
        if form.isupper() or (len(form) == 1 and _POINT_BEFORE.search(text[max(0, m.start() - 24):m.start()])):
            return form
        return SHORTHAND[form.lower()]

    return _WORD.sub(one, text)
