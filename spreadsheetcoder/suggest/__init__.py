"""Inference: formula suggestions for cells of live workbooks.

``load_suggester()`` gives the shipped pipeline (``Suggester``: the model, the neighbouring
formulas, the sheet's structure, links to other sheets and retrieval from the training corpus,
every candidate run on the sheet, ranked by the learned ranker with calibrated confidence);
``FormulaPredictor`` is the model alone.
"""

from __future__ import annotations

from .loading import load_suggester
from .predictor import FormulaPredictor
from .suggester import ALL_SOURCES, Suggester
from .types import Candidate

__all__ = ["ALL_SOURCES", "Candidate", "FormulaPredictor", "Suggester", "load_suggester"]
