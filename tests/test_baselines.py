"""Rule and copy baselines on real .xlsx files (written with openpyxl, read with read_workbook)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from spreadsheetcoder.evaluation.baselines import (
    FormulaIndex,
    copy_candidates,
    rule_candidates,
    shift_formula,
)
from spreadsheetcoder.references import parse_a1
from spreadsheetcoder.sheet import Sheet
from spreadsheetcoder.xlsx.reader import read_workbook
from tests.support.badfiles import openpyxl_workbook
from tests.support.paths import SAMPLES
from tests.support.sheets import make_sheet


def write_sheet(path: Path, cells: dict[str, Any]) -> Sheet:
    """Write ``{"A1": value}`` (formulas as '=...') to a real workbook and read its sheet back."""
    openpyxl_workbook({"Data": cells}).save(path)
    return read_workbook(path).sheets[0]


def at(address: str) -> tuple[int, int]:
    return parse_a1(address)


@pytest.fixture
def totals(tmp_path: Path) -> Sheet:
    """A header row, labels in column A, numbers in B2:D5, and an empty total row and column."""
    cells: dict[str, Any] = {"A1": "Item", "B1": "Q1", "C1": "Q2", "D1": "Q3", "E1": "Total"}
    for i, item in enumerate(["Rent", "Power", "Water", "Phone"]):
        row = i + 2
        cells[f"A{row}"] = item
        cells[f"B{row}"], cells[f"C{row}"], cells[f"D{row}"] = 100 + i, 200 + i, 300 + i
    cells["A6"] = "Total"
    return write_sheet(tmp_path / "totals.xlsx", cells)


def test_rule_sums_the_numeric_block_above(totals: Sheet) -> None:
    # The block stops at the header "Q1": it is not summed.
    assert rule_candidates(totals, *at("B6"), context="values") == ["=SUM(B2:B5)"]


def test_rule_sums_the_numeric_block_to_the_left(totals: Sheet) -> None:
    # The label in column A ends the block; nothing numeric above E2 (the header).
    assert rule_candidates(totals, *at("E2"), context="values") == ["=SUM(B2:D2)"]


def test_rule_puts_the_longer_block_first(tmp_path: Path) -> None:
    cells: dict[str, Any] = {"A1": "h", "B1": "h", "C1": "h", "D1": "h", "E1": "h"}
    for row in range(2, 4):  # two numbers above E4, four to its left
        cells[f"E{row}"] = row
    for col in "ABCD":
        cells[f"{col}4"] = 1
    sheet = write_sheet(tmp_path / "blocks.xlsx", cells)
    assert rule_candidates(sheet, *at("E4"), context="values") == ["=SUM(A4:D4)", "=SUM(E2:E3)"]
    # Equal lengths (three each): the block above first.
    cells["E1"] = 0
    cells["A4"] = "label"
    sheet = write_sheet(tmp_path / "tie.xlsx", cells)
    assert rule_candidates(sheet, *at("E4"), context="values") == ["=SUM(E1:E3)", "=SUM(B4:D4)"]


def test_rule_sums_a_single_cell_without_a_range(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "one.xlsx", {"A1": "Price", "A2": 5})
    assert rule_candidates(sheet, *at("A3"), context="values") == ["=SUM(A2)"]


def test_rule_offers_nothing_without_numbers(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "text.xlsx", {"A1": "a", "B2": "b", "C3": True})
    assert rule_candidates(sheet, *at("B3"), context="values") == []
    assert rule_candidates(sheet, *at("A1"), context="formulas") == []


def test_rule_counts_formula_cells_with_numeric_cached_values() -> None:
    # budget.xlsx: G5:G14 are formulas (ROUND(...)) whose cached values are numbers.
    sheet = read_workbook(SAMPLES / "budget.xlsx").sheet("Budget")
    total = sheet.get(15, 7)
    assert total is not None and total.formula == "=SUM(G5:G14)"
    del sheet.cells[(15, 7)]
    assert rule_candidates(sheet, 15, 7, context="values")[0] == "=SUM(G5:G14)"


def test_rule_fills_from_adjacent_formulas_only_when_they_are_visible(tmp_path: Path) -> None:
    cells: dict[str, Any] = {"A1": "Price", "B1": "Qty", "C1": "Amount"}
    for row in range(2, 5):
        cells[f"A{row}"], cells[f"B{row}"] = 2.5, row
    cells["C2"], cells["C3"] = "=A2*B2", "=A3*B3"
    sheet = write_sheet(tmp_path / "fill.xlsx", cells)
    # C4: the formula above, shifted (fill down); the left block A4:B4 comes first.
    assert rule_candidates(sheet, *at("C4"), context="formulas") == ["=SUM(A4:B4)", "=A4*B4"]
    assert rule_candidates(sheet, *at("C4"), context="values") == ["=SUM(A4:B4)"]


def test_rule_respects_k_and_rejects_bad_arguments(totals: Sheet) -> None:
    assert rule_candidates(totals, *at("B6"), context="values", k=1) == ["=SUM(B2:B5)"]
    with pytest.raises(ValueError, match="setting"):
        rule_candidates(totals, *at("B6"), context="both")
    with pytest.raises(ValueError, match="k must"):
        rule_candidates(totals, *at("B6"), context="values", k=0)


@pytest.fixture
def neighbours(tmp_path: Path) -> Sheet:
    """Formula cells around the empty C5 at distances 1 (left) and 2 (above, left, below, right)."""
    return write_sheet(tmp_path / "neighbours.xlsx", {
        "B5": "=A5+1",  # 1 left
        "C3": "=C1*2",  # 2 above
        "A5": "=1",  # 2 left
        "C7": "=C6*3",  # 2 below
        "E5": "=D5/2",  # 2 right
        "C10": "=C9-C1",  # 5 below: its shift moves C1 off the sheet
    })


def test_copy_shifts_the_nearest_formulas_in_tie_order(neighbours: Sheet) -> None:
    assert copy_candidates(neighbours, *at("C5"), context="formulas") == [
        "=B5+1", "=C3*2", "=1", "=C4*3", "=B5/2",
    ]
    assert copy_candidates(neighbours, *at("C5"), context="formulas", k=2) == ["=B5+1", "=C3*2"]


def test_copy_sees_no_formulas_in_the_values_setting(neighbours: Sheet) -> None:
    assert copy_candidates(neighbours, *at("C5"), context="values") == []


def test_copy_skips_shifts_off_the_sheet(neighbours: Sheet) -> None:
    assert shift_formula("=C9-C1", at("C10"), at("C5")) is None
    assert "=C4-#REF!" not in copy_candidates(neighbours, *at("C5"), context="formulas", k=10)


def test_copy_deduplicates_filled_formulas(tmp_path: Path) -> None:
    cells: dict[str, Any] = {f"C{row}": f"=A{row}*B{row}" for row in range(2, 40)}
    sheet = write_sheet(tmp_path / "filled.xlsx", cells)
    assert copy_candidates(sheet, *at("C40"), context="formulas") == ["=A40*B40"]


def test_baselines_ignore_the_target_cell_itself(tmp_path: Path) -> None:
    sheet = write_sheet(tmp_path / "self.xlsx", {"A1": 1, "C5": "=C1+1"})
    assert copy_candidates(sheet, *at("C5"), context="formulas") == []
    assert rule_candidates(sheet, *at("C5"), context="formulas") == []


def test_formula_index_matches_a_plain_scan(neighbours: Sheet) -> None:
    index = FormulaIndex.from_sheet(neighbours)
    assert index.nearest(*at("C5")) == [at(a) for a in ("B5", "C3", "A5", "C7", "E5", "C10")]
    assert copy_candidates(neighbours, *at("C5"), context="formulas", index=index) == copy_candidates(
        neighbours, *at("C5"), context="formulas"
    )


def test_run_continuation_follows_a_run_of_one_formula() -> None:
    from spreadsheetcoder.evaluation.baselines import run_continuation

    sheet = make_sheet({"A1": 1, "B1": 2, "C1": "=A1+B1", "A2": 3, "B2": 4, "C2": "=A2+B2", "A3": 5, "B3": 6,
                        "D1": "=C1*2", "D2": "=SUM(C1:C2)", "A4": 7})
    assert run_continuation(sheet, 3, 3) == "=A3+B3"  # two copies above
    assert run_continuation(sheet, 3, 4) is None  # D1, D2 are different formulas
    assert run_continuation(sheet, 4, 3) is None  # C3 is empty: only one formula above at distance 2
