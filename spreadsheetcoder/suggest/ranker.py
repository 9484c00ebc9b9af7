"""The learned ranker and its calibration.

``Ranker`` wraps a LightGBM LambdaRank model over ``features.FEATURES`` (one group per target) and
an isotonic map per context setting from the within-target softmax of its scores to the
probability that a candidate is exactly right, fitted on held-out training workbooks. Files (beside the shipped model):
``ranker.txt`` (LightGBM's text format) and ``ranker.json`` (feature names, the calibration
points and how it was trained).

``HeuristicRanker`` is what runs without a trained ranker: sibling matches first, then the model's
probability; its confidences are not calibrated and say so (``calibrated = False``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..constants import ContextSetting
from ..errors import ConfigError
from ..model.layout import RANKER_FILES, RANKER_META_NAME, RANKER_MODEL_NAME
from .features import FEATURES

__all__ = ["HeuristicRanker", "Ranker", "Scorer", "load_ranker", "softmax"]


class Scorer(Protocol):
    calibrated: bool

    def confidences(self, rows: Sequence[Sequence[float]], context: ContextSetting) -> np.ndarray: ...


def softmax(scores: np.ndarray) -> np.ndarray:
    if scores.size == 0:
        return scores
    z = np.exp(scores - scores.max())
    return z / z.sum()


class Ranker:
    """A trained LambdaRank model plus its isotonic calibration (see the module doc)."""

    calibrated = True

    def __init__(self, booster: Any, meta: dict[str, Any]) -> None:
        if tuple(meta["features"]) != FEATURES:
            raise ConfigError("ranker was trained on other features; retrain it (scripts/train_ranker.py)")
        self.booster = booster
        self.meta = meta
        # One isotonic map per context setting: {setting: (x, y)}.
        self._maps = {context: (np.asarray(points["x"], float), np.asarray(points["y"], float))
                      for context, points in meta["calibration"].items()}

    def scores(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        if not rows:
            return np.zeros(0)
        return np.asarray(self.booster.predict(np.asarray(rows, float), num_threads=1), float)

    def calibrate(self, probabilities: np.ndarray, context: ContextSetting) -> np.ndarray:
        if context not in self._maps:
            raise ConfigError(f"no calibration for context {context!r}; the ranker has {sorted(self._maps)}")
        x, y = self._maps[context]
        return np.interp(probabilities, x, y)

    def confidences(self, rows: Sequence[Sequence[float]], context: ContextSetting) -> np.ndarray:
        """Calibrated probability that each candidate of one target is exactly right."""
        return self.calibrate(softmax(self.scores(rows)), context)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / RANKER_MODEL_NAME))
        (folder / RANKER_META_NAME).write_text(json.dumps(self.meta, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> Ranker:
        import lightgbm  # imported here: only a trained ranker needs it

        folder = Path(folder)
        booster = lightgbm.Booster(model_file=str(folder / RANKER_MODEL_NAME))
        meta = json.loads((folder / RANKER_META_NAME).read_text())
        return cls(booster, meta)


_INDEX = {name: i for i, name in enumerate(FEATURES)}


class HeuristicRanker:
    """Sibling evidence first, then the source's prior; uncalibrated (see the module doc)."""

    calibrated = False

    def confidences(self, rows: Sequence[Sequence[float]], context: ContextSetting) -> np.ndarray:
        out = []
        for row in rows:
            score = 2.0 * row[_INDEX["matched_total"]] - 3.0 * row[_INDEX["reads_target"]]
            score -= 2.0 * row[_INDEX["value_error"]] + 2.0 * row[_INDEX["empty_reads"]]
            score += 1.5 * row[_INDEX["src_run"]] + 0.5 * row[_INDEX["src_copy"]]
            score += 0.2 * math.exp(max(row[_INDEX["model_logprob"]], -20.0))
            out.append(score)
        return softmax(np.asarray(out, float))


def load_ranker(folder: str | Path | None) -> Ranker | HeuristicRanker:
    """The ranker in ``folder`` when its files are there, else the heuristic one."""
    if folder is not None and all((Path(folder) / name).is_file() for name in RANKER_FILES):
        return Ranker.load(folder)
    return HeuristicRanker()
