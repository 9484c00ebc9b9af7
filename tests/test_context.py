import datetime as dt

import pytest

from spreadsheetcoder.constants import FORMULA_SEPARATOR, TAG_EMPTY, TAG_MASK, TAG_PAD
from spreadsheetcoder.context import ContextWindow, SheetContext, extract_context, format_value
from spreadsheetcoder.errors import ConfigError
from tests.support.sheets import grid, make_cell, make_sheet


def budget_sheet():
    cells = grid("A1", [
        ["Category", "Budget", "Actual", "Variance"],
        ["Rent", 1200, 1150, ("=C2-B2", -50)],
        ["Food", 400, 460.5, ("=C3-B3", 60.5)],
        ["Total", ("=SUM(B2:B3)", 1600), ("=SUM(C2:C3)", 1610.5), ("=C4-B4", 10.5)],
    ])
    return make_sheet(cells, name="Budget")


def test_window_is_21_by_21_padded_not_shifted_at_the_top_left_edge():
    window = extract_context(budget_sheet(), 3, 4)
    assert len(window.cells) == 21 and all(len(r) == 21 for r in window.cells)
    assert window.cells[10][10] == TAG_MASK
    # row 3 is at index 10, so indices 0..7 are rows -7..0: padding
    assert all(t == TAG_PAD for t in window.cells[7])
    assert window.cells[8][6] == TAG_PAD  # column 0
    assert window.cells[8][7] == "str:Category"  # A1 sits at offset (-2, -3)
    assert window.cells[9][8] == "num:1200"
    assert window.cells[20][20] == TAG_EMPTY  # beyond the data, inside the sheet


def test_window_at_the_far_edge_of_the_sheet_is_padded():
    sheet = make_sheet({"XFD1048576": 1, "XFC1048575": 2})
    window = extract_context(sheet, 1048576, 16384)
    assert window.cells[10][11] == TAG_PAD and window.cells[11][10] == TAG_PAD
    assert window.cells[9][9] == "num:2"


def test_values_setting_hides_neighbour_formulas():
    window = extract_context(budget_sheet(), 4, 4, context="values")
    assert window.cells[10][9] == "num:1610.5"
    assert window.cells[9][10] == "num:60.5"
    assert window.header_rows == (1,)
    assert window.headers[0][7:11] == ["str:Category", "str:Budget", "str:Actual", "str:Variance"]


def test_formulas_setting_shows_relative_formulas():
    window = extract_context(budget_sheet(), 4, 4, context="formulas")
    assert window.cells[10][9] == f"num:1610.5{FORMULA_SEPARATOR}=SUM(R[-2]C:R[-1]C)"
    assert window.cells[9][10] == f"num:60.5{FORMULA_SEPARATOR}=RC[-1]-RC[-2]"
    assert window.cells[10][10] == TAG_MASK  # the target's own formula is never shown


def test_inference_cell_gets_the_same_context_as_a_masked_target():
    sheet = budget_sheet()
    masked = extract_context(sheet, 4, 4, context="formulas")
    del sheet.cells[(4, 4)]
    empty = extract_context(sheet, 4, 4, context="formulas")
    assert masked == empty


def test_typed_cell_texts():
    assert format_value(make_cell(3.0)) == "num:3"
    assert format_value(make_cell(0.0725)) == "num:0.0725"
    assert format_value(make_cell(True)) == "bool:TRUE"
    assert format_value(make_cell("#DIV/0!")) == "err:#DIV/0!"
    assert format_value(make_cell(dt.datetime(2024, 3, 31))) == "date:2024-03-31"
    assert format_value(make_cell("a\nlong   text " * 20)).startswith("str:a long text a long")
    assert len(format_value(make_cell("x" * 500))) == len("str:") + 64
    assert format_value(make_cell("=A1")) == TAG_EMPTY  # formula without a cached value


def test_dict_round_trip_is_sparse_and_exact():
    window = extract_context(budget_sheet(), 3, 4, context="formulas")
    data = window.to_dict()
    assert len(data["cells"]) < 21 * 21 / 4
    assert ContextWindow.from_dict(data) == window


def test_sheet_context_reuses_work_and_matches_extract_context():
    sheet = budget_sheet()
    ctx = SheetContext(sheet, "values")
    for row, col in [(2, 4), (3, 4), (4, 2), (4, 3)]:
        assert ctx.window(row, col) == extract_context(sheet, row, col)


def test_unknown_setting_is_refused():
    with pytest.raises(ConfigError, match="formulas"):
        SheetContext(budget_sheet(), "everything")
