"""A1 helpers, sheet quoting, cell lists, single references and reference kinds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spreadsheetcoder.constants import (
    KIND_BEYOND_WINDOW,
    KIND_DEFINED_NAME,
    KIND_IN_WINDOW,
    KIND_OTHER_SHEET,
    KIND_STRUCTURED,
    MAX_COL,
    MAX_ROW,
)
from spreadsheetcoder.errors import FormulaError
from spreadsheetcoder.formula import parse_formula, reference_kinds
from spreadsheetcoder.references import (
    Corner,
    Reference,
    column_index,
    column_letter,
    format_a1,
    format_reference,
    parse_a1,
    parse_cell_list,
    parse_reference,
    quote_sheet,
    relative_reference,
    split_sheet,
)

# Excel sheet names: 1-31 characters, none of []:*?/\, no apostrophe first or last.
SHEET_NAMES = st.text(alphabet=st.sampled_from("abcXYZ019 _.-!'&()éß日本"), min_size=1, max_size=31).filter(
    lambda name: name[0] != "'" and name[-1] != "'"
)


# --- column letters and A1 cells ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("col", "letters"),
    [(1, "A"), (26, "Z"), (27, "AA"), (52, "AZ"), (702, "ZZ"), (703, "AAA"), (16384, "XFD")],
)
def test_column_letter_and_index(col: int, letters: str) -> None:
    assert column_letter(col) == letters
    assert column_index(letters) == col
    assert column_index(letters.lower()) == col
    assert column_index("$" + letters) == col


@pytest.mark.parametrize("col", [0, -1, MAX_COL + 1])
def test_column_letter_rejects_columns_off_the_sheet(col: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        column_letter(col)


@pytest.mark.parametrize("letters", ["", "XFE", "AAAA", "A1"])
def test_column_index_rejects_bad_letters(letters: str) -> None:
    with pytest.raises(ValueError, match="not a column"):
        column_index(letters)


@given(st.integers(1, MAX_COL))
def test_column_letter_index_round_trip(col: int) -> None:
    assert column_index(column_letter(col)) == col


@pytest.mark.parametrize(
    ("text", "cell"), [("A1", (1, 1)), ("B3", (3, 2)), ("$b$3", (3, 2)), ("XFD1048576", (MAX_ROW, MAX_COL))]
)
def test_parse_a1(text: str, cell: tuple[int, int]) -> None:
    assert parse_a1(text) == cell


@pytest.mark.parametrize("text", ["", "A0", "A01", "1A", "A", "A1048577", "XFE1", "A1:B2", "Sheet1!A1"])
def test_parse_a1_rejects_non_cells(text: str) -> None:
    with pytest.raises(ValueError):
        parse_a1(text)


def test_format_a1_with_anchors() -> None:
    assert format_a1(3, 2) == "B3"
    assert format_a1(3, 2, row_abs=True) == "B$3"
    assert format_a1(3, 2, col_abs=True) == "$B3"
    assert format_a1(3, 2, True, True) == "$B$3"


@pytest.mark.parametrize(("row", "col"), [(0, 1), (MAX_ROW + 1, 1), (1, 0), (1, MAX_COL + 1)])
def test_format_a1_rejects_cells_off_the_sheet(row: int, col: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        format_a1(row, col)


@given(st.integers(1, MAX_ROW), st.integers(1, MAX_COL), st.booleans(), st.booleans())
def test_a1_round_trip(row: int, col: int, row_abs: bool, col_abs: bool) -> None:
    assert parse_a1(format_a1(row, col, row_abs, col_abs)) == (row, col)


# --- sheet names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "quoted"),
    [
        ("Sheet1", "Sheet1"),
        ("Données", "Données"),
        ("Q1.2024", "Q1.2024"),
        ("_data", "_data"),
        ("XFE1", "XFE1"),  # beyond column XFD: not a cell, no quotes
        ("My Sheet", "'My Sheet'"),
        ("O'Brien", "'O''Brien'"),
        ("2024", "'2024'"),
        ("1st", "'1st'"),
        ("A1", "'A1'"),  # would read as a cell
        ("tax2023", "'tax2023'"),  # TAX2023 is a cell too (TAX < XFD)
        ("R", "'R'"),
        ("rc", "'rc'"),
        ("R1C1", "'R1C1'"),
        ("R2D2", "'R2D2'"),  # starts like an R1C1 reference
        ("C3PO", "'C3PO'"),
        ("a-b", "'a-b'"),
        ("TRUE", "'TRUE'"),
    ],
)
def test_quote_sheet_quotes_only_when_needed(name: str, quoted: str) -> None:
    assert quote_sheet(name) == quoted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A1", (None, "A1")),
        ("Sheet1!A1:B2", ("Sheet1", "A1:B2")),
        ("'My Sheet'!A1", ("My Sheet", "A1")),
        ("'O''Brien'!$C$3", ("O'Brien", "$C$3")),
        ("'a!b'!A1", ("a!b", "A1")),
        ("Table1[Col!x]", (None, "Table1[Col!x]")),
        ("Sheet1!Revenue", ("Sheet1", "Revenue")),
    ],
)
def test_split_sheet(text: str, expected: tuple[str | None, str]) -> None:
    assert split_sheet(text) == expected


@given(SHEET_NAMES)
def test_quote_and_split_sheet_round_trip(name: str) -> None:
    assert split_sheet(f"{quote_sheet(name)}!B7") == (name, "B7")


# --- cell lists ----------------------------------------------------------------------------------


def test_parse_cell_list_expands_areas_row_by_row() -> None:
    cells = parse_cell_list("Sheet1!F2:G3, C9,'My Sheet'!A1")
    assert cells == [
        ("Sheet1", 2, 6),
        ("Sheet1", 2, 7),
        ("Sheet1", 3, 6),
        ("Sheet1", 3, 7),
        (None, 9, 3),
        ("My Sheet", 1, 1),
    ]


def test_parse_cell_list_accepts_reversed_areas_and_anchors() -> None:
    assert parse_cell_list("$B$2:A1") == [(None, 1, 1), (None, 1, 2), (None, 2, 1), (None, 2, 2)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty item"),
        ("A1,,B2", "empty item"),
        ("Revenue", "not a cell"),
        ("A:A", "not a cell"),
        ("3:3", "not a cell"),
        ("A1:B2:C3", "not a cell"),
        ("XFE1", "not a cell"),
        ("!A1", "bad sheet"),
        ("A1:A100001", "more than 100000 cells"),
    ],
)
def test_parse_cell_list_rejects_bad_input(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cell_list(text)


def test_parse_cell_list_cap_counts_all_items() -> None:
    with pytest.raises(ValueError, match="more than 10 cells"):
        parse_cell_list("A1:A6,B1:B6", limit=10)


# --- single references -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "origin", "expected", "r1c1"),
    [
        ("B5", (5, 4), Reference(start=Corner(0, -2)), "RC[-2]"),
        ("$B$2", (5, 4), Reference(start=Corner(2, 2, True, True)), "R2C2"),
        ("B$2", (5, 4), Reference(start=Corner(2, -2, row_abs=True)), "R2C[-2]"),
        ("d2:d9", (10, 4), Reference(start=Corner(-8, 0), end=Corner(-1, 0)), "R[-8]C:R[-1]C"),
        ("A:B", (3, 3), Reference(start=Corner(None, -2), end=Corner(None, -1)), "C[-2]:C[-1]"),
        (
            "$A:$C",
            (3, 3),
            Reference(start=Corner(None, 1, col_abs=True), end=Corner(None, 3, col_abs=True)),
            "C1:C3",
        ),
        ("3:3", (5, 1), Reference(start=Corner(-2, None), end=Corner(-2, None)), "R[-2]:R[-2]"),
        ("'My Sheet'!A1", (1, 1), Reference("My Sheet", Corner(0, 0)), "'My Sheet'!RC"),
        ("Rates!A:B", (1, 3), Reference("Rates", Corner(None, -2), Corner(None, -1)), "Rates!C[-2]:C[-1]"),
        ("Revenue", (1, 1), Reference(name="Revenue"), "Revenue"),
        ("Sheet1!MyName", (1, 1), Reference("Sheet1", name="MyName"), "Sheet1!MyName"),
        ("XFE1", (1, 1), Reference(name="XFE1"), "XFE1"),
        ("R1C1", (1, 1), Reference(name="R1C1"), "R1C1"),
        ("Table1[Qty]", (1, 1), Reference(name="Table1", spec="[Qty]"), "Table1[Qty]"),
        ("[@Qty]", (1, 1), Reference(name="", spec="[@Qty]"), "[@Qty]"),
    ],
)
def test_parse_reference(text: str, origin: tuple[int, int], expected: Reference, r1c1: str) -> None:
    ref = parse_reference(text, origin)
    assert ref == expected
    assert relative_reference(ref) == r1c1
    assert format_reference(ref, origin) == text.replace("d", "D")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[1]Sheet1!A1", "external_workbook"),
        ("'C:\\data\\[Book.xlsx]Sheet1'!A1", "external_workbook"),
        ("[1]Name", "external_workbook"),
        ("Sheet1:Sheet3!A1", "3d_reference"),
        ("'Jan:Dec'!B2", "3d_reference"),
        ("A1:Revenue", "invalid_reference"),
        ("A1:B2:C3", "invalid_reference"),
        ("1eq", "invalid_reference"),
    ],
)
def test_parse_reference_refuses(text: str, reason: str) -> None:
    with pytest.raises(FormulaError) as info:
        parse_reference(text, (1, 1))
    assert info.value.reason == reason


def test_reference_kind() -> None:
    assert Reference(start=Corner(0, 0)).kind == "cell"
    assert Reference(start=Corner(0, 0), end=Corner(1, 1)).kind == "area"
    assert Reference(name="Revenue").kind == "name"
    assert Reference(name="", spec="[@Qty]").kind == "structured"


def test_format_reference_refuses_cells_off_the_sheet() -> None:
    with pytest.raises(ValueError, match="off the sheet"):
        format_reference(Reference(start=Corner(-1, 0)), (1, 1))
    with pytest.raises(ValueError, match="off the sheet"):
        format_reference(Reference(start=Corner(0, 1)), (1, MAX_COL))
    assert format_reference(Reference(start=Corner(1, 1, True, True)), (1, MAX_COL)) == "$A$1"


def test_corner_position() -> None:
    assert Corner(-1, 2).position((5, 5)) == (4, 7)
    assert Corner(2, 2, True, True).position((5, 5)) == (2, 2)
    assert Corner(None, 0).position((5, 5)) == (None, 5)


# --- reference kinds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "origin", "kinds"),
    [
        ("=1+2", (5, 5), set()),
        ('=UPPER("a")', (5, 5), set()),
        ("=C5*D5", (5, 5), {KIND_IN_WINDOW}),
        ("=O5+E15", (5, 5), {KIND_IN_WINDOW}),  # exactly 10 away
        ("=P5", (5, 5), {KIND_BEYOND_WINDOW}),
        ("=SUM(B2:B250)", (251, 2), {KIND_BEYOND_WINDOW}),
        ("=SUM(B2:B9)", (10, 2), {KIND_IN_WINDOW}),
        ("=SUM(A:A)", (5, 5), {KIND_BEYOND_WINDOW}),
        ("=SUM(5:5)", (5, 5), {KIND_BEYOND_WINDOW}),
        ("=$B$2*C5", (5, 4), {KIND_IN_WINDOW}),  # $B$2 measured from D5
        ("=$B$2*C50", (50, 4), {KIND_BEYOND_WINDOW, KIND_IN_WINDOW}),
        ("=Inputs!B3*C5", (5, 4), {KIND_OTHER_SHEET, KIND_IN_WINDOW}),
        ("=Revenue-Costs", (5, 4), {KIND_DEFINED_NAME}),
        ("=Data!Revenue", (5, 4), {KIND_DEFINED_NAME}),
        ("=[@Qty]*[@Price]", (5, 4), {KIND_STRUCTURED}),
        ("=SUM(Table1[Qty])", (5, 4), {KIND_STRUCTURED}),
    ],
)
def test_reference_kinds(formula: str, origin: tuple[int, int], kinds: set[str]) -> None:
    assert reference_kinds(formula, own_sheet="Data", origin=origin) == kinds
    assert reference_kinds(parse_formula(formula, origin), "Data", origin=origin) == kinds


def test_reference_kinds_own_sheet_is_same_sheet() -> None:
    formula = "=Data!B3+'My Data'!$A:$A"
    assert reference_kinds(formula, own_sheet="data", origin=(5, 4)) == {KIND_IN_WINDOW, KIND_OTHER_SHEET}
    assert reference_kinds(formula, own_sheet="My Data", origin=(5, 4)) == {
        KIND_OTHER_SHEET,
        KIND_BEYOND_WINDOW,
    }
    assert reference_kinds(formula, origin=(5, 4)) == {KIND_OTHER_SHEET}


def test_reference_kinds_radius() -> None:
    assert reference_kinds("=A1", origin=(4, 4), radius=3) == {KIND_IN_WINDOW}
    assert reference_kinds("=A1", origin=(4, 4), radius=2) == {KIND_BEYOND_WINDOW}


def test_reference_kinds_without_origin_counts_absolute_parts_beyond_the_window() -> None:
    formula = parse_formula("=$D$4+C4", (4, 4))
    assert reference_kinds(formula) == {KIND_BEYOND_WINDOW, KIND_IN_WINDOW}
    assert reference_kinds(formula, origin=(4, 4)) == {KIND_IN_WINDOW}


def test_reference_kinds_needs_an_origin_for_text() -> None:
    with pytest.raises(ValueError, match="origin"):
        reference_kinds("=A1")
