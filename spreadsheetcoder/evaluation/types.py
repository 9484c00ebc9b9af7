"""What the evaluation harness asks of a formula predictor: ``Candidate`` and the ``Predictor`` protocol.

Kept apart from the harness so that a model package can implement ``Predictor`` without importing
the harness (and the formula engine behind execution match).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from ..constants import ContextSetting
from ..sheet import Sheet, Workbook
from ..suggest.types import Candidate
from ..targets import Target

__all__ = ["Candidate", "Predictor"]


@runtime_checkable
class Predictor(Protocol):
    """A system under evaluation (a trained model, or anything that proposes formulas)."""

    def predict_targets(
        self, workbook: Workbook, sheet: Sheet, cells: Sequence[tuple[int, int]], *, context: ContextSetting, k: int
    ) -> list[list[Candidate]]:
        """Top-``k`` candidates for each of ``cells`` (1-based ``(row, col)`` of ``sheet``), best first.

        ``sheet`` is the original sheet: the predictor masks each requested cell itself (its
        formula and value must not leak into the prediction). ``context`` is ``"values"`` or
        ``"formulas"`` (``constants.CONTEXT_SETTINGS``). Returns one list per cell, in order;
        a list may be shorter than ``k`` or empty.
        """
        ...

    def covers(self, workbook: Workbook, sheet: Sheet, target: Target) -> bool:
        """Whether the predictor's representation can express ``target``'s formula at all."""
        ...
