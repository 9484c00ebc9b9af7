"""What every suggestion source returns: ``Candidate``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Candidate"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One proposed formula for a target cell.

    Attributes:
        formula: A1 text starting with ``=``, as it would be written into the target cell.
        logprob: the model's log-probability of the whole formula (0.0 for rule baselines).
        confidence: a score in [0, 1]; higher is surer. Candidates come best first. From the
            suggestion pipeline (``suggest.Suggester``) it is a calibrated probability that the
            formula is exactly right.
        source: where the candidate came from (``"model"``, ``"run"``, ``"copy"``,
            ``"aggregate"``, ``"arithmetic"``, ``"reference"``, ``"rule"``, ...).
    """

    formula: str
    logprob: float
    confidence: float
    source: str = "model"
