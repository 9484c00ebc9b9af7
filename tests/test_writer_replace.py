"""``replace_formulas``: the repair of occupied cells (``check --fix``), as surgical as ``set_formulas``.

The workbook is made by openpyxl, then its sheet XML is edited where openpyxl cannot write what a
test needs: a shared formula (master and children), a shared-string cell (this openpyxl writes
inline strings only) and a data table.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

import openpyxl
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from spreadsheetcoder.xlsx.reader import read_workbook
from spreadsheetcoder.xlsx.writer import (
    CellNotEmpty,
    WriteError,
    changed_outside,
    replace_formulas,
    set_formulas,
)
from tests.support.badfiles import MAIN_NS, edit_parts, xlsx_bytes

SHEET = "xl/worksheets/sheet1.xml"
BOOK = "xl/workbook.xml"
SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def _sub(xml: bytes, old: str, new: str) -> bytes:
    """``xml`` with the one occurrence of ``old`` replaced (a test edit that silently misses fails)."""
    text = xml.decode()
    assert text.count(old) == 1, old
    return text.replace(old, new).encode()


def _shared_formula_and_string(xml: bytes) -> bytes:
    xml = _sub(xml, '<c r="B2"><f>A2*2</f><v /></c>', '<c r="B2"><f t="shared" ref="B2:B4" si="0">A2*2</f><v>2</v></c>')
    xml = _sub(xml, '<c r="B3"><f>A3*2</f><v /></c>', '<c r="B3"><f t="shared" si="0"/><v>4</v></c>')
    xml = _sub(xml, '<c r="B4"><f>A4*2</f><v /></c>', '<c r="B4"><f t="shared" si="0"/><v>6</v></c>')
    xml = _sub(xml, '<c r="D2" t="inlineStr"><is><t>text</t></is></c>', '<c r="D2" t="s"><v>0</v></c>')
    return _sub(xml, '<c r="E3" t="n"><v>0</v></c>',
                '<c r="E3"><f t="dataTable" ref="E3:E4" dt2D="0" dtr="0" r1="A2"/><v>0</v></c>')


def _book() -> bytes:
    """Sheet Data: a header of inline strings; A2:A4 numbers, B2:B4 the shared formula A2*2 (master
    B2); C2 a styled formula, C3 a styled typed number; D2 a shared string, E2 a bool; E3:E4 a data
    table; F1:G1 merged (F1 a formula); H2:H3 an array formula; D4 a styled empty cell. Sheet Other:
    A1 a number. The workbook part asks for no recalculation on load."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Qty", "Double", "Plus", "Name", "Flag"])
    for r in (2, 3, 4):
        ws[f"A{r}"], ws[f"B{r}"] = r - 1, f"=A{r}*2"
    ws["C2"], ws["C3"], ws["D2"], ws["E2"], ws["E3"], ws["E4"] = "=A2+1", 42, "text", True, 0, 0
    ws["C2"].number_format, ws["C3"].number_format, ws["D4"].number_format = "0.00", "0.0%", "0.000"
    ws.merge_cells("F1:G1")
    ws["F1"] = "=A2"
    ws["H2"] = ArrayFormula("H2:H3", "=A2:A3*2")
    wb.create_sheet("Other")["A1"] = 5
    sst = f'<sst xmlns="{MAIN_NS}" count="1" uniqueCount="1"><si><t>text</t></si></sst>'
    return edit_parts(xlsx_bytes(wb), {
        SHEET: _shared_formula_and_string,
        BOOK: lambda x: _sub(x, ' fullCalcOnLoad="1"', ""),  # openpyxl sets it; the writer must
        "xl/sharedStrings.xml": sst.encode(),
        "[Content_Types].xml": lambda x: _sub(x, "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/></Types>'),
        "xl/_rels/workbook.xml.rels": lambda x: _sub(x, "</Relationships>", f'<Relationship Id="rIdSST" Type="{SST_REL}" Target="sharedStrings.xml"/></Relationships>'),
    })


def _sheet_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(SHEET).decode()


def _load(data: bytes) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(io.BytesIO(data))


def test_the_test_book_holds_what_the_tests_replace() -> None:
    sheet = read_workbook(_book()).sheet("Data")
    assert [sheet.get(r, 2).formula for r in (2, 3, 4)] == ["=A2*2", "=A3*2", "=A4*2"]
    assert (sheet.get(2, 4).value, sheet.get(2, 5).value, sheet.get(3, 3).value) == ("text", True, 42)
    assert (sheet.get(2, 8).formula_kind, sheet.get(3, 5).formula_kind) == ("array", "data_table")


@pytest.mark.parametrize(("cell", "rc", "before", "after"), [
    ("C2 formula", (2, 3), '<c r="C2" s="1"><f>A2+1</f><v /></c>', '<c r="C2" s="1"><f>A2+10</f></c>'),
    ("C3 typed number", (3, 3), '<c r="C3" s="2" t="n"><v>42</v></c>', '<c r="C3" s="2"><f>A2+10</f></c>'),
    ("D2 shared string", (2, 4), '<c r="D2" t="s"><v>0</v></c>', '<c r="D2"><f>A2+10</f></c>'),
    ("A1 inline string", (1, 1), '<c r="A1" t="inlineStr"><is><t>Qty</t></is></c>', '<c r="A1"><f>A2+10</f></c>'),
    ("E2 bool", (2, 5), '<c r="E2" t="b"><v>1</v></c>', '<c r="E2"><f>A2+10</f></c>'),
    ("F1 merged anchor", (1, 6), '<c r="F1"><f>A2</f><v /></c>', '<c r="F1"><f>A2+10</f></c>'),
])
def test_an_occupied_cell_gets_only_the_new_formula(cell: str, rc: tuple[int, int], before: str, after: str) -> None:
    data = _book()
    assert before in _sheet_xml(data), cell
    fixed = replace_formulas(data, {"Data": {rc: "=A2+10"}})
    xml = _sheet_xml(fixed)
    assert after in xml and before not in xml
    assert xml == _sheet_xml(data).replace(before, after)  # nothing else in the sheet part moved
    assert changed_outside(data, fixed, {"Data": [rc]}) == []
    got = read_workbook(fixed).sheet("Data").get(*rc)
    assert (got.formula, got.value) == ("=A2+10", None)  # no cached value: Excel computes it on load


def test_style_kept_calc_on_load_and_other_parts_identical() -> None:
    data = _book()
    fixed = replace_formulas(data, {"Data": {(2, 3): '=IF(A2<1,"a&b",A2)', (3, 3): "=A3+1"}})
    sheet = read_workbook(fixed).sheet("Data")
    assert (sheet.get(2, 3).formula, sheet.get(2, 3).number_format) == ('=IF(A2<1,"a&b",A2)', "0.00")
    assert (sheet.get(3, 3).formula, sheet.get(3, 3).number_format) == ("=A3+1", "0.0%")
    assert '<f>IF(A2&lt;1,"a&amp;b",A2)</f>' in _sheet_xml(fixed)
    with zipfile.ZipFile(io.BytesIO(data)) as a, zipfile.ZipFile(io.BytesIO(fixed)) as b:
        assert a.namelist() == b.namelist()
        assert [i.compress_type for i in a.infolist()] == [i.compress_type for i in b.infolist()]
        assert b'fullCalcOnLoad="1"' not in a.read(BOOK) and b'fullCalcOnLoad="1"' in b.read(BOOK)
        assert [n for n in a.namelist() if a.read(n) != b.read(n)] == [SHEET, BOOK]
    wb = _load(fixed)
    assert wb["Data"]["C2"].value == '=IF(A2<1,"a&b",A2)' and wb["Data"]["C2"].number_format == "0.00"
    assert wb["Data"]["C3"].value == "=A3+1" and wb["Data"]["C3"].number_format == "0.0%"
    assert wb["Other"]["A1"].value == 5


def test_a_shared_formula_child_gets_its_own_formula() -> None:
    data = _book()
    fixed = replace_formulas(data, {"Data": {(3, 2): "=A3*3"}})
    xml = _sheet_xml(fixed)
    assert '<c r="B3"><f>A3*3</f></c>' in xml
    assert '<c r="B2"><f t="shared" ref="B2:B4" si="0">A2*2</f><v>2</v></c>' in xml
    assert '<c r="B4"><f t="shared" si="0"/><v>6</v></c>' in xml
    sheet = read_workbook(fixed).sheet("Data")
    assert [sheet.get(r, 2).formula for r in (2, 3, 4)] == ["=A2*2", "=A3*3", "=A4*2"]
    assert changed_outside(data, fixed, {"Data": [(3, 2)]}) == []
    _load(fixed)


@pytest.mark.parametrize(("rc", "message"), [
    ((2, 2), r"Data!B2 is the master of a shared formula \(B2:B4\).*repair it in Excel"),
    ((2, 8), r"Data!H2 holds an array formula \(H2:H3\).*repair it in Excel"),
    ((3, 8), r"Data!H3 is inside the range H2:H3 of the array formula of H2"),
    ((3, 5), r"Data!E3 holds a data table \(E3:E4\)"),
    ((4, 5), r"Data!E4 is inside the range E3:E4 of the dataTable formula of E3"),
    ((1, 7), r"Data!G1 is inside the merged area F1:G1"),
    ((4, 4), r"Data!D4 is empty; replace_formulas only rewrites cells that hold a formula or a value"),
    ((9, 9), r"Data!I9 is empty"),  # no such row
    ((4, 3), r"Data!C4 is empty"),  # a row without that cell
])
def test_refused_cells(rc: tuple[int, int], message: str) -> None:
    data = _book()
    with pytest.raises(WriteError, match=message):
        replace_formulas(data, {"Data": {(3, 3): "=1", rc: "=1"}})  # C3 alone would be replaced


def test_refused_sheet_and_formula() -> None:
    data = _book()
    with pytest.raises(WriteError, match="no worksheet named 'Nope'"):
        replace_formulas(data, {"Nope": {(1, 1): "=1"}})
    with pytest.raises(WriteError, match="empty formula"):
        replace_formulas(data, {"Data": {(3, 3): "="}})
    assert replace_formulas(data, {"Data": {}}) == data


def test_set_formulas_still_writes_empty_cells_only() -> None:
    data = _book()
    with pytest.raises(CellNotEmpty, match=r"Data!C3 is not empty"):
        set_formulas(data, {"Data": {(3, 3): "=1"}})
    filled = set_formulas(data, {"Data": {(4, 4): "=1"}})  # the styled empty cell
    assert '<c r="D4" s="3"><f>1</f></c>' in _sheet_xml(filled)


def test_changed_outside_masks_replaced_cells_only() -> None:
    data = _book()
    targets = {"Data": [(2, 3), (3, 3), (3, 2)]}
    fixed = replace_formulas(data, {"Data": {(2, 3): "=A2+2", (3, 3): "=A3+1", (3, 2): "=A3*3"}})
    assert changed_outside(data, fixed, targets) == []
    assert changed_outside(data, fixed, {"Data": [(2, 3), (3, 3)]}) == [f"{SHEET} changed outside the target cells"]
    assert changed_outside(data, fixed, {}) == [f"{SHEET} changed outside the target cells"]
    # another cell changed beside the replaced ones
    tampered = edit_parts(fixed, {SHEET: lambda x: _sub(x, '<c r="A3" t="n"><v>2</v></c>', '<c r="A3" t="n"><v>7</v></c>')})
    assert changed_outside(data, tampered, targets) == [f"{SHEET} changed outside the target cells"]
    # a row made only of a replaced cell, on a second sheet
    other = replace_formulas(data, {"Other": {(1, 1): "=Data!A2"}})
    with zipfile.ZipFile(io.BytesIO(other)) as z:
        assert re.search(r'<row r="1"><c r="A1"><f>Data!A2</f></c></row>', z.read("xl/worksheets/sheet2.xml").decode())
    assert changed_outside(data, other, {"Other": [(1, 1)]}) == []
    assert read_workbook(other).sheet("Other").get(1, 1).formula == "=Data!A2"
