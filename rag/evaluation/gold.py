"""Gold question files (eval/gold/*.jsonl) -> scorable units.

A conversation is one gold item but several scored units (one per turn), because each
turn has its own gold and is asked with the turns before it as history.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Match = Literal["any", "all"]
VERDICTS = ("yes", "no", "partly", "not_addressed")
TOPICS = ("near", "far")
# The verdict a coverage kind implies when the gold line gives none.
KIND_VERDICT = {"coverage_yes": "yes", "coverage_no": "no", "coverage_partly": "partly"}
_ITEM_KEYS = {"id", "kind"}
_UNIT_KEYS = {"question", "answerable", "match", "gold"}


class GoldError(ValueError):
    """A gold file is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class GoldRef:
    """A provision that answers a question. None widens it: any article / any paragraph."""

    doc_id: str
    article: str | None = None
    paragraph: str | None = None

    def describe(self) -> str:
        if self.article is None:
            return self.doc_id
        return f"{self.doc_id} Art. {self.article}" + (f"({self.paragraph})" if self.paragraph else "")


@dataclass
class Unit:
    """One scored question: a standalone question, or one turn of a conversation."""

    uid: str  # "q001", or "q086#2" for the second turn of q086
    qid: str
    kind: str
    split: str
    question: str
    answerable: bool
    match: Match
    gold: list[GoldRef]
    expected_answer: str = ""
    turn: int | None = None  # 1-based turn number in a conversation
    verdict: str | None = None  # expected verdict (yes/no/partly/not_addressed), or None: not scored
    topic: str | None = None  # unanswerables: "near" (on-topic, not addressed) or "far" (off-topic)

    @property
    def coverage(self) -> bool:
        """A "Does X cover Y?" question: its expected verdict is yes, no or partly."""
        return self.verdict in ("yes", "no", "partly")


@dataclass
class GoldItem:
    id: str
    kind: str
    split: str
    units: list[Unit] = field(default_factory=list)

    @property
    def is_conversation(self) -> bool:
        return self.units[0].turn is not None if self.units else False


def split_name(path: Path) -> str:
    """dev.jsonl -> "dev"; the split is what the headline table groups by."""
    return Path(path).stem


def _unit(obj: dict, where: str, uid: str, qid: str, kind: str, split: str, turn: int | None) -> Unit:
    missing = _UNIT_KEYS - set(obj)
    if missing:
        raise GoldError(f"{where}: missing field(s) {', '.join(sorted(missing))}")
    q = obj["question"]
    if not isinstance(q, str) or not q.strip():
        raise GoldError(f"{where}: 'question' must be a non-empty string")
    if not isinstance(obj["answerable"], bool):
        raise GoldError(f"{where}: 'answerable' must be true or false")
    if obj["match"] not in ("any", "all"):
        raise GoldError(f"{where}: 'match' must be \"any\" or \"all\", not {obj['match']!r}")
    if not isinstance(obj["gold"], list):
        raise GoldError(f"{where}: 'gold' must be a list")
    refs: list[GoldRef] = []
    for g in obj["gold"]:
        if not isinstance(g, dict) or not isinstance(g.get("doc_id"), str) or not g["doc_id"]:
            raise GoldError(f"{where}: every gold entry needs a 'doc_id' string, got {g!r}")
        art, para = g.get("article"), g.get("paragraph")
        if art is None and para is not None:
            raise GoldError(f"{where}: gold {g!r} has a paragraph but no article")
        refs.append(GoldRef(g["doc_id"], None if art is None else str(art), None if para is None else str(para)))
    if obj["answerable"] and not refs:
        raise GoldError(f"{where}: an answerable question needs at least one gold provision")
    verdict = obj.get("verdict", KIND_VERDICT.get(kind))
    if verdict is not None and verdict not in VERDICTS:
        raise GoldError(f"{where}: 'verdict' must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    if verdict == "not_addressed" and obj["answerable"]:
        raise GoldError(f"{where}: verdict 'not_addressed' on an answerable question")
    if verdict in ("yes", "no", "partly") and not refs:
        raise GoldError(f"{where}: a coverage verdict needs the named provision as its first gold entry")
    topic = obj.get("topic")
    if topic is not None and topic not in TOPICS:
        raise GoldError(f"{where}: 'topic' must be \"near\" or \"far\", not {topic!r}")
    if topic is not None and obj["answerable"]:
        raise GoldError(f"{where}: 'topic' is for unanswerable questions only")
    return Unit(uid=uid, qid=qid, kind=kind, split=split, question=q.strip(), answerable=obj["answerable"],
                match=obj["match"], gold=refs, expected_answer=str(obj.get("expected_answer", "")), turn=turn,
                verdict=verdict, topic=topic)


def load_gold(path: Path | str, split: str | None = None) -> list[GoldItem]:
    path = Path(path)
    if not path.is_file():
        raise GoldError(f"{path}: gold question file not found")
    split = split or split_name(path)
    items: list[GoldItem] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise GoldError(f"{where}: not valid JSON ({exc})") from exc
        if not isinstance(obj, dict) or not _ITEM_KEYS <= set(obj):
            raise GoldError(f"{where}: each line must be an object with 'id' and 'kind'")
        qid, kind = str(obj["id"]), str(obj["kind"])
        if qid in seen:
            raise GoldError(f"{where}: duplicate id {qid!r}")
        seen.add(qid)
        item = GoldItem(id=qid, kind=kind, split=split)
        if "turns" in obj:
            turns = obj["turns"]
            if not isinstance(turns, list) or not turns:
                raise GoldError(f"{where}: 'turns' must be a non-empty list")
            for i, t in enumerate(turns, 1):
                if not isinstance(t, dict):
                    raise GoldError(f"{where}: turn {i} must be an object")
                item.units.append(_unit(t, f"{where} turn {i}", f"{qid}#{i}", qid, kind, split, i))
        else:
            item.units.append(_unit(obj, where, qid, qid, kind, split, None))
        items.append(item)
    if not items:
        raise GoldError(f"{path}: no questions in the file")
    return items


def load_many(paths: list[Path | str]) -> list[GoldItem]:
    """Several files; ids must stay unique across them (results are keyed by id)."""
    out: list[GoldItem] = []
    seen: dict[str, str] = {}
    for p in paths:
        for item in load_gold(p):
            if item.id in seen:
                raise GoldError(f"{p}: id {item.id!r} is also in {seen[item.id]}")
            seen[item.id] = str(p)
            out.append(item)
    return out
