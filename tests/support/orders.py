"""A small order workbook with cached values (built in memory, no file): the mutation and
checker tests inject their mistakes into it."""

from __future__ import annotations

from typing import Any

from spreadsheetcoder.formula import parse_formula
from spreadsheetcoder.references import parse_a1
from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook
from spreadsheetcoder.suggest.engine import NotComputable, SheetEngine
from spreadsheetcoder.values import ExcelError, ExcelValue

__all__ = ["ITEMS", "LIST_PRICES", "book_sheet", "order_book", "settle"]

ITEMS = [("Pens", 10, 1.5), ("Paper", 4, 6.0), ("Ink", 2, 24.0), ("Clips", 30, 0.2), ("Tape", 5, 2.5),
         ("Stapler", 1, 15.0)]
LIST_PRICES = [1.25, 5.5, 25.0, 0.25, 2.0, 14.0]


def _cell(value: Any) -> Cell:
    if isinstance(value, str) and value.startswith("="):
        return Cell(None, CellType.EMPTY, formula=value)
    if isinstance(value, (int, float)):
        return Cell(value, CellType.NUMBER)
    return Cell(value, CellType.STRING)


def _shown(cell: Cell, value: ExcelValue) -> Cell:
    if isinstance(value, ExcelError):
        return Cell(value.code, CellType.ERROR, formula=cell.formula)
    if isinstance(value, str):
        return Cell(value, CellType.STRING, formula=cell.formula)
    return Cell(value, CellType.BOOL if isinstance(value, bool) else CellType.NUMBER, formula=cell.formula)


def book_sheet(name: str, cells: dict[str, Any]) -> Sheet:
    sheet = Sheet(name)
    for address, value in cells.items():
        sheet.set(*parse_a1(address), _cell(value))
    return sheet


def settle(book: Workbook) -> Workbook:
    """Cached values for every formula the engine computes (a few passes reach the fixpoint)."""
    engine = SheetEngine(book)
    for _ in range(4):
        for sheet in book.sheets:
            for row, col, cell in sheet.formula_cells():
                try:
                    value = engine.compute(parse_formula(cell.formula or "", (row, col)), sheet, (row, col))
                except NotComputable:
                    continue
                sheet.cells[(row, col)] = _shown(cell, value)
    return book


def order_book(extra: dict[str, Any] | None = None) -> Workbook:
    """Orders (Qty, Price, Amount = Qty*Price, Tax = Amount*$F$1, Share = Amount/$D$10, Price vs the
    Prices sheet, a Total row), Prices, and a Summary reading the totals."""
    orders: dict[str, Any] = {"E1": "Rate", "F1": 0.08, "A3": "Item", "B3": "Qty", "C3": "Price",
                              "D3": "Amount", "E3": "Tax", "F3": "Share", "G3": "vs list"}
    for i, (item, qty, price) in enumerate(ITEMS):
        r = 4 + i
        orders.update({f"A{r}": item, f"B{r}": qty, f"C{r}": price, f"D{r}": f"=B{r}*C{r}",
                       f"E{r}": f"=D{r}*$F$1", f"F{r}": f"=D{r}/$D$10", f"G{r}": f"=C{r}/Prices!B{r - 2}"})
    orders.update({"A10": "Total", "B10": "=SUM(B4:B9)", "D10": "=SUM(D4:D9)", "E10": "=SUM(E4:E9)",
                   "F10": "=SUM(F4:F9)", "G10": "=MAX(G4:G9)", "A11": "=COUNTA(A4:A9)"})
    orders.update(extra or {})
    prices: dict[str, Any] = {"A1": "Item", "B1": "List price"}
    for i, ((item, _, _), price) in enumerate(zip(ITEMS, LIST_PRICES, strict=True)):
        prices.update({f"A{i + 2}": item, f"B{i + 2}": price})
    summary = {"A1": "Total amount", "B1": "=Orders!D10", "A2": "Total tax", "B2": "=Orders!E10",
               "A3": "Grand total", "B3": "=B1+B2"}
    sheets = [book_sheet("Orders", orders), book_sheet("Prices", prices), book_sheet("Summary", summary)]
    return settle(Workbook("orders.xlsx", sheets))
