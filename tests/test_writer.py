"""The lossless writer: surgical edits of real packages, checked part by part and by real readers."""

from __future__ import annotations

import io
import re
import subprocess
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest

from spreadsheetcoder.xlsx.reader import read_workbook
from spreadsheetcoder.xlsx.writer import (
    CellNotEmpty,
    WriteError,
    changed_outside,
    clear_cells,
    formula_cells,
    set_formulas,
    write_atomic,
)
from tests.support.badfiles import edit_parts, minimal_xlsx, xlsx_bytes
from tests.support.paths import SAMPLES

BOOKS = sorted(p.name for p in SAMPLES.glob("*.xlsx"))


def _load(data: bytes) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return openpyxl.load_workbook(io.BytesIO(data))


def _blank_and_fill(data: bytes, per_sheet: int = 40) -> tuple[bytes, bytes, dict[str, dict[tuple[int, int], str]]]:
    book = read_workbook(data)
    edits: dict[str, dict[tuple[int, int], str]] = {}
    for sheet, cells in formula_cells(data).items():
        formulas = {(r, c): book.sheet(sheet).get(r, c).formula for r, c, kind in cells if kind == "normal"}
        edits[sheet] = dict(list(formulas.items())[:per_sheet])
    blank = clear_cells(data, {sheet: list(cells) for sheet, cells in edits.items()})
    return blank, set_formulas(blank, edits), edits


@pytest.mark.parametrize("name", BOOKS)
def test_blank_and_fill_sample_workbooks_is_surgical(name: str) -> None:
    data = (SAMPLES / name).read_bytes()
    blank, filled, edits = _blank_and_fill(data)
    assert sum(map(len, edits.values())) > 0
    assert changed_outside(blank, filled, edits) == []
    # The checker itself sees real differences: with no cells allowed, every edited sheet shows up.
    assert len(changed_outside(blank, filled, {})) == sum(bool(cells) for cells in edits.values())
    with zipfile.ZipFile(io.BytesIO(blank)) as a, zipfile.ZipFile(io.BytesIO(filled)) as b:
        assert a.namelist() == b.namelist()
        assert [i.compress_type for i in a.infolist()] == [i.compress_type for i in b.infolist()]
    again = read_workbook(filled)
    blanked = read_workbook(blank)
    for sheet, cells in edits.items():
        for (r, c), formula in cells.items():
            assert blanked.sheet(sheet).get(r, c) is None or blanked.sheet(sheet).get(r, c).is_empty
            assert again.sheet(sheet).get(r, c).formula == formula
    _load(filled)


def test_features_survive_a_fill() -> None:
    """Chart and table (sales), image (inventory), comment and validations (gradebook), defined name (budget)."""
    parts = {}
    for name in ("sales.xlsx", "inventory.xlsx", "gradebook.xlsx", "budget.xlsx"):
        original = (SAMPLES / name).read_bytes()
        _, filled, _ = _blank_and_fill(original, per_sheet=5)
        with zipfile.ZipFile(io.BytesIO(original)) as a, zipfile.ZipFile(io.BytesIO(filled)) as b:
            parts[name] = b.namelist()
            for part in a.namelist():
                if not part.startswith("xl/worksheets/sheet") and part != "xl/workbook.xml":
                    assert a.read(part) == b.read(part), part
        wb = _load(filled)
        if name == "sales.xlsx":
            assert "SalesTable" in wb["Orders"].tables
        if name == "gradebook.xlsx":
            assert wb["Grades"]["H8"].comment is not None
            assert len(wb["Grades"].data_validations.dataValidation) >= 2
        if name == "budget.xlsx":
            assert "TaxRate" in wb.defined_names
    assert any(p.startswith("xl/charts/chart") for p in parts["sales.xlsx"])
    assert any(p.startswith("xl/media/") for p in parts["inventory.xlsx"])


def _new_book() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    for row in ([None, "Qty", "Price", None], ["a", 2, 3.5, None], ["b", 4, 1.25, None], ["c", 1, 9, None]):
        ws.append(row)
    ws["D2"].number_format = "0.00"  # a styled empty cell
    wb.create_sheet("Empty")
    return xlsx_bytes(wb)


def test_new_cells_rows_and_an_empty_sheet() -> None:
    data = _new_book()
    edits = {"Data": {(2, 4): "=B2*C2", (3, 6): "=B3+1", (3, 1): None, (9, 2): "=SUM(B2:B4)",
                      (7, 3): "=MAX(C2:C4)"},
             "Empty": {(1, 1): "=Data!B2"}}
    edits["Data"].pop((3, 1))  # A3 holds a value: tested below
    filled = set_formulas(data, edits)
    assert changed_outside(data, filled, edits) == []
    book = read_workbook(filled)
    data_sheet = book.sheet("Data")
    assert data_sheet.get(2, 4).formula == "=B2*C2"
    assert data_sheet.get(3, 6).formula == "=B3+1"
    assert data_sheet.get(9, 2).formula == "=SUM(B2:B4)"
    assert data_sheet.get(7, 3).formula == "=MAX(C2:C4)"
    assert data_sheet.get(3, 2).value == 4  # neighbours untouched
    assert book.sheet("Empty").get(1, 1).formula == "=Data!B2"
    wb = _load(filled)
    assert wb["Data"]["D2"].number_format == "0.00"  # the styled cell kept its style
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streaming = openpyxl.load_workbook(io.BytesIO(filled), read_only=True)
    assert streaming["Data"].max_row == 9 and streaming["Data"].max_column == 6  # dimension widened
    with zipfile.ZipFile(io.BytesIO(filled)) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    assert rows == sorted(rows)
    refs = re.findall(r'<c r="([A-Z]+)3"', xml)
    assert refs == sorted(refs, key=lambda x: (len(x), x))


def test_refuses_what_it_cannot_write_safely() -> None:
    data = _new_book()
    with pytest.raises(CellNotEmpty, match=r"Data!B2 is not empty"):
        set_formulas(data, {"Data": {(2, 2): "=1"}})
    with pytest.raises(WriteError, match="no worksheet named 'Nope'"):
        set_formulas(data, {"Nope": {(1, 1): "=1"}})
    wb = openpyxl.Workbook()
    wb.active.merge_cells("A1:C1")
    with pytest.raises(WriteError, match="merged area A1:C1"):
        set_formulas(xlsx_bytes(wb), {"Sheet": {(1, 2): "=1"}})
    with pytest.raises(WriteError, match="empty formula"):
        set_formulas(data, {"Data": {(8, 8): "="}})


def test_text_needing_escapes_round_trips() -> None:
    data = _new_book()
    formula = '=IF(B2<C2,"a&b","<c> \'q\'")'
    filled = set_formulas(data, {"Data": {(5, 5): formula}})
    assert read_workbook(filled).sheet("Data").get(5, 5).formula == formula
    assert _load(filled)["Data"]["E5"].value == formula


def test_calc_properties_added_or_set() -> None:
    calc = re.compile(rb"<calcPr[^>]*/>")
    data = minimal_xlsx('<row r="1"><c r="A1"><v>1</v></c></row>')
    filled = set_formulas(data, {"S": {(1, 2): "=A1*2"}})
    with zipfile.ZipFile(io.BytesIO(filled)) as z:
        book = z.read("xl/workbook.xml")
    assert calc.search(book).group(0) == b'<calcPr fullCalcOnLoad="1"/>'
    assert book.index(b"<calcPr") > book.index(b"</sheets>")
    assert changed_outside(data, filled, {"S": [(1, 2)]}) == []

    off = minimal_xlsx('<row r="1"><c r="A1"><v>1</v></c></row>',
                       workbook_extra='<calcPr calcId="191029" fullCalcOnLoad="0"/><extLst/>')
    with zipfile.ZipFile(io.BytesIO(set_formulas(off, {"S": {(2, 1): "=A1"}}))) as z:
        book = z.read("xl/workbook.xml")
    assert b'<calcPr calcId="191029" fullCalcOnLoad="1"/><extLst/>' in book


def test_prefixed_namespaces_and_implicit_refs() -> None:
    """Some generators write ``<x:c>`` elements and rows or cells without ``r`` (implicit cells follow
    the previous one, so a new cell never lands before one and renumbers it)."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

    def prefixed(_: bytes) -> bytes:
        body = (f'<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="{ns}"><x:sheetData>'
                '<x:row><x:c><x:v>1</x:v></x:c><x:c><x:v>2</x:v></x:c></x:row>'
                '<x:row r="3"><x:c r="A3"><x:v>5</x:v></x:c></x:row>'
                '</x:sheetData></x:worksheet>')
        return body.encode()

    data = edit_parts(minimal_xlsx(), {"xl/worksheets/sheet1.xml": prefixed})
    filled = set_formulas(data, {"S": {(1, 3): "=A1+B1", (2, 1): "=A1", (3, 2): "=A3*2"}})
    with zipfile.ZipFile(io.BytesIO(filled)) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert '<x:c r="C1"><x:f>A1+B1</x:f></x:c>' in xml
    assert '<x:row r="2"><x:c r="A2"><x:f>A1</x:f></x:c></x:row><x:row r="3">' in xml
    sheet = read_workbook(filled).sheets[0]
    assert (sheet.get(1, 3).formula, sheet.get(2, 1).formula, sheet.get(3, 2).formula) == ("=A1+B1", "=A1", "=A3*2")
    assert sheet.get(1, 2).value == 2


def test_shared_formulas_children_clear_master_refused() -> None:
    sheet = ('<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B3" si="0">A1*2</f><v>2</v></c></row>'
             '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>4</v></c></row>'
             '<row r="3"><c r="A3"><v>3</v></c><c r="B3"><f t="shared" si="0"/><v>6</v></c></row>')
    data = minimal_xlsx(sheet)
    assert formula_cells(data) == {"S": [(1, 2, "shared-master"), (2, 2, "shared"), (3, 2, "shared")]}
    with pytest.raises(WriteError, match="master of a shared formula"):
        clear_cells(data, {"S": [(1, 2)]})
    blank = clear_cells(data, {"S": [(2, 2)]})
    filled = set_formulas(blank, {"S": {(2, 2): "=A2*2"}})
    sheet_out = read_workbook(filled).sheets[0]
    assert [sheet_out.get(r, 2).formula for r in (1, 2, 3)] == ["=A1*2", "=A2*2", "=A3*2"]
    assert changed_outside(blank, filled, {"S": [(2, 2)]}) == []


def test_array_formula_cleared_with_its_cell_metadata() -> None:
    """A dynamic-array formula's ``cm`` index (and a rich value's ``vm``) belong to the old content:
    clearing or refilling the cell drops them with the ``t`` attribute and keeps the style."""
    sheet = ('<row r="1"><c r="A1"><v>1</v></c><c r="B1" s="0" cm="1" vm="2" t="str">'
             '<f t="array" ref="B1">A1*2</f><v>2</v></c></row>')
    data = minimal_xlsx(sheet)
    assert formula_cells(data) == {"S": [(1, 2, "array")]}
    blank = clear_cells(data, {"S": [(1, 2)]})
    with zipfile.ZipFile(io.BytesIO(blank)) as z:
        assert '<c r="B1" s="0"/>' in z.read("xl/worksheets/sheet1.xml").decode()
    filled = set_formulas(blank, {"S": {(1, 2): "=A1*3"}})
    with zipfile.ZipFile(io.BytesIO(filled)) as z:
        assert '<c r="B1" s="0"><f>A1*3</f></c>' in z.read("xl/worksheets/sheet1.xml").decode()
    assert read_workbook(filled).sheets[0].get(1, 2).formula == "=A1*3"
    assert changed_outside(blank, filled, {"S": [(1, 2)]}) == []


def test_write_atomic_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "out.xlsx"
    target.write_bytes(b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.xlsx"]
    with pytest.raises(WriteError, match="does not exist"):
        write_atomic(tmp_path / "missing" / "x.xlsx", b"x")


@pytest.mark.slow
def test_libreoffice_converts_filled_sample_workbooks(tmp_path: Path, soffice: str | None) -> None:
    if soffice is None:
        pytest.skip("no LibreOffice: apt-get install -y libreoffice-calc-nogui to run this test")
    files = []
    for name in BOOKS:
        _, filled, _ = _blank_and_fill((SAMPLES / name).read_bytes(), per_sheet=10)
        files.append(tmp_path / name)
        files[-1].write_bytes(filled)
    out = tmp_path / "converted"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--norestore",
                    "--convert-to", "csv", "--outdir", str(out), *map(str, files)],
                   capture_output=True, timeout=300, check=True)
    converted = sorted(p.stem for p in out.glob("*.csv"))
    assert converted == sorted(Path(n).stem for n in BOOKS)
