"""The evaluation harness behind `rag eval`: gold questions in, metrics and a report out."""
from .gold import GoldError, GoldItem, GoldRef, Unit, load_gold, load_many
from .harness import (
           EvalError,
           EvalResult,
           ThresholdError,
           load_thresholds,
           run_evaluation,
)

__all__ = ["EvalError", "EvalResult", "GoldError", "GoldItem", "GoldRef", "ThresholdError", "Unit", "load_gold",
           "load_many", "load_thresholds", "run_evaluation"]
