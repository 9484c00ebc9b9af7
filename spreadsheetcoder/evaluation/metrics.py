"""Metrics of the evaluation protocol (DESIGN.md, "Training and evaluation").

Per target and system: exact match of the whole formula, of its sketch and of its ranges at top-1
and top-5, execution match of the top-1 candidate, and coverage. ``match`` compares one candidate
with the truth; ``exec_match`` computes a candidate on the sheet; ``target_hits`` turns a ranked
candidate list into the per-target booleans; ``summarize`` and ``macro_summarize`` turn many of
them into shares.

Comparison forms: the whole formula by ``canonical_formula`` (whitespace, ``$``, case of
functions, cells, names and sheets ignored); the sketch by ``parse_formula``'s token tuple
(function names upper case, ``_xlfn.`` dropped); the ranges by the tuple of references with
every part, absolute or not, as an offset from the target cell (so ``$B$2`` and ``B2`` agree),
sheet, name and table specifier case-folded. A formula match implies a sketch and a range match.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..errors import FormulaError
from ..formula import Formula, canonical_formula, parse_formula
from ..references import Corner, Reference
from ..sheet import Cell, Sheet, Workbook
from .execution import NotComputable, cached_value, compute_formula, values_equal

logger = logging.getLogger(__name__)

__all__ = [
    "METRICS",
    "TOP_K",
    "Match",
    "Metrics",
    "exec_match",
    "macro_summarize",
    "match",
    "summarize",
    "target_hits",
]

# "top-5" metrics look at this many candidates.
TOP_K = 5
# Per-target booleans, in report order. exec_top1 may be None (not checkable).
METRICS = (
    "formula_top1",
    "formula_top5",
    "sketch_top1",
    "sketch_top5",
    "range_top1",
    "range_top5",
    "exec_top1",
    "coverage",
)

Row = Mapping[str, bool | None]
RangeKey = tuple[str | None, tuple[int | None, int | None] | None, tuple[int | None, int | None] | None,
                 str | None, str | None]


@dataclass(frozen=True, slots=True)
class Match:
    """How a candidate agrees with the true formula: whole formula, sketch, ranges."""

    formula: bool
    sketch: bool
    ranges: bool


@lru_cache(maxsize=8192)
def _canonical(text: str) -> str:
    return canonical_formula(text)


@lru_cache(maxsize=8192)
def _parsed(text: str, origin: tuple[int, int]) -> Formula | None:
    try:
        return parse_formula(text, origin)
    except (FormulaError, ValueError):
        return None


def _corner_key(corner: Corner | None, origin: tuple[int, int]) -> tuple[int | None, int | None] | None:
    """A corner as offsets from ``origin`` whatever its ``$`` anchors."""
    if corner is None:
        return None
    row, col = corner.row, corner.col
    if row is not None and corner.row_abs:
        row -= origin[0]
    if col is not None and corner.col_abs:
        col -= origin[1]
    return row, col


def _range_key(ref: Reference, origin: tuple[int, int]) -> RangeKey:
    fold = str.casefold
    return (
        None if ref.sheet is None else fold(ref.sheet),
        _corner_key(ref.start, origin),
        _corner_key(ref.end, origin),
        None if ref.name is None else fold(ref.name),
        None if ref.spec is None else fold(ref.spec),
    )


def match(candidate: str, truth: str, origin: tuple[int, int]) -> Match:
    """Compare ``candidate`` with ``truth``, both A1 formula texts for the cell ``origin``.

    A candidate that does not parse matches neither sketch nor ranges (unless it equals the truth
    as a whole formula); nor does any candidate when the truth does not parse.
    """
    formula = _canonical(candidate) == _canonical(truth)
    if formula:
        return Match(True, True, True)
    mine, real = _parsed(candidate, origin), _parsed(truth, origin)
    if mine is None or real is None:
        return Match(False, False, False)
    sketch = mine.sketch == real.sketch
    ranges = [_range_key(r, origin) for r in mine.ranges] == [_range_key(r, origin) for r in real.ranges]
    return Match(False, sketch, ranges)


def exec_match(candidate: str, truth_cell: Cell, sheet: Sheet, workbook: Workbook | None,
               origin: tuple[int, int]) -> bool | None:
    """Whether ``candidate`` computes, on the sheet's cached values, the value the original cell shows.

    True without computing when the candidate equals the cell's formula (``canonical_formula``).
    None when it cannot be told: the cell has no cached value, or the candidate cannot be
    computed (unsupported or volatile function, another workbook, a range over ``MAX_EXEC_CELLS``
    cells, an engine error; see ``execution.compute_formula``). The target cell reads as empty.
    """
    if truth_cell.formula is not None and _canonical(candidate) == _canonical(truth_cell.formula):
        return True
    expected = cached_value(truth_cell)
    if expected is None:
        return None
    try:
        value = compute_formula(candidate, sheet, workbook, origin)
    except NotComputable as exc:
        logger.debug("not computable %s at %s: %s", candidate, origin, exc)
        return None
    return values_equal(value, expected)


def target_hits(candidates: Sequence[str], truth: str, origin: tuple[int, int], *, coverage: bool,
                exec_top1: bool | None) -> dict[str, bool | None]:
    """The per-target booleans (``METRICS``) of a ranked candidate list against ``truth``.

    ``exec_top1`` (from ``exec_match`` on the first candidate; False when there is none) and
    ``coverage`` come from the caller. Top-5 looks at the first ``TOP_K`` candidates.
    """
    matches = [match(text, truth, origin) for text in candidates[:TOP_K]]
    first = matches[0] if matches else Match(False, False, False)
    return {
        "formula_top1": first.formula,
        "formula_top5": any(m.formula for m in matches),
        "sketch_top1": first.sketch,
        "sketch_top5": any(m.sketch for m in matches),
        "range_top1": first.ranges,
        "range_top5": any(m.ranges for m in matches),
        "exec_top1": exec_top1,
        "coverage": coverage,
    }


def _share(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def summarize(rows: Sequence[Row]) -> dict[str, float | int | None]:
    """Shares of targets hit, per metric (rounded to 4 decimals), plus ``targets`` (the count).

    ``exec_top1`` is the share among checkable targets (None when none is), and ``exec_checked``
    the share of targets that were checkable. With no rows every share is 0.0.
    """
    out: dict[str, float | int | None] = {"targets": len(rows)}
    for name in METRICS:
        if name == "exec_top1":
            checked = [row[name] for row in rows if row.get(name) is not None]
            out[name] = _share(sum(map(bool, checked)), len(checked)) if checked else None
            out["exec_checked"] = _share(len(checked), len(rows))
        else:
            out[name] = _share(sum(bool(row.get(name)) for row in rows), len(rows))
    return out


def macro_summarize(groups: Iterable[Sequence[Row]]) -> dict[str, float | None]:
    """Mean over groups (workbooks) of each group's shares: every workbook weighs the same.

    Empty groups are skipped; ``exec_top1`` averages over the groups with a checkable target.
    """
    summaries = [summarize(rows) for rows in groups if rows]
    out: dict[str, float | None] = {}
    for name in summarize([]):
        if name == "targets":
            continue
        values = []
        for summary in summaries:
            value = summary[name]
            if value is not None:
                values.append(float(value))
        out[name] = round(sum(values) / len(values), 4) if values else None
    return out


class Metrics:
    """Accumulates per-target rows of one system; ``summarize()`` gives the shares."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, row: Row) -> None:
        self.rows.append(row)

    def __len__(self) -> int:
        return len(self.rows)

    def summarize(self) -> dict[str, float | int | None]:
        return summarize(self.rows)
