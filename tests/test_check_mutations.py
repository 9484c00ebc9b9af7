"""check/mutations.py (issue 15): each mutation kind on a small order workbook, the value rule,
dependents recomputed across sheets, the input left alone, determinism; and the rewrites."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from spreadsheetcoder.check import MUTATION_KINDS, applicable, mutate, sample_mutation
from spreadsheetcoder.check.mutations import MutatedWorkbook, Mutator
from spreadsheetcoder.check.rewrites import (
    Run,
    absolute_variants,
    range_variants,
    swapped_operands_variants,
)
from spreadsheetcoder.formula import Formula, parse_formula, render_formula
from spreadsheetcoder.sheet import Cell, CellType, Workbook
from spreadsheetcoder.suggest.engine import SheetEngine
from spreadsheetcoder.values import cached_value, values_equal
from tests.support.orders import book_sheet, order_book


def _snapshot(book: Workbook) -> dict[tuple[str, int, int], tuple[Any, ...]]:
    return {(s.name, *key): (c.value, c.type, c.formula) for s in book.sheets for key, c in s.cells.items()}


def _assert_consistent(result: MutatedWorkbook) -> None:
    """Every formula of the mutated workbook that is not stale shows what the engine computes."""
    book, stale = result.workbook, set(result.mutation.stale_cells)
    engine = SheetEngine(book)
    for sheet in book.sheets:
        for row, col, cell in sheet.formula_cells():
            if (sheet.name, row, col) in stale:
                continue
            value = engine.compute(parse_formula(cell.formula or "", (row, col)), sheet, (row, col))
            assert values_equal(value, cached_value(cell)), (sheet.name, row, col, cell, value)


@pytest.fixture(scope="module")
def book() -> Workbook:
    return order_book()


# kind, cell, the formulas the mutation may write
CASES = [
    ("range_end", ("Orders", 10, 4), {"=SUM(D4:D8)"}),  # D4:D10 would read the total itself
    ("range_start", ("Orders", 10, 4), {"=SUM(D5:D9)"}),  # D3:D9 adds a header: same value
    ("shifted_column", ("Orders", 6, 4), {"=A6*C6", "=C6*C6"}),  # B6*D6 would read itself
    ("wrong_row", ("Orders", 6, 4), {"=B5*C6", "=B7*C6", "=B6*C5", "=B6*C7"}),
    ("swapped_operands", ("Orders", 6, 6), {"=$D$10/D6"}),
    ("function_family", ("Orders", 10, 4), {"=AVERAGE(D4:D9)"}),
    ("absolute_dropped", ("Orders", 6, 5), {"=D6*$F3"}),  # $F$1 typed as $F1 in row 4, filled down
    ("absolute_added", ("Orders", 6, 4), {"=B$4*C6", "=B6*C$4"}),  # B4 typed as B$4 in row 4
    ("wrong_sheet", ("Orders", 6, 7), {"=C6/Orders!B4", "=C6/Summary!B4"}),
]


@pytest.mark.parametrize(("kind", "key", "allowed"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_changes_formula_and_value(book: Workbook, kind: str, key: tuple[str, int, int],
                                             allowed: set[str]) -> None:
    before = _snapshot(book)
    original = book.sheet(key[0]).get(*key[1:])
    assert original is not None
    result = mutate(book, *key, kind, random.Random(7))
    assert result is not None
    mutation = result.mutation
    assert (mutation.kind, mutation.sheet, mutation.row, mutation.col) == (kind, *key)
    assert mutation.original == original.formula
    assert mutation.mutated in allowed
    assert mutation.original_value is not None and mutation.mutated_value is not None
    assert not values_equal(mutation.original_value, mutation.mutated_value)
    cell = result.workbook.sheet(key[0]).get(*key[1:])
    assert cell is not None and cell.formula == mutation.mutated
    assert values_equal(cached_value(cell), mutation.mutated_value)  # type: ignore[arg-type]
    assert _snapshot(book) == before  # the input is untouched
    assert mutation.stale_cells == ()
    _assert_consistent(result)


def test_dependents_recomputed_across_sheets(book: Workbook) -> None:
    result = mutate(book, "Orders", 10, 4, "range_end", random.Random(0))
    assert result is not None
    recomputed = set(result.mutation.recomputed)
    # the shares read $D$10, the Summary reads the total, and the grand total reads the Summary
    assert {("Orders", r, 6) for r in range(4, 11)} | {("Summary", 1, 2), ("Summary", 3, 2)} <= recomputed
    assert ("Summary", 2, 2) not in recomputed  # the tax total does not read D10
    order = result.mutation.recomputed
    assert order.index(("Summary", 1, 2)) < order.index(("Summary", 3, 2))
    new_total = result.workbook.sheet("Orders").get(10, 4)
    grand = result.workbook.sheet("Summary").get(3, 2)
    tax = result.workbook.sheet("Summary").get(2, 2)
    assert new_total is not None and grand is not None and tax is not None
    assert grand.value == pytest.approx(new_total.value + tax.value)  # type: ignore[operator]
    assert book.sheet("Summary").get(3, 2).value != grand.value  # type: ignore[union-attr]
    # a changed amount reaches the Summary through two paths (total amount and total tax)
    chained = mutate(book, "Orders", 6, 4, "wrong_row", random.Random(0))
    assert chained is not None
    assert {("Orders", 6, 5), ("Orders", 10, 5), ("Summary", 2, 2), ("Summary", 3, 2)} <= set(chained.mutation.recomputed)
    _assert_consistent(chained)


def test_hardcoded_keeps_the_value_and_drops_the_formula(book: Workbook) -> None:
    result = mutate(book, "Orders", 6, 4, "hardcoded", random.Random(0))
    assert result is not None
    mutation = result.mutation
    assert mutation.mutated is None and mutation.original == "=B6*C6"
    assert mutation.mutated_value == mutation.original_value == 48.0
    cell = result.workbook.sheet("Orders").get(6, 4)
    assert cell is not None and cell.formula is None and cell.type is CellType.NUMBER and cell.value == 48.0
    assert mutation.recomputed == () and mutation.stale_cells == ()
    assert book.sheet("Orders").get(6, 4).formula == "=B6*C6"  # type: ignore[union-attr]


def test_value_rule_rejects_variants_that_change_nothing(book: Workbook) -> None:
    # MAX(G4:G9) peaks at G8: one row more or less never changes it, and G10 would read itself
    for kind in ("range_end", "range_start"):
        assert mutate(book, "Orders", 10, 7, kind, random.Random(0)) is None
    # SUM(D3:D9) only adds the header: never drawn, whatever the seed
    drawn = {mutate(book, "Orders", 10, 4, "range_start", random.Random(s)).mutation.mutated  # type: ignore[union-attr]
             for s in range(10)}
    assert drawn == {"=SUM(D5:D9)"}


def test_circular_variants_are_never_drawn() -> None:
    running = {"H3": "Balance", "H4": "=D4"} | {f"H{r}": f"=H{r - 1}+D{r}" for r in range(5, 10)}
    book = order_book(running)
    drawn = set()
    for seed in range(20):
        result = mutate(book, "Orders", 6, 8, "wrong_row", random.Random(seed))
        assert result is not None
        drawn.add(result.mutation.mutated)
        _assert_consistent(result)
    # H6 reads H5; H6 itself and H7 (which reads H6) are never read
    assert drawn <= {"=H4+D6", "=H5+D5", "=H5+D7"}
    assert len(drawn) > 1


def test_absolute_kinds_need_a_fill_run(book: Workbook) -> None:
    # E4 is the head of its run: a $ changed there changes nothing at E4 itself
    head = applicable(book, "Orders", 4, 5)
    assert "absolute_dropped" not in head and "absolute_added" not in head
    assert {"absolute_dropped", "absolute_added"} <= set(applicable(book, "Orders", 6, 5))
    # the totals row is not a run down, and its SUMs only have relative columns across
    assert "absolute_dropped" not in applicable(book, "Orders", 10, 5)


def test_applicable_lists_kinds_in_order(book: Workbook) -> None:
    assert applicable(book, "Orders", 10, 4) == ["range_end", "range_start", "shifted_column",
                                                 "function_family", "hardcoded"]
    assert applicable(book, "Summary", 1, 2) == ["shifted_column", "wrong_row", "hardcoded", "wrong_sheet"]
    assert applicable(book, "Orders", 3, 4) == []  # a header, not a formula
    assert set(applicable(book, "Orders", 11, 1)) >= {"function_family"}  # COUNTA -> COUNT
    with pytest.raises(ValueError, match="unknown mutation kind"):
        mutate(book, "Orders", 6, 4, "typo", random.Random(0))


def test_stale_dependents_keep_their_values() -> None:
    book = order_book({"H10": "=MEDIAN(D4:D9)"})  # the engine does not compute MEDIAN
    book.sheet("Orders").cells[(10, 8)] = Cell(7.5, CellType.NUMBER, formula="=MEDIAN(D4:D9)")
    book.sheet("Summary").set(5, 2, Cell(8.5, CellType.NUMBER, formula="=Orders!H10+1"))
    result = mutate(book, "Orders", 6, 4, "wrong_row", random.Random(0))
    assert result is not None
    assert {("Orders", 10, 8), ("Summary", 5, 2)} <= set(result.mutation.stale_cells)
    assert result.workbook.sheet("Orders").get(10, 8).value == 7.5  # type: ignore[union-attr]
    assert result.workbook.sheet("Summary").get(5, 2).value == 8.5  # type: ignore[union-attr]
    assert ("Orders", 10, 4) in result.mutation.recomputed


def test_dependents_through_names_whole_columns_and_dates() -> None:
    book = order_book()
    book.defined_names["TotalAmount"] = "Orders!$D$10"
    summary = book.sheet("Summary")
    summary.set(6, 2, Cell(241.0, CellType.NUMBER, formula="=TotalAmount*2"))
    summary.set(7, 2, Cell(241.0, CellType.NUMBER, formula="=SUM(Orders!D:D)"))  # whole column: not computed
    summary.set(8, 2, Cell(dt.datetime(2023, 7, 13, 12), CellType.DATE, formula="=Orders!D10+45000"))
    result = mutate(book, "Orders", 6, 4, "wrong_row", random.Random(0))
    assert result is not None
    assert {("Summary", 6, 2), ("Summary", 8, 2)} <= set(result.mutation.recomputed)
    assert result.mutation.stale_cells == (("Summary", 7, 2),)
    total = result.workbook.sheet("Orders").get(10, 4)
    named, dated = result.workbook.sheet("Summary").get(6, 2), result.workbook.sheet("Summary").get(8, 2)
    assert total is not None and named is not None and dated is not None
    assert named.value == pytest.approx(2 * total.value)  # type: ignore[operator]
    assert dated.type is CellType.DATE and dated.value != dt.datetime(2023, 7, 13, 12)
    assert values_equal(cached_value(dated), total.value + 45000)  # type: ignore[arg-type, operator]


def test_same_seed_same_mutation(book: Workbook) -> None:
    def key(result: MutatedWorkbook | None) -> tuple[Any, ...]:
        assert result is not None
        m = result.mutation
        return (m.kind, m.sheet, m.row, m.col, m.mutated, m.recomputed)

    assert key(sample_mutation(book, random.Random(3))) == key(sample_mutation(book, random.Random(3)))
    assert key(mutate(book, "Orders", 6, 4, "wrong_row", random.Random(5))) == key(
        mutate(book, "Orders", 6, 4, "wrong_row", random.Random(5)))
    drawn = {key(sample_mutation(book, random.Random(seed))) for seed in range(15)}
    assert len(drawn) > 5
    assert len({d[0] for d in drawn}) >= 3


def test_sample_mutation_on_onebook_sheet(book: Workbook) -> None:
    mutator = Mutator(book)
    for seed in range(10):
        result = mutator.sample(random.Random(seed), "Summary")
        assert result is not None and result.mutation.sheet == "Summary"
        assert result.mutation.kind in MUTATION_KINDS
        _assert_consistent(result)
    only = sample_mutation(book, random.Random(1), kinds=("function_family",))
    assert only is not None and only.mutation.kind == "function_family"
    plain = Workbook("plain.xlsx", [book_sheet("Data", {"A1": 1, "A2": 2})])
    assert sample_mutation(plain, random.Random(0)) is None


def test_mutated_workbook_copies_only_what_changes(book: Workbook) -> None:
    result = mutate(book, "Orders", 10, 4, "range_end", random.Random(0))
    assert result is not None
    assert result.workbook.sheet("Prices") is book.sheet("Prices")  # untouched: shared
    assert result.workbook.sheet("Orders") is not book.sheet("Orders")
    assert result.workbook.sheet("Orders").get(4, 2) is book.sheet("Orders").get(4, 2)


def _variants(text: str, origin: tuple[int, int], make: Any) -> list[str]:
    return [render_formula(f, origin) for f in make(parse_formula(text, origin))]


@pytest.mark.parametrize(("text", "expected"), [
    ("=A1-B1", ["=B1-A1"]),
    ("=A1-B1*C1", []),  # B1*C1 is the right operand
    ("=A1*B1/C1", []),  # A1*B1 is the left operand
    ("=A1+B1/C1", ["=A1+C1/B1"]),
    ("=A1/B1*C1", ["=B1/A1*C1"]),
    ("=A1-B1-C1", ["=B1-A1-C1"]),  # the second - has A1-B1 on its left
    ("=-A1-B1", []),
    ("=A1-B1^2", []),
    ("=(A1+B1)-SUM(C1:C2)", ["=SUM(C1:C2)-(A1+B1)"]),
    ("=IF(A1>0,A1-B1,0)", ["=IF(A1>0,B1-A1,0)"]),
    ("=C6/Prices!B4", ["=Prices!B4/C6"]),
])
def test_swapped_operands_only_where_the_operator_binds_both(text: str, expected: list[str]) -> None:
    assert _variants(text, (9, 9), swapped_operands_variants) == expected


def test_range_variants_keep_the_area_the_right_way_round() -> None:
    assert _variants("=SUM(B2:B9)", (10, 2), lambda f: range_variants(f, (10, 2), end=True)) == [
        "=SUM(B2:B8)", "=SUM(B2:B10)"]
    assert _variants("=SUM(B2:B2)", (10, 2), lambda f: range_variants(f, (10, 2), end=True)) == ["=SUM(B2:B3)"]
    assert _variants("=SUM(B2:D2)", (10, 2), lambda f: range_variants(f, (10, 2), end=False)) == [
        "=SUM(A2:D2)", "=SUM(C2:D2)"]
    assert _variants("=SUM(A:A)", (10, 2), lambda f: range_variants(f, (10, 2), end=True)) == []


def test_absolute_variants_render_the_faulty_head_at_the_cell() -> None:
    formula: Formula = parse_formula("=D7*$F$1", (7, 5))
    run = Run("row", 3)  # the run starts in row 4
    dropped = [render_formula(f, (7, 5)) for f in absolute_variants(formula, (7, 5), run, dropped=True)]
    added = [render_formula(f, (7, 5)) for f in absolute_variants(formula, (7, 5), run, dropped=False)]
    assert dropped == ["=D7*$F4"]
    assert added == ["=D$4*$F$1"]
    across = [render_formula(f, (7, 5)) for f in absolute_variants(formula, (7, 5), Run("col", 1), dropped=True)]
    assert across == ["=D7*G$1"]  # $F$1 typed as F$1 in column D, filled one column right
