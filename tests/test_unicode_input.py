"""Text that is not valid Unicode never crashes the library: lone surrogates and NUL reach the
tokenizers as U+FFFD, OOXML ``_xD800_`` escapes read as plain text, XML character references to
them are corrupt files, the writer refuses to put them into XML, and a number too large for a double
reads as one."""

from __future__ import annotations

import math
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook.defined_name import DefinedName

from spreadsheetcoder.errors import WorkbookError
from spreadsheetcoder.pretrained import CellTokenizer, base_model_dir, safe_encode_batch
from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook
from spreadsheetcoder.text import NOT_XML, bad_char, clean_text, describe_char
from spreadsheetcoder.xlsx.reader import read_workbook
from spreadsheetcoder.xlsx.writer import WriteError, set_formulas
from tests.support.badfiles import edit_parts, minimal_xlsx, xlsx_bytes
from tests.support.suggest_support import priced_table, write_book

HOSTILE = "Re\ud800gion\x00 \udfff end\x01"


@pytest.fixture(scope="module")
def suggester():
    from spreadsheetcoder.suggest import load_suggester

    return load_suggester()


def assert_predicts(suggester, workbook: Workbook, sheet: Sheet, cells: list[tuple[int, int]]) -> None:
    for context in ("values", "formulas"):
        found = suggester.predict_targets(workbook, sheet, cells, context=context, k=3)
        assert len(found) == len(cells)
        assert all(isinstance(c.formula, str) and 0.0 <= c.confidence <= 1.0 for f in found for c in f)


# ---------------------------------------------------------------------------------------- text.py


def test_bad_char_finds_surrogates_and_forbidden_controls() -> None:
    assert bad_char("plain\ttab\nand\r\nlines é€😀\ufffd\uffff") is None
    assert bad_char("ab\ud800") == (2, "lone surrogate U+D800")
    assert bad_char("\udc00") == (0, "lone surrogate U+DC00")
    assert bad_char("x\x00") == (1, "NUL character")
    assert bad_char("\x0c") == (0, "control character U+000C")
    assert bad_char("a\uffff", NOT_XML) == (1, "non-character U+FFFF")
    assert describe_char("\x1f") == "control character U+001F"


def test_clean_text_replaces_each_bad_character() -> None:
    assert clean_text(HOSTILE) == "Re\ufffdgion\ufffd \ufffd end\ufffd"
    assert clean_text("ok\ttext\n") == "ok\ttext\n"
    clean_text(HOSTILE).encode("utf-8")


# ---------------------------------------------------------------------------------------- tokenizers


def test_cell_tokenizer_reads_surrogates_and_nul_as_nothing() -> None:
    tokenizer = CellTokenizer()
    texts = ["str:North", "str:" + HOSTILE, "num:12"]
    # U+FFFD, like any control character, is dropped by the BERT normalizer: same ids as without.
    assert tokenizer.encode(texts) == tokenizer.encode(["str:North", "str:Region  end", "num:12"])
    assert tokenizer.encode(["str:\ud800"]) == tokenizer.encode(["str:"])


def test_safe_encode_batch_with_special_tokens() -> None:
    """The call MiniLM makes, on the raw tokenizer, which refuses a lone surrogate by itself."""
    from tokenizers import Tokenizer

    raw = Tokenizer.from_file(str(base_model_dir() / "tokenizer.json"))
    with pytest.raises(TypeError):
        raw.encode_batch(["a\ud800"], add_special_tokens=True)
    got = [e.ids for e in safe_encode_batch(raw, ["a\ud800", "b"], add_special_tokens=True)]
    assert got == [e.ids for e in raw.encode_batch(["a", "b"], add_special_tokens=True)]


# ---------------------------------------------------------------------------------------- reading


def test_ooxml_escapes_read_as_plain_text(tmp_path: Path) -> None:
    """The reader does not decode ``_xHHHH_`` escapes: ``_xD800_`` stays seven plain characters."""
    data = minimal_xlsx(
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>in_xDC00_line</t></is></c>'
        '<c r="C1" t="str"><f>"f_xD800_"</f><v>f_xD800_</v></c></row>',
        shared_strings=["shared_xD800_", "<r><t>rich_x0000_</t></r>"],
        workbook_extra='<definedNames><definedName name="N_xD800_">S!$A$1</definedName></definedNames>')
    book = read_workbook(data)
    sheet = book.sheets[0]
    assert [sheet.get(1, c).value for c in (1, 2, 3)] == ["shared_xD800_", "in_xDC00_line", "f_xD800_"]
    assert sheet.get(1, 3).formula == '="f_xD800_"'
    assert list(book.defined_names) == ["N_xD800_"]


@pytest.mark.parametrize("where", ["shared", "inline", "formula", "sheet name"])
@pytest.mark.parametrize("reference", ["&#xD800;", "&#0;", "&#1;"])
def test_character_references_to_surrogates_or_controls_are_corrupt(where: str, reference: str) -> None:
    """XML 1.0 has no such characters: expat refuses the part, and the reader says corrupt."""
    kwargs: dict = {
        "shared": {"shared_strings": [f"a{reference}b"]},
        "inline": {"sheet_data": f'<row r="1"><c r="A1" t="inlineStr"><is><t>a{reference}</t></is></c></row>'},
        "formula": {"sheet_data": f'<row r="1"><c r="A1"><f>"a{reference}"</f></c></row>'},
        "sheet name": {"parts": {}},
    }[where]
    data = minimal_xlsx(**kwargs)
    if where == "sheet name":
        data = edit_parts(data, {"xl/workbook.xml": lambda xml: xml.replace(b'name="S"', f'name="S{reference}"'.encode())})
    with pytest.raises(WorkbookError) as caught:
        read_workbook(data)
    assert caught.value.reason == "corrupt"


def test_an_integer_too_large_for_a_double_reads_as_one() -> None:
    digits = "1" + "0" * 400
    data = minimal_xlsx(f'<row r="1"><c r="A1"><v>{digits}</v></c><c r="B1"><v>-{digits}</v></c>'
                        f'<c r="C1"><v>{"9" * 308}</v></c></row>')
    sheet = read_workbook(data).sheets[0]
    assert sheet.get(1, 1).value == math.inf and sheet.get(1, 2).value == -math.inf
    assert sheet.get(1, 3).value == int("9" * 308)  # the longest integer text still read exactly


# ---------------------------------------------------------------------------------------- read -> suggest


@pytest.mark.slow
def test_workbook_with_escapes_everywhere_reads_and_predicts(tmp_path: Path, suggester) -> None:
    """Shared strings and a sheet name with ``_xD800_`` (the synthetic writer), inline strings and a
    defined name with it (openpyxl): read, then predict a total in both settings."""
    cells = priced_table(rows=5)
    cells.update({"A1": "Item_xD800_", "B1": "Qty_x0000_", "A3": "Item _xDFFF_ 2"})
    book = write_book(tmp_path / "escapes.xlsx", {"Sales_xD800_": cells})
    sheet = book.sheet("Sales_xD800_")
    assert sheet.get(1, 1).value == "Item_xD800_"
    assert_predicts(suggester, book, sheet, [(8, 4), (8, 2)])

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S_xD800_"
    for row in [["Name_xD800_", "Amount"], ["a_xDC00_", 1.5], ["b", 2.5], ["c_x0001_", 4.0]]:
        ws.append(row)
    wb.defined_names["Amounts_xD800_"] = DefinedName("Amounts_xD800_", attr_text="'S_xD800_'!$B$2:$B$4")
    book = read_workbook(xlsx_bytes(wb))
    assert book.sheets[0].get(2, 1).value == "a_xDC00_"
    assert_predicts(suggester, book, book.sheets[0], [(5, 2)])


@pytest.mark.slow
def test_cells_holding_surrogates_and_nul_predict(suggester) -> None:
    """A workbook made in code (as the service's grids are) with lone surrogates and NUL in values,
    formulas, the sheet name and a defined name: the tokenizers get U+FFFD, nothing raises."""
    sheet = Sheet("Sa\ud800les")
    rows = [["Region\ud800", "Q1", "Q2", "Total\x00"], ["No\udc00rth", 120, 135, None], ["South\x01", 98, 110, None],
            [HOSTILE, 143, 150, None]]
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.set(r, c, Cell(value, CellType.STRING if isinstance(value, str) else CellType.NUMBER))
    sheet.set(2, 4, Cell(255, CellType.NUMBER, formula='=SUM(B2:C2)&"\ud800"'))
    book = Workbook(path="<in memory>", sheets=[sheet], defined_names={"N\ud800": "'Sa\ud800les'!$A$1"})
    assert_predicts(suggester, book, sheet, [(3, 4), (5, 2), (4, 4)])


# ---------------------------------------------------------------------------------------- writing


@pytest.mark.parametrize(("formula", "what"), [
    ('="a\ud800"', "lone surrogate U+D800 at position 3"),
    ('=A1&"\x00"', "NUL character at position 5"),
    ('="\x1f"', "control character U+001F at position 2"),
    ('="\uffff"', "non-character U+FFFF at position 2"),
])
def test_writer_refuses_characters_xml_cannot_carry(formula: str, what: str) -> None:
    data = minimal_xlsx()
    with pytest.raises(WriteError) as caught:
        set_formulas(data, {"S": {(3, 1): formula}})
    message = str(caught.value)
    assert what in message
    message.encode("utf-8")  # the character is shown escaped, so the message goes anywhere


def test_writer_keeps_tabs_and_newlines_in_formulas() -> None:
    out = set_formulas(minimal_xlsx(), {"S": {(3, 1): '="a\tb"&"\n"'}})
    assert read_workbook(out).sheets[0].get(3, 1).formula == '="a\tb"&"\n"'
