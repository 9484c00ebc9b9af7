"""Inference: formula suggestions for cells of live workbooks.

``load_suggester()`` gives the shipped pipeline (``Suggester``: the model, the neighbouring
formulas, the sheet's structure, links to other sheets and retrieval from the training corpus,
every candidate run on the sheet, ranked by the learned ranker with calibrated confidence);
``FormulaPredictor`` is the model alone. Names are imported on first use, so that importing
``suggest.types`` does not load torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .loading import load_evaluation_systems, load_predictor, load_suggester
    from .predictor import FormulaPredictor
    from .suggester import ALL_SOURCES, Suggester
    from .types import Candidate

__all__ = ["ALL_SOURCES", "Candidate", "FormulaPredictor", "Suggester", "load_evaluation_systems", "load_predictor",
           "load_suggester"]

_HOMES = {"ALL_SOURCES": "suggester", "Candidate": "types", "FormulaPredictor": "predictor", "Suggester": "suggester",
          "load_evaluation_systems": "loading", "load_predictor": "loading", "load_suggester": "loading"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{home}", __name__), name)
