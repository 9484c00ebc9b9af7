"""Evaluation: the fixed protocol's metrics, the rule and copy baselines, and the folder harness.

``evaluate_folder(root, predictor=..., split="dev")`` is the entry point; a predictor implements
``Predictor`` (``predict_targets`` and ``covers``) and returns ``Candidate`` lists.
"""

from __future__ import annotations

from .baselines import FormulaIndex, copy_candidates, rule_candidates
from .execution import NotComputable, compute_formula
from .harness import evaluate_folder, evaluate_sheet
from .metrics import METRICS, Match, Metrics, exec_match, macro_summarize, match, summarize, target_hits
from .types import Candidate, Predictor

__all__ = [
    "METRICS",
    "Candidate",
    "FormulaIndex",
    "Match",
    "Metrics",
    "NotComputable",
    "Predictor",
    "compute_formula",
    "copy_candidates",
    "evaluate_folder",
    "evaluate_sheet",
    "exec_match",
    "macro_summarize",
    "match",
    "rule_candidates",
    "summarize",
    "target_hits",
]
