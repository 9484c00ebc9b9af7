"""Cell references: A1 text <-> 1-based ``(row, col)``, sheet quoting, and the ``Reference`` value.

A reference is stored relative to the cell that holds the formula (its *origin*), R1C1 style, so
``=B5*C5`` in D5 and ``=B6*C6`` in D6 hold the same references. Absolute parts (``$B$2``) are
stored as absolute coordinates instead, so rendering at any origin gives ``$B$2`` back:

    >>> ref = Reference(start=Corner(row=0, col=-2))          # B5 seen from D5
    >>> format_a1(5 + ref.start.row, 4 + ref.start.col)
    'B5'

``parse_reference`` reads one reference at an origin, ``format_reference`` writes it back in A1
and ``relative_reference`` in R1C1. Pure functions only, no I/O. Rows and columns are 1-based,
as in Excel and openpyxl.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .constants import MAX_COL, MAX_ROW
from .errors import FormulaError

__all__ = [
    "MAX_CELL_LIST",
    "Corner",
    "Reference",
    "column_index",
    "column_letter",
    "find_top_level",
    "format_a1",
    "format_reference",
    "needs_quotes",
    "parse_a1",
    "parse_cell_list",
    "parse_reference",
    "quote_sheet",
    "relative_reference",
    "split_sheet",
    "split_top_level",
    "unquote_sheet",
]

# parse_cell_list refuses lists that expand to more cells than this.
MAX_CELL_LIST = 100_000

CELL_RE = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)([1-9][0-9]{0,6})$")
COLUMN_RE = re.compile(r"^(\$?)([A-Za-z]{1,3})$")
ROW_RE = re.compile(r"^(\$?)([1-9][0-9]{0,6})$")
# Fast path of parse_reference: [sheet!]cell[:cell] with a plain or quoted sheet name.
SIMPLE_REFERENCE_RE = re.compile(
    r"^(?:(?:'((?:[^'\[\]:]|'')+)'|([^\W\d][\w.]*))!)?"
    r"(\$?)([A-Za-z]{1,3})(\$?)([1-9][0-9]{0,6})(?::(\$?)([A-Za-z]{1,3})(\$?)([1-9][0-9]{0,6}))?$"
)
# ...and for whole columns (A:C) and whole rows (3:5).
LINE_REFERENCE_RE = re.compile(
    r"^(?:(?:'((?:[^'\[\]:]|'')+)'|([^\W\d][\w.]*))!)?"
    r"(?:(\$?[A-Za-z]{1,3}):(\$?[A-Za-z]{1,3})|(\$?[1-9][0-9]{0,6}):(\$?[1-9][0-9]{0,6}))$"
)
# Defined names: a letter, `_` or `\` first, then word characters, dots, `\` and `?`.
NAME_RE = re.compile(r"^(?:[^\W\d]|\\)[\w.\\?]*$")
# A structured reference: optional table name, then one bracketed specifier.
STRUCTURED_RE = re.compile(r"^((?:[^\W\d]|\\)[\w.\\]*)?(\[.*\])$", re.DOTALL)
# Sheet names Excel writes without quotes: word characters and dots, not starting with a digit or dot.
PLAIN_SHEET_RE = re.compile(r"^[^\W\d][\w.]*$")
# ...unless they could be read as a cell (A1, XFD1048576), start like an R1C1 reference (R2x, C3,
# RC4) or are R, C, RC, TRUE or FALSE.
A1_LIKE_RE = re.compile(r"^([A-Za-z]{1,3})([0-9]+)$")
R1C1_ROW_RE = re.compile(r"^[Rr]([0-9]+)")
R1C1_COL_RE = re.compile(r"^[Rr]?[Cc]([0-9]+)")
R1C1_BARE = frozenset({"R", "C", "RC", "TRUE", "FALSE"})

# find_top_level: one scanner per separator; a quoted part is skipped whole ('' is an escaped quote).
_TOP_LEVEL_SCANS: dict[str, re.Pattern[str]] = {}

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _build_letters() -> tuple[str, ...]:
    letters = []
    for col in range(1, MAX_COL + 1):
        text = ""
        n = col
        while n:
            n, rem = divmod(n - 1, 26)
            text = _LETTERS[rem] + text
        letters.append(text)
    return tuple(letters)


# Index 0 is unused so that COLUMN_LETTERS[col] works with 1-based columns.
COLUMN_LETTERS: tuple[str, ...] = ("", *_build_letters())
COLUMN_INDEX: dict[str, int] = {letters: col for col, letters in enumerate(COLUMN_LETTERS) if col}


@dataclass(frozen=True, slots=True)
class Corner:
    """One corner of a reference.

    Each coordinate is stored the way R1C1 notation writes it: a *relative* part (no ``$``) is
    the offset from the origin cell (``R[-1]`` is ``row=-1``), an *absolute* part (``$``) is the
    1-based coordinate itself (``R2`` is ``row=2, row_abs=True``). A reference therefore renders
    to the same A1 text wherever its relative parts allow, and ``$B$2`` stays ``$B$2`` at any
    origin.

    Attributes:
        row: offset from the origin row, or the absolute row when ``row_abs``; ``None`` for a
            whole-column reference such as ``A:A``.
        col: offset from the origin column, or the absolute column when ``col_abs``; ``None``
            for a whole-row reference such as ``3:3``.
        row_abs: ``$`` before the row.
        col_abs: ``$`` before the column.
    """

    row: int | None
    col: int | None
    row_abs: bool = False
    col_abs: bool = False

    def position(self, origin: tuple[int, int]) -> tuple[int | None, int | None]:
        """The 1-based ``(row, col)`` this corner points at from ``origin`` (``None`` parts stay)."""
        row = self.row
        col = self.col
        if row is not None and not self.row_abs:
            row += origin[0]
        if col is not None and not self.col_abs:
            col += origin[1]
        return row, col


@dataclass(frozen=True, slots=True)
class Reference:
    """A reference in a formula: a cell, an area, a defined name or a structured reference.

    Attributes:
        sheet: unquoted sheet name when the reference is sheet-qualified (``Inputs!B3``), else ``None``.
        start: first corner of a cell or area reference.
        end: second corner of an area (``A1:B9``, ``A:C``, ``3:5``); ``None`` for a single cell.
        name: a defined name (``Revenue``), or the table name of a structured reference (``""``
            when implicit, as in ``[@Qty]``).
        spec: the bracketed specifier of a structured reference, verbatim: ``[Qty]``,
            ``[@Qty]``, ``[[#This Row],[Qty]]``, ``[#Totals]``, ``[[Qty]:[Price]]``.
    """

    sheet: str | None = None
    start: Corner | None = None
    end: Corner | None = None
    name: str | None = None
    spec: str | None = None

    @property
    def kind(self) -> str:
        """``"cell"``, ``"area"``, ``"name"`` or ``"structured"``."""
        if self.spec is not None:
            return "structured"
        if self.name is not None:
            return "name"
        if self.end is not None:
            return "area"
        return "cell"


def column_letter(col: int) -> str:
    """Column letters of a 1-based column index: ``1 -> "A"``, ``28 -> "AB"``, ``16384 -> "XFD"``."""
    if not 1 <= col <= MAX_COL:
        raise ValueError(f"column {col} is outside 1..{MAX_COL}")
    return COLUMN_LETTERS[col]


def column_index(letters: str) -> int:
    """1-based index of column letters (any case, ``$`` allowed): ``"AB" -> 28``."""
    col = COLUMN_INDEX.get(letters.lstrip("$").upper())
    if col is None:
        raise ValueError(f"{letters!r} is not a column between A and XFD")
    return col


def parse_a1(text: str) -> tuple[int, int]:
    """``(row, col)`` of an A1 cell address such as ``"B3"`` or ``"$B$3"``; ValueError otherwise."""
    match = CELL_RE.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an A1 cell address")
    row = int(match.group(4))
    col = COLUMN_INDEX.get(match.group(2).upper())
    if col is None or row > MAX_ROW:
        raise ValueError(f"{text!r} is outside the sheet (A1:XFD{MAX_ROW})")
    return row, col


def format_a1(row: int, col: int, row_abs: bool = False, col_abs: bool = False) -> str:
    """A1 text of a 1-based cell: ``format_a1(3, 2, row_abs=True) -> "B$3"``."""
    if not 1 <= row <= MAX_ROW:
        raise ValueError(f"row {row} is outside 1..{MAX_ROW}")
    return f"{'$' if col_abs else ''}{column_letter(col)}{'$' if row_abs else ''}{row}"


def needs_quotes(sheet: str) -> bool:
    """Whether Excel writes ``sheet`` in quotes in a reference (``'My Sheet'!A1`` but ``Data!A1``)."""
    if not PLAIN_SHEET_RE.match(sheet):
        return True
    match = A1_LIKE_RE.match(sheet)
    if match and match.group(1).upper() in COLUMN_INDEX and 1 <= int(match.group(2)) <= MAX_ROW:
        return True
    if sheet.upper() in R1C1_BARE:
        return True
    match = R1C1_ROW_RE.match(sheet)
    if match and 1 <= int(match.group(1)) <= MAX_ROW:
        return True
    match = R1C1_COL_RE.match(sheet)
    return match is not None and 1 <= int(match.group(1)) <= MAX_COL


def quote_sheet(name: str) -> str:
    """``name`` as it prefixes a reference, quoted only when needed: ``"My Sheet" -> "'My Sheet'"``."""
    if needs_quotes(name):
        return "'" + name.replace("'", "''") + "'"
    return name


def unquote_sheet(prefix: str) -> str:
    """The sheet name a reference prefix stands for, the inverse of ``quote_sheet``:
    ``"'My Sheet'" -> "My Sheet"``, ``"'Bob''s'" -> "Bob's"``; an unquoted prefix is the name itself."""
    if len(prefix) >= 2 and prefix[0] == "'" and prefix[-1] == "'":
        return prefix[1:-1].replace("''", "'")
    return prefix


def find_top_level(text: str, char: str, start: int = 0) -> int:
    """Index of the first ``char`` at or after ``start`` outside '...' quotes and [...] brackets, or -1."""
    if "'" not in text and "[" not in text:
        return text.find(char, start)
    pattern = _TOP_LEVEL_SCANS.get(char)
    if pattern is None:
        pattern = _TOP_LEVEL_SCANS[char] = re.compile(r"'(?:[^']|'')*'?|[\[\]]|" + re.escape(char))
    depth = 0
    for match in pattern.finditer(text, start):
        token = match.group()
        if token == "[":
            depth += 1
        elif token == "]":
            depth -= 1
        elif depth == 0 and token == char:
            return match.start()
    return -1


def split_sheet(text: str) -> tuple[str | None, str]:
    """Split a sheet prefix off a reference: ``"'My Sheet'!A1" -> ("My Sheet", "A1")``.

    Quoted names lose their quotes and ``''`` becomes ``'``; text without a sheet gives
    ``(None, text)``. ``!`` inside quotes or brackets does not count.
    """
    bang = find_top_level(text, "!")
    if bang < 0:
        return None, text
    return unquote_sheet(text[:bang]), text[bang + 1 :]


def split_top_level(text: str, char: str) -> list[str]:
    """Split ``text`` on ``char`` outside quotes and brackets: ``"'a:b'!A1:B2" -> ["'a:b'!A1", "B2"]``."""
    if "'" not in text and "[" not in text:
        return text.split(char)
    parts = []
    begin = 0
    i = find_top_level(text, char)
    while i >= 0:
        parts.append(text[begin:i])
        begin = i + 1
        i = find_top_level(text, char, begin)
    parts.append(text[begin:])
    return parts


def parse_cell_list(text: str, limit: int = MAX_CELL_LIST) -> list[tuple[str | None, int, int]]:
    """Expand a comma-separated list of cells and areas into ``(sheet, row, col)`` triples.

    ``"Sheet1!F2:F3,C9,'My Sheet'!A1"`` gives ``[("Sheet1", 2, 6), ("Sheet1", 3, 6),
    (None, 9, 3), ("My Sheet", 1, 1)]``; areas expand row by row. Raises ValueError naming the
    bad item for empty items, anything but cells and areas (names, whole columns), and lists of
    more than ``limit`` cells.
    """
    cells: list[tuple[str | None, int, int]] = []
    for raw in split_top_level(text, ","):
        item = raw.strip()
        if not item:
            raise ValueError(f"empty item in cell list {text!r}")
        sheet, rest = split_sheet(item)
        if sheet is not None and (not sheet or sheet.startswith("'")):
            raise ValueError(f"bad sheet name in {item!r}")
        corners = rest.split(":")
        if len(corners) > 2:
            raise ValueError(f"{item!r} is not a cell or an area like A1:B9")
        try:
            (r1, c1), (r2, c2) = parse_a1(corners[0]), parse_a1(corners[-1])
        except ValueError as exc:
            raise ValueError(f"{item!r} is not a cell or an area like A1:B9 ({exc})") from None
        top, bottom = min(r1, r2), max(r1, r2)
        left, right = min(c1, c2), max(c1, c2)
        if len(cells) + (bottom - top + 1) * (right - left + 1) > limit:
            raise ValueError(f"cell list {text!r} covers more than {limit} cells")
        cells.extend((sheet, row, col) for row in range(top, bottom + 1) for col in range(left, right + 1))
    return cells


def _corner(match: re.Match[str], group: int, origin: tuple[int, int]) -> Corner | None:
    """Corner of a cell matched at groups ``group..group+3`` ($, letters, $, digits) of ``match``.

    None when the cell lies beyond XFD1048576 (the text is a name, then).
    """
    col_abs, letters, row_abs, digits = match.group(group, group + 1, group + 2, group + 3)
    col = COLUMN_INDEX.get(letters.upper())
    row = int(digits)
    if col is None or row > MAX_ROW:
        return None
    return Corner(
        row if row_abs else row - origin[0],
        col if col_abs else col - origin[1],
        row_abs == "$",
        col_abs == "$",
    )


def _line_corner(text: str, origin: tuple[int, int]) -> Corner | None:
    """Corner of one end of a whole-column (``$A`` of ``$A:C``) or whole-row (``3`` of ``3:5``) area."""
    absolute = text.startswith("$")
    bare = text.lstrip("$")
    if bare.isdigit():
        row = int(bare)
        return (
            Corner(row if absolute else row - origin[0], None, row_abs=absolute) if row <= MAX_ROW else None
        )
    col = COLUMN_INDEX.get(bare.upper())
    if col is None:
        return None
    return Corner(None, col if absolute else col - origin[1], col_abs=absolute)


def _sheet_prefix(text: str) -> tuple[str | None, str]:
    """Split off the sheet prefix of one reference; FormulaError for other workbooks and 3-D refs."""
    bang = find_top_level(text, "!")
    if bang < 0:
        return None, text
    sheet = text[:bang]
    if "[" in sheet or "]" in sheet:
        raise FormulaError("external_workbook", text)
    if len(sheet) >= 2 and sheet[0] == "'" and sheet[-1] == "'":
        sheet = unquote_sheet(sheet)
    elif "'" in sheet:
        raise FormulaError("invalid_reference", text, "stray quote in the sheet name")
    if ":" in sheet:
        raise FormulaError("3d_reference", text)
    if not sheet:
        raise FormulaError("invalid_reference", text, "empty sheet name")
    return sheet, text[bang + 1 :]


def parse_reference(text: str, origin: tuple[int, int]) -> Reference:
    """Read one reference written in a formula at the 1-based ``origin`` cell.

    ``text`` is a cell (``B5``, ``$B$2``), an area (``A1:B9``, ``A:C``, ``$3:$5``), a defined
    name (``Revenue``) or a structured reference (``Table1[[#This Row],[Qty]]``, ``[@Qty]``),
    any of them sheet-qualified (``'My Sheet'!A1``). Cell-like text beyond XFD1048576
    (``XFE1``, ``ABCD12``) is a name, as in Excel.

    Raises:
        FormulaError: reason ``"external_workbook"`` (``[1]Sheet1!A1``), ``"3d_reference"``
            (``Sheet1:Sheet3!A1``) or ``"invalid_reference"`` (anything else, including
            ranges such as ``A1:Name`` that are two references joined by ``:``).
    """
    match = SIMPLE_REFERENCE_RE.match(text)
    if match is not None:  # the common case, without a scan for quotes and brackets
        start = _corner(match, 3, origin)
        end = None if match.group(10) is None else _corner(match, 7, origin)
        if start is not None and (end is not None or match.group(10) is None):
            quoted = match.group(1)
            return Reference(match.group(2) if quoted is None else unquote_sheet(f"'{quoted}'"), start, end)
    else:
        match = LINE_REFERENCE_RE.match(text)
        if match is not None:
            first, last = match.group(3, 4) if match.group(3) is not None else match.group(5, 6)
            start, end = _line_corner(first, origin), _line_corner(last, origin)
            if start is not None and end is not None:
                quoted = match.group(1)
                return Reference(match.group(2) if quoted is None else unquote_sheet(f"'{quoted}'"), start, end)
    sheet, rest = _sheet_prefix(text)
    pieces = split_top_level(rest, ":")
    if len(pieces) == 2:
        first, last = pieces
        start = end = None
        first_cell, last_cell = CELL_RE.match(first), CELL_RE.match(last)
        if first_cell is not None and last_cell is not None:
            start, end = _corner(first_cell, 1, origin), _corner(last_cell, 1, origin)
        elif (COLUMN_RE.match(first) and COLUMN_RE.match(last)) or (
            ROW_RE.match(first) and ROW_RE.match(last)
        ):
            start, end = _line_corner(first, origin), _line_corner(last, origin)
        if start is None or end is None:
            raise FormulaError("invalid_reference", text, "not one area")
        return Reference(sheet, start, end)
    if len(pieces) > 2:
        raise FormulaError("invalid_reference", text, "not one area")
    match = CELL_RE.match(rest)
    if match is not None:
        corner = _corner(match, 1, origin)
        if corner is not None:
            return Reference(sheet, corner)
    if NAME_RE.match(rest):
        return Reference(sheet, name=rest)
    match = STRUCTURED_RE.match(rest)
    if match is not None and _closes_at_end(match.group(2)):
        return Reference(sheet, name=match.group(1) or "", spec=match.group(2))
    if rest.startswith("["):  # [1]Name: a name in another workbook
        raise FormulaError("external_workbook", text)
    raise FormulaError("invalid_reference", text)


def _closes_at_end(spec: str) -> bool:
    """Whether the ``[`` that opens ``spec`` is closed by its last character."""
    depth = 0
    last = len(spec) - 1
    for i, ch in enumerate(spec):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth == 0:
                return i == last
    return False


def _a1_corner(corner: Corner, origin: tuple[int, int]) -> str:
    row = corner.row
    col = corner.col
    text = ""
    if col is not None:
        if not corner.col_abs:
            col += origin[1]
        if not 1 <= col <= MAX_COL:
            raise ValueError(f"column {col} is off the sheet")
        text = "$" + COLUMN_LETTERS[col] if corner.col_abs else COLUMN_LETTERS[col]
    if row is not None:
        if not corner.row_abs:
            row += origin[0]
        if not 1 <= row <= MAX_ROW:
            raise ValueError(f"row {row} is off the sheet")
        text += f"${row}" if corner.row_abs else str(row)
    return text


def format_reference(ref: Reference, origin: tuple[int, int]) -> str:
    """A1 text of ``ref`` in a formula at ``origin``: ``"'My Sheet'!$B$2:C7"``.

    Raises:
        ValueError: when a relative part falls off the sheet at ``origin``, or ``ref`` has
            neither corners nor a name.
    """
    return _format_reference(ref, lambda corner: _a1_corner(corner, origin))


def _format_reference(ref: Reference, corner_text: Callable[[Corner], str]) -> str:
    """Text of ``ref`` with its corners written by ``corner_text`` (A1 or R1C1)."""
    prefix = "" if ref.sheet is None else quote_sheet(ref.sheet) + "!"
    if ref.spec is not None:
        return f"{prefix}{ref.name or ''}{ref.spec}"
    if ref.name is not None:
        return prefix + ref.name
    if ref.start is None:
        raise ValueError(f"reference {ref!r} has neither a corner nor a name")
    if ref.end is None:
        return prefix + corner_text(ref.start)
    return f"{prefix}{corner_text(ref.start)}:{corner_text(ref.end)}"


def _r1c1_part(letter: str, value: int, absolute: bool) -> str:
    if absolute:
        return f"{letter}{value}"
    return letter if value == 0 else f"{letter}[{value}]"


def _r1c1_corner(corner: Corner) -> str:
    text = "" if corner.row is None else _r1c1_part("R", corner.row, corner.row_abs)
    if corner.col is not None:
        text += _r1c1_part("C", corner.col, corner.col_abs)
    return text


def relative_reference(ref: Reference) -> str:
    """R1C1 text of ``ref``: ``"R[-8]C:R[-1]C"``, ``"Inputs!R2C3"``, ``"C[-3]:C[-3]"`` for a column."""
    return _format_reference(ref, _r1c1_corner)
