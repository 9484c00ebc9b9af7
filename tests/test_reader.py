"""read_workbook and sniff_format: what a good workbook gives, and the reason each bad file gets."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import defusedxml.ElementTree
import openpyxl
import pytest
from openpyxl.chart import BarChart, Reference
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.formula import ArrayFormula
from openpyxl.worksheet.table import Table

from spreadsheetcoder.errors import WorkbookError
from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook
from spreadsheetcoder.xlsx import convert, package, reader
from spreadsheetcoder.xlsx.reader import ReadLimits, read_workbook, sniff_format
from tests.support.badfiles import (
    billion_laughs,
    edit_cells,
    edit_parts,
    encrypted_xlsx,
    external_entity,
    minimal_xlsx,
    ods_bytes,
    patch_central_directory,
    random_bytes,
    with_doctype,
    xls_bytes,
    xlsb_bytes,
    xlsx_bytes,
    zip_bomb,
)
from tests.support.paths import ROOT

SHEET1 = "xl/worksheets/sheet1.xml"


def at(sheet: Sheet, row: int, col: int) -> Cell:
    cell = sheet.get(row, col)
    assert cell is not None, (sheet.name, row, col)
    return cell


def read_error(source: object, **kwargs: object) -> WorkbookError:
    with pytest.raises(WorkbookError) as info:
        read_workbook(source, **kwargs)  # type: ignore[arg-type]
    return info.value


# ---------------------------------------------------------------------------------------------
# A good workbook


@pytest.fixture(scope="module")
def book_bytes() -> bytes:
    """Every cell type, formulas with cached values (shared, array, data table), merged cells, a
    table, defined names of both scopes, number formats and a chartsheet."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws.append(["Item", "Qty", "Price", "Total", "Twice", "When", "Flag", "Oops"])
    ws.append(["apple", 3, 2.5, "=B2*C2", None, dt.datetime(2024, 3, 31), True, "#DIV/0!"])
    ws.append(["pear", 4, 1.25, "=B3*C3", None, dt.date(2024, 4, 1), False, "#N/A"])
    ws.append(["plum", 5, 1.0, "=B4*C4"])
    ws["E2"] = ArrayFormula("E2:E3", "=B2:B3*2")
    ws["C2"].number_format = "0.00"
    ws["C3"].number_format = "0.00"
    ws["F2"].number_format = "yyyy-mm-dd"
    ws["A6"] = "Totals"
    ws["B6"] = "=SUM(B2:B4)"               # no cached value: EMPTY type, formula kept
    ws["C6"] = '=IF(B6>100,"big","")'      # cached result is the empty string
    ws["D6"] = "=D7"                       # becomes a data table below
    ws.merge_cells("A8:C8")
    ws["A8"] = "Merged header"
    ws.add_table(Table(displayName="Fruit", ref="A1:D4"))
    wb.defined_names["Rate"] = DefinedName("Rate", attr_text="Data!$C$2")
    ws.defined_names["Local"] = DefinedName("Local", attr_text="Data!$B$2:$B$4")
    ws.print_area = "A1:D4"                # an _xlnm built-in: left out
    other = wb.create_sheet("Other")
    other["A1"] = "=Data!B2+1"
    chart = wb.create_chartsheet("Chart")
    bar = BarChart()
    bar.add_data(Reference(ws, min_col=2, min_row=1, max_row=4))
    chart.add_chart(bar)
    wb.create_sheet("Blank")

    def add_cached_values(xml: bytes) -> bytes:
        return edit_cells(xml, {
            "D2": {"v": "7.5", "f": "B2*C2", "f.t": "shared", "f.ref": "D2:D4", "f.si": "0"},
            "D3": {"v": "5", "f": None, "f.t": "shared", "f.si": "0"},
            "D4": {"v": "5", "f": None, "f.t": "shared", "f.si": "0"},
            "E2": {"v": "6"},
            "C6": {"v": "", "t": "str"},
            "D6": {"v": "0", "f": None, "f.t": "dataTable", "f.ref": "D6:D6", "f.dt2D": "0", "f.dtr": "0",
                   "f.r1": "A2"},
        })

    def add_other_cached(xml: bytes) -> bytes:
        return edit_cells(xml, {"A1": {"v": "4"}})

    return edit_parts(xlsx_bytes(wb), {SHEET1: add_cached_values, "xl/worksheets/sheet2.xml": add_other_cached})


@pytest.fixture(scope="module")
def book(book_bytes: bytes) -> Workbook:
    return read_workbook(book_bytes)


def test_sheets_in_tab_order_without_chartsheet(book: Workbook) -> None:
    assert book.sheet_names == ["Data", "Other", "Blank"]
    assert book.path == "<memory>"


def test_values_of_every_type(book: Workbook) -> None:
    data = book.sheet("Data")
    assert (at(data, 1, 1).value, at(data, 1, 1).type) == ("Item", CellType.STRING)
    assert (at(data, 2, 2).value, at(data, 2, 2).type) == (3, CellType.NUMBER)
    assert isinstance(at(data, 2, 2).value, int)
    assert (at(data, 2, 3).value, at(data, 2, 3).type) == (2.5, CellType.NUMBER)
    assert (at(data, 2, 6).value, at(data, 2, 6).type) == (dt.datetime(2024, 3, 31), CellType.DATE)
    assert (at(data, 2, 7).value, at(data, 2, 7).type) == (True, CellType.BOOL)
    assert (at(data, 3, 7).value, at(data, 3, 7).type) == (False, CellType.BOOL)
    assert (at(data, 2, 8).value, at(data, 2, 8).type) == ("#DIV/0!", CellType.ERROR)
    assert (at(data, 3, 8).value, at(data, 3, 8).type) == ("#N/A", CellType.ERROR)
    assert data.get(4, 5) is None and data.get(5, 1) is None  # empty cells are not stored
    assert all(cell.formula is None for (row, col), cell in data.cells.items() if col != 4 and col != 5 and row < 6)


def test_number_formats_are_shared_strings_and_general_is_none(book: Workbook) -> None:
    data = book.sheet("Data")
    assert at(data, 2, 3).number_format == "0.00"
    assert at(data, 2, 3).number_format is at(data, 3, 3).number_format  # one string object
    assert at(data, 2, 6).number_format == "yyyy-mm-dd"
    assert at(data, 2, 2).number_format is None


def test_formulas_keep_text_and_cached_value(book: Workbook) -> None:
    data = book.sheet("Data")
    total = at(data, 2, 4)
    assert (total.formula, total.value, total.type, total.formula_kind) == ("=B2*C2", 7.5, CellType.NUMBER, None)
    assert at(book.sheet("Other"), 1, 1).formula == "=Data!B2+1"
    assert at(book.sheet("Other"), 1, 1).value == 4


def test_shared_formulas_are_expanded(book: Workbook) -> None:
    data = book.sheet("Data")
    assert [at(data, r, 4).formula for r in (2, 3, 4)] == ["=B2*C2", "=B3*C3", "=B4*C4"]
    assert [at(data, r, 4).value for r in (2, 3, 4)] == [7.5, 5, 5]


def test_array_formula_on_its_anchor_only(book: Workbook) -> None:
    anchor = at(book.sheet("Data"), 2, 5)
    assert (anchor.formula, anchor.formula_kind, anchor.value) == ("=B2:B3*2", "array", 6)


def test_data_table_formula(book: Workbook) -> None:
    cell = at(book.sheet("Data"), 6, 4)
    assert (cell.formula, cell.formula_kind, cell.value) == ("=TABLE(,A2)", "data_table", 0)


def test_formula_without_cached_value_is_empty_typed(book: Workbook) -> None:
    cell = at(book.sheet("Data"), 6, 2)
    assert (cell.formula, cell.value, cell.type) == ("=SUM(B2:B4)", None, CellType.EMPTY)
    assert not cell.is_empty


def test_formula_with_empty_string_result(book: Workbook) -> None:
    cell = at(book.sheet("Data"), 6, 3)
    assert (cell.formula, cell.value, cell.type) == ('=IF(B6>100,"big","")', "", CellType.STRING)


def test_merged_cells(book: Workbook) -> None:
    data = book.sheet("Data")
    assert data.merged == [(8, 1, 8, 3)]
    assert data.merged_at(8, 2) == (8, 1, 8, 3)


def test_table(book: Workbook) -> None:
    (table,) = book.sheet("Data").tables
    assert (table.name, table.ref, table.columns) == ("Fruit", "A1:D4", ["Item", "Qty", "Price", "Total"])
    assert (table.min_row, table.min_col, table.max_row, table.max_col) == (1, 1, 4, 4)
    assert (table.header_rows, table.totals_rows) == (1, 0)
    assert book.sheet("Data").table_at(3, 2) is table


def test_defined_names_by_scope_without_builtins(book: Workbook) -> None:
    assert book.defined_names == {"Rate": "Data!$C$2"}
    assert book.sheet("Data").defined_names == {"Local": "Data!$B$2:$B$4"}
    assert book.sheet("Other").defined_names == {}


def test_empty_sheet_reads_with_no_cells(book: Workbook) -> None:
    blank = book.sheet("Blank")
    assert blank.cells == {} and (blank.max_row, blank.max_col) == (0, 0)


def test_sheets_filter(book_bytes: bytes) -> None:
    wb = read_workbook(book_bytes, sheets=["other", "Data"])
    assert wb.sheet_names == ["Data", "Other"]  # workbook order, names matched case-insensitively
    assert wb.defined_names == {"Rate": "Data!$C$2"}
    with pytest.raises(KeyError, match="Chart"):
        read_workbook(book_bytes, sheets=["Chart"])  # a chartsheet is not a worksheet


def test_sources_path_bytes_and_stream_agree(book_bytes: bytes, tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    path.write_bytes(book_bytes)
    from_path = read_workbook(path)
    assert from_path.path == str(path)
    stream = io.BytesIO(b"junk" + book_bytes)
    stream.seek(4)  # a stream not at its start is read from where it stands
    for other in (read_workbook(str(path)), read_workbook(book_bytes), read_workbook(stream)):
        assert [s.cells for s in other.sheets] == [s.cells for s in from_path.sheets]
    assert path.read_bytes() == book_bytes  # never modified


class Pipe:
    """A read-only, non-seekable stream that returns short reads, like a socket."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, n: int = -1) -> bytes:
        n = min(n if n >= 0 else len(self.data), 1000)
        chunk, self.data = self.data[:n], self.data[n:]
        return chunk


def test_non_seekable_stream(book_bytes: bytes) -> None:
    assert read_workbook(Pipe(book_bytes)).sheet_names == ["Data", "Other", "Blank"]  # type: ignore[arg-type]
    error = read_error(Pipe(book_bytes), limits=ReadLimits(max_file_bytes=len(book_bytes) - 1))
    assert error.reason == "too_large"


def test_shared_strings_rich_text_inline_strings_and_1904_dates() -> None:
    data = minimal_xlsx(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c>'
        '<c r="C1" t="inlineStr"><is><r><t>in</t></r><r><t>line</t></r></is></c>'
        '<c r="D1" s="1"><v>1</v></c><c r="E1" s="2"><v>1.5</v></c><c r="F1" t="d"><v>2024-01-02T03:04:05</v></c></row>',
        ["plain", '<r><t>ri</t></r><r><t>ch</t></r><rPh sb="0" eb="1"><t>phonetic</t></rPh>'],
        workbook_extra="",
    )
    data = edit_parts(data, {"xl/workbook.xml": lambda x: x.replace(b"<sheets>", b'<workbookPr date1904="1"/><sheets>')})
    sheet = read_workbook(data).sheets[0]
    assert [at(sheet, 1, c).value for c in (1, 2, 3)] == ["plain", "rich", "inline"]
    assert at(sheet, 1, 4).value == dt.datetime(1904, 1, 2) and at(sheet, 1, 4).type is CellType.DATE
    assert (at(sheet, 1, 5).value, at(sheet, 1, 5).number_format) == (1.5, "0.000")
    assert at(sheet, 1, 6).value == dt.datetime(2024, 1, 2, 3, 4, 5)


def test_cells_without_references_are_placed_in_order() -> None:
    sheet = read_workbook(minimal_xlsx('<row><c><v>1</v></c><c><v>2</v></c></row><row><c><v>3</v></c></row>')).sheets[0]
    assert {k: c.value for k, c in sheet.cells.items()} == {(1, 1): 1, (1, 2): 2, (2, 1): 3}


# ---------------------------------------------------------------------------------------------
# Bad files, one reason each


def test_missing_file(tmp_path: Path) -> None:
    assert read_error(tmp_path / "nope.xlsx").reason == "not_found"
    assert read_error(tmp_path).reason == "not_found"  # a directory


@pytest.mark.parametrize("make", [
    pytest.param(lambda: random_bytes(), id="random-bytes"),
    pytest.param(lambda: b"", id="zero-bytes"),
    pytest.param(lambda: minimal_xlsx()[: len(minimal_xlsx()) // 2], id="truncated-xlsx"),
    pytest.param(lambda: edit_parts(minimal_xlsx(), {"xl/workbook.xml": None}), id="no-workbook-part"),
    pytest.param(lambda: edit_parts(minimal_xlsx(), {"[Content_Types].xml": None}), id="no-content-types"),
    pytest.param(lambda: edit_parts(minimal_xlsx(), {SHEET1: None}), id="no-sheet-part"),
    pytest.param(lambda: edit_parts(minimal_xlsx(), {SHEET1: lambda x: x[:-20]}), id="malformed-sheet-xml"),
    pytest.param(lambda: edit_parts(minimal_xlsx(), {"xl/workbook.xml": b"<workbook"}), id="malformed-workbook-xml"),
    pytest.param(lambda: minimal_xlsx('<row r="1"><c r="A1"><v>abc</v></c></row>'), id="bad-number"),
    pytest.param(lambda: minimal_xlsx('<row r="1"><c r="A1" t="s"><v>7</v></c></row>'), id="bad-string-index"),
    pytest.param(lambda: minimal_xlsx('<row r="1"><c r="XFE1"><v>1</v></c></row>'), id="column-past-XFD"),
    pytest.param(lambda: minimal_xlsx('<row r="2000000"><c><v>1</v></c></row>'), id="row-past-1048576"),
    pytest.param(lambda: zipfile_with({"readme.txt": b"hello"}), id="zip-without-workbook"),
])
def test_corrupt(make: object) -> None:
    assert read_error(make()).reason == "corrupt"  # type: ignore[operator]


def zipfile_with(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_bad_crc_is_corrupt() -> None:
    data = bytearray(minimal_xlsx('<row r="1"><c r="A1"><v>12345</v></c></row>', compression=zipfile.ZIP_STORED))
    at = data.index(b"<v>12345</v>")
    data[at + 3] = ord("9")  # still valid XML, wrong checksum
    error = read_error(bytes(data))
    assert error.reason == "corrupt" and "CRC" in str(error)


def test_member_longer_than_declared_is_corrupt() -> None:
    data = minimal_xlsx()
    size = zipfile.ZipFile(io.BytesIO(data)).getinfo(SHEET1).file_size
    # zipfile stops at the declared size, then the CRC of what it read does not match
    assert read_error(patch_central_directory(data, SHEET1, file_size=size - 10)).reason == "corrupt"


def test_empty_package_without_worksheet() -> None:
    no_sheets = edit_parts(minimal_xlsx(), {"xl/workbook.xml": lambda x: x.replace(
        b'<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>', b"<sheets/>")})
    assert read_error(no_sheets).reason == "empty"


def test_chartsheet_only_is_empty() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([1, 2])
    chart = wb.create_chartsheet("Chart")
    bar = BarChart()
    bar.add_data(Reference(ws, min_col=1, max_col=2, min_row=1))
    chart.add_chart(bar)
    data = edit_parts(xlsx_bytes(wb), {"xl/workbook.xml": lambda x: x.replace(
        b'<sheet name="Sheet" sheetId="1" state="visible" r:id="rId1" />', b"")})
    assert read_error(data).reason == "empty"


def test_password_protected() -> None:
    data = encrypted_xlsx()
    assert sniff_format(data) == "encrypted"
    error = read_error(data)
    assert error.reason == "encrypted" and "password" in str(error)


def test_zip_member_encryption_flag() -> None:
    data = patch_central_directory(minimal_xlsx(), SHEET1, flag_bits=0x1)
    assert read_error(data).reason == "encrypted"


def test_xls_renamed_to_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    path.write_bytes(xls_bytes())
    error = read_error(path)
    assert error.reason == "unsupported_format"
    assert ".xls" in str(error) and "soffice --headless --convert-to xlsx" in str(error)
    assert error.path == str(path)


@pytest.mark.parametrize(("make", "fmt"), [
    (ods_bytes, ".ods"),
    (xlsb_bytes, ".xlsb"),
    (lambda: b"name,qty\napple,3\n", "CSV"),
    (lambda: b"<html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
])
def test_other_formats_by_content(make: object, fmt: str) -> None:
    error = read_error(make())  # type: ignore[operator]
    assert error.reason == "unsupported_format" and fmt in str(error) and "soffice" in str(error)


def test_docx_is_not_a_spreadsheet() -> None:
    data = zipfile_with({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"})
    error = read_error(data, convert=True)
    assert error.reason == "unsupported_format" and "Word" in str(error)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    data = minimal_xlsx()
    assert read_error(data, limits=ReadLimits(max_file_bytes=len(data) - 1)).reason == "too_large"
    path = tmp_path / "big.xlsx"
    path.write_bytes(data)
    assert read_error(path, limits=ReadLimits(max_file_bytes=100)).reason == "too_large"


def test_declared_uncompressed_total_over_the_limit() -> None:
    error = read_error(minimal_xlsx(), limits=ReadLimits(max_uncompressed_bytes=1000))
    assert error.reason == "too_large" and "uncompressed" in str(error)


def test_cells_over_the_limit_are_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The values in the sheet XML are counted first: a workbook over the cell limit is never parsed.
    Formula cells without a cached value are not counted then; the parse still counts them."""
    import spreadsheetcoder.xlsx.reader as reader

    plain = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>x</t></is></c></row>'
                    for r in range(1, 101))
    parsed: list[int] = []
    original = reader.SheetParser.parse

    def spy(self: object) -> object:
        parsed.append(1)
        return original(self)  # type: ignore[arg-type]

    monkeypatch.setattr(reader.SheetParser, "parse", spy)
    error = read_error(minimal_xlsx(plain), limits=ReadLimits(max_cells=150))
    assert error.reason == "too_large" and not parsed
    assert len(read_workbook(minimal_xlsx(plain), limits=ReadLimits(max_cells=200)).sheets[0].cells) == 200
    formulas = "".join(f'<row r="{r}"><c r="A{r}"><f>1+{r}</f></c></row>' for r in range(1, 101))
    assert read_error(minimal_xlsx(formulas), limits=ReadLimits(max_cells=50)).reason == "too_large"  # by the parse
    assert parsed


def test_cells_over_the_limit_while_streaming() -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>1</v></c></row>' for r in range(1, 101))
    data = minimal_xlsx(rows)
    assert len(read_workbook(data, limits=ReadLimits(max_cells=200)).sheets[0].cells) == 200
    error = read_error(data, limits=ReadLimits(max_cells=199))
    assert error.reason == "too_large" and "non-empty cells" in str(error)


def test_merged_ranges_over_the_limit() -> None:
    merges = '<mergeCells count="3"><mergeCell ref="A3:B3"/><mergeCell ref="A4:B4"/><mergeCell ref="A5:B5"/></mergeCells>'
    assert len(read_workbook(minimal_xlsx(sheet_extra=merges), limits=ReadLimits(max_cells=3)).sheets[0].merged) == 3
    assert read_error(minimal_xlsx(sheet_extra=merges), limits=ReadLimits(max_cells=2)).reason == "too_large"


def test_real_zip_bomb() -> None:
    data = zip_bomb(64 * 1024 * 1024)
    assert len(data) < 1024 * 1024
    error = read_error(data)
    assert error.reason == "zip_bomb" and SHEET1 in str(error)


def test_declared_2gb_member_is_refused_before_decompression() -> None:
    data = patch_central_directory(minimal_xlsx(), SHEET1, file_size=2 * 1024**3)
    assert read_error(data).reason == "zip_bomb"
    # with the ratio check out of the way, the declared total still refuses it
    assert read_error(data, limits=ReadLimits(max_compression_ratio=1e12)).reason == "too_large"


def test_too_many_zip_members() -> None:
    data = bytearray(minimal_xlsx())
    end = data.rindex(b"PK\x05\x06")
    data[end + 10:end + 12] = (60000).to_bytes(2, "little")  # declared entries; the directory is bounded first
    data[end + 12:end + 16] = (64 * 1024 * 1024).to_bytes(4, "little")
    assert read_error(bytes(data)).reason == "too_large"


# ---------------------------------------------------------------------------------------------
# Hostile XML: refused by the DOCTYPE guard, and by defusedxml behind it


def test_openpyxl_parses_with_defusedxml() -> None:
    from openpyxl import DEFUSEDXML, LXML
    from openpyxl.xml import functions

    assert DEFUSEDXML
    assert functions.iterparse is defusedxml.ElementTree.iterparse
    if not LXML:
        assert functions.fromstring is defusedxml.ElementTree.fromstring


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", SHEET1])
def test_billion_laughs(part: str) -> None:
    root = "sst" if "sharedStrings" in part else "worksheet"
    body = "<si><t>&lol9;</t></si>" if root == "sst" else '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData>'
    error = read_error(minimal_xlsx(parts={part: billion_laughs(root, body)}))
    assert error.reason == "hostile_xml" and part in str(error)


def test_external_entity() -> None:
    body = '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData>'
    assert read_error(minimal_xlsx(parts={SHEET1: external_entity("worksheet", body)})).reason == "hostile_xml"


HOSTILE_PARTS = ["[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml",
                 "xl/styles.xml", SHEET1, "xl/worksheets/_rels/sheet1.xml.rels", "xl/tables/table1.xml"]


@pytest.mark.parametrize("guard", [True, False], ids=["guard", "defusedxml-only"])
@pytest.mark.parametrize("part", HOSTILE_PARTS)
def test_doctype_in_any_part(part: str, guard: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if not guard:  # prove the second layer: every parser behind the guard is defusedxml
        monkeypatch.setattr(package, "_check_prolog", lambda read, name: b"")
    good = minimal_xlsx(with_table=True)
    hostile = edit_parts(good, {part: with_doctype})
    error = read_error(hostile)
    assert error.reason == "hostile_xml" and (part in str(error) or not guard)


@pytest.mark.parametrize("part", HOSTILE_PARTS)
def test_guard_alone_protects_openpyxl_without_defusedxml(part: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # openpyxl falls back to the standard library parsers when defusedxml is missing or
    # OPENPYXL_DEFUSEDXML=False; the guard must refuse the DOCTYPE before any of them runs.
    import xml.etree.ElementTree as stdlib_etree

    from openpyxl.packaging import relationship
    from openpyxl.reader import excel, strings, workbook
    from openpyxl.styles import stylesheet

    for module in (excel, workbook, stylesheet, relationship):
        monkeypatch.setattr(module, "fromstring", stdlib_etree.fromstring)
    monkeypatch.setattr(strings, "iterparse", stdlib_etree.iterparse)
    error = read_error(edit_parts(minimal_xlsx(with_table=True), {part: with_doctype}))
    assert error.reason == "hostile_xml" and part in str(error)


def test_prolog_guard_sees_through_encodings() -> None:
    verdict = package._prolog_verdict
    doc = '<?xml version="1.0"?>\n<!-- c -->\n<?pi x?><!DOCTYPE w [<!ENTITY a "b">]><w/>'
    assert verdict(doc.encode(), at_end=True) is True
    assert verdict(b"\xef\xbb\xbf" + doc.encode(), at_end=True) is True
    assert verdict(doc.encode("utf-16"), at_end=True) is True                  # with BOM
    assert verdict(doc.encode("utf-16-le"), at_end=True) is True               # without BOM
    assert verdict(doc.encode("utf-16-be"), at_end=True) is True
    ebcdic = b'<?xml version="1.0" encoding="cp500"?>' + "<!DOCTYPE w><w/>".encode("cp500")
    assert verdict(ebcdic, at_end=True) is True
    assert verdict(b'<?xml version="1.0"?><w><x/></w>', at_end=True) is False
    assert verdict(b"<?xml version=", at_end=False) is None                    # needs more bytes


# ---------------------------------------------------------------------------------------------
# Robustness: damaged packages give a Workbook or a WorkbookError, never anything else


def test_mutated_packages_never_raise_anything_else() -> None:
    rng = random.Random(1234)
    packages = [minimal_xlsx(with_table=True), xlsx_bytes(openpyxl.Workbook())]
    others = [encrypted_xlsx(), xls_bytes(), ods_bytes()]
    reasons = set()
    for _ in range(300):
        data = rng.choice(packages)
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        if rng.random() < 0.7:
            data = edit_parts(data, {rng.choice(names): lambda x: mutate(x, rng)})
        else:
            data = mutate(rng.choice([data, *others]), rng)
        try:
            read_workbook(data)
        except WorkbookError as exc:
            reasons.add(exc.reason)
    assert "corrupt" in reasons


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data) or bytearray(b"<")
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(out))
        choice = rng.random()
        if choice < 0.3:
            del out[at:at + rng.randint(1, 20)]
        elif choice < 0.6:
            out[at] = rng.choice(b'<>"/=&;0123456789abc-.: ')
        elif choice < 0.85:
            out[at:at] = rng.choice([b'"', b"<", b' r="ZZZ9"', b' s="99"', b' t="s"', b' t="e"', b"<v>x</v>",
                                     b'<f t="shared" si="7"/>', b"&amp;", b"-1", b"99999999999"])
        else:
            del out[at:]
        out = out or bytearray(b"<")
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# sniff_format


def test_sniff_format_by_content_not_name(book_bytes: bytes) -> None:
    assert sniff_format(book_bytes, "book.csv") == "xlsx"
    assert sniff_format(xls_bytes(), "book.xlsx") == "xls"
    assert sniff_format(encrypted_xlsx()) == "encrypted"
    assert sniff_format(ods_bytes()) == "ods"
    assert sniff_format(xlsb_bytes()) == "xlsb"
    assert sniff_format(ods_bytes()[:200]) == "ods"  # a head shorter than the file: local headers
    assert sniff_format(b"a,b\n1,2\n") == "csv"
    assert sniff_format(b"just words", "notes.txt") == "csv"
    assert sniff_format(b"just words") == "text"
    assert sniff_format(random_bytes()) == "unknown"
    assert set(reader.FORMATS) >= {"xlsx", "xls", "xlsb", "ods", "encrypted", "csv", "unknown"}


# ---------------------------------------------------------------------------------------------
# Conversion through LibreOffice


def test_convert_without_soffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(convert.shutil, "which", lambda name: None)
    error = read_error(xls_bytes(), convert=True)
    assert error.reason == "unsupported_format" and "soffice" in str(error)


def test_convert_xls_with_soffice(tmp_path: Path, soffice: str | None) -> None:
    if soffice is None:
        pytest.skip("LibreOffice (soffice) not installed and not installable here")
    pytest.importorskip("xlwt")
    path = tmp_path / "old.xls"
    path.write_bytes(xls_bytes())
    wb = read_workbook(path, convert=True)
    assert wb.path == str(path)
    sheet = wb.sheets[0]
    assert (at(sheet, 1, 1).value, at(sheet, 1, 2).value) == (2, "two")
    assert (at(sheet, 2, 1).formula, at(sheet, 2, 1).value) == ("=A1*3", 6)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.xls"]  # nothing written beside the input


def test_convert_timeout_kills_soffice(soffice: str | None) -> None:
    if soffice is None:
        pytest.skip("LibreOffice (soffice) not installed and not installable here")
    error = read_error(xls_bytes(), convert=True, limits=ReadLimits(convert_timeout_s=0.05))
    assert error.reason == "unsupported_format" and "within" in str(error)


# ---------------------------------------------------------------------------------------------
# A million cells in bounded memory

MILLION_CELL_PEAK_RSS_MB = 400  # measured 257 MB, 44 MB of it before reading (benchmarks/read_large_sheet.py)


@pytest.mark.slow
def test_million_cells_in_bounded_memory() -> None:
    script = ROOT / "benchmarks" / "read_large_sheet.py"
    result = subprocess.run([sys.executable, str(script), "--rows", "100000", "--cols", "10"],
                            capture_output=True, text=True, timeout=300, check=True, cwd=ROOT)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(report)
    assert report["cells"] == 1_000_000
    assert report["peak_rss_mb"] < MILLION_CELL_PEAK_RSS_MB
