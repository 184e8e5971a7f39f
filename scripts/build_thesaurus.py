"""Build rag/lexicon/thesaurus.tsv.gz from Princeton WordNet 3.0 (Debian package `wordnet-base`).

Why: a question asks in its own words ("accused", "free of charge", "anonymously") and a treaty
answers in its own ("charged with a criminal offence", "free", "anonymity"). The hand-written
glossary (rag/glossary.py) covers legal vocabulary; this table covers ordinary English, from a
source written long before, and independently of, any question of this project.

What goes in, for each word (a WordNet lemma of one word):
- the other lemmas of its two most frequent senses per part of speech (WordNet orders senses
  by frequency; later senses are where the noise is: "hold" -> "bear", "charge" -> "bill");
- its derivationally related forms in those senses ("accuse" -> "accusation",
  "anonymous" -> "anonymity");
- for an irregular form (WordNet's exception lists: "stolen", "held"), its base and the base's
  relations.
Everything is stored as Snowball stems (the product compares stems), keyed by the word's stem,
with the word's number of senses: a word of very many senses ("work", "carry", "hold") is too
general to be the key concept of a question.
Two-word nouns ("artificial intelligence", "domain name") are listed too, keyed by their two
stems, so that a question's compound is one concept, not two loose words.
Not included: hypernyms and hyponyms (too loose to decide a verdict).

Run: `apt-get install wordnet-base && python scripts/build_thesaurus.py` (`--antonyms-only` writes only
rag/lexicon/antonyms.tsv.gz; `WORDNET_DIR` points at another copy of WordNet's files). WordNet's licence
(below, from the package) permits redistribution with its notice, which the output file
carries in its first lines.
"""
from __future__ import annotations

import gzip
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from rag.index.lexical import tokenize  # noqa: E402  (the product's own stems)

WORDNET = Path(os.environ.get("WORDNET_DIR", "/usr/share/wordnet"))
OUT = ROOT / "rag" / "lexicon" / "thesaurus.tsv.gz"
ANTONYMS = ROOT / "rag" / "lexicon" / "antonyms.tsv.gz"
POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
SENSES = 2


def read_data(pos: str) -> tuple[dict[int, list[str]], dict[int, list[tuple[int, int, str, int]]]]:
    """offset -> lemmas; offset -> derivation pointers (source word no., target offset, target pos, word no.)."""
    lemmas: dict[int, list[str]] = {}
    derivs: dict[int, list[tuple[int, int, str, int]]] = defaultdict(list)
    for line in (WORDNET / f"data.{POS[pos]}").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        f = line.split(" | ")[0].split()
        off, n = int(f[0]), int(f[3], 16)
        words = [f[4 + 2 * i].lower() for i in range(n)]
        lemmas[off] = [w.split("(")[0] for w in words]
        k = 4 + 2 * n
        for j in range(int(f[k])):
            sym, toff, tpos, st = f[k + 1 + 4 * j: k + 5 + 4 * j]
            if sym == "+":
                derivs[off].append((int(st[:2], 16), int(toff), "a" if tpos == "s" else tpos, int(st[2:], 16)))
    return lemmas, derivs


def main() -> None:
    data = {p: read_data(p) for p in POS}
    related: dict[str, set[str]] = defaultdict(set)
    senses: dict[str, int] = defaultdict(int)  # senses over all parts of speech: how general a word is
    compounds: set[str] = set()  # two-word nouns ("artificial intelligence", "domain name")
    for pos in POS:
        lemmas, derivs = data[pos]
        for line in (WORDNET / f"index.{POS[pos]}").read_text(encoding="latin-1").splitlines():
            if line.startswith(" "):
                continue
            f = line.split()
            word = f[0]
            if "_" in word:
                parts = word.split("_")
                if pos == "n" and len(parts) == 2 and all(w.isalpha() for w in parts):
                    compounds.add(word.replace("_", " "))
                continue
            if not word.isalpha():
                continue
            n_syn = int(f[2])
            senses[word] += n_syn
            offsets = [int(o) for o in f[-n_syn:]][:SENSES]
            for off in offsets:
                members = lemmas.get(off, [])
                related[word].update(m for m in members if m != word)
                if word in members:
                    me = members.index(word) + 1
                    for src, toff, tpos, tw in derivs.get(off, []):
                        if src in (0, me) and toff in data[tpos][0]:
                            target = data[tpos][0][toff]
                            if 0 < tw <= len(target):
                                related[word].add(target[tw - 1])
    for pos in POS:  # irregular forms ("stolen" -> "steal", "held" -> "hold") carry their base's relations
        for line in (WORDNET / f"{POS[pos]}.exc").read_text(encoding="latin-1").splitlines():
            form, *bases = line.split()
            if form.isalpha():
                for base in bases:
                    if base in related:
                        related[form] |= related[base] | {base}
    table: dict[str, set[str]] = defaultdict(set)
    general: dict[str, int] = defaultdict(int)
    for word, others in related.items():
        key = tokenize(word)
        if len(key) != 1:
            continue
        general[key[0]] = max(general[key[0]], senses.get(word, 0))
        for other in others:
            stems = tuple(tokenize(other.replace("_", " ").replace("-", " ")))
            if stems and stems != (key[0],):
                table[key[0]].add(" ".join(stems))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    licence = (WORDNET.parent / "doc" / "wordnet-base" / "copyright")
    notice = ["# Derived from WordNet 3.0 (Princeton University), by scripts/build_thesaurus.py.",
              "# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. Permission to use,",
              "# copy, modify and distribute this software and database and its documentation for any purpose",
              "# and without fee or royalty is hereby granted, provided that you agree to comply with the",
              "# copyright notice and statements, including the disclaimer, of the WordNet licence.",
              "# Format: stem <TAB> WordNet senses of the word (all parts of speech) <TAB> related stem sequences,",
              "# '|'-separated (words of a sequence separated by spaces)."]
    if licence.is_file():
        notice.append("# Licence text: see the wordnet-base package's copyright file.")
    for compound in compounds:
        stems = tokenize(compound)
        if len(stems) == 2:
            general.setdefault(" ".join(stems), 0)
    lines = notice + [f"{k}\t{general[k]}\t{'|'.join(sorted(table.get(k, ())))}" for k in sorted(general)]
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"{OUT}: {len(table)} stems, {sum(map(len, table.values()))} relations, {OUT.stat().st_size} bytes")


def antonyms() -> None:
    """Direct antonyms of adjectives in their two most frequent senses ("private" <-> "public",
    "foreign" <-> "domestic"), as words, not stems ("lives" is not "live", "records" not "recorded":
    only the adjective's own form is its sense): a question that asks about the private sector of a provision
    that speaks only of public officials asks about what the provision sets apart."""
    lemmas: dict[int, list[str]] = {}
    pointers: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for line in (WORDNET / "data.adj").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        f = line.split(" | ")[0].split()
        off, n = int(f[0]), int(f[3], 16)
        lemmas[off] = [f[4 + 2 * i].lower().split("(")[0] for i in range(n)]
        k = 4 + 2 * n
        for j in range(int(f[k])):
            sym, toff, _, st = f[k + 1 + 4 * j: k + 5 + 4 * j]
            if sym == "!":
                pointers[off].append((int(st[:2], 16), int(toff), int(st[2:], 16)))
    table: dict[str, set[str]] = defaultdict(set)
    for line in (WORDNET / "index.adj").read_text(encoding="latin-1").splitlines():
        if line.startswith(" "):
            continue
        f = line.split()
        word, n_syn = f[0], int(f[2])
        if not word.isalpha():
            continue
        for off in [int(o) for o in f[-n_syn:]][:SENSES]:
            members = lemmas.get(off, [])
            if word not in members:
                continue
            me = members.index(word) + 1
            for src, toff, tw in pointers.get(off, []):
                target = lemmas.get(toff, [])
                if src == me and 0 < tw <= len(target) and target[tw - 1].isalpha():
                    table[word].add(target[tw - 1])
    notice = ["# Derived from WordNet 3.0 (Princeton University), by scripts/build_thesaurus.py.",
              "# WordNet 3.0 Copyright 2006 by Princeton University. All rights reserved. Permission to use,",
              "# copy, modify and distribute this software and database and its documentation for any purpose",
              "# and without fee or royalty is hereby granted, provided that you agree to comply with the",
              "# copyright notice and statements, including the disclaimer, of the WordNet licence.",
              "# Format: adjective <TAB> its direct antonyms, '|'-separated."]
    lines = notice + [f"{k}\t{'|'.join(sorted(v))}" for k, v in sorted(table.items())]
    with gzip.GzipFile(ANTONYMS, "wb", compresslevel=9, mtime=0) as fh:
        fh.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{ANTONYMS}: {len(table)} adjectives, {sum(map(len, table.values()))} antonyms, {ANTONYMS.stat().st_size} bytes")


if __name__ == "__main__":
    if "--antonyms-only" not in sys.argv:
        main()
    antonyms()
