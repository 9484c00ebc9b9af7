"""In-memory workbook the templates fill and the writer serialises.

``BookData`` holds ordered ``SheetData``, defined names and Excel tables. A sheet stores cells by
1-based ``(row, col)``; formula cells keep their text and the value computed with it. References
are built from the sheet they point at (``inputs.ref(12, 3, sheet=True)`` renders
``'Input Sheet'!C12``), so their value is read at the moment the formula is composed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils.cell import get_column_letter

from ...references import quote_sheet
from .expr import Expr, Span, final_value
from .values import Grid, Scalar

__all__ = ["BookData", "CellData", "SheetData", "Style", "TableDef", "a1"]

# Number format code (None = General) and bold flag; the writer turns each pair into one xf.
Style = tuple[str | None, bool]


def a1(row: int, col: int, abs_row: bool = False, abs_col: bool = False) -> str:
    """``(5, 2)`` -> ``B5``; with anchors ``$B$5``."""
    return f"{'$' if abs_col else ''}{get_column_letter(col)}{'$' if abs_row else ''}{row}"


@dataclass(slots=True)
class CellData:
    """One cell: its value, its formula text (no ``=``) and style.

    Attributes:
        group: fill group id; cells of one group hold the same relative formula (fill-down or
            fill-right) and may be written as one shared formula.
        array_ref: for the top-left cell of an array (CSE) formula, the range it covers.
        data_table: for the first result cell of a what-if data table (``{=TABLE(,B3)}``), the
            result range and the column input cell, written as ``<f t="dataTable" .../>``.
    """

    value: Scalar
    formula: str | None = None
    style: Style = (None, False)
    group: int | None = None
    array_ref: str | None = None
    data_table: tuple[str, str] | None = None


@dataclass
class TableDef:
    """An Excel table (ListObject): header row ``r1``, data rows ``r1+1..r2``, columns ``c1..c2``."""

    name: str
    sheet: SheetData
    r1: int
    c1: int
    r2: int
    c2: int
    columns: list[str]
    calculated: dict[str, str] = field(default_factory=dict)

    def col(self, name: str) -> int:
        return self.c1 + self.columns.index(name)

    def this_row(self, name: str, row: int) -> Expr:
        """``Table1[[#This Row],[Qty]]``: the column's cell in ``row``."""
        c = self.col(name)
        return Expr(f"{self.name}[[#This Row],[{name}]]", self.sheet.get(row, c),
                    span=Span(self.sheet, row, c, row, c))

    def column(self, name: str) -> Expr:
        """``Table1[Qty]``: the column's data cells."""
        c = self.col(name)
        return self.sheet.block_expr(f"{self.name}[{name}]", self.r1 + 1, c, self.r2, c)

    def body(self) -> Expr:
        """``Table1[]``: all data cells (what ``VLOOKUP(x,Table1[],3,FALSE)`` searches)."""
        return self.sheet.block_expr(f"{self.name}[]", self.r1 + 1, self.c1, self.r2, self.c2)


class SheetData:
    """A worksheet under construction: cells, merged ranges, column widths, tables."""

    def __init__(self, name: str, book: BookData) -> None:
        self.name = name
        self.book = book
        self.cells: dict[tuple[int, int], CellData] = {}
        self.merges: list[tuple[int, int, int, int]] = []
        self.widths: dict[int, float] = {}
        self.tables: list[TableDef] = []

    # -- constants -----------------------------------------------------------------------------
    def put(self, row: int, col: int, value: Scalar, fmt: str | None = None, bold: bool = False) -> None:
        """Store a constant (None leaves the cell blank but keeps any style).

        Raises ``ValueError`` over a formula cell: formulas may already have read this cell's
        neighbours, so layouts must not overlap.
        """
        old = self.cells.get((row, col))
        if old is not None and old.formula is not None:
            raise ValueError(f"{self.name}!{a1(row, col)} holds a formula; a constant would replace it")
        self.cells[(row, col)] = CellData(value, None, (fmt, bold))

    def get(self, row: int, col: int) -> Scalar:
        cell = self.cells.get((row, col))
        return None if cell is None else cell.value

    def merge(self, r1: int, c1: int, r2: int, c2: int) -> None:
        self.merges.append((r1, c1, r2, c2))

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)

    # -- formulas ------------------------------------------------------------------------------
    def formula(self, row: int, col: int, e: Expr, fmt: str | None = None, group: int | None = None,
                array: str | None = None) -> Expr:
        """Write ``=e`` into a cell with its computed value; returns a reference to the cell.

        ``group`` marks fill-down/fill-right runs (same relative formula); ``array`` makes it a
        CSE array formula over that range (the caller writes the other cells' values).
        """
        old = self.cells.get((row, col))
        if old is not None and (old.formula is not None or old.value is not None):
            raise ValueError(f"{self.name}!{a1(row, col)} is not empty")
        if e.home is not None and e.home is not self:
            raise ValueError(f"{self.name}!{a1(row, col)}: ={e.text} has unqualified references to "
                             f"sheet {e.home.name!r}")
        self.cells[(row, col)] = CellData(final_value(e.value), e.text, (fmt, False), group, array)
        return self.ref(row, col)

    def new_group(self) -> int:
        return self.book.next_id()

    # -- references ----------------------------------------------------------------------------
    def prefix(self) -> str:
        return quote_sheet(self.name) + "!"

    def ref(self, row: int, col: int, abs_row: bool = False, abs_col: bool = False,
            sheet: bool = False) -> Expr:
        """A single-cell reference; ``sheet=True`` qualifies it with this sheet's (quoted) name."""
        text = (self.prefix() if sheet else "") + a1(row, col, abs_row, abs_col)
        return Expr(text, self.get(row, col), span=Span(self, row, col, row, col), home=None if sheet else self)

    def absref(self, row: int, col: int, sheet: bool = False) -> Expr:
        return self.ref(row, col, True, True, sheet)

    def grid(self, r1: int, c1: int, r2: int, c2: int) -> Grid:
        get = self.cells.get
        rows = []
        for r in range(r1, r2 + 1):
            row = []
            for c in range(c1, c2 + 1):
                cell = get((r, c))
                row.append(None if cell is None else cell.value)
            rows.append(tuple(row))
        return tuple(rows)

    def block_expr(self, text: str, r1: int, c1: int, r2: int, c2: int, local: bool = False) -> Expr:
        """A range expression with the given text; ``local`` when the text is unqualified A1."""
        return Expr(text, self.grid(r1, c1, r2, c2), span=Span(self, r1, c1, r2, c2), home=self if local else None)

    def rng(self, r1: int, c1: int, r2: int, c2: int, abs_rows: bool = False, abs_cols: bool = False,
            sheet: bool = False) -> Expr:
        """A range such as ``B2:B250`` (``$B$2:$B$250`` with both anchors)."""
        text = (self.prefix() if sheet else "") + \
            f"{a1(r1, c1, abs_rows, abs_cols)}:{a1(r2, c2, abs_rows, abs_cols)}"
        return self.block_expr(text, r1, c1, r2, c2, local=not sheet)

    def cols(self, c1: int, c2: int | None = None, absolute: bool = True, sheet: bool = False) -> Expr:
        """A whole-column reference such as ``$K:$K``; its value covers rows 1..max_row.

        Only for columns that are complete when the formula is built (another sheet, usually).
        """
        c2 = c1 if c2 is None else c2
        d = "$" if absolute else ""
        text = (self.prefix() if sheet else "") + f"{d}{get_column_letter(c1)}:{d}{get_column_letter(c2)}"
        return self.block_expr(text, 1, c1, max(self.max_row, 1), c2, local=not sheet)


class BookData:
    """A workbook under construction: sheets in tab order, defined names, tables, id counter."""

    def __init__(self) -> None:
        self.sheets: list[SheetData] = []
        self.names: dict[str, Span] = {}
        self._ids = 0

    def next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add_sheet(self, name: str) -> SheetData:
        """A new sheet; the name is made unique (Excel compares names case-insensitively)."""
        base, k = name[:31], 2
        taken = {s.name.lower() for s in self.sheets}
        while name.lower() in taken or not name:
            suffix = f" ({k})"
            name, k = base[: 31 - len(suffix)] + suffix, k + 1
        sheet = SheetData(name[:31], self)
        self.sheets.append(sheet)
        return sheet

    def sheet_names(self) -> set[str]:
        return {s.name.lower() for s in self.sheets}

    def define(self, name: str, sheet: SheetData, r1: int, c1: int, r2: int | None = None,
               c2: int | None = None) -> Expr:
        """Define a workbook-scope name over a cell or range; returns the name as an expression."""
        span = Span(sheet, r1, c1, r1 if r2 is None else r2, c1 if c2 is None else c2)
        if name.lower() in {n.lower() for n in self.names}:
            raise ValueError(f"defined name {name!r} already exists")
        self.names[name] = span
        return self.name(name)

    def name(self, name: str) -> Expr:
        """A defined name as an expression (its value is read now)."""
        span = self.names[name]
        if span.shape == (1, 1):
            return Expr(name, span.sheet.get(span.r1, span.c1), span=span)
        return Expr(name, span.sheet.grid(span.r1, span.c1, span.r2, span.c2), span=span)

    def table_names(self) -> set[str]:
        return {t.name.lower() for s in self.sheets for t in s.tables}

    def add_table(self, sheet: SheetData, name: str, r1: int, c1: int, r2: int, columns: list[str]) -> TableDef:
        """Register an Excel table whose header cells (row ``r1``) hold ``columns``."""
        base, k = name, 2
        taken = self.table_names() | {n.lower() for n in self.names}
        while name.lower() in taken:
            name, k = f"{base}{k}", k + 1
        table = TableDef(name, sheet, r1, c1, r2, c1 + len(columns) - 1, columns)
        sheet.tables.append(table)
        return table
