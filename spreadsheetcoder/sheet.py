"""In-memory model of a workbook: typed cells on a sparse grid. No I/O here (see reader.py)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from dataclasses import dataclass, field

from .constants import TAG_BOOL, TAG_DATE, TAG_EMPTY, TAG_ERROR, TAG_NUMBER, TAG_STRING

__all__ = ["Cell", "CellType", "Sheet", "TableDef", "Workbook"]

CellValue = float | int | str | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None


class CellType(str, enum.Enum):
    """Type of a cell's value (for a formula cell: of its cached value)."""

    NUMBER = TAG_NUMBER
    STRING = TAG_STRING
    DATE = TAG_DATE
    BOOL = TAG_BOOL
    ERROR = TAG_ERROR
    EMPTY = TAG_EMPTY


@dataclass(slots=True)
class Cell:
    """One cell of a sheet.

    Attributes:
        value: the value; for a formula cell its cached value (``None`` when the file stores none).
            Errors are their text (``"#DIV/0!"``), dates ``datetime``/``date``/``time``.
        type: the type of ``value``.
        formula: formula text starting with ``=`` as Excel shows it (shared formulas expanded to
            this cell), or ``None`` for a constant.
        formula_kind: ``None`` for a plain formula, ``"array"`` or ``"data_table"``.
        number_format: the number format code, ``None`` for ``General``.
    """

    value: CellValue
    type: CellType
    formula: str | None = None
    formula_kind: str | None = None
    number_format: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.type is CellType.EMPTY and self.formula is None


@dataclass(slots=True)
class TableDef:
    """An Excel table (ListObject) on a sheet: ``ref`` is its A1 area including header and totals."""

    name: str
    ref: str
    min_row: int
    min_col: int
    max_row: int
    max_col: int
    columns: list[str]
    header_rows: int = 1
    totals_rows: int = 0

    def contains(self, row: int, col: int) -> bool:
        return self.min_row <= row <= self.max_row and self.min_col <= col <= self.max_col


@dataclass
class Sheet:
    """A worksheet as a sparse grid of typed cells, 1-based ``(row, col)`` like Excel.

    Cells with neither value nor formula are not stored; ``get`` returns ``None`` for them.
    """

    name: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # (min_row, min_col, max_row, max_col)
    tables: list[TableDef] = field(default_factory=list)
    defined_names: dict[str, str] = field(default_factory=dict)  # sheet-scoped name -> refers-to text
    max_row: int = 0
    max_col: int = 0

    def get(self, row: int, col: int) -> Cell | None:
        return self.cells.get((row, col))

    def set(self, row: int, col: int, cell: Cell) -> None:
        self.cells[(row, col)] = cell
        self.max_row = max(self.max_row, row)
        self.max_col = max(self.max_col, col)

    def formula_cells(self) -> Iterator[tuple[int, int, Cell]]:
        """Formula cells in reading order (row by row, left to right)."""
        for (row, col) in sorted(k for k, c in self.cells.items() if c.formula is not None):
            yield row, col, self.cells[(row, col)]

    def table_at(self, row: int, col: int) -> TableDef | None:
        for table in self.tables:
            if table.contains(row, col):
                return table
        return None

    def merged_at(self, row: int, col: int) -> tuple[int, int, int, int] | None:
        for span in self.merged:
            if span[0] <= row <= span[2] and span[1] <= col <= span[3]:
                return span
        return None


@dataclass
class Workbook:
    """A workbook: its worksheets in tab order and its workbook-scoped defined names."""

    path: str
    sheets: list[Sheet]
    defined_names: dict[str, str] = field(default_factory=dict)  # name -> refers-to text

    @property
    def sheet_names(self) -> list[str]:
        return [s.name for s in self.sheets]

    def sheet(self, name: str) -> Sheet:
        """The sheet called ``name`` (an exact match first, then case-insensitively, as Excel
        matches); ``KeyError`` listing the workbook's sheets when there is none."""
        for s in self.sheets:
            if s.name == name:
                return s
        for s in self.sheets:  # Excel sheet names are case-insensitive
            if s.name.lower() == name.lower():
                return s
        raise KeyError(f"no worksheet named {name!r}; worksheets: {self.sheet_names}")

    def sheet_or_first(self, name: str | None) -> Sheet:
        """The sheet called ``name``, or the first sheet when no name is given (``None`` or empty);
        ``KeyError`` listing the workbook's sheets otherwise."""
        if name:
            return self.sheet(name)
        if not self.sheets:
            raise KeyError(f"the workbook has no worksheets: {self.path}")
        return self.sheets[0]
