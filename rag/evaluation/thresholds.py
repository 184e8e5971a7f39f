"""eval/thresholds.toml: minimums per split for the reference configuration (`rag eval --check`)."""
from __future__ import annotations

from pathlib import Path

import tomllib

from ..settings import REPO_ROOT
from .aggregate import ANSWER_NAMES, RETRIEVAL_NAMES

THRESHOLDS = REPO_ROOT / "eval" / "thresholds.toml"


class ThresholdError(ValueError):
    """eval/thresholds.toml is malformed or names a metric that does not exist."""


def load_thresholds(path: Path | str = THRESHOLDS) -> dict[str, dict[str, float]]:
    path = Path(path)
    if not path.is_file():
        raise ThresholdError(f"{path}: thresholds file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ThresholdError(f"{path}: invalid TOML ({exc})") from exc
    known = set(RETRIEVAL_NAMES) | set(ANSWER_NAMES)
    out: dict[str, dict[str, float]] = {}
    for split, table in data.items():
        if not isinstance(table, dict):
            raise ThresholdError(f"{path}: [{split}] must be a table of metric = minimum")
        for metric, value in table.items():
            if metric not in known:
                raise ThresholdError(f"{path}: [{split}] unknown metric {metric!r}; known: {', '.join(sorted(known))}")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ThresholdError(f"{path}: [{split}] {metric} must be a number between 0 and 1")
            out.setdefault(split, {})[metric] = float(value)
    return out


def check_thresholds(summary: dict[str, dict[str, float | None]], thresholds: dict[str, dict[str, float]]
                     ) -> tuple[list[str], list[str]]:
    """(failures, notes). A split that was not evaluated is noted, not failed."""
    failures, notes = [], []
    for split, table in thresholds.items():
        if split not in summary:
            notes.append(f"[{split}] not evaluated in this run; its thresholds were not checked")
            continue
        for metric, minimum in table.items():
            value = summary[split].get(metric)
            if value is None:
                failures.append(f"{split} {metric}: not measured (minimum {minimum:.3f})")
            elif value < minimum:
                failures.append(f"{split} {metric} = {value:.3f} < minimum {minimum:.3f}")
    return failures, notes
