"""The context of a target cell: a 21 x 21 window of typed cell texts plus the table's header rows.

The target is masked, cells outside the sheet are padded (the window is never shifted at an edge),
and the two settings of DESIGN.md are supported: ``values`` (other formula cells show their cached
value only) and ``formulas`` (their relative formula is visible too). At inference an empty cell the
user names gets exactly the same context as a masked target does in training.

``SheetContext`` caches per-sheet work (the row index for header search, each cell's text) so that
many targets of one sheet cost little more than one.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .constants import (
    CONTEXT_FORMULAS,
    CONTEXT_SETTINGS,
    DEFAULT_CONTEXT,
    FORMULA_SEPARATOR,
    MAX_CELL_CHARS,
    MAX_COL,
    MAX_FORMULA_CHARS_SHOWN,
    MAX_ROW,
    TAG_EMPTY,
    TAG_MASK,
    TAG_PAD,
    WINDOW_RADIUS,
    ContextSetting,
)
from .errors import ConfigError, FormulaError
from .formula import parse_formula, relative_formula
from .sheet import Cell, CellType, Sheet
from .tables import RowIndex, find_header_rows

__all__ = ["ContextWindow", "SheetContext", "cell_text", "check_context", "extract_context", "format_value", "stored_context"]


def format_number(value: float) -> str:
    """Shortest faithful text of a number: ``1250``, ``1250.5``, ``0.0725``, ``1.5e+20``."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


def format_value(cell: Cell) -> str:
    """Typed text of a cell's value: ``num:1250.5``, ``str:Revenue``, ``date:2024-03-31``, ``empty``."""
    value = cell.value
    kind = cell.type
    if kind is CellType.EMPTY or value is None:
        return TAG_EMPTY
    if kind is CellType.NUMBER:
        text = format_number(value) if isinstance(value, (int, float)) else str(value)
    elif kind is CellType.BOOL:
        text = "TRUE" if value else "FALSE"
    elif kind is CellType.DATE:
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            text = value.date().isoformat()
        elif isinstance(value, (dt.datetime, dt.date, dt.time)):
            text = value.isoformat()
        else:
            text = str(value)
    else:
        text = " ".join(str(value).split())
    return f"{kind.value}:{text[:MAX_CELL_CHARS]}"


def _outside(row: int, col: int) -> bool:
    return row < 1 or col < 1 or row > MAX_ROW or col > MAX_COL


def cell_text(cell: Cell | None, row: int, col: int, context: ContextSetting) -> str:
    """Typed text of the cell at ``(row, col)`` as the context setting ``context`` shows it."""
    if _outside(row, col):
        return TAG_PAD
    if cell is None:
        return TAG_EMPTY
    text = format_value(cell)
    if context == CONTEXT_FORMULAS and cell.formula is not None:
        try:
            shown = relative_formula(parse_formula(cell.formula, (row, col)))
        except FormulaError:
            shown = cell.formula  # unrepresentable neighbours are still shown, as written
        text = f"{text}{FORMULA_SEPARATOR}{shown[:MAX_FORMULA_CHARS_SHOWN]}"
    return text



def check_context(context: str) -> ContextSetting:
    """The one check of a context setting: ``values`` or ``formulas``, else ``ConfigError``."""
    if context not in CONTEXT_SETTINGS:
        raise ConfigError(f"unknown context setting {context!r}; expected one of {CONTEXT_SETTINGS}")
    return context  # narrowed to ContextSetting by the membership test


def stored_context(data: Mapping[str, Any]) -> ContextSetting:
    """The context setting written in a stored window or cache configuration (files written before
    the name was unified call it ``setting``)."""
    return check_context(data["context"] if "context" in data else data["setting"])

@dataclass
class ContextWindow:
    """The context of one target.

    Attributes:
        sheet: the sheet name.
        row, col: the target cell (1-based).
        context: ``values`` or ``formulas``.
        radius: half-size of the window; it spans ``2 * radius + 1`` rows and columns.
        header_rows: sheet rows of the table header (top to bottom), possibly empty.
        headers: ``len(header_rows)`` lists of ``2 * radius + 1`` texts (columns ``col - radius ..``).
        cells: ``2 * radius + 1`` rows of ``2 * radius + 1`` texts; ``cells[radius][radius]`` is the
            masked target.
    """

    sheet: str
    row: int
    col: int
    context: ContextSetting
    radius: int
    header_rows: tuple[int, ...]
    headers: list[list[str]]
    cells: list[list[str]]

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON form: only cells other than ``empty`` and ``pad`` are listed, as [i, j, text]."""

        def sparse(grid: list[list[str]]) -> list[list[Any]]:
            return [
                [i, j, text]
                for i, line in enumerate(grid)
                for j, text in enumerate(line)
                if text not in (TAG_EMPTY, TAG_PAD)
            ]

        return {
            "sheet": self.sheet,
            "row": self.row,
            "col": self.col,
            "context": self.context,
            "radius": self.radius,
            "header_rows": list(self.header_rows),
            "headers": sparse(self.headers),
            "cells": sparse(self.cells),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContextWindow:
        radius = int(data["radius"])
        row, col = int(data["row"]), int(data["col"])
        size = 2 * radius + 1

        def dense(items: list[list[Any]], n_rows: int, rows: list[int]) -> list[list[str]]:
            grid = [
                [TAG_PAD if _outside(rows[i], col - radius + j) else TAG_EMPTY for j in range(size)]
                for i in range(n_rows)
            ]
            for i, j, text in items:
                grid[i][j] = text
            return grid

        header_rows = [int(r) for r in data["header_rows"]]
        window_rows = [row - radius + i for i in range(size)]
        return cls(
            sheet=data["sheet"],
            row=row,
            col=col,
            context=stored_context(data),
            radius=radius,
            header_rows=tuple(header_rows),
            headers=dense(data["headers"], len(header_rows), header_rows),
            cells=dense(data["cells"], size, window_rows),
        )


class SheetContext:
    """Builds context windows for cells of one sheet, caching what targets of the sheet share."""

    def __init__(self, sheet: Sheet, context: ContextSetting = DEFAULT_CONTEXT, radius: int = WINDOW_RADIUS) -> None:
        self.sheet = sheet
        self.context = check_context(context)
        self.radius = radius
        self.index = RowIndex.build(sheet)
        self._texts: dict[tuple[int, int], str] = {}

    def text(self, row: int, col: int) -> str:
        key = (row, col)
        text = self._texts.get(key)
        if text is None:
            text = cell_text(self.sheet.get(row, col), row, col, self.context)
            self._texts[key] = text
        return text

    def header_rows(self, row: int, col: int) -> tuple[int, ...]:
        # Header detection looks at the standard window whatever radius the context is cut to, so a
        # wider extract (for a tiling encoder) finds the same headers as inference does.
        return find_header_rows(self.sheet, row, col, radius=WINDOW_RADIUS, index=self.index)

    def window(self, row: int, col: int) -> ContextWindow:
        """Context of cell ``(row, col)``, which is masked whatever it holds."""
        if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
            raise ValueError(f"cell ({row}, {col}) is outside the sheet")
        r = self.radius
        cols = range(col - r, col + r + 1)
        header_rows = self.header_rows(row, col)
        headers = [[self.text(hr, c) for c in cols] for hr in header_rows]
        cells = [[self.text(row + i, c) for c in cols] for i in range(-r, r + 1)]
        cells[r][r] = TAG_MASK
        for h, hr in enumerate(header_rows):  # a header row never reveals the target itself
            if hr == row:
                headers[h][r] = TAG_MASK
        return ContextWindow(
            sheet=self.sheet.name,
            row=row,
            col=col,
            context=self.context,
            radius=r,
            header_rows=header_rows,
            headers=headers,
            cells=cells,
        )


def extract_context(
    sheet: Sheet, row: int, col: int, context: ContextSetting = DEFAULT_CONTEXT, radius: int = WINDOW_RADIUS
) -> ContextWindow:
    """Context window of cell ``(row, col)`` of ``sheet`` (target masked, edges padded).

    For many cells of one sheet, build one ``SheetContext`` and call ``window`` on it instead.
    """
    return SheetContext(sheet, context, radius).window(row, col)
