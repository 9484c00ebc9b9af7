"""Small helpers shared by the mutations and the baselines: cell keys, relative forms, numbers."""

from __future__ import annotations

from ..errors import FormulaError
from ..formula import Formula, parse_formula, relative_formula
from ..sheet import Cell, CellType, Sheet

__all__ = ["CellKey", "is_number_constant", "parsed_formula", "relative_forms"]

# A cell of a workbook: (sheet name as the workbook spells it, row, col), 1-based.
CellKey = tuple[str, int, int]


def parsed_formula(cell: Cell | None, row: int, col: int) -> Formula | None:
    """The parsed formula of a plain formula cell (not an array formula or a data table), or None
    when the cell holds none or the formula cannot be represented."""
    if cell is None or cell.formula is None or cell.formula_kind is not None:
        return None
    try:
        return parse_formula(cell.formula, (row, col))
    except (FormulaError, ValueError):
        return None


def relative_forms(sheet: Sheet) -> dict[tuple[int, int], str]:
    """R1C1 text of every representable plain formula of ``sheet``, by ``(row, col)``: the key
    under which a filled-down or filled-right copy equals the cell it was copied from."""
    forms: dict[tuple[int, int], str] = {}
    for row, col, cell in sheet.formula_cells():
        formula = parsed_formula(cell, row, col)
        if formula is not None:
            forms[(row, col)] = relative_formula(formula)
    return forms


def is_number_constant(cell: Cell | None) -> bool:
    """A typed number (or date, which Excel stores as a number), not a formula."""
    return (
        cell is not None
        and cell.formula is None
        and cell.type in (CellType.NUMBER, CellType.DATE)
        and not isinstance(cell.value, bool)
        and cell.value is not None
    )
