"""Baselines: what a spreadsheet offers today, scored next to the model.

- ``rule_candidates``: Excel's AutoSum (``=SUM`` over the numeric block directly above or to the
  left of the cell) and, where formulas are visible, fill from an adjacent formula cell.
- ``copy_candidates``: the nearest formula cells in the same row or column, each shifted to the
  target as copy-paste would (openpyxl's ``Translator``).

Both see the sheet as the evaluation protocol shows it: the target cell empty (its own cell is
ignored even when present), and in the ``values`` setting no formulas at all, so the copy
baseline has nothing to copy there and returns ``[]``: it scores what it scores.
"""

from __future__ import annotations

from ..constants import CONTEXT_FORMULAS, ContextSetting
from ..references import format_a1
from ..sheet import Cell, CellType, Sheet
from ..suggest.neighbours import (
    COPY_PRECISION,
    DIRECTIONS,
    MAX_COPY_SCAN,
    RUN_CONTINUATION_PRECISION,
    FormulaIndex,
    check_arguments,
    copy_candidates,
    run_continuation,
    shift_formula,
)

__all__ = ["COPY_PRECISION", "MAX_COPY_SCAN", "RUN_CONTINUATION_PRECISION", "FormulaIndex", "copy_candidates", "rule_candidates",
           "run_continuation", "shift_formula"]

def _is_number(cell: Cell | None) -> bool:
    """A number, or a formula whose cached value is a number (never a date, bool or text)."""
    return cell is not None and cell.type is CellType.NUMBER and cell.value is not None


def _numeric_run(sheet: Sheet, row: int, col: int, step: tuple[int, int]) -> int:
    """How many numeric cells follow ``(row, col)`` in direction ``step`` without a gap."""
    n = 0
    r, c = row + step[0], col + step[1]
    while r >= 1 and c >= 1 and _is_number(sheet.get(r, c)):
        n += 1
        r, c = r + step[0], c + step[1]
    return n


def _sum_text(first: tuple[int, int], last: tuple[int, int]) -> str:
    if first == last:
        return f"=SUM({format_a1(*first)})"
    return f"=SUM({format_a1(*first)}:{format_a1(*last)})"


def rule_candidates(sheet: Sheet, row: int, col: int, *, context: ContextSetting, k: int = 5) -> list[str]:
    """What a spreadsheet offers for the empty cell ``(row, col)``, best first, at most ``k``.

    1. AutoSum: ``=SUM`` over the contiguous block of numeric cells directly above the cell
       (stopping at the first empty or non-numeric cell, i.e. before the header), and over the
       block directly to its left; the longer block first, the block above on a tie.
    2. Only in the ``formulas`` setting: the formula of the adjacent cell above, left, below and
       right, shifted to the cell (fill down / right / up / left).

    Returns distinct A1 texts starting with ``=``. Raises ValueError for an unknown setting or k < 1.
    """
    check_arguments(context, k)
    above = _numeric_run(sheet, row, col, (-1, 0))
    left = _numeric_run(sheet, row, col, (0, -1))
    sums: list[tuple[int, int, str]] = []  # (-length, tie rank, text)
    if above:
        sums.append((-above, 0, _sum_text((row - above, col), (row - 1, col))))
    if left:
        sums.append((-left, 1, _sum_text((row, col - left), (row, col - 1))))
    out = [text for _, _, text in sorted(sums)]
    if context == CONTEXT_FORMULAS:
        for dr, dc in DIRECTIONS:
            source = (row + dr, col + dc)
            cell = sheet.get(*source)
            if cell is None or cell.formula is None or cell.formula_kind == "data_table":
                continue
            shifted = shift_formula(cell.formula, source, (row, col))
            if shifted is not None:
                out.append(shifted)
    return list(dict.fromkeys(out))[:k]


