"""check/baselines.py (issue 15): Excel's error-checking rules and the ExceLint-style fingerprint
outliers on a small order table: clean tables give no flags, planted mistakes are flagged."""

from __future__ import annotations

from typing import Any

import pytest

from spreadsheetcoder.check import excelint_flags, inconsistent_formula_flags
from spreadsheetcoder.check.excelint import DATA, fingerprint, regions
from spreadsheetcoder.formula import parse_formula
from spreadsheetcoder.references import parse_a1
from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook

ROWS = [("Pens", 10, 1.5), ("Paper", 4, 6.0), ("Ink", 2, 24.0), ("Clips", 30, 0.2), ("Tape", 5, 2.5),
        ("Stapler", 1, 15.0), ("Folders", 12, 0.75), ("Labels", 3, 4.0)]


def _cell(value: Any) -> Cell:
    if isinstance(value, str) and value.startswith("="):
        return Cell(1.0, CellType.NUMBER, formula=value)  # the rules read formulas, not their values
    if isinstance(value, (int, float)):
        return Cell(value, CellType.NUMBER)
    return Cell(value, CellType.STRING)


def orders(changes: dict[str, Any] | None = None) -> Workbook:
    """Item, Qty, Price, Amount = Qty*Price, Tax = Amount*$F$1, Share = Amount/$D$12 filled down
    rows 4-11, a Total row of SUMs, and a Summary sheet reading the totals."""
    cells: dict[str, Any] = {"E1": "Rate", "F1": 0.08, "A3": "Item", "B3": "Qty", "C3": "Price",
                             "D3": "Amount", "E3": "Tax", "F3": "Share"}
    for i, (item, qty, price) in enumerate(ROWS):
        r = 4 + i
        cells.update({f"A{r}": item, f"B{r}": qty, f"C{r}": price, f"D{r}": f"=B{r}*C{r}",
                      f"E{r}": f"=D{r}*$F$1", f"F{r}": f"=D{r}/$D$12"})
    cells.update({"A12": "Total", "B12": "=SUM(B4:B11)", "D12": "=SUM(D4:D11)", "E12": "=SUM(E4:E11)",
                  "F12": "=SUM(F4:F11)"})
    cells.update(changes or {})
    sheet = Sheet("Orders")
    for address, value in cells.items():
        if value is not None:
            sheet.set(*parse_a1(address), _cell(value))
    summary = Sheet("Summary")
    for address, value in {"A1": "Amount", "B1": "=Orders!D12", "A2": "Tax", "B2": "=Orders!E12",
                           "A3": "Total", "B3": "=B1+B2"}.items():
        summary.set(*parse_a1(address), _cell(value))
    return Workbook("orders.xlsx", [sheet, summary])


def _cells(flags: list[Any]) -> list[tuple[str, int, int]]:
    return [(f.sheet, f.row, f.col) for f in flags]


def test_clean_table_gives_no_flags() -> None:
    book = orders()
    assert inconsistent_formula_flags(book) == []
    assert excelint_flags(book) == []


@pytest.mark.parametrize("planted", ["=B7*C6", "=B7*D7", "=B7+C7", "=B8*C7"])
def test_planted_inconsistent_formula_is_flagged_by_both(planted: str) -> None:
    book = orders({"D7": planted})
    excel = inconsistent_formula_flags(book)
    assert _cells(excel) == [("Orders", 7, 4)]
    assert excel[0].reason == "inconsistent_formula" and excel[0].score == 1.0
    lint = excelint_flags(book)
    if planted == "=B7+C7":  # same references, another operator: invisible to fingerprints
        assert lint == []
        return
    assert _cells(lint)[0] == ("Orders", 7, 4)
    assert lint[0].reason == "fingerprint_outlier" and lint[0].score > 0
    assert "D" in lint[0].detail


def test_number_among_formulas() -> None:
    book = orders({"E8": 3.84})  # the tax typed over its formula
    excel = inconsistent_formula_flags(book)
    assert [(f.row, f.col, f.reason) for f in excel] == [(8, 5, "number_among_formulas")]
    assert (8, 5) in [(f.row, f.col) for f in excelint_flags(book)]


def test_first_cell_of_a_run_differs_from_excel_to_excelint() -> None:
    # Excel needs consistent formulas on both sides: the head of a run is never flagged
    book = orders({"D4": "=B5*C4"})
    assert inconsistent_formula_flags(book) == []
    assert _cells(excelint_flags(book)) == [("Orders", 4, 4)]


def test_total_that_stops_a_row_short() -> None:
    book = orders({"D12": "=SUM(D4:D10)"})
    excel = inconsistent_formula_flags(book)
    assert [(f.row, f.col, f.reason, f.score) for f in excel] == [(12, 4, "omits_adjacent_cells", 0.5)]
    assert "D11" in excel[0].detail
    # ExceLint misses it: D12 reads most of D4:D11 (a total of it, not a copy of its formulas),
    # and beside E12:F12 it is one cell in three, over MINORITY
    assert excelint_flags(book) == []


def test_running_total_is_flagged_as_excel_does() -> None:
    book = orders({f"G{r}": f"=SUM($D$4:D{r})" for r in range(4, 12)})
    flagged = {(f.row, f.col) for f in inconsistent_formula_flags(book) if f.reason == "omits_adjacent_cells"}
    assert flagged == {(r, 7) for r in range(4, 11)}  # G11 reaches the end of the amounts


def test_block_of_different_columns_is_consistent() -> None:
    # each column is its own fill-down run; the row pattern D7 == F7 does not make E7 inconsistent
    book = orders({f"F{r}": f"=D{r}*E{r}" for r in range(4, 12)} | {"F12": None})
    assert inconsistent_formula_flags(book) == []


def test_one_flag_per_cell_best_first() -> None:
    book = orders({"D7": "=B7*C6", "D12": "=SUM(D4:D10)"})
    excel = inconsistent_formula_flags(book)
    assert _cells(excel) == [("Orders", 7, 4), ("Orders", 12, 4)]
    assert [f.score for f in excel] == [1.0, 0.5]
    lint = excelint_flags(book)
    assert len(set(_cells(lint))) == len(lint)
    assert [f.score for f in lint] == sorted((f.score for f in lint), reverse=True)


def test_fingerprints_and_regions() -> None:
    def fp(text: str, origin: tuple[int, int]) -> object:
        return fingerprint(parse_formula(text, origin), "Orders")

    assert fp("=B4*C4", (4, 4)) == fp("=B9*C9", (9, 4))  # copies share one fingerprint
    assert fp("=B4*C3", (4, 4)) != fp("=B4*C4", (4, 4))
    assert fp("=B4-C4", (4, 4)) == fp("=C4-B4", (4, 4))  # references only, as in ExceLint
    assert fp("=D4*$F$1", (4, 5)) == fp("=D9*$F$1", (9, 5))
    assert fp("=Prices!B4", (4, 7)) != fp("=Summary!B4", (4, 7))
    found, _ = regions(orders().sheet("Orders"))
    shapes = {(r.a1, r.fingerprint == DATA) for r in found}
    assert {("D4:D11", False), ("E4:E11", False), ("F4:F11", False), ("B4:C11", True), ("F1", True)} <= shapes
    assert ("D12:F12", False) in shapes
