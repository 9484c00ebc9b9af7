"""Features of a (cell, repair candidate) pair, for the checker's learned scorer (issue 15).

The sheet is its own test suite: a mistake usually breaks a pattern its neighbours keep (a
filled-down column, a totals row), reads cells of the wrong type (a header, an empty row, the
total above), or, typed over a formula, shows exactly what the formula would compute. Each row
says, for one candidate of ``candidates.py``:

- the candidate's kind and where it came from;
- how many neighbours, one and two cells away, hold the candidate's relative formula and how many
  hold the cell's own (``pairs_*``: opposite neighbours that both do), and how often each appears
  on the whole sheet;
- what running it on the sheet gives (``suggest/engine.py``): whether it computes, whether it
  shows what the cell shows now, whether the cell's own formula does;
- which cells it reads that the cell's formula does not, and the reverse, by type (typed numbers,
  text, empty cells, formulas);
- whether an area ends right next to the cell (a total), whether the function agrees with the
  word heading the cell's row or column ("Total", "Average", "Max", ...), how many single-cell
  references leave the cell's own row or column;
- for a typed number, how many decimals it shows (a pasted result has many).

``FEATURES`` names the columns; ``feature_rows`` computes them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from ..constants import RANGE_PLACEHOLDER
from ..formula import Formula
from ..sheet import Cell, CellType, Sheet, Workbook
from ..suggest.engine import NotComputable, SheetEngine
from ..values import ExcelError, ExcelValue, cached_value, values_equal
from .candidates import CANDIDATE_KINDS, NEIGHBOUR_OFFSETS, Candidate, SheetForms
from .cells import is_number_constant

__all__ = ["FEATURES", "MAX_READ_CELLS", "feature_rows"]

FEATURES: tuple[str, ...] = (
    "kind",
    "is_constant",
    "from_neighbour",
    "nb1_cand",
    "nb2_cand",
    "pairs_cand",
    "nb1_own",
    "nb2_own",
    "pairs_own",
    "nb1_formulas",
    "sheet_cand",
    "sheet_own",
    "n_refs",
    "sketch_len",
    "cand_computable",
    "cand_equals_shown",
    "own_equals_shown",
    "cand_error",
    "added_numbers",
    "added_text",
    "added_empty",
    "added_formulas",
    "removed_numbers",
    "removed_text",
    "removed_empty",
    "removed_formulas",
    "own_adjacent",
    "cand_adjacent",
    "own_header_fn",
    "cand_header_fn",
    "own_offrow",
    "cand_offrow",
    "own_offcol",
    "cand_offcol",
    "reads_self",
    "decimals",
)

# Read cells that differ between a candidate and the cell's formula are counted up to this many;
# beyond, the read-cell features are -1.
MAX_READ_CELLS = 4096

_HEADER_SCAN = 40  # cells scanned up the column and left along the row for a heading
_HEADER_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("AVERAGE", re.compile(r"\b(?:average|avg|mean)\b", re.IGNORECASE)),
    ("MIN", re.compile(r"\b(?:min|minimum|lowest|smallest)\b", re.IGNORECASE)),
    ("MAX", re.compile(r"\b(?:max|maximum|highest|largest|peak)\b", re.IGNORECASE)),
    ("COUNT", re.compile(r"\b(?:count|number of|no\. of)\b", re.IGNORECASE)),
    ("SUM", re.compile(r"\b(?:total|totals|sum|subtotal)\b", re.IGNORECASE)),
)
_FAMILY = {"SUM": "SUM", "AVERAGE": "AVERAGE", "MIN": "MIN", "MAX": "MAX", "COUNT": "COUNT", "COUNTA": "COUNT"}

def _header_word(sheet: Sheet, row: int, col: int) -> str | None:
    """The function a heading of the cell's column or row names, if any: the first text above the
    cell in an unbroken column (an empty cell ends the search: a summary block under a blank row
    does not inherit the data's heading), then the first text left of it in its row."""
    for up, cells in ((True, ((row - i, col) for i in range(1, _HEADER_SCAN))),
                      (False, ((row, col - i) for i in range(1, _HEADER_SCAN)))):
        for r, c in cells:
            if r < 1 or c < 1:
                break
            cell = sheet.get(r, c)
            if up and (cell is None or cell.is_empty):
                break
            if cell is not None and cell.formula is None and cell.type is CellType.STRING:
                text = str(cell.value)
                for name, pattern in _HEADER_WORDS:
                    if pattern.search(text):
                        return name
                break
    return None


def _header_agreement(formula: Formula | None, word: str | None) -> int:
    """1 when the formula's first aggregate function is the one the heading names, -1 when it is
    another one, 0 when either is missing."""
    if formula is None or word is None:
        return 0
    for token in formula.sketch:
        family = _FAMILY.get(token[:-1]) if token.endswith("(") else None
        if family is not None:
            return 1 if family == word else -1
    return 0


Box = tuple[str, int, int, int, int]  # sheet (casefolded), first row, first col, last row, last col


def _boxes(formula: Formula | None, sheet: Sheet, origin: tuple[int, int]) -> list[Box] | None:
    """The rectangles the formula's cell and area references read; None when one is a whole row
    or column."""
    out: list[Box] = []
    if formula is None:
        return out
    for ref in formula.ranges:
        if ref.start is None or ref.name is not None or ref.spec is not None:
            continue
        end = ref.end or ref.start
        (r1, c1), (r2, c2) = ref.start.position(origin), end.position(origin)
        if r1 is None or c1 is None or r2 is None or c2 is None:
            return None
        out.append(((ref.sheet or sheet.name).casefold(), min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)))
    return out


def _minus(box: Box, other: Box) -> list[Box]:
    """``box`` without the cells of ``other``, as up to four rectangles."""
    name, r1, c1, r2, c2 = box
    oname, o1, p1, o2, p2 = other
    if name != oname or o1 > r2 or o2 < r1 or p1 > c2 or p2 < c1:
        return [box]
    out = []
    if r1 < o1:
        out.append((name, r1, c1, o1 - 1, c2))
    if o2 < r2:
        out.append((name, o2 + 1, c1, r2, c2))
    top, bottom = max(r1, o1), min(r2, o2)
    if c1 < p1:
        out.append((name, top, c1, bottom, p1 - 1))
    if p2 < c2:
        out.append((name, top, p2 + 1, bottom, c2))
    return out


def _difference(boxes: list[Box], minus: list[Box]) -> list[Box]:
    """The cells of ``boxes`` outside every box of ``minus`` (overlaps within ``boxes`` count twice)."""
    pieces = list(boxes)
    for other in minus:
        pieces = [piece for box in pieces for piece in _minus(box, other)]
    return pieces


def _type_counts(boxes: list[Box], sheets: dict[str, Sheet]) -> list[int] | None:
    """Typed numbers, text, empty cells and formulas in ``boxes``; None over ``MAX_READ_CELLS``."""
    if sum((r2 - r1 + 1) * (c2 - c1 + 1) for _, r1, c1, r2, c2 in boxes) > MAX_READ_CELLS:
        return None
    counts = [0, 0, 0, 0]
    for name, r1, c1, r2, c2 in boxes:
        host = sheets.get(name)
        for row in range(r1, r2 + 1):
            for col in range(c1, c2 + 1):
                cell = host.get(row, col) if host is not None else None
                if cell is None or cell.is_empty:
                    counts[2] += 1
                elif cell.formula is not None:
                    counts[3] += 1
                elif is_number_constant(cell):
                    counts[0] += 1
                else:
                    counts[1] += 1
    return counts


def _delta(reads: list[Box] | None, own_reads: list[Box] | None, sheets: dict[str, Sheet]) -> list[int]:
    """By type, the cells the candidate reads that the cell's formula does not, then the reverse;
    -1s when either reads a whole row or column or too many cells differ."""
    if reads is None or own_reads is None:
        return [-1] * 8
    added = _type_counts(_difference(reads, own_reads), sheets)
    removed = _type_counts(_difference(own_reads, reads), sheets)
    if added is None or removed is None:
        return [-1] * 8
    return added + removed


def _reads_cell(boxes: list[Box] | None, name: str, row: int, col: int) -> bool:
    return boxes is not None and any(b[0] == name and b[1] <= row <= b[3] and b[2] <= col <= b[4] for b in boxes)


def _adjacent(formula: Formula | None, origin: tuple[int, int]) -> int:
    """1 when an area on the cell's own sheet ends in the row right above the cell (covering its
    column) or in the column right left of it (covering its row)."""
    if formula is None:
        return 0
    row, col = origin
    for ref in formula.ranges:
        if ref.sheet is not None or ref.start is None or ref.end is None:
            continue
        (r1, c1), (r2, c2) = ref.start.position(origin), ref.end.position(origin)
        if None in (r1, c1, r2, c2):
            continue
        assert r1 is not None and c1 is not None and r2 is not None and c2 is not None
        if max(r1, r2) == row - 1 and min(c1, c2) <= col <= max(c1, c2):
            return 1
        if max(c1, c2) == col - 1 and min(r1, r2) <= row <= max(r1, r2):
            return 1
    return 0


def _off_axis(formula: Formula | None) -> tuple[int, int]:
    """Single-cell references on the own sheet with a relative row off the cell's row, and with a
    relative column off its column."""
    rows = cols = 0
    if formula is None:
        return 0, 0
    for ref in formula.ranges:
        start = ref.start
        if ref.end is not None or start is None or ref.name is not None or ref.sheet is not None:
            continue
        rows += int(start.row is not None and not start.row_abs and start.row != 0)
        cols += int(start.col is not None and not start.col_abs and start.col != 0)
    return rows, cols


def _decimals(cell: Cell | None) -> int:
    """Digits after the point of a typed number (15 at most), 0 for other cells."""
    if cell is None or not is_number_constant(cell) or not isinstance(cell.value, (int, float)):
        return 0
    value = float(cell.value)
    if not math.isfinite(value) or value == int(value):
        return 0
    text = repr(abs(value))
    if "e" in text:
        return 15
    return min(15, len(text.split(".")[1]))


def _neighbours(forms: SheetForms, row: int, col: int, form: str | None, constant: bool) -> tuple[int, int, int]:
    """How many neighbours one and two cells away hold ``form`` (for a typed number with no form:
    hold typed numbers), and how many opposite pairs one cell away both do."""
    def holds(dr: int, dc: int) -> bool:
        if form is None:
            return constant and is_number_constant(forms.sheet.get(row + dr, col + dc))
        return forms.forms.get((row + dr, col + dc)) == form
    near = [holds(dr, dc) for dr, dc in NEIGHBOUR_OFFSETS[:4]]
    far = sum(holds(dr, dc) for dr, dc in NEIGHBOUR_OFFSETS[4:])
    pairs = int(near[0] and near[1]) + int(near[2] and near[3])
    return sum(near), far, pairs


def _compute(engine: SheetEngine, formula: Formula | None, sheet: Sheet, origin: tuple[int, int]) -> ExcelValue | None:
    if formula is None:
        return None
    try:
        return engine.compute(formula, sheet, origin)
    except NotComputable:
        return None


def feature_rows(forms: SheetForms, engine: SheetEngine, workbook: Workbook, row: int, col: int,
                 candidates: Sequence[Candidate]) -> list[list[float]]:
    """One row of ``FEATURES`` per candidate of the cell at ``(row, col)``."""
    sheet = forms.sheet
    origin = (row, col)
    cell = sheet.get(row, col)
    own = forms.formulas.get(origin)
    own_form = forms.forms.get(origin)
    constant = own is None
    shown = cached_value(cell) if cell is not None else None
    sheets = {s.name.casefold(): s for s in workbook.sheets}
    own_value = _compute(engine, own, sheet, origin)
    own_equals = int(own_value is not None and shown is not None and values_equal(own_value, shown))
    own_reads = _boxes(own, sheet, origin)
    own_nb = _neighbours(forms, row, col, own_form, constant)
    nb1_formulas = sum((row + dr, col + dc) in forms.formulas for dr, dc in NEIGHBOUR_OFFSETS[:4])
    own_count = forms.counts.get(own_form, 1) - 1 if own_form is not None else 0
    word = _header_word(sheet, row, col)
    own_header = _header_agreement(own, word)
    own_off = _off_axis(own)
    decimals = _decimals(cell)
    own_name = sheet.name.casefold()
    rows = []
    for cand in candidates:
        value = _compute(engine, cand.formula, sheet, origin)
        reads = _boxes(cand.formula, sheet, origin)
        delta = _delta(reads, own_reads, sheets)
        cand_nb = _neighbours(forms, row, col, cand.form, False)
        cand_off = _off_axis(cand.formula)
        rows.append([
            float(CANDIDATE_KINDS.index(cand.kind)),
            float(constant),
            float(cand.from_neighbour),
            *map(float, cand_nb),
            *map(float, own_nb),
            float(nb1_formulas),
            math.log1p(forms.counts.get(cand.form, 0)),
            math.log1p(own_count),
            float(len(cand.formula.ranges)),
            float(sum(token != RANGE_PLACEHOLDER for token in cand.formula.sketch)),
            float(value is not None),
            float(value is not None and shown is not None and values_equal(value, shown)),
            float(own_equals),
            float(isinstance(value, ExcelError)),
            *map(float, delta),
            float(_adjacent(own, origin)),
            float(_adjacent(cand.formula, origin)),
            float(own_header),
            float(_header_agreement(cand.formula, word)),
            float(own_off[0]),
            float(cand_off[0]),
            float(own_off[1]),
            float(cand_off[1]),
            float(_reads_cell(reads, own_name, row, col)),
            float(decimals),
        ])
    return rows
