"""Bounded, safe reading of untrusted .xlsx files into the Sheet grid of sheet.py.

``read_workbook(path)`` reads every worksheet in one streaming pass over its XML, keeping each formula
cell's formula text *and* its cached value. Anything that is not a readable .xlsx raises
``WorkbookError`` with a reason code (errors.py) within bounded time and memory. package.py opens the
file safely (format by content, zip checks before decompression, a DOCTYPE guard on every XML part;
``encrypted``, ``unsupported_format``, ``too_large``, ``zip_bomb``, ``hostile_xml``) and convert.py
converts other formats through LibreOffice with ``convert=True``. This module drives openpyxl on
the checked package: defusedxml's own exceptions map to ``hostile_xml``, and non-empty cells are
counted while streaming (``too_large`` as soon as ``max_cells`` is passed).

Memory is the result (about 210 bytes a cell) plus the shared-string table, which openpyxl holds
whole (bounded by ``max_uncompressed_bytes``); no sheet's XML is ever held. Choices: hidden sheets are
read (formulas look things up in them); a constant empty string is an empty cell, while a formula
whose cached result is ``""`` keeps it; an empty ``<f/>`` is no formula; a cell that Excel would hide
under a merge keeps the value the file stores.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import sys
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from defusedxml.ElementTree import iterparse as safe_iterparse
from openpyxl.formula.tokenizer import TokenizerError
from openpyxl.formula.translate import TranslatorError
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.xml.constants import REL_NS, SHEET_MAIN_NS

from .constants import (
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
    MAX_COL,
    MAX_ROW,
)
from .convert import CONVERTIBLE, HOW_TO_CONVERT, converted_to_xlsx
from .errors import WorkbookError
from .package import (
    FORMAT_NAMES,
    FORMATS,
    GuardedZipFile,
    open_package,
    package_format,
    sniff_format,
    sniff_stream,
)
from .sheet import Cell, CellType, CellValue, Sheet, TableDef, Workbook

__all__ = ["FORMATS", "ReadLimits", "read_workbook", "sniff_format"]

logger = logging.getLogger(__name__)

_STRICT_NS = b"purl.oclc.org/ooxml/spreadsheetml/main"

_NS = f"{{{SHEET_MAIN_NS}}}"
_ROW_TAG, _CELL_TAG, _VALUE_TAG, _FORMULA_TAG = _NS + "row", _NS + "c", _NS + "v", _NS + "f"
_INLINE_TAG, _TEXT_TAG, _RUN_TAG = _NS + "is", _NS + "t", _NS + "r"
_MERGE_TAG, _TABLE_PART_TAG = _NS + "mergeCell", _NS + "tablePart"
_REL_ID = f"{{{REL_NS}}}id"
# Excel's built-in names (print areas, filter databases, ...), and LibreOffice's spelling of them.
_BUILTIN_NAME_PREFIXES = ("_xlnm.", "Excel_BuiltIn_")
_WORKSHEET_REL = "/worksheet"  # chartsheets, dialog and macro sheets are skipped
_DIGITS = "0123456789"


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on what ``read_workbook`` accepts; anything over them is refused, never truncated.

    Args:
        max_file_bytes: size of the file itself.
        max_uncompressed_bytes: sum of the declared uncompressed sizes of all zip members.
        max_compression_ratio: per member, for members over 1 MiB uncompressed (``zip_bomb``).
        max_cells: non-empty cells (values or formulas) over all sheets read; also bounds the
            number of merged ranges.
        convert_timeout_s: wall-clock limit of one LibreOffice conversion (``convert=True``).
    """

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED_BYTES
    max_compression_ratio: float = DEFAULT_MAX_COMPRESSION_RATIO
    max_cells: int = DEFAULT_MAX_CELLS
    convert_timeout_s: float = 120.0


# ---------------------------------------------------------------------------------------------
# Workbook part (openpyxl's ExcelReader) and worksheet parts (a streaming WorkSheetParser)


class _BookReader(ExcelReader):
    """openpyxl's reader of the package and workbook parts, on an archive we opened and checked."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.valid_files = archive.namelist()
        self.read_only, self.keep_vba, self.data_only = True, False, True
        self.keep_links, self.rich_text = False, False
        self.shared_strings: list[str] = []

    def read_book(self) -> None:
        """Content types, shared strings, workbook.xml (sheets, names, epoch) and styles; no cells."""
        from openpyxl.styles.stylesheet import apply_stylesheet

        self.read_manifest()
        self.read_strings()
        self.read_workbook()
        apply_stylesheet(self.archive, self.wb)


def _number_formats(wb: Any) -> dict[str, tuple[str | None, bool, bool]]:
    """Cell style index (as the ``s`` attribute text) -> (format code or None for General, is date, is duration)."""
    styles: dict[str, tuple[str | None, bool, bool]] = {}
    custom = wb._number_formats
    for index, style in enumerate(wb._cell_styles):
        fmt_id = style.numFmtId
        if fmt_id < BUILTIN_FORMATS_MAX_SIZE:
            code = BUILTIN_FORMATS.get(fmt_id, "General")
        else:
            code = custom[fmt_id - BUILTIN_FORMATS_MAX_SIZE] if fmt_id - BUILTIN_FORMATS_MAX_SIZE < len(custom) else "General"
        code = None if code in ("General", "") else sys.intern(code)
        styles[str(index)] = (code, index in wb._date_formats, index in wb._timedelta_formats)
    return styles


class _SheetParser(WorkSheetParser):
    """Streams one worksheet part: each cell's cached value (as ``data_only`` gives it) and its formula
    (shared formulas expanded by ``parse_formula``), merged ranges and table part ids.

    ``parse()`` is rewritten rather than inherited for bounded memory: it removes every finished
    element from its parent (the base class leaves cleared rows and all other elements in the tree)
    and skips what the grid does not need (conditional formats, validations, extensions).
    """

    def __init__(self, src: IO[bytes], shared_strings: list[str], epoch: Any, styles: dict[str, Any],
                 max_merged: int) -> None:
        super().__init__(src, shared_strings, data_only=True, epoch=epoch)
        self.styles = styles
        self.max_merged = max_merged
        self.merged: list[tuple[int, int, int, int]] = []
        self.table_ids: list[str] = []
        self.row_counter: int = 0
        self.col_counter: int = 0

    def parse(self) -> Iterator[list[tuple[int, int, Cell]]]:
        """Yield the non-empty cells ``(row, col, Cell)`` of each ``<row>`` that has any."""
        stack: list[Element] = []
        in_row = 0  # depth of the open <row>: its cells stay in the tree until the row ends
        for event, element in safe_iterparse(self.source, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                stack.append(element)
                if not in_row and element.tag == _ROW_TAG:
                    in_row = len(stack)
                continue
            depth = len(stack)
            stack.pop()
            if in_row:
                if depth > in_row:
                    continue
                in_row = 0
                cells = self.parse_row(element)
                if cells:
                    yield cells
            elif element.tag == _MERGE_TAG:
                self._add_merge(element.get("ref", ""))
            elif element.tag == _TABLE_PART_TAG and element.get(_REL_ID):
                self.table_ids.append(element.get(_REL_ID, ""))
            if stack:
                stack[-1].remove(element)

    def parse_row(self, row: Element) -> list[tuple[int, int, Cell]]:
        number = row.get("r")
        try:
            self.row_counter = _row_number(number) if number else self.row_counter + 1
        except ValueError as exc:
            raise WorkbookError("corrupt", f"bad row after row {self.row_counter}: {exc}") from exc
        self.col_counter = 0
        cells = []
        for element in row:
            if element.tag != _CELL_TAG:
                continue
            try:
                cell = self.parse_cell(element)
            except (ValueError, IndexError, TokenizerError, TranslatorError) as exc:
                where = element.get("r") or f"{get_column_letter(max(self.col_counter, 1))}{self.row_counter}"
                raise WorkbookError("corrupt", f"bad cell {where}: {exc}") from exc
            if cell is not None:
                cells.append(cell)
        return cells

    def parse_cell(self, element: Element) -> tuple[int, int, Cell] | None:
        """``(row, col, Cell)`` of a ``<c>``, or None when it holds neither value nor formula."""
        coordinate = element.get("r")
        if coordinate:
            letters = coordinate.rstrip(_DIGITS)
            row = int(coordinate[len(letters):])
            if row == self.row_counter:
                row = self.row_counter  # one int object per row, not per cell
            elif not 1 <= row <= MAX_ROW:
                raise ValueError(f"row {row} outside the sheet")
            col = self.col_counter = column_index_from_string(letters)  # raises ValueError
        else:
            row, col = self.row_counter, self.col_counter + 1
            self.col_counter = col
        if col > MAX_COL:
            raise ValueError(f"column {col} outside the sheet")

        kind = element.get("t", "n")
        text = element.findtext(_VALUE_TAG)
        number_format, is_date, is_duration = self.styles.get(element.get("s", "0")) or self._style(element)
        value: CellValue = None
        cell_type = CellType.EMPTY
        if kind == "n":
            if text:
                value = float(text) if "." in text or "E" in text or "e" in text else int(text)
                cell_type = CellType.NUMBER
                if is_date:
                    try:
                        value = from_excel(value, self.epoch, timedelta=is_duration)
                        cell_type = CellType.DATE
                    except (OverflowError, ValueError):
                        pass  # a serial outside Excel's dates: keep the number (data_only would give #VALUE!)
        elif kind == "s":
            if text:
                value, cell_type = self.shared_strings[int(text)], CellType.STRING
        elif kind == "str" or kind == "inlineStr":
            if kind == "inlineStr":
                text = _inline_text(element.find(_INLINE_TAG))
            if text is not None:
                value, cell_type = text, CellType.STRING
        elif kind == "b":
            if text:
                value, cell_type = text.strip() in ("1", "true", "TRUE"), CellType.BOOL
        elif kind == "e":
            if text:
                value, cell_type = text, CellType.ERROR
        elif kind == "d":
            if text:
                value, cell_type = from_ISO8601(text), CellType.DATE
        elif text:
            value, cell_type = text, CellType.STRING  # an unknown t: keep the raw text

        formula = formula_kind = None
        if element.find(_FORMULA_TAG) is not None:
            formula, formula_kind = self._formula(element, row, col)
            if formula is not None and kind == "str" and value is None:
                value, cell_type = "", CellType.STRING  # a formula whose cached result is ""
        if formula is None and (value is None or value == ""):
            return None
        return row, col, Cell(value, cell_type, formula, formula_kind, number_format)

    def _formula(self, element: Element, row: int, col: int) -> tuple[str | None, str | None]:
        if element.get("r") is None:  # parse_formula keys shared formulas by the cell's own r
            element.set("r", f"{get_column_letter(col)}{row}")
        parsed = self.parse_formula(element)
        if isinstance(parsed, DataTableFormula):
            return _data_table_text(parsed), "data_table"
        text, kind = (parsed.text, "array") if isinstance(parsed, ArrayFormula) else (parsed, None)
        return (text, kind) if text != "=" else (None, None)  # an empty <f/>: no formula to learn

    def _style(self, element: Element) -> tuple[str | None, bool, bool]:
        key = element.get("s", "0")
        try:
            return self.styles[str(int(key))]  # "007" and the like
        except (KeyError, ValueError):
            return None, False, False  # a style index past the stylesheet: treat as General

    def _add_merge(self, ref: str) -> None:
        try:
            min_col, min_row, max_col, max_row = range_boundaries(ref)
        except (ValueError, TypeError):
            logger.debug("skipping merged range %r", ref)
            return
        if min_row is not None and min_col is not None and (max_row, max_col) != (min_row, min_col):
            self.merged.append((min_row, min_col, max_row, max_col))
            if len(self.merged) > self.max_merged:
                raise WorkbookError("too_large", f"more than {self.max_merged} merged ranges")


def _row_number(text: str) -> int:
    try:
        row = int(text)
    except ValueError:
        as_float = float(text)
        if not as_float.is_integer():
            raise ValueError(f"row number {text!r}") from None
        row = int(as_float)
    if not 1 <= row <= MAX_ROW:
        raise ValueError(f"row {row} outside the sheet")
    return row


def _inline_text(inline: Element | None) -> str | None:
    """The text of an inline string: plain ``<t>`` plus rich-text runs, phonetic runs left out."""
    if inline is None:
        return None
    parts = [inline.findtext(_TEXT_TAG) or ""]
    parts.extend(run.findtext(_TEXT_TAG) or "" for run in inline.iterfind(_RUN_TAG))
    return "".join(parts)


def _data_table_text(table: DataTableFormula) -> str:
    """``=TABLE(row input, column input)`` as Excel shows a what-if data table."""
    if table.dt2D in (True, "1", "true"):
        return f"=TABLE({table.r1 or ''},{table.r2 or ''})"
    if table.dtr in (True, "1", "true"):
        return f"=TABLE({table.r1 or ''},)"
    return f"=TABLE(,{table.r1 or ''})"


# ---------------------------------------------------------------------------------------------
# read_workbook


def read_workbook(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    limits: ReadLimits | None = None,
    *,
    sheets: Sequence[str] | None = None,
    convert: bool = False,
) -> Workbook:
    """Read an .xlsx/.xlsm/.xltx/.xltm workbook: every worksheet's cells with formulas and cached values.

    Args:
        source: a path, the file's bytes, or a binary file object (read, never closed or written).
        limits: bounds on size, decompression and cell count (``ReadLimits()`` when None).
        sheets: names of the worksheets to read (case-insensitive), in workbook order; None: all.
        convert: read .xls/.xlsb/.ods/csv/... by converting them with LibreOffice (``soffice`` on
            PATH) in a temporary folder, within ``limits.convert_timeout_s``.

    Returns:
        A ``Workbook`` of worksheets in tab order (chartsheets, dialog and macro sheets skipped).
        Defined names map to their refers-to text as stored (no leading ``=``); Excel's built-in
        ``_xlnm.*`` names (print areas and titles, filter databases; ``Excel_BuiltIn_*`` from
        LibreOffice) are left out. Only the anchor
        cell of an array formula or data table holds the formula; the other cells hold their values.

    Raises:
        WorkbookError: reason ``not_found``, ``unsupported_format``, ``encrypted``, ``corrupt``,
            ``too_large``, ``zip_bomb``, ``hostile_xml`` or ``empty`` (see errors.py).
        KeyError: a name in ``sheets`` that is not a worksheet of the workbook (lists the valid ones).
    """
    limits = limits or ReadLimits()
    # openpyxl warns (UserWarning) about harmless oddities of real files: keep them out of the user's terminal.
    with _gc_paused(), warnings.catch_warnings(), _open_source(source, limits) as (fp, size, label):
        warnings.simplefilter("ignore", UserWarning)
        try:
            fmt = sniff_stream(fp, label or "")
            if fmt is None:
                return _read_package(fp, size, label, limits, sheets, convert)
            return _refuse_or_convert(fmt, fp, label, limits, sheets, convert)
        except WorkbookError as exc:
            if exc.path is None and label is not None:
                raise WorkbookError(exc.reason, str(exc), label) from exc
            raise


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while reading. A read allocates millions of long-lived
    objects and no reference cycles, and the collector would traverse them again and again (measured:
    30% of the time of a million-cell sheet). Process-wide, so concurrent reads may overlap pauses:
    harmless, as each restores the collector only if it found it enabled."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def _open_source(source: Any, limits: ReadLimits) -> Iterator[tuple[BinaryIO, int, str | None]]:
    """A seekable binary stream of the input, its size and a label for messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_file_size(len(data), limits, None)
        yield io.BytesIO(data), len(data), None
    elif isinstance(source, (str, os.PathLike)):
        label = os.fsdecode(source)
        if not Path(label).is_file():  # checked before open(): opening a FIFO would block
            raise WorkbookError("not_found", "not a regular file" if Path(label).exists() else "no such file", label)
        try:
            fp = open(label, "rb")  # noqa: SIM115 (closed below, after the caller is done)
        except OSError as exc:
            raise WorkbookError("not_found", exc.strerror or str(exc), label) from exc
        with fp:
            size = os.fstat(fp.fileno()).st_size
            _check_file_size(size, limits, label)
            yield fp, size, label
    else:
        name = getattr(source, "name", None)
        stream_label = name if isinstance(name, str) else None
        seekable = getattr(source, "seekable", None)
        if seekable is not None and seekable() and source.tell() == 0:
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
            _check_file_size(size, limits, stream_label)
            yield source, size, stream_label
        else:
            buffer = io.BytesIO()
            while buffer.tell() <= limits.max_file_bytes:  # a pipe or socket may return short reads
                chunk = source.read(min(1 << 20, limits.max_file_bytes + 1 - buffer.tell()))
                if not chunk:
                    break
                buffer.write(chunk)
            size = buffer.tell()
            _check_file_size(size, limits, stream_label)
            buffer.seek(0)
            yield buffer, size, stream_label


def _check_file_size(size: int, limits: ReadLimits, label: str | None) -> None:
    if size > limits.max_file_bytes:
        raise WorkbookError("too_large", f"file of {size} bytes, over the limit of {limits.max_file_bytes}", label)


def _refuse_or_convert(fmt: str, fp: BinaryIO, label: str | None, limits: ReadLimits,
                       sheets: Sequence[str] | None, convert: bool) -> Workbook:
    if fmt == "encrypted":
        raise WorkbookError("encrypted", "password-protected workbook (an encrypted OOXML package); "
                            "remove the password in Excel (File > Info > Protect Workbook) and save again", label)
    if fmt in ("unknown", "zip"):
        what = "a zip archive without a workbook part" if fmt == "zip" else "unrecognised content"
        raise WorkbookError("corrupt", f"not an .xlsx workbook: {what}", label)
    if fmt not in CONVERTIBLE:
        raise WorkbookError("unsupported_format", f"{FORMAT_NAMES[fmt]}, not a spreadsheet", label)
    if not convert:
        raise WorkbookError("unsupported_format", f"{FORMAT_NAMES[fmt]}, not .xlsx; {HOW_TO_CONVERT}", label)
    with converted_to_xlsx(fp, fmt, label, limits.convert_timeout_s) as converted:
        workbook = read_workbook(converted, limits, sheets=sheets)  # the same limits as any other file
    workbook.path = label or "<memory>"
    return workbook


def _read_package(fp: BinaryIO, size: int, label: str | None, limits: ReadLimits,
                  sheets: Sequence[str] | None, convert: bool) -> Workbook:
    archive = open_package(fp, size, label, max_uncompressed_bytes=limits.max_uncompressed_bytes,
                           max_compression_ratio=limits.max_compression_ratio)
    with archive:
        try:
            fmt = package_format(archive)
            if fmt != "xlsx":
                return _refuse_or_convert(fmt, fp, label, limits, sheets, convert)
            workbook = _read_xlsx(archive, limits, sheets)
        except DefusedXmlException as exc:
            raise WorkbookError("hostile_xml", f"{archive.last_part}: {type(exc).__name__}: {exc}", label) from exc
        except (ParseError, LookupError) as exc:
            if isinstance(exc, (KeyError, IndexError)):
                raise  # not from the parser (an unknown name in ``sheets``)
            raise WorkbookError("corrupt", f"malformed XML in {archive.last_part}: {exc}", label) from exc
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            raise WorkbookError("corrupt", f"damaged zip member {archive.last_part}: {exc}", label) from exc
    workbook.path = label or "<memory>"
    return workbook


# Errors that openpyxl's object model raises on parts that parse as XML but are not what it expects.
_MALFORMED = (KeyError, ValueError, TypeError, IndexError, AttributeError, OSError, RecursionError)


def _read_xlsx(archive: GuardedZipFile, limits: ReadLimits, wanted: Sequence[str] | None) -> Workbook:
    book = _BookReader(archive)
    try:
        book.read_book()
        sheet_parts = [(sheet.name, rel) for sheet, rel in book.parser.find_sheets()]
        styles = _number_formats(book.wb)
    except DefusedXmlException:
        raise
    except _MALFORMED as exc:
        raise WorkbookError("corrupt", f"cannot read {archive.last_part or 'the package'}: "
                            f"{type(exc).__name__}: {exc}") from exc
    worksheets = [(name, rel.target) for name, rel in sheet_parts if rel.Type.endswith(_WORKSHEET_REL)]
    if not worksheets:
        if _is_strict(archive, book):
            raise WorkbookError("unsupported_format", f"a Strict Open XML workbook; {HOW_TO_CONVERT}")
        raise WorkbookError("empty", "the workbook has no worksheet")
    if wanted is not None:
        worksheets = _select(worksheets, wanted)

    workbook = Workbook(path="", sheets=[])
    all_names = [sheet.name for sheet in book.parser.sheets]  # localSheetId indexes every sheet kind
    by_name: dict[str, Sheet] = {}
    budget = limits.max_cells
    for name, part in worksheets:
        sheet = _read_sheet(archive, book, name, part, styles, limits, budget)
        budget -= len(sheet.cells)
        workbook.sheets.append(sheet)
        by_name[name] = sheet
    for defined in book.parser.defined_names.definedName:
        if not defined.name or defined.name.startswith(_BUILTIN_NAME_PREFIXES):
            continue
        if defined.localSheetId is None:
            workbook.defined_names[defined.name] = defined.value or ""
        elif 0 <= defined.localSheetId < len(all_names) and all_names[defined.localSheetId] in by_name:
            by_name[all_names[defined.localSheetId]].defined_names[defined.name] = defined.value or ""
    return workbook


def _select(worksheets: list[tuple[str, str]], wanted: Sequence[str]) -> list[tuple[str, str]]:
    folded = {name.lower() for name in wanted}
    known = {name.lower() for name, _ in worksheets}
    unknown = [name for name in wanted if name.lower() not in known]
    if unknown:
        raise KeyError(f"no worksheet {unknown}; worksheets: {[name for name, _ in worksheets]}")
    return [(name, part) for name, part in worksheets if name.lower() in folded]


def _read_sheet(archive: GuardedZipFile, book: _BookReader, name: str, part: str,
                styles: dict[str, tuple[str | None, bool, bool]], limits: ReadLimits, budget: int) -> Sheet:
    """One worksheet, streamed; ``budget`` is how many more non-empty cells the limits allow."""
    if part not in book.valid_files:
        raise WorkbookError("corrupt", f"sheet {name!r}: its part {part} is missing from the package")
    sheet = Sheet(name)
    count = 0
    with archive.open(part) as src:
        parser = _SheetParser(src, book.shared_strings, book.wb.epoch, styles, max_merged=limits.max_cells)
        for cells in parser.parse():
            count += len(cells)
            if count > budget:
                raise WorkbookError("too_large", f"sheet {name!r}: the workbook has more than "
                                    f"{limits.max_cells} non-empty cells (the limit)")
            for row, col, cell in cells:
                sheet.set(row, col, cell)
    sheet.merged = parser.merged
    if parser.table_ids:
        sheet.tables = _read_tables(archive, part, parser.table_ids)
    return sheet


def _read_tables(archive: GuardedZipFile, sheet_part: str, ids: list[str]) -> list[TableDef]:
    tables = []
    try:
        rels = get_dependents(archive, get_rels_path(sheet_part))
        for rel_id in ids:
            target = rels.get(rel_id).target
            root = safe_fromstring(archive.read(target), forbid_dtd=True)
            ref = root.get("ref", "")
            min_col, min_row, max_col, max_row = range_boundaries(ref)
            if None in (min_col, min_row, max_col, max_row):
                raise ValueError(f"table area {ref!r} is not a block of cells")
            columns = [column.get("name", "") for column in root.iter(_NS + "tableColumn")]
            tables.append(TableDef(
                name=root.get("displayName") or root.get("name") or "", ref=ref,
                min_row=min_row, min_col=min_col, max_row=max_row, max_col=max_col, columns=columns,
                header_rows=int(root.get("headerRowCount", "1")), totals_rows=int(root.get("totalsRowCount", "0")),
            ))
    except DefusedXmlException:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise WorkbookError("corrupt", f"bad table part of {sheet_part}: {type(exc).__name__}: {exc}") from exc
    return tables


def _is_strict(archive: zipfile.ZipFile, book: _BookReader) -> bool:
    """Strict Open XML (ISO 29500 strict namespaces), which openpyxl reads as a workbook with no sheets."""
    try:
        with archive.open(book.parser.workbook_part_name) as src:
            return _STRICT_NS in src.read(4096)
    except (KeyError, AttributeError):
        return False
