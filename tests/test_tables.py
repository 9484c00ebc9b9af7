from spreadsheetcoder.sheet import TableDef
from spreadsheetcoder.tables import find_header_rows
from tests.support.sheets import grid, make_sheet


def test_header_on_row_1():
    sheet = make_sheet(grid("A1", [["Item", "Qty", "Price", "Total"], ["a", 1, 2.5, "=B2*C2"], ["b", 3, 4, "=B3*C3"]]))
    assert find_header_rows(sheet, 3, 4) == (1,)


def test_header_not_on_row_1_below_title_and_blank_row():
    cells = {"A1": "Quarterly sales report"}
    cells.update(grid("B4", [["Region", "Q1", "Q2", "Total"], ["North", 10, 12, "=C5+D5"], ["South", 7, 9, "=C6+D6"]]))
    sheet = make_sheet(cells)
    assert find_header_rows(sheet, 6, 5) == (4,)


def test_lone_title_directly_above_header_is_not_a_header():
    cells = grid("A1", [["Budget 2024"], ["Category", "Budget", "Actual"], ["Rent", 100, 90], ["Food", 50, 60]])
    sheet = make_sheet(cells)
    assert find_header_rows(sheet, 4, 3) == (2,)


def test_two_row_header():
    cells = grid("A3", [
        [None, "2023", None, "2024", None],
        ["Region", "Plan", "Actual", "Plan", "Actual"],
        ["North", 1, 2, 3, 4],
        ["South", 5, 6, 7, 8],
    ])
    sheet = make_sheet(cells, merged=[(3, 2, 3, 3), (3, 4, 3, 5)])
    assert find_header_rows(sheet, 6, 5) == (3, 4)


def test_no_header_for_a_bare_block_of_numbers():
    sheet = make_sheet(grid("A1", [[1, 2], [3, 4], [5, 6], ["=A1+A2", None]]))
    assert find_header_rows(sheet, 4, 1) == ()


def test_totals_row_after_blank_separator_finds_no_header_across_the_gap():
    cells = grid("A1", [["Item", "Cost"], ["a", 1], ["b", 2]])
    cells["B5"] = "=SUM(B2:B3)"
    sheet = make_sheet(cells)
    assert find_header_rows(sheet, 5, 2) == (1,)  # blank rows right above the cell are skipped


def test_year_header_row_of_numbers():
    cells = grid("A2", [["Sector", 2020, 2021, 2022, 2023], ["Power", 1.0, 1.1, 1.2, 1.3], ["Steel", 2.0, 2.1, 2.2, 2.3]])
    sheet = make_sheet(cells)
    assert find_header_rows(sheet, 4, 3) == (2,)


def test_excel_table_names_its_header_row():
    cells = grid("C10", [["Qty", "Price", "Total"], [1, 2, "=C11*D11"], [3, 4, "=C12*D12"]])
    table = TableDef("T", "C10:E12", 10, 3, 12, 5, ["Qty", "Price", "Total"])
    sheet = make_sheet(cells, tables=[table])
    assert find_header_rows(sheet, 12, 5) == (10,)
    assert find_header_rows(sheet, 10, 5) == ()  # the header itself has no header


def test_text_table_takes_its_top_row():
    cells = grid("A1", [["First", "Last", "Full"], ["Ann", "Lee", "=A2&B2"], ["Bob", "Ray", "=A3&B3"],
                        ["Cy", "Dee", "=A4&B4"], ["Di", "Eck", None]])
    sheet = make_sheet(cells)
    assert find_header_rows(sheet, 5, 3) == (1,)
