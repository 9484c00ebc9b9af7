"""Small in-memory sheets for unit tests (no file I/O): ``make_sheet({"A1": "Region", "B2": 5, "C2": "=A2*2"})``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from spreadsheetcoder.references import parse_a1
from spreadsheetcoder.sheet import Cell, CellType, Sheet, TableDef


def make_cell(value: Any, cached: Any = None) -> Cell:
    """A cell from a Python value; a string starting with '=' is a formula whose cached value is ``cached``."""
    if isinstance(value, str) and value.startswith("="):
        inner = make_cell(cached) if cached is not None else Cell(None, CellType.EMPTY)
        return Cell(inner.value, inner.type, formula=value)
    if value is None:
        return Cell(None, CellType.EMPTY)
    if isinstance(value, bool):
        return Cell(value, CellType.BOOL)
    if isinstance(value, (int, float)):
        return Cell(value, CellType.NUMBER)
    if isinstance(value, (dt.date, dt.datetime)):
        return Cell(value, CellType.DATE)
    if isinstance(value, str) and value.startswith("#"):
        return Cell(value, CellType.ERROR)
    return Cell(value, CellType.STRING)


def make_sheet(cells: dict[str, Any], name: str = "Sheet1", tables: list[TableDef] | None = None,
               merged: list[tuple[int, int, int, int]] | None = None) -> Sheet:
    """A sheet from ``{"A1": value}``; a ``(formula, cached)`` tuple gives a formula its cached value."""
    sheet = Sheet(name=name, tables=tables or [], merged=merged or [])
    for address, value in cells.items():
        row, col = parse_a1(address)
        cell = make_cell(*value) if isinstance(value, tuple) else make_cell(value)
        sheet.set(row, col, cell)
    return sheet


def grid(top_left: str, rows: list[list[Any]]) -> dict[str, Any]:
    """``{"A1": v}`` for a rectangular block of values starting at ``top_left``."""
    from spreadsheetcoder.references import format_a1

    r0, c0 = parse_a1(top_left)
    return {
        format_a1(r0 + i, c0 + j): v
        for i, line in enumerate(rows)
        for j, v in enumerate(line)
        if v is not None
    }
