"""Builders for the suggestion tests: real .xlsx files with formulas and their cached values.

``write_book(path, {"Sheet": {"B2": 3.0, "D2": ("=B2*C2", 6.0)}})`` writes a workbook through the
synthetic generator's writer (which stores cached values, unlike openpyxl) and returns it read back
with ``read_workbook``, so the tests see exactly what a user's file gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spreadsheetcoder.data.synthetic.book import BookData, CellData
from spreadsheetcoder.data.synthetic.xlsx import write_xlsx
from spreadsheetcoder.references import parse_a1
from spreadsheetcoder.sheet import Workbook
from spreadsheetcoder.xlsx.reader import read_workbook

Cells = dict[str, Any]  # A1 -> value, or (formula, cached value)


def write_book(path: Path, sheets: dict[str, Cells]) -> Workbook:
    book = BookData()
    for name, cells in sheets.items():
        sheet = book.add_sheet(name)
        for ref, content in cells.items():
            row, col = parse_a1(ref)
            if isinstance(content, tuple):
                formula, value = content
                sheet.cells[(row, col)] = CellData(value, formula.lstrip("="))
            else:
                sheet.cells[(row, col)] = CellData(content)
    write_xlsx(book, path)
    return read_workbook(path)


def priced_table(rows: int = 6, total: bool = True) -> Cells:
    """A sales table: Item | Qty | Price | Amount (=Qty*Price filled down) and a Total row."""
    cells: Cells = {"A1": "Item", "B1": "Qty", "C1": "Price", "D1": "Amount"}
    amounts = []
    for k in range(rows):
        r = k + 2
        qty, price = float(3 + 2 * k), float(10 + 5 * (k % 3)) + 0.5
        cells[f"A{r}"] = f"Item {k + 1}"
        cells[f"B{r}"] = qty
        cells[f"C{r}"] = price
        cells[f"D{r}"] = (f"=B{r}*C{r}", qty * price)
        amounts.append(qty * price)
    if total:
        r = rows + 2
        cells[f"A{r}"] = "Total"
        cells[f"D{r}"] = (f"=SUM(D2:D{r - 1})", sum(amounts))
    return cells
