from spreadsheetcoder.sheet import Workbook
from spreadsheetcoder.targets import list_targets, named_cells
from tests.support.sheets import grid, make_sheet


def filled_sheet():
    cells = grid("A1", [
        ["Item", "Qty", "Price", "Total"],
        ["a", 1, 2, "=B2*C2"],
        ["b", 3, 4, "=B3*C3"],
        ["c", 5, 6, "=B4*C4*$F$1"],
        ["d", 7, 8, "=B5*C5*$F$1"],
        ["Total", "=SUM(B2:B5)", "=SUM(C2:C5)", "=SUM(D2:D5)"],
    ])
    cells["F1"] = 1.1
    cells["G1"] = "=[1]Rates!A1"
    cells["G2"] = "=[1]Rates!A2"
    return make_sheet(cells)


def test_one_target_per_distinct_relative_formula_first_occurrence_first():
    targets = list_targets(filled_sheet())
    got = [(t.row, t.col, t.occurrences) for t in targets]
    # reading order: G1 (row 1) first; $F$1 stays absolute, so D4 and D5 are one program
    assert got == [(1, 7, 2), (2, 4, 2), (4, 4, 2), (6, 2, 3)]
    assert targets[0].formula is None and targets[0].reason == "external_workbook"
    assert targets[1].key == "=RC[-2]*RC[-1]"


def test_all_cells_lists_every_formula_cell():
    assert len(list_targets(filled_sheet(), all_cells=True)) == 9


def test_named_cells_resolves_sheets_and_ranges():
    book = Workbook("b.xlsx", [make_sheet({}, name="Data"), make_sheet({}, name="My Sheet")])
    assert named_cells(book, "B2:B3,'My Sheet'!C9") == [("Data", 2, 2), ("Data", 3, 2), ("My Sheet", 9, 3)]
    assert named_cells(book, "my sheet!A1") == [("My Sheet", 1, 1)]


def test_named_cells_unknown_sheet_lists_the_sheets():
    import pytest

    book = Workbook("b.xlsx", [make_sheet({}, name="Data")])
    with pytest.raises(KeyError, match="Data"):
        named_cells(book, "Nope!A1")


def test_distinct_targets_leaves_the_cell_list_untouched():
    from spreadsheetcoder.targets import distinct_targets, iter_formula_cells

    cells = list(iter_formula_cells(filled_sheet()))
    distinct = distinct_targets(cells)
    assert [t.occurrences for t in cells] == [1] * len(cells)
    assert [(t.row, t.col, t.occurrences) for t in distinct] == [(1, 7, 2), (2, 4, 2), (4, 4, 2), (6, 2, 3)]
