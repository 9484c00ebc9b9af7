"""``load_suggester``: the suggestion pipeline from a model folder (the shipped one by default).

The folder holds the model's checkpoint (``config.json``, ``model.safetensors``), and beside it the
ranker (``ranker.txt``, ``ranker.json``) and the retrieval index (``retrieval.json.gz``). A folder
without a ranker ranks by the uncalibrated heuristic; one without an index skips retrieval.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..model.layout import RETRIEVAL_NAME
from ..model.shipped import resolve_model_dir
from .predictor import FormulaPredictor
from .ranker import load_ranker
from .sources.retrieval import RetrievalIndex
from .suggester import Suggester

__all__ = ["load_evaluation_systems", "load_predictor", "load_suggester"]


def load_suggester(model: str | os.PathLike[str] | None = None, *, device: str = "cpu", beam: int = 5,
                   batch_size: int = 32, cache_chunks: int = 8192, max_steps: int | None = None) -> Suggester:
    """The pipeline of ``model`` (``--model``, ``$SPREADSHEETCODER_MODEL``, else the shipped folder).
    ``max_steps`` caps the model's beam search (default: the grammar's longest formula)."""
    folder = resolve_model_dir(model)
    predictor = FormulaPredictor(folder, device=device, beam=beam, batch_size=batch_size, cache_chunks=cache_chunks,
                                 max_steps=max_steps, neighbour_formulas=False)
    index = Path(folder) / RETRIEVAL_NAME
    retrieval = RetrievalIndex.load(index) if index.is_file() else None
    return Suggester(predictor, load_ranker(folder), retrieval=retrieval)


def load_predictor(model: str | os.PathLike[str] | None = None, *, model_only: bool = False, device: str = "cpu",
                   beam: int = 5, batch_size: int = 32) -> FormulaPredictor | Suggester:
    """What ``predict`` and ``fill`` run: the pipeline of ``model`` (``load_suggester``), or with
    ``model_only`` the model alone (``FormulaPredictor``)."""
    if model_only:
        return FormulaPredictor(resolve_model_dir(model), device=device, beam=beam, batch_size=batch_size,
                                neighbour_formulas=False)
    return load_suggester(model, device=device, beam=beam, batch_size=batch_size)


def load_evaluation_systems(model: str | os.PathLike[str], *, ranker: str | os.PathLike[str] | None = None,
                            device: str = "cpu", beam: int = 5, batch_size: int = 32, model_only: bool = False,
                            ablation: bool = False) -> tuple[FormulaPredictor, dict[str, Suggester]]:
    """What ``evaluate`` scores of the checkpoint folder ``model``: the model alone and, unless
    ``model_only``, the systems beside it (``evaluation.evaluate_folder``'s ``systems``): ``full``, the
    pipeline without retrieval ranked by the ranker in ``ranker`` (default: ``model``'s), and with
    ``ablation`` ``full_no_exec``, the same without running candidates on the sheet."""
    predictor = FormulaPredictor(Path(model), device=device, beam=beam, batch_size=batch_size, neighbour_formulas=False)
    systems: dict[str, Suggester] = {}
    if not model_only:
        scorer = load_ranker(Path(ranker or model))
        systems["full"] = Suggester(predictor, scorer)
        if ablation:
            systems["full_no_exec"] = Suggester(predictor, scorer, execute=False)
    return predictor, systems
