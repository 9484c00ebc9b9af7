"""The suggestion pipeline's evaluator against the `formulas` engine on a table of formulas."""

from __future__ import annotations

import datetime as dt

import pytest

from spreadsheetcoder.evaluation.execution import NotComputable as EngineNotComputable
from spreadsheetcoder.evaluation.execution import compute_formula
from spreadsheetcoder.formula import parse_formula
from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook
from spreadsheetcoder.suggest.engine import NotComputable, SheetEngine
from spreadsheetcoder.values import ExcelError, values_equal

TARGET = (10, 5)  # E10: the masked cell


@pytest.fixture(scope="module")
def book() -> Workbook:
    sheet = Sheet("Data")
    rows = [(4.0, 2.5, "north", 0.0), (7.0, -1.25, "south", 3.0), (10.0, 8.0, "east", 0.5), (1.0, 0.0, "west", 2.0)]
    for r, (a, b, label, d) in enumerate(rows, start=2):
        sheet.set(r, 1, Cell(a, CellType.NUMBER))
        sheet.set(r, 2, Cell(b, CellType.NUMBER))
        sheet.set(r, 3, Cell(label, CellType.STRING))
        sheet.set(r, 4, Cell(d, CellType.NUMBER))
    sheet.set(6, 1, Cell(True, CellType.BOOL))
    sheet.set(7, 1, Cell(dt.datetime(2024, 3, 15), CellType.DATE))
    sheet.set(8, 1, Cell("#N/A", CellType.ERROR))
    sheet.set(TARGET[0], TARGET[1], Cell(999.0, CellType.NUMBER, formula="=1"))  # never read
    rates = Sheet("Rates")
    rates.set(1, 1, Cell(0.2, CellType.NUMBER))
    rates.set(2, 1, Cell(1.5, CellType.NUMBER))
    return Workbook("t.xlsx", [sheet, rates], {"Rate": "Rates!$A$1"})


FORMULAS = [
    "=A2+B2", "=A3-B3*2", "=A2/B5", "=A4^2", "=-A2^2", "=2^3^2", "=A2&C2", "=A2>B2", "=C2=\"NORTH\"",
    "=SUM(A2:B5)", "=AVERAGE(A2:A5)", "=MIN(B2:B5)", "=MAX(A2:D5)", "=COUNT(A2:D8)", "=COUNTA(A2:D8)",
    "=PRODUCT(A2:A4)", "=SUMPRODUCT(A2:A5,B2:B5)", "=ROUND(B3*3.333,2)", "=ROUND(1234.5,-2)", "=ROUNDUP(B3,0)",
    "=ROUNDDOWN(2.789,1)", "=ABS(B3)", "=SQRT(A2)", "=MOD(A3,3)", "=MOD(-7,3)", "=INT(-2.5)", "=POWER(A2,0.5)",
    "=IF(A2>5,\"big\",\"small\")", "=IF(A3>5,A3*2)", "=IF(B5=0,0,A5/B5)", "=IFERROR(A5/B5,-1)", "=IFERROR(A8,0)",
    "=AND(A2>1,B2>1)", "=OR(A2>100,B4>1)", "=NOT(A2>1)", "=A2*Rates!A1", "=A3*Rate", "=SUM(A2:A5)*(1+Rates!A2)",
    "=A2/B2-1", "=A3*(1+D3)", "=SUBTOTAL(9,A2:A5)", "=SUBTOTAL(109,B2:B5)", "=ISBLANK(E10)", "=A6+1",
    "=TEXT(A7,\"mmm\")", "=TEXT(A7,\"yyyy-mm-dd\")", "=E10+A2", "=A8+1", "=10%*A4", "=CONCATENATE(C2,\"-\",A2)",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_engine_agrees_with_the_formulas_engine(book: Workbook, text: str) -> None:
    sheet = book.sheets[0]
    formula = parse_formula(text, TARGET)
    mine = SheetEngine(book).compute(formula, sheet, TARGET, ("Data", *TARGET))
    try:
        theirs = compute_formula(text, sheet, book, TARGET)
    except EngineNotComputable as exc:
        pytest.skip(f"the formulas engine cannot compute {text}: {exc}")
    assert values_equal(mine, theirs), (text, mine, theirs)


def test_the_masked_cell_reads_as_empty(book: Workbook) -> None:
    engine = SheetEngine(book)
    value = engine.compute(parse_formula("=E10+A2", TARGET), book.sheets[0], TARGET, ("Data", *TARGET))
    assert value == 4.0


@pytest.mark.parametrize("text", ["=NOW()", "=INDIRECT(\"A1\")", "=OFFSET(A1,1,1)", "=SUM(A:A)", "=SUM(1:3)",
                                  "=SUM(A1:Z10000)", "=VLOOKUP(1,A2:B5,2)", "=[@Qty]"])
def test_what_it_does_not_compute_it_says(book: Workbook, text: str) -> None:
    with pytest.raises(NotComputable):
        SheetEngine(book).compute(parse_formula(text, TARGET), book.sheets[0], TARGET, ("Data", *TARGET))


def test_errors_propagate_as_values(book: Workbook) -> None:
    engine = SheetEngine(book)
    sheet = book.sheets[0]
    assert engine.compute(parse_formula("=A2/D2", TARGET), sheet, TARGET) == ExcelError("#DIV/0!")
    assert engine.compute(parse_formula("=A8*2", TARGET), sheet, TARGET) == ExcelError("#N/A")
    assert engine.compute(parse_formula("=Missing!A1", TARGET), sheet, TARGET) == ExcelError("#REF!")
    assert engine.compute(parse_formula("=10^400", TARGET), sheet, TARGET) == ExcelError("#NUM!")
