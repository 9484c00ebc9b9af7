"""Small in-memory sheets for unit tests (no file I/O): ``make_sheet({"A1": "Region", "B2": 5, "C2": "=A2*2"})``;
``sample_books`` for a folder of the sample workbooks."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from spreadsheetcoder.references import parse_a1
from spreadsheetcoder.sheet import Cell, CellType, Sheet, TableDef
from tests.support.paths import SAMPLES


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


def sample_books(root: Path) -> Path:
    """A folder holding the top-level workbooks of sample_sheets/ only (copied), without the fill
    demos of sample_sheets/fill/ (the same workbooks with cells blanked), which would count twice."""
    folder = root / "sample_sheets"
    if not folder.is_dir():
        folder.mkdir(parents=True)
        for path in sorted(SAMPLES.glob("*.xlsx")):
            shutil.copyfile(path, folder / path.name)
    return folder
