"""Ask the gold questions with one configuration and record what came back.

Nothing is scored here: a UnitRun holds the answer, what retrieval returned and the
timings; `scoring` turns it into numbers. Conversations are asked turn by turn with the
earlier turns as history.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from ..api import QuestionError, TreatyQA
from ..model import Answer, Passage, Turn
from ..settings import REPO_ROOT, Settings
from .configs import TOP_K
from .gold import GoldItem
from .metrics import Locator, RetrievedItem

_TRANSIENT = ("answer_obj", "ranked", "retrieval")


@dataclass
class UnitRun:
    """One configuration on one question (or turn)."""

    retrieved: list[dict] = field(default_factory=list)
    answer: str | None = None
    refused: bool | None = None
    verdict: dict | None = None
    answerability: dict = field(default_factory=dict)  # the answerability model's inputs (weigh.py), when weighed
    citations: list[dict] = field(default_factory=list)
    faithfulness: dict | None = None
    metrics: dict[str, float | None] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    resolved_question: str | None = None
    history: list[str] = field(default_factory=list)  # earlier turns asked with it
    error: str | None = None
    # In memory only, for scoring:
    answer_obj: Answer | None = None
    ranked: list[RetrievedItem] = field(default_factory=list)  # top TOP_K, located in the provision tree
    retrieval: list[Passage] = field(default_factory=list)  # what `TreatyQA.retrieve` returned for the question

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in _TRANSIENT}


def item_json(item: RetrievedItem) -> dict:
    return {"doc": item.doc_id, "article": item.article, "paragraph": item.paragraph,
            "provision": item.provision_id, "label": item.label, "score": item.score}


def ask_product(name: str, qa: TreatyQA, items: list[GoldItem], progress: bool) -> dict[str, UnitRun]:
    from tqdm import tqdm

    locator = Locator(qa.index.parsed)
    runs: dict[str, UnitRun] = {}
    if items:  # load the model and caches first: latency is measured warm (cold start apart)
        try:
            qa.ask(items[0].units[0].question)
        except QuestionError:
            pass
    bar = tqdm(total=sum(len(i.units) for i in items), desc=f"eval {name}", unit="q", disable=not progress)
    for item in items:
        history: list[Turn] = []
        for unit in item.units:
            run = UnitRun(history=[t.question for t in history])
            runs[unit.uid] = run
            hist = list(history) if history else None
            try:
                answer = qa.ask(unit.question, hist)
                # What retrieval returned for the question asked (the answerer's input, before it
                # adds passages of its own), and the ranking scored at top 10.
                query, run.retrieval = qa.retrieve(qa.read_question(qa.check_question(unit.question)), hist)
                passages = qa.retriever.run(query, None, top_k=TOP_K).passages
            except QuestionError as exc:
                run.error = f"question refused by the product: {exc}"
                bar.update(1)
                continue
            history.append(Turn.from_answer(answer))
            # The first TOP_K passages, as the baselines get TOP_K nodes; duplicates are dropped
            # when scoring, so @10 may see fewer than 10 distinct units.
            run.ranked = [it for it in (locator.from_passage(p) for p in passages[:TOP_K]) if it is not None]
            run.retrieved = [item_json(it) for it in run.ranked]
            run.timings = {k: float(v) for k, v in answer.timings.items()}
            run.answer_obj = answer
            run.answer, run.refused, run.resolved_question = answer.answer, answer.refused, answer.resolved_question
            run.verdict = answer.verdict.model_dump() if answer.verdict is not None else None
            run.answerability = dict(answer.answerability)
            bar.update(1)
    bar.close()
    return runs


def ask_baseline(name: str, baseline, items: list[GoldItem], progress: bool) -> dict[str, UnitRun]:
    from tqdm import tqdm

    runs: dict[str, UnitRun] = {}
    bar = tqdm(total=sum(len(i.units) for i in items), desc=f"eval {name}", unit="q", disable=not progress)
    for item in items:
        for unit in item.units:
            ranked, seconds = baseline.retrieve(unit.question)
            ranked = ranked[:TOP_K]
            runs[unit.uid] = UnitRun(retrieved=[item_json(it) for it in ranked], ranked=ranked,
                                     timings={"retrieve": seconds, "total": seconds})
            bar.update(1)
    bar.close()
    return runs


def measure_cold_start(settings: Settings, question: str, timeout: float = 300.0) -> dict[str, Any]:
    """Process start to first answer of `rag ask`, in a fresh interpreter."""
    cmd = [sys.executable, "-m", "rag.cli", "--index-dir", str(settings.index_dir), "ask", "--json", question]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(REPO_ROOT),
                                env=env)
    except OSError as exc:
        return {"seconds": None, "error": f"could not start `rag ask`: {exc}", "command": " ".join(cmd)}
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        seconds = time.perf_counter() - t0
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return {"seconds": None, "error": f"`rag ask` took over {timeout:.0f} s", "command": " ".join(cmd)}
    if proc.returncode != 0 or not first.strip():
        return {"seconds": None, "error": f"`rag ask` exited {proc.returncode}: {err.strip()[-500:]}",
                "command": " ".join(cmd)}
    return {"seconds": seconds, "question": question, "command": " ".join(cmd[1:])}
