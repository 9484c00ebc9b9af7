"""Formula, sketch, range and execution match, and how per-target hits become shares."""

from __future__ import annotations

import pytest

from spreadsheetcoder.evaluation.execution import ExcelError, NotComputable, cached_value, compute_formula
from spreadsheetcoder.evaluation.metrics import (
    METRICS,
    Match,
    Metrics,
    exec_match,
    macro_summarize,
    match,
    summarize,
    target_hits,
)
from spreadsheetcoder.references import parse_a1
from spreadsheetcoder.sheet import Sheet, Workbook
from spreadsheetcoder.targets import list_targets
from spreadsheetcoder.xlsx.reader import read_workbook
from tests.support.paths import SAMPLES
from tests.support.sheets import make_sheet

D5 = (5, 4)


# --- match -----------------------------------------------------------------------------------


@pytest.mark.parametrize("candidate", [
    "=SUM(B2:B4)", "=sum(b2:b4)", "= SUM( $B$2:B$4 ) ", "=Sum($B2:$B4)",
])
def test_formula_match_ignores_dollars_case_and_whitespace(candidate: str) -> None:
    assert match(candidate, "=SUM(B2:B4)", D5) == Match(True, True, True)


def test_formula_match_drops_the_xlfn_prefix() -> None:
    assert match("=_xlfn.IFS(A1>0,1)", "=IFS(A1>0,1)", D5).formula


def test_sketch_only_match() -> None:
    assert match("=SUM(C2:C4)", "=SUM(B2:B4)", D5) == Match(False, True, False)


def test_range_only_match_ignores_dollars() -> None:
    assert match("=AVERAGE($B$2:$B$4)", "=SUM(B2:B4)", D5) == Match(False, False, True)
    assert match("=B2+C2", "=SUM(B2,C2)", D5) == Match(False, False, True)


def test_ranges_compare_sheets_and_names_case_insensitively() -> None:
    assert match("=inputs!B3*rate", "=Inputs!$B$3*Rate", D5).formula
    assert match("=INPUTS!B3+RATE", "=Inputs!$B$3*Rate", D5) == Match(False, False, True)
    assert match("=Other!B3*Rate", "=Inputs!B3*Rate", D5) == Match(False, True, False)


def test_ranges_are_compared_in_order() -> None:
    assert not match("=C2-B2", "=B2-C2", D5).ranges


def test_unparsable_candidates_match_nothing() -> None:
    assert match("=SUM(B2:B4", "=SUM(B2:B4)", D5) == Match(False, False, False)
    assert match("=[1]Sheet1!A1", "=Sheet1!A1", D5) == Match(False, False, False)


def test_unrepresentable_truth_can_still_be_hit_exactly() -> None:
    assert match("=[1]sheet1!a1", "=[1]Sheet1!A1", D5) == Match(True, True, True)


def test_target_hits_top1_and_top5() -> None:
    hits = target_hits(["=SUM(C2:C4)", "=AVERAGE(B2:B4)", "=SUM(B2:B4)"], "=SUM(B2:B4)", D5,
                       coverage=True, exec_top1=None)
    assert hits == {
        "formula_top1": False, "formula_top5": True,
        "sketch_top1": True, "sketch_top5": True,
        "range_top1": False, "range_top5": True,
        "exec_top1": None, "coverage": True,
    }
    only_sixth = ["=1", "=2", "=3", "=4", "=5", "=SUM(B2:B4)"]
    assert not target_hits(only_sixth, "=SUM(B2:B4)", D5, coverage=False, exec_top1=False)["formula_top5"]
    assert not any(v for v in target_hits([], "=A1", D5, coverage=False, exec_top1=False).values())


# --- exec_match ------------------------------------------------------------------------------


@pytest.fixture
def column() -> Sheet:
    """A1:A2 hold 1 and 2; A3 is the target, =SUM(A1:A2) with cached 3; B1 text, C1 an error."""
    return make_sheet({"A1": 1, "A2": 2, "A3": ("=SUM(A1:A2)", 3), "B1": "abc", "C1": "#DIV/0!", "D1": True})


def exec_at(sheet: Sheet, candidate: str, address: str = "A3") -> bool | None:
    row, col = parse_a1(address)
    cell = sheet.get(row, col)
    assert cell is not None
    return exec_match(candidate, cell, sheet, None, (row, col))


def test_exec_match_accepts_an_equivalent_formula(column: Sheet) -> None:
    assert exec_at(column, "=A1+A2")
    assert exec_at(column, "=A2*1.5")  # same value, different program: execution match is lenient


def test_exec_match_rejects_a_wrong_value(column: Sheet) -> None:
    assert exec_at(column, "=A1*A2") is False
    assert exec_at(column, "=B1") is False  # text against a number
    assert exec_at(column, "=A1>0") is False  # TRUE is not 1


def test_exec_match_cannot_tell_for_unsupported_or_volatile_functions(column: Sheet) -> None:
    assert exec_at(column, "=NOSUCHFUNCTION(A1)") is None
    assert exec_at(column, "=TODAY()") is None
    assert exec_at(column, "=RAND()*A1") is None
    assert exec_at(column, "=SUM(A1:A2") is None  # unparsable
    assert exec_at(column, "=Elsewhere!A1") is None  # no such sheet
    assert exec_at(column, "=Missing*2") is None  # no such name


def test_exec_match_is_true_for_the_truth_without_computing() -> None:
    sheet = make_sheet({"A1": 1, "B1": ("=NOSUCHFUNCTION(A1)", 5)})
    assert exec_at(sheet, "=nosuchfunction( A1 )", "B1") is True
    assert exec_at(sheet, "=A1*5", "B1") is True
    assert exec_at(sheet, "=FOO(A1)", "B1") is None


def test_exec_match_reads_the_target_as_empty(column: Sheet) -> None:
    # Its own cached value (3) must not leak: the cell is the one being predicted.
    assert exec_at(column, "=A3") is False
    assert exec_at(column, "=SUM(A1:A3)") is True


def test_exec_match_needs_a_cached_value() -> None:
    sheet = make_sheet({"A1": 1, "A2": "=A1+1"})  # no cached value stored
    assert exec_at(sheet, "=A1+1", "A2") is True  # equal to the truth
    assert exec_at(sheet, "=A1*2", "A2") is None


def test_exec_match_compares_text_bools_and_errors() -> None:
    sheet = make_sheet({
        "A1": 0, "B1": ("=1/A1", "#DIV/0!"), "C1": ('=IF(A1=0,"zero","other")', "zero"), "D1": ("=A1=0", True),
    })
    assert exec_at(sheet, "=5/A1", "B1") is True
    assert exec_at(sheet, "=NA()", "B1") is False
    assert exec_at(sheet, '="ze"&"ro"', "C1") is True
    assert exec_at(sheet, '="Zero"', "C1") is False  # text exactly
    assert exec_at(sheet, "=NOT(A1<>0)", "D1") is True
    assert exec_at(sheet, "=1", "D1") is False


def test_exec_match_bounds_the_cells_read() -> None:
    sheet = make_sheet({"A1": 1, "B1": ("=SUM(A1)", 1)})
    assert exec_at(sheet, "=SUM(A1:Z5000)", "B1") is None  # 130,000 cells
    assert exec_at(sheet, "=SUM(A:A)", "B1") is True  # whole columns are cut to the used rows


def test_exec_match_resolves_names_other_sheets_and_tables() -> None:
    budget = read_workbook(SAMPLES / "budget.xlsx")
    sheet = budget.sheet("Budget")
    cell = sheet.get(17, 3)
    assert cell is not None and cell.formula == "=ROUND(C15*TaxRate,2)"
    assert exec_match("=ROUND(C15*Assumptions!$B$3,2)", cell, sheet, budget, (17, 3)) is True
    assert exec_match("=ROUND(C15*Assumptions!$B$2,2)", cell, sheet, budget, (17, 3)) is False

    sales = read_workbook(SAMPLES / "sales.xlsx")
    orders = sales.sheet("Orders")
    revenue, total = orders.get(2, 7), orders.get(2, 10)
    assert revenue is not None and total is not None
    assert exec_match("=[@Units]*[@Price]", revenue, orders, sales, (2, 7)) is True
    assert exec_match("=E2*F2", revenue, orders, sales, (2, 7)) is True
    assert exec_match("=SUM(G2:G21)", total, orders, sales, (2, 10)) is True
    assert exec_match("=SUM(SalesTable[Units])", total, orders, sales, (2, 10)) is False


def test_exec_match_resolves_constant_and_sheet_scoped_names() -> None:
    data = make_sheet({"A1": 10, "A2": 20}, name="My Data")
    calc = make_sheet({"A1": ("=SUM(Prices)*Rate", 15)}, name="Calc")
    calc.defined_names["Rate"] = "0.5"  # the sheet's own name wins over the workbook's
    book = Workbook("book.xlsx", [data, calc], {"Prices": "'My Data'!$A$1:$A$2", "Rate": "2"})
    cell = calc.cells[(1, 1)]
    assert exec_match("=SUM('My Data'!A1:A2)/2", cell, calc, book, (1, 1)) is True
    assert exec_match("=SUM(Prices)*2", cell, calc, book, (1, 1)) is False
    assert exec_match("=SUM(Prices)*Calc!Rate", cell, calc, book, (1, 1)) is True
    assert exec_match("=SUM(Prices)", cell, calc, None, (1, 1)) is None  # no workbook to look in


def test_the_engine_reproduces_the_sample_workbooks() -> None:
    """Every computable target of sample_sheets/ computes its own cached value."""
    computed = total = 0
    for path in sorted(SAMPLES.glob("*.xlsx")):
        book = read_workbook(path)
        for sheet in book.sheets:
            for target in list_targets(sheet):
                total += 1
                expected = cached_value(target.cell)
                try:
                    value = compute_formula(target.text, sheet, book, (target.row, target.col))
                except NotComputable:
                    continue
                computed += 1
                assert expected is not None
                assert value == pytest.approx(expected, rel=1e-9, abs=1e-9) if isinstance(value, float) else \
                    value == expected, (path.name, sheet.name, target.text, value, expected)
    assert total > 100 and computed >= 0.9 * total


def test_cached_values_and_errors() -> None:
    sheet = make_sheet({"A1": "#N/A", "A2": True, "A3": 2})
    assert cached_value(sheet.cells[(1, 1)]) == ExcelError("#N/A")
    assert cached_value(sheet.cells[(2, 1)]) is True
    assert cached_value(sheet.cells[(3, 1)]) == 2.0


# --- summaries -------------------------------------------------------------------------------


def row(hit: bool, exec_top1: bool | None, coverage: bool = True) -> dict[str, bool | None]:
    out: dict[str, bool | None] = {name: hit for name in METRICS}
    out["exec_top1"], out["coverage"] = exec_top1, coverage
    return out


def test_summarize_gives_rounded_shares_and_exec_over_checkable_targets() -> None:
    rows = [row(True, True), row(False, None), row(False, False, coverage=False)]
    summary = summarize(rows)
    assert summary["targets"] == 3
    assert summary["formula_top1"] == 0.3333
    assert summary["exec_top1"] == 0.5  # 1 of the 2 checkable
    assert summary["exec_checked"] == 0.6667
    assert summary["coverage"] == 0.6667
    assert set(summary) == {"targets", "exec_checked", *METRICS}


def test_summarize_of_nothing() -> None:
    summary = summarize([])
    assert summary["targets"] == 0 and summary["formula_top1"] == 0.0 and summary["exec_top1"] is None


def test_macro_summarize_weighs_workbooks_equally() -> None:
    big = [row(True, True)] * 9
    small = [row(False, None)]
    assert summarize(big + small)["formula_top1"] == 0.9
    macro = macro_summarize([big, small, []])
    assert macro["formula_top1"] == 0.5
    assert macro["exec_top1"] == 1.0  # the small workbook has nothing checkable
    assert macro["exec_checked"] == 0.5
    assert "targets" not in macro


def test_metrics_accumulates() -> None:
    metrics = Metrics()
    metrics.add(row(True, True))
    metrics.add(row(False, False))
    assert len(metrics) == 2 and metrics.summarize()["formula_top5"] == 0.5
