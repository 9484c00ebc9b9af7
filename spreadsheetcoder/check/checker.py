"""The formula checker: which cells of a workbook look like mistakes, and their repairs (issue 15).

For every cell worth checking (each plain formula, and each typed number next to a formula),
``candidates.py`` lists the formulas the cell may have been meant to hold and ``features.py``
describes each on the sheet. A LightGBM model, trained on workbooks with one mistake of
``mutations.py`` injected per sheet (``scripts/train_checker.py``), scores each candidate: the
probability that it is the cell's original formula. A cell's score is its best candidate's; an
isotonic map, fitted on held-out training workbooks with one injected mistake per sheet, turns it
into the **confidence**: the probability that the cell is the mistake. The best candidate is the
proposed **repair**; its kind (``candidates.CANDIDATE_KINDS``) is the reason shown.

Cells at or above ``min_confidence`` are flagged; the default (``Checker.default_min_confidence``,
stored with the model) was chosen on those held-out workbooks to keep false alarms on unmodified
sheets under 2 per 1,000 formula cells.

Files: ``checker.txt`` (LightGBM's text format) and ``checker.json`` (features, calibration, the
default threshold and how it was trained), beside the shipped model (``model/layout.py``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import ConfigError
from ..model.layout import CHECKER_FILES, CHECKER_META_NAME, CHECKER_MODEL_NAME
from ..model.shipped import SHIPPED_DIR
from ..references import column_letter, quote_sheet
from ..sheet import Sheet, Workbook
from ..suggest.engine import SheetEngine
from ..values import ExcelError, cached_value
from .candidates import Candidate, SheetForms, cell_candidates
from .features import FEATURES, feature_rows

__all__ = ["CheckFlag", "CheckReport", "Checker", "ScoredCell", "load_checker", "score_cells"]


@dataclass(frozen=True)
class ScoredCell:
    """One checked cell: its candidates and the model's probability for each (same order)."""

    sheet: str
    row: int
    col: int
    candidates: tuple[Candidate, ...]
    probabilities: tuple[float, ...]

    @property
    def best(self) -> tuple[Candidate, float] | None:
        if not self.candidates:
            return None
        i = int(np.argmax(self.probabilities))
        return self.candidates[i], self.probabilities[i]


@dataclass(frozen=True)
class CheckFlag:
    """A cell that looks like a mistake.

    Attributes:
        sheet, row, col: where (sheet name as the workbook spells it, 1-based).
        cell: ``Sheet1!D12`` (the sheet quoted where Excel would quote it).
        formula: what the cell holds: its formula, or None for a typed number (``value``).
        value: what the cell shows.
        kind: the mistake the repair undoes (``candidates.CANDIDATE_KINDS``).
        confidence: calibrated probability that the cell is a mistake.
        repair: the formula proposed in its place, in A1 notation.
    """

    sheet: str
    row: int
    col: int
    cell: str
    formula: str | None
    value: Any
    kind: str
    confidence: float
    repair: str

    def to_dict(self) -> dict[str, Any]:
        value = self.value if isinstance(self.value, (int, float, str, bool)) or self.value is None else str(self.value)
        return {"cell": self.cell, "formula": self.formula, "value": value, "kind": self.kind,
                "confidence": round(self.confidence, 4), "repair": self.repair}


@dataclass
class CheckReport:
    """What ``Checker.check`` found: ``flags`` highest confidence first."""

    cells_checked: int
    min_confidence: float
    flags: list[CheckFlag] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"cells_checked": self.cells_checked, "min_confidence": self.min_confidence,
                "flags": [f.to_dict() for f in self.flags], "seconds": round(self.seconds, 3)}


def score_cells(booster: Any, workbook: Workbook, sheets: Sequence[Sheet] | None = None, *,
                progress: bool = False) -> list[ScoredCell]:
    """Every checked cell of ``sheets`` (all when None) with its candidates scored by ``booster``."""
    chosen = list(workbook.sheets if sheets is None else sheets)
    engine = SheetEngine(workbook, cache_areas=True)
    plan = [(forms, forms.checked_cells()) for forms in map(SheetForms, chosen)]  # each sheet parsed once
    scored: list[ScoredCell] = []
    pending: list[tuple[SheetForms, int, int, list[Candidate], list[list[float]]]] = []

    def flush() -> None:
        rows = [r for item in pending for r in item[4]]
        probabilities = booster.predict(np.asarray(rows, float), num_threads=1) if rows else np.zeros(0)
        at = 0
        for forms, row, col, candidates, feats in pending:
            p = tuple(float(x) for x in probabilities[at:at + len(feats)])
            at += len(feats)
            scored.append(ScoredCell(forms.sheet.name, row, col, tuple(candidates), p))
        pending.clear()

    bar = tqdm(total=sum(len(cells) for _, cells in plan), unit="cell", desc="checking", disable=not progress)
    for forms, row, col in ((forms, row, col) for forms, cells in plan for row, col in cells):
        candidates = cell_candidates(forms, workbook, row, col)
        if candidates:
            pending.append((forms, row, col, candidates, feature_rows(forms, engine, workbook, row, col, candidates)))
        else:
            scored.append(ScoredCell(forms.sheet.name, row, col, (), ()))
        if len(pending) >= 512:
            flush()
        bar.update(1)
    flush()
    bar.close()
    return scored


class Checker:
    """The trained candidate scorer and its calibration (module doc)."""

    def __init__(self, booster: Any, meta: dict[str, Any]) -> None:
        if tuple(meta["features"]) != FEATURES:
            raise ConfigError("the checker was trained on other features; retrain it (scripts/train_checker.py)")
        self.booster = booster
        self.meta = meta
        self._x = np.asarray(meta["calibration"]["x"], float)
        self._y = np.asarray(meta["calibration"]["y"], float)

    @property
    def default_min_confidence(self) -> float:
        return float(self.meta["default_min_confidence"])

    def confidence(self, score: float) -> float:
        """The calibrated probability that a cell whose best candidate scores ``score`` is a mistake."""
        return float(np.interp(score, self._x, self._y))

    def check(self, workbook: Workbook, *, sheets: Sequence[str] | None = None, min_confidence: float | None = None,
              progress: bool = False) -> CheckReport:
        """The cells of ``workbook`` (of the named ``sheets``) that look like mistakes.

        Raises:
            ConfigError: ``min_confidence`` outside [0, 1], or a sheet the workbook does not have.
        """
        threshold = self.default_min_confidence if min_confidence is None else float(min_confidence)
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"min_confidence must be in [0, 1], got {min_confidence}")
        try:
            chosen = None if not sheets else [workbook.sheet(name) for name in sheets]
        except KeyError as exc:
            raise ConfigError(exc.args[0]) from None
        started = time.perf_counter()
        scored = score_cells(self.booster, workbook, chosen, progress=progress)
        report = CheckReport(cells_checked=len(scored), min_confidence=threshold)
        for item in scored:
            best = item.best
            if best is None:
                continue
            candidate, score = best
            confidence = self.confidence(score)
            if confidence >= threshold and confidence > 0.0:
                report.flags.append(self._flag(workbook, item, candidate, confidence))
        report.flags.sort(key=lambda f: (-f.confidence, workbook.sheet_names.index(f.sheet), f.row, f.col))
        report.seconds = time.perf_counter() - started
        return report

    @staticmethod
    def _flag(workbook: Workbook, item: ScoredCell, candidate: Candidate, confidence: float) -> CheckFlag:
        cell = workbook.sheet(item.sheet).get(item.row, item.col)
        shown = cached_value(cell) if cell is not None else None
        return CheckFlag(
            sheet=item.sheet, row=item.row, col=item.col,
            cell=f"{quote_sheet(item.sheet)}!{column_letter(item.col)}{item.row}",
            formula=cell.formula if cell is not None else None,
            value=shown.code if isinstance(shown, ExcelError) else shown,
            kind=candidate.kind, confidence=confidence, repair=candidate.text,
        )

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / CHECKER_MODEL_NAME))
        (folder / CHECKER_META_NAME).write_text(json.dumps(self.meta, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> Checker:
        import lightgbm  # imported here: loading the package never needs it

        folder = Path(folder)
        booster = lightgbm.Booster(model_file=str(folder / CHECKER_MODEL_NAME))
        meta = json.loads((folder / CHECKER_META_NAME).read_text(encoding="utf-8"))
        return cls(booster, meta)


def load_checker(folder: str | Path | None = None) -> Checker:
    """The checker in ``folder`` (default: the one shipped with the package).

    Raises:
        ConfigError: the folder holds no checker files.
    """
    path = Path(folder) if folder is not None else SHIPPED_DIR
    missing = [name for name in CHECKER_FILES if not (path / name).is_file()]
    if missing:
        where = "the shipped model folder" if path == SHIPPED_DIR else f"folder {str(path)!r}"
        raise ConfigError(f"{where} holds no formula checker ({', '.join(missing)} missing); "
                          "train one with scripts/train_checker.py")
    return Checker.load(path)
