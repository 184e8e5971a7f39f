"""The evaluation harness behind `rag eval`: gold questions in, metrics and a report out.

Modules in data-flow order: gold (questions) -> configs, runs (ask each configuration) ->
metrics, judge, scoring, aggregate (numbers) -> thresholds, results -> report; harness wires
them; cli is `rag eval`. No module imports one later in the flow.
"""
from .gold import GoldError, GoldItem, GoldRef, Unit, load_gold, load_many
from .configs import EvalError
from .harness import run_evaluation
from .results import EvalResult
from .thresholds import ThresholdError, load_thresholds

__all__ = ["EvalError", "EvalResult", "GoldError", "GoldItem", "GoldRef", "ThresholdError", "Unit", "load_gold",
           "load_many", "load_thresholds", "run_evaluation"]
