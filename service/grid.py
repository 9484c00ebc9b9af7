"""Sheets as an add-in sees them ↔ the library's ``Workbook``, and suggestions as the add-in shows them.

``grid_workbook`` turns the 2-D arrays of Office.js (``range.values``, ``range.formulas``,
``range.numberFormat``) into a one-sheet ``Workbook`` placed at the block's address;
``sheet_grids`` does the reverse for the task pane's view of an uploaded workbook; ``present``
gives a candidate's A1 text, locale text, sketch and ranges.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import sys
from collections.abc import Sequence
from typing import Any

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.datetime import from_excel

from spreadsheetcoder.constants import MAX_COL, MAX_ROW
from spreadsheetcoder.errors import FormulaError
from spreadsheetcoder.fill import display_formula
from spreadsheetcoder.formula import ERROR_LITERALS, parse_formula
from spreadsheetcoder.references import column_letter, format_reference, parse_a1
from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook

from .errors import ApiError
from .schemas import SuggestRequest

__all__ = ["content_key", "grid_workbook", "locale_separators", "present", "sheet_grids"]

# Languages whose Excel writes a decimal comma, hence ';' between arguments.
_DECIMAL_COMMA = frozenset(
    ["af", "bg", "ca", "cs", "da", "de", "el", "es", "et", "eu", "fi", "fo", "fr", "gl", "hr", "hu", "hy", "id", "is", "it", "ka", "kk", "lt", "lv", "mk", "mn", "nb", "nl", "nn", "no", "pl", "pt", "ro", "ru", "sk", "sl", "sq", "sr", "sv", "tr", "uk", "uz", "vi", "az", "be", "bs"])
# Regions that differ from their language: (decimal, list separator).
_REGION = {
    "de-ch": (".", ";"), "fr-ch": (".", ";"), "it-ch": (".", ";"), "de-li": (".", ";"),
    "es-mx": (".", ","), "es-us": (".", ","), "es-pr": (".", ","), "es-do": (".", ","), "es-gt": (".", ","),
    "es-hn": (".", ","), "es-ni": (".", ","), "es-pa": (".", ","), "es-sv": (".", ","),
    "en-za": (",", ";"),
}


def content_key(*parts: Any) -> str:
    """A digest of JSON-able parts (or bytes): equal content, equal key."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _shape(name: str, rows: Sequence[Sequence[Any]], want: tuple[int, int] | None) -> tuple[int, int]:
    width = len(rows[0]) if rows else 0
    if not rows or width == 0:
        raise ApiError(422, "bad_shape", f"{name} must hold at least one row and one column")
    if any(len(row) != width for row in rows):
        raise ApiError(422, "bad_shape", f"{name} must be a rectangle: every row {width} cells long")
    if want is not None and (len(rows), width) != want:
        raise ApiError(422, "bad_shape", f"{name} is {len(rows)}x{width}, values is {want[0]}x{want[1]}")
    return len(rows), width


def _cell(value: Any, formula: Any, number_format: str | None) -> Cell | None:
    text = formula if isinstance(formula, str) and formula.startswith("=") and len(formula) > 1 else None
    if isinstance(value, bool):
        cell = Cell(value, CellType.BOOL)
    elif isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ApiError(422, "bad_value", f"{value} is not a cell value")
        if isinstance(value, int) and abs(value) > sys.float_info.max:  # JSON allows it; a cell is a double
            raise ApiError(422, "bad_value", f"a {len(str(abs(value)))}-digit integer is not a cell value "
                                             f"(the largest is about {sys.float_info.max:.4g})")
        cell = Cell(value, CellType.NUMBER)
        if number_format and is_date_format(number_format) and 0 <= value < 2958466:
            cell = Cell(from_excel(value), CellType.DATE)
    elif isinstance(value, str) and value != "":
        kind = CellType.ERROR if value in ERROR_LITERALS else CellType.STRING
        cell = Cell(value, kind)
    elif text is not None:
        cell = Cell(None, CellType.EMPTY)
    else:
        return None
    cell.formula = text
    cell.number_format = number_format if number_format and number_format != "General" else None
    return cell


def grid_workbook(request: SuggestRequest, max_cells: int) -> tuple[Workbook, tuple[int, int]]:
    """The request's block as a one-sheet ``Workbook`` and the target's ``(row, col)``.

    Raises ``ApiError`` (422) for ragged or mismatched arrays, a block over ``max_cells`` cells or
    off the sheet, and values that are no cell values (NaN, infinity)."""
    rows, cols = _shape("values", request.values, None)
    if rows * cols > max_cells:
        raise ApiError(413, "grid_too_large", f"the grid has {rows}x{cols} = {rows * cols} cells; the limit is {max_cells}")
    formulas = request.formulas
    formats = request.number_formats
    if formulas is not None:
        _shape("formulas", formulas, (rows, cols))
    if formats is not None:
        _shape("number_formats", formats, (rows, cols))
    try:
        top, left = parse_a1(request.address)
        target = parse_a1(request.target)
    except ValueError as exc:
        raise ApiError(422, "bad_address", str(exc)) from None
    if top + rows - 1 > MAX_ROW or left + cols - 1 > MAX_COL:
        raise ApiError(422, "bad_address", f"a {rows}x{cols} block at {request.address} runs off the sheet")
    sheet = Sheet(request.sheet)
    for i, row in enumerate(request.values):
        for j, value in enumerate(row):
            cell = _cell(value, formulas[i][j] if formulas is not None else None,
                         formats[i][j] if formats is not None else None)
            if cell is not None:
                sheet.set(top + i, left + j, cell)
    return Workbook(path=f"<grid {request.sheet}>", sheets=[sheet]), target


def _json_value(cell: Cell | None) -> Any:
    if cell is None or cell.value is None:
        return None
    value = cell.value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def sheet_grids(workbook: Workbook, max_rows: int = 500, max_cols: int = 52) -> list[dict[str, Any]]:
    """Each sheet's used block (from A1, so addresses match the sheet) as ``values`` and ``formulas``
    arrays, cut to ``max_rows`` x ``max_cols``."""
    out = []
    for sheet in workbook.sheets:
        rows, cols = max(min(sheet.max_row, max_rows), 1), max(min(sheet.max_col, max_cols), 1)
        values = [[_json_value(sheet.get(r, c)) for c in range(1, cols + 1)] for r in range(1, rows + 1)]
        formulas = [[(cell.formula if (cell := sheet.get(r, c)) is not None and cell.formula else values[r - 1][c - 1])
                     for c in range(1, cols + 1)] for r in range(1, rows + 1)]
        out.append({"name": sheet.name, "address": "A1", "values": values, "formulas": formulas,
                    "truncated": sheet.max_row > rows or sheet.max_col > cols})
    return out


def locale_separators(locale: str | None) -> tuple[str, str]:
    """``(decimal separator, list separator)`` of Excel in ``locale`` (en-US's ``(".", ",")`` when unknown)."""
    if not locale:
        return ".", ","
    tag = locale.replace("_", "-").lower()
    parts = tag.split("-")
    for n in range(len(parts), 1, -1):
        region = _REGION.get("-".join((parts[0], parts[n - 1])))
        if region is not None:
            return region
    return (",", ";") if parts[0] in _DECIMAL_COMMA else (".", ",")


def local_formula(formula: str, decimal: str, separator: str) -> str:
    """``formula`` with ``separator`` between arguments and ``decimal`` in numbers (function names
    stay English; array constants keep en-US separators)."""
    try:
        tokens = Tokenizer(formula).items
    except TokenizerError:
        return formula
    depth = 0  # inside an array constant
    parts = ["="]
    for token in tokens:
        value = token.value
        if token.type == Token.ARRAY:
            depth += 1 if token.subtype == Token.OPEN else -1
        elif depth == 0 and token.type == Token.SEP and token.subtype == Token.ARG:
            value = separator
        elif token.type == Token.OPERAND and token.subtype == Token.NUMBER:
            value = value.replace(".", decimal)
        parts.append(value)
    return "".join(parts)


def present(formula: str, origin: tuple[int, int], locale: str | None) -> dict[str, Any]:
    """``formula`` (A1 text at ``origin``) as the add-in shows it: ``formula``, ``formula_local``,
    ``sketch`` and ``ranges``."""
    shown = display_formula(formula)
    try:
        parsed = parse_formula(formula, origin)
        sketch = " ".join(parsed.sketch)
        ranges = [format_reference(ref, origin) for ref in parsed.ranges]
    except (FormulaError, ValueError):
        sketch, ranges = shown[1:], []
    decimal, separator = locale_separators(locale)
    local = local_formula(shown, decimal, separator) if (decimal, separator) != (".", ",") else None
    return {"formula": shown, "formula_local": local, "sketch": sketch, "ranges": ranges}


def cell_address(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"
