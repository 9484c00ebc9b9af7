"""Neighbour formulas as candidates (the ``formulas`` setting): the continuation of a fill-down
run, and the nearest formulas of the target's row and column shifted to it as copy-paste would.

- ``run_continuation``: when the two cells above (else left, below, right) hold copies of one
  relative formula, that formula shifted to the target (Excel's fill-down).
- ``copy_candidates``: the nearest formula cells in the same row or column, each shifted to the
  target (openpyxl's ``Translator``).

Both read formulas, so they only apply where formulas are visible; in the ``values`` setting the
copy source returns ``[]``.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from openpyxl.formula.translate import Translator

from ..constants import CONTEXT_FORMULAS, ContextSetting
from ..context import check_context
from ..references import format_a1
from ..sheet import Sheet

__all__ = ["COPY_PRECISION", "DIRECTIONS", "MAX_COPY_SCAN", "RUN_CONTINUATION_PRECISION", "FormulaIndex",
           "check_arguments", "copy_candidates", "run_continuation", "shift_formula"]

# Of the formula cells of the corpus's dev workbooks whose two neighbours above (or left) hold one
# relative formula, 97.8% hold its continuation (34,142 of 34,915; measured 2026-11-24, see README).
RUN_CONTINUATION_PRECISION = 0.978

# Share of right answers among the copy baseline's candidates at ranks 1..5 on the corpus's train
# split, formulas setting, at most 50 targets per workbook (6,771 targets of 876 workbooks), made
# non-increasing by rank (measured 0.169, 0.188, 0.080, 0.019, 0.008 on 2026-11-24 with
# scripts/measure_copy_precision.py). The predictor uses them as the confidence of the nearby
# formulas it offers beside the model's own candidates.
COPY_PRECISION = (0.178, 0.178, 0.080, 0.019, 0.008)

# The copy baseline looks at no more than this many formula cells per target: a formula filled
# down 10,000 rows gives the same shifted text from every copy, so scanning them all finds nothing new.
MAX_COPY_SCAN = 200

# Neighbours in tie order: above, left, below, right (the order a user's eye and Excel's fill take).
DIRECTIONS = ((-1, 0), (0, -1), (1, 0), (0, 1))


def check_arguments(context: ContextSetting, k: int) -> None:
    """Raise ValueError (``ConfigError`` for the context) for an unknown context setting or ``k < 1``."""
    check_context(context)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def shift_formula(text: str, source: tuple[int, int], dest: tuple[int, int]) -> str | None:
    """``text`` written in ``source`` as copy-paste writes it into ``dest``; None when it cannot
    be shifted (a reference would fall off the sheet, or openpyxl cannot read the formula)."""
    try:
        shifted: str = Translator(text, origin=format_a1(*source)).translate_formula(format_a1(*dest))
    except Exception:  # the Translator raises several types on odd input: no candidate, then
        return None
    return shifted if shifted.startswith("=") else None


def run_continuation(sheet: Sheet, row: int, col: int) -> str | None:
    """The formula that continues a run: when the two cells above (else left, below, right) hold
    copies of one relative formula, that formula shifted to ``(row, col)`` (Excel's fill-down)."""
    for dr, dc in DIRECTIONS:
        near, far = sheet.get(row + dr, col + dc), sheet.get(row + 2 * dr, col + 2 * dc)
        if near is None or far is None or near.formula is None or far.formula is None:
            continue
        if near.formula_kind is not None or far.formula_kind is not None:
            continue
        shifted = shift_formula(near.formula, (row + dr, col + dc), (row, col))
        if shifted is not None and shifted == shift_formula(far.formula, (row + 2 * dr, col + 2 * dc), (row, col)):
            return shifted
    return None


@dataclass
class FormulaIndex:
    """Positions of a sheet's formula cells by column and by row, for nearest-neighbour look-ups.

    Build it once per sheet (``FormulaIndex.from_sheet``) when asking ``copy_candidates`` about
    many cells of one sheet; without it each call scans the whole sheet.
    """

    rows_by_col: dict[int, list[int]] = field(default_factory=dict)  # column -> sorted rows
    cols_by_row: dict[int, list[int]] = field(default_factory=dict)  # row -> sorted columns

    @classmethod
    def from_sheet(cls, sheet: Sheet) -> FormulaIndex:
        index = cls()
        for row, col, cell in sheet.formula_cells():  # reading order, so the lists come sorted
            if cell.formula_kind == "data_table":
                continue
            index.rows_by_col.setdefault(col, []).append(row)
            index.cols_by_row.setdefault(row, []).append(col)
        return index

    def nearest(self, row: int, col: int) -> list[tuple[int, int]]:
        """Formula cells in ``row`` or ``col`` (never ``(row, col)`` itself), nearest first; on
        equal distance above, then left, below, right. At most ``MAX_COPY_SCAN`` of them."""
        rows = self.rows_by_col.get(col, [])
        cols = self.cols_by_row.get(row, [])
        i, j = bisect_left(rows, row), bisect_left(cols, col)
        # One list per direction, nearest first: positions along the line.
        lines = (
            rows[max(0, i - MAX_COPY_SCAN):i][::-1],
            cols[max(0, j - MAX_COPY_SCAN):j][::-1],
            [r for r in rows[i:i + MAX_COPY_SCAN + 1] if r != row],
            [c for c in cols[j:j + MAX_COPY_SCAN + 1] if c != col],
        )
        ranked = []
        for rank, line in enumerate(lines):
            for pos in line:
                if rank % 2 == 0:  # above / below: same column
                    ranked.append((abs(pos - row), rank, (pos, col)))
                else:
                    ranked.append((abs(pos - col), rank, (row, pos)))
        ranked.sort()
        return [cell for _, _, cell in ranked[:MAX_COPY_SCAN]]


def copy_candidates(
    sheet: Sheet, row: int, col: int, *, context: ContextSetting, k: int = 5, index: FormulaIndex | None = None
) -> list[str]:
    """The nearest formulas in the same row or column, shifted to ``(row, col)``, best first.

    Distance is counted in cells along the row or column; on a tie the cell above comes first,
    then left, below, right. Duplicates (copies of one formula shift to the same text) are
    dropped; at most ``k`` are returned. In the ``values`` setting formulas are not visible, so
    the result is ``[]``. ``index`` (built from ``sheet``) saves a scan of the sheet per call.

    Raises ValueError for an unknown setting or k < 1.
    """
    check_arguments(context, k)
    if context != CONTEXT_FORMULAS:
        return []
    if index is None:
        index = FormulaIndex.from_sheet(sheet)
    out: dict[str, None] = {}
    for source in index.nearest(row, col):
        cell = sheet.get(*source)
        if cell is None or cell.formula is None:  # the index may predate an edit of the sheet
            continue
        shifted = shift_formula(cell.formula, source, (row, col))
        if shifted is not None:
            out.setdefault(shifted)
            if len(out) >= k:
                break
    return list(out)
