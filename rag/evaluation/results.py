"""EvalResult: everything one run measured, and results.json."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .configs import ConfigSpec
from .gold import Unit
from .runs import UnitRun
from .thresholds import check_thresholds


_SEALED_HIDDEN = ("answer", "resolved_question", "history", "faithfulness", "verdict", "error")


@dataclass
class EvalResult:
    reference: str
    configs: list[ConfigSpec]
    units: list[Unit]
    runs: dict[str, dict[str, UnitRun]]  # config -> unit id -> run
    summary: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # config -> split -> metric
    by_kind: dict[str, dict[str, dict[str, dict[str, float | None]]]] = field(default_factory=dict)
    latency: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)  # config -> stage -> stat
    cold_start: dict[str, Any] = field(default_factory=dict)
    judge: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    splits: list[str] = field(default_factory=list)
    out_dir: Path | None = None
    sealed: bool = False  # a sealed run: questions are never listed one by one

    def check(self, thresholds: dict[str, dict[str, float]]) -> list[str]:
        return check_thresholds(self.summary.get(self.reference, {}), thresholds)[0]

    def to_json(self) -> dict:
        questions = []
        for u in self.units:
            entry = {
                "id": u.uid, "qid": u.qid, "kind": u.kind, "split": u.split, "turn": u.turn,
                "question": u.question, "answerable": u.answerable, "match": u.match,
                "verdict": u.verdict, "topic": u.topic,
                "gold": [g.__dict__ for g in u.gold],
                "results": {c.name: self.runs[c.name][u.uid].to_json() for c in self.configs
                            if u.uid in self.runs.get(c.name, {})},
            }
            if self.sealed:  # numbers per question, never the question or answer texts
                entry.pop("question")
                for r in entry["results"].values():
                    for k in _SEALED_HIDDEN:
                        r.pop(k, None)
            questions.append(entry)
        return _rounded({
            "reference": self.reference,
            "configs": [{"name": c.name, "kind": c.kind, "description": c.description, "answers": c.answers}
                        for c in self.configs],
            "splits": self.splits,
            "summary": self.summary,
            "by_kind": self.by_kind,
            "latency": self.latency,
            "cold_start": self.cold_start,
            "judge": self.judge,
            "notes": self.notes,
            "questions": questions,
        })


def _rounded(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {str(k): _rounded(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_rounded(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_results(result: EvalResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                    encoding="utf-8")
