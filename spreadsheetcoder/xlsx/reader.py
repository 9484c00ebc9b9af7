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
import os
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as safe_fromstring
from openpyxl.packaging.relationship import get_dependents, get_rels_path
from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import range_boundaries
from openpyxl.xml.constants import SHEET_MAIN_NS

from ..constants import (
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_COMPRESSION_RATIO,
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_UNCOMPRESSED_BYTES,
)
from ..errors import WorkbookError
from ..sheet import Sheet, TableDef, Workbook
from .convert import CONVERTIBLE, HOW_TO_CONVERT, converted_to_xlsx
from .package import (
    FORMAT_NAMES,
    FORMATS,
    GuardedZipFile,
    open_package,
    package_format,
    sniff_format,
    sniff_stream,
)
from .worksheet import SheetParser, number_formats

__all__ = ["FORMATS", "ReadLimits", "read_workbook", "sniff_format"]


_STRICT_NS = b"purl.oclc.org/ooxml/spreadsheetml/main"

_NS = f"{{{SHEET_MAIN_NS}}}"
# Excel's built-in names (print areas, filter databases, ...), and LibreOffice's spelling of them.
_BUILTIN_NAME_PREFIXES = ("_xlnm.", "Excel_BuiltIn_")
_WORKSHEET_REL = "/worksheet"  # chartsheets, dialog and macro sheets are skipped


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
        styles = number_formats(book.wb)
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

    _precount(archive, book, worksheets, limits.max_cells)
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


def _precount(archive: GuardedZipFile, book: _BookReader, worksheets: list[tuple[str, str]], max_cells: int) -> None:
    """Refuse a workbook whose sheets hold more than ``max_cells`` cell values before any is parsed.

    Counting the ends of value elements in the decompressed XML runs at zlib's speed, so a huge
    upload is refused in a second, not after the long parse that would then stop at the limit. The
    count is a lower bound of the non-empty cells (formulas without a cached value are not seen):
    a workbook under the limit always passes, and the parse counts exactly. Sheets whose XML is too
    short to hold that many values (each takes at least 8 bytes, ``<v>1</v>``) are not read twice."""
    parts = [part for _, part in worksheets if part in book.valid_files]
    if sum(archive.getinfo(part).file_size for part in parts) < 8 * max_cells:
        return
    seen = 0
    for part in parts:
        carry = b""
        with archive.open(part) as src:
            while chunk := src.read(1 << 20):
                chunk = carry + chunk
                end = chunk.rfind(b">") + 1
                head, carry = chunk[:end], chunk[end:][-(1 << 16):]
                # </v> and </is> end a value; with a namespace prefix both tags of <x:v>..</x:v> end in ":v>"
                seen += head.count(b"</v>") + head.count(b"</is>") + (head.count(b":v>") + head.count(b":is>")) // 2
                if seen > max_cells:
                    raise WorkbookError("too_large", f"the workbook has more than {max_cells} non-empty cells "
                                        "(the limit)")


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
        parser = SheetParser(src, book.shared_strings, book.wb.epoch, styles, max_merged=limits.max_cells)
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
