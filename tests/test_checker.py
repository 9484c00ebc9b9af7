"""check/checker.py with the shipped checker (issue 15): every mutation kind round-trips (mutate ->
the checker flags the cell with that kind -> its repair is the original formula), the unmodified
workbook raises no flag, and bad options are refused; plus the candidate rules."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from spreadsheetcoder.check import CANDIDATE_KINDS, MUTATION_KINDS, Checker, load_checker, mutate
from spreadsheetcoder.check.candidates import SheetForms, cell_candidates, dollar_kind
from spreadsheetcoder.check.features import FEATURES, feature_rows
from spreadsheetcoder.errors import ConfigError
from spreadsheetcoder.formula import canonical_formula, parse_formula
from spreadsheetcoder.sheet import Workbook
from spreadsheetcoder.suggest.engine import SheetEngine
from tests.support.orders import order_book

# kind -> the cell of the order workbook it is injected into (tests/support/orders.py)
ROUND_TRIPS = {
    "range_end": ("Orders", 10, 4),  # the Amount total stops a row short
    "range_start": ("Orders", 10, 4),
    "shifted_column": ("Orders", 6, 4),  # Amount = Qty * Price, one reference a column off
    "wrong_row": ("Orders", 6, 4),
    "swapped_operands": ("Orders", 6, 6),  # Share = Amount / total, upside down
    "function_family": ("Orders", 10, 4),  # SUM typed as AVERAGE in the Total row
    "absolute_dropped": ("Orders", 6, 5),  # Tax = Amount * $F$1, filled down from $F1
    "absolute_added": ("Orders", 6, 4),
    "hardcoded": ("Orders", 6, 4),  # the amount typed over its formula
    "wrong_sheet": ("Orders", 6, 7),  # price vs the list price of another sheet
}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return load_checker()


@pytest.fixture(scope="module")
def book() -> Workbook:
    return order_book()


def test_every_mutation_kind_has_a_round_trip_case() -> None:
    assert set(ROUND_TRIPS) == set(MUTATION_KINDS)
    assert set(MUTATION_KINDS) < set(CANDIDATE_KINDS)


@pytest.mark.parametrize("kind", MUTATION_KINDS)
def test_round_trip(checker: Checker, book: Workbook, kind: str) -> None:
    key = ROUND_TRIPS[kind]
    mutated = mutate(book, *key, kind, random.Random(7))
    assert mutated is not None, f"{kind} does not apply at {key}"
    mutation = mutated.mutation
    report = checker.check(mutated.workbook)
    flags = {(f.sheet, f.row, f.col): f for f in report.flags}
    assert key in flags, f"{kind}: {mutation.original} -> {mutation.mutated} not flagged; flags: {report.flags}"
    flag = flags[key]
    assert flag.kind == kind
    assert canonical_formula(flag.repair, keep_absolute=True) == canonical_formula(mutation.original, keep_absolute=True)
    assert flag.confidence >= report.min_confidence
    # the repair put back restores the original workbook's formula in that cell
    sheet = mutated.workbook.sheet(key[0])
    cell = sheet.get(*key[1:])
    assert cell is not None
    sheet.cells[key[1:]] = replace(cell, formula=flag.repair)
    assert sheet.get(*key[1:]).formula == book.sheet(key[0]).get(*key[1:]).formula  # type: ignore[union-attr]


def test_unmodified_workbook_has_no_flags(checker: Checker, book: Workbook) -> None:
    report = checker.check(book)
    assert report.flags == []
    formulas = sum(1 for s in book.sheets for _ in s.formula_cells())
    assert report.cells_checked >= formulas


def test_report_shape_and_order(checker: Checker, book: Workbook) -> None:
    mutated = mutate(book, "Orders", 10, 4, "range_end", random.Random(7))
    assert mutated is not None
    report = checker.check(mutated.workbook, min_confidence=0.0)
    assert report.flags, "min_confidence 0 keeps every cell with a candidate scored above 0"
    confidences = [f.confidence for f in report.flags]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    top = report.flags[0].to_dict()
    assert set(top) == {"cell", "formula", "value", "kind", "confidence", "repair"}
    assert top["cell"] == "Orders!D10"
    only = checker.check(mutated.workbook, sheets=["Summary"])
    assert all(f.sheet == "Summary" for f in only.flags) and only.cells_checked < report.cells_checked


def test_bad_options(checker: Checker, book: Workbook, tmp_path) -> None:
    with pytest.raises(ConfigError, match="no worksheet named 'Nope'"):
        checker.check(book, sheets=["Nope"])
    with pytest.raises(ConfigError, match=r"min_confidence must be in \[0, 1\]"):
        checker.check(book, min_confidence=1.5)
    with pytest.raises(ConfigError, match="holds no formula checker"):
        load_checker(tmp_path)


def test_candidates_undo_each_rewrite(book: Workbook) -> None:
    """Whatever the mutation, the original is among the mutated cell's candidates."""
    for kind, key in ROUND_TRIPS.items():
        mutated = mutate(book, *key, kind, random.Random(3))
        assert mutated is not None
        forms = SheetForms(mutated.workbook.sheet(key[0]))
        texts = {canonical_formula(c.text, keep_absolute=True) for c in cell_candidates(forms, mutated.workbook, *key[1:])}
        assert canonical_formula(mutated.mutation.original, keep_absolute=True) in texts, kind


def test_dollar_kind() -> None:
    own = parse_formula("=D6*$F3", (6, 5))
    fixed = parse_formula("=D6*$F$1", (6, 5))
    assert dollar_kind(own, fixed) == "absolute_dropped"
    assert dollar_kind(fixed, own) == "absolute_added"
    assert dollar_kind(own, parse_formula("=D6*$F4", (6, 5))) is None  # same $: not a $ mistake
    assert dollar_kind(own, parse_formula("=D6+$F$1", (6, 5))) is None


def test_feature_rows_match_features(book: Workbook) -> None:
    forms = SheetForms(book.sheet("Orders"))
    candidates = cell_candidates(forms, book, 6, 4)
    rows = feature_rows(forms, SheetEngine(book), book, 6, 4, candidates)
    assert rows and all(len(r) == len(FEATURES) for r in rows)
    # a typed number among formulas gets its neighbours' formulas, as "hardcoded"
    typed = mutate(book, "Orders", 6, 4, "hardcoded", random.Random(0))
    assert typed is not None
    forms = SheetForms(typed.workbook.sheet("Orders"))
    assert {c.kind for c in cell_candidates(forms, typed.workbook, 6, 4)} == {"hardcoded"}
