"""Reference-returning constructs: OFFSET, INDIRECT, INDEX as a range end, ROW()/COLUMN() of the host.

These need the workbook, not only values, so they are builders rather than registered functions.
OFFSET and INDIRECT are volatile in Excel but deterministic in value, so generated files stay
reproducible; templates use them sparingly, as real workbooks do.
"""

from __future__ import annotations

from openpyxl.utils.cell import range_boundaries

from ...references import unquote_sheet
from .book import BookData, SheetData
from .expr import Expr, Operand, SheetLike, Span, home_of, lift
from .values import REF, to_number, to_text

__all__ = ["column_here", "index_ref", "indirect", "offset", "range_to", "row_here"]


def row_here(row: int) -> Expr:
    """``ROW()`` in a cell of row ``row``."""
    return Expr("ROW()", float(row))


def column_here(col: int) -> Expr:
    """``COLUMN()`` in a cell of column ``col``."""
    return Expr("COLUMN()", float(col))


def _span_expr(text: str, sheet: SheetLike, r1: int, c1: int, r2: int, c2: int, parts: list[Expr]) -> Expr:
    home = home_of(parts)
    if r1 < 1 or c1 < 1:
        return Expr(text, REF, home=home)
    if (r1, c1) == (r2, c2):
        return Expr(text, sheet.get(r1, c1), span=Span(sheet, r1, c1, r1, c1), home=home)
    return Expr(text, sheet.grid(r1, c1, r2, c2), span=Span(sheet, r1, c1, r2, c2), home=home)


def offset(base: Expr, rows: Operand, cols: Operand, height: Operand | None = None,
           width: Operand | None = None) -> Expr:
    """``OFFSET(base,rows,cols[,height,width])`` as a reference (usable inside SUM, etc.)."""
    assert base.span is not None, "OFFSET needs a reference"
    args = [base, lift(rows), lift(cols)] + [lift(x) for x in (height, width) if x is not None]
    text = f"OFFSET({','.join(a.text for a in args)})"
    s = base.span
    dr, dc = int(to_number(args[1].value)), int(to_number(args[2].value))
    h = int(to_number(args[3].value)) if len(args) > 3 else s.r2 - s.r1 + 1
    w = int(to_number(args[4].value)) if len(args) > 4 else s.c2 - s.c1 + 1
    r1, c1 = s.r1 + dr, s.c1 + dc
    return _span_expr(text, s.sheet, r1, c1, r1 + h - 1, c1 + w - 1, args)


def indirect(book: BookData, host: SheetData, address: Expr) -> Expr:
    """``INDIRECT(address)`` for A1-style text such as ``"B3"`` or ``"'Q1 Sales'!C"&ROW()``."""
    target = to_text(address.value)
    sheet = host
    if "!" in target:
        name, _, target = target.rpartition("!")
        name = unquote_sheet(name)
        sheet = next(s for s in book.sheets if s.name.lower() == name.lower())
    c1, r1, c2, r2 = range_boundaries(target.replace("$", ""))
    assert c1 is not None and r1 is not None and c2 is not None and r2 is not None
    return _span_expr(f"INDIRECT({address.text})", sheet, r1, c1, r2, c2, [address])


def range_to(start: Expr, end: Expr) -> Expr:
    """``start:end`` where ``end`` is a reference expression such as ``INDEX(C:C,n)``."""
    assert start.span is not None and end.span is not None
    s, e = start.span, end.span
    return _span_expr(f"{start.text}:{end.text}", s.sheet, min(s.r1, e.r1), min(s.c1, e.c1),
                      max(s.r2, e.r2), max(s.c2, e.c2), [start, end])


def index_ref(area: Expr, row: Operand, col: Operand | None = None) -> Expr:
    """``INDEX(area,row[,col])`` as a reference (for ``A2:INDEX(A:A,n)`` ranges)."""
    assert area.span is not None
    args = [area, lift(row)] + ([lift(col)] if col is not None else [])
    s = area.span
    r = s.r1 + int(to_number(args[1].value)) - 1
    c = s.c1 + (int(to_number(args[2].value)) - 1 if col is not None else 0)
    return _span_expr(f"INDEX({','.join(a.text for a in args)})", s.sheet, r, c, r, c, args)

