"""Cell values as Excel shows them: ``ExcelValue`` (a float, text, a bool or an ``ExcelError``),
``cached_value`` (what a stored cell shows) and ``values_equal`` (equality of shown values).

Shared by the suggestion engine (``suggest/``) and the evaluation harness (``evaluation/``).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from openpyxl.utils.datetime import to_excel

from .sheet import Cell, CellType

__all__ = ["ABS_TOL", "REL_TOL", "ExcelError", "ExcelValue", "cached_value", "values_equal"]

# Tolerances of numeric equality (cached values are rounded to 15-17 significant digits).
REL_TOL = 1e-9
ABS_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class ExcelError:
    """An Excel error value, by its code (``"#DIV/0!"``)."""

    code: str


ExcelValue = float | str | bool | ExcelError


def cached_value(cell: Cell) -> ExcelValue | None:
    """The value a cell shows, as an ``ExcelValue``; None when the file holds none."""
    if cell.value is None or cell.type is CellType.EMPTY:
        return None
    value = cell.value
    if cell.type is CellType.ERROR:
        return ExcelError(str(value))
    if cell.type is CellType.BOOL:
        return bool(value)
    if cell.type is CellType.DATE:
        if not isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
            return None
        return float(to_excel(value))
    if cell.type is CellType.NUMBER and isinstance(value, (int, float)):
        return float(value)
    return str(value)


def values_equal(a: ExcelValue, b: ExcelValue) -> bool:
    """Equal shown values: numbers within 1e-9 (relative or absolute), text exactly, bools and
    errors by value. A number never equals a bool (Excel keeps them apart too)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return type(a) is type(b) and a == b
