"""Streaming parser of one worksheet part: every cell's cached value and formula in one pass.

``SheetParser`` is openpyxl's ``WorkSheetParser`` with two changes: ``parse_cell`` keeps the cached
value *and* the formula text of a formula cell (openpyxl gives one or the other), and each finished
row element is removed from its parent, so a sheet's XML is never held in memory. Merged ranges and
table part ids are collected while streaming; non-empty cells are counted against ``max_cells``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import IO, Any
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse as safe_iterparse
from openpyxl.formula.tokenizer import TokenizerError
from openpyxl.formula.translate import TranslatorError
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula
from openpyxl.xml.constants import REL_NS, SHEET_MAIN_NS

from ..constants import (
    MAX_COL,
    MAX_ROW,
)
from ..errors import WorkbookError
from ..sheet import Cell, CellType, CellValue

logger = logging.getLogger(__name__)

__all__ = ["SheetParser", "number_formats"]

_NS = f"{{{SHEET_MAIN_NS}}}"
_ROW_TAG, _CELL_TAG, _VALUE_TAG, _FORMULA_TAG = _NS + "row", _NS + "c", _NS + "v", _NS + "f"
_INLINE_TAG, _TEXT_TAG, _RUN_TAG = _NS + "is", _NS + "t", _NS + "r"
_MERGE_TAG, _TABLE_PART_TAG = _NS + "mergeCell", _NS + "tablePart"
_REL_ID = f"{{{REL_NS}}}id"
_DIGITS = "0123456789"
_INT_DIGITS = 308  # longest integer text read as an int: at most 308 digits, below a double's 1.8e308


def number_formats(wb: Any) -> dict[str, tuple[str | None, bool, bool]]:
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


class SheetParser(WorkSheetParser):
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
                # Excel's numbers are doubles: a longer integer is read as one (inf beyond the range,
                # as "1e400" is), never as an int too large for the float() of later steps.
                as_float = "." in text or "E" in text or "e" in text or len(text) > _INT_DIGITS
                value = float(text) if as_float else int(text)
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


