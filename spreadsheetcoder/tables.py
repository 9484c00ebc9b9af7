"""Header rows of the table around a cell.

The header of the table a target sits in is prepended to its context window (DESIGN.md,
"Context representation"). It is detected, not assumed to be row 1: an Excel table (ListObject)
names its header row; otherwise we walk up from the target through the contiguous block of
non-empty rows and take the top run of label-like rows (text, dates or a run of years), at most
``MAX_HEADER_ROWS`` of them, dropping a lone title cell sitting directly on the header.
"""

from __future__ import annotations

import bisect
import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from .constants import HEADER_SEARCH_ROWS, MAX_HEADER_ROWS, WINDOW_RADIUS
from .sheet import Cell, CellType, Sheet

__all__ = ["RowIndex", "find_header_rows"]

# Share of a row's non-empty cells that must be labels for the row to read as a header.
LABEL_SHARE = 0.6
# A row of at least this many consecutive years (1900..2100, step 1) reads as a header.
MIN_YEAR_RUN = 3


@dataclass
class RowIndex:
    """Per-sheet index of non-empty cells by row, so a row segment is read with two bisects."""

    cols: dict[int, list[int]] = field(default_factory=dict)
    cells: dict[int, list[Cell]] = field(default_factory=dict)

    @classmethod
    def build(cls, sheet: Sheet) -> RowIndex:
        by_row: dict[int, list[tuple[int, Cell]]] = defaultdict(list)
        for (row, col), cell in sheet.cells.items():
            if not cell.is_empty:
                by_row[row].append((col, cell))
        index = cls()
        for row, items in by_row.items():
            items.sort(key=lambda item: item[0])
            index.cols[row] = [c for c, _ in items]
            index.cells[row] = [cell for _, cell in items]
        return index

    def segment(self, row: int, first_col: int, last_col: int) -> list[tuple[int, Cell]]:
        """Non-empty cells of ``row`` with ``first_col <= col <= last_col``, left to right."""
        cols = self.cols.get(row)
        if not cols:
            return []
        lo = bisect.bisect_left(cols, first_col)
        hi = bisect.bisect_right(cols, last_col)
        cells = self.cells[row]
        return [(cols[i], cells[i]) for i in range(lo, hi)]


def _is_label(cell: Cell) -> bool:
    return cell.formula is None and cell.type in (CellType.STRING, CellType.DATE)


def _is_year_run(segment: list[tuple[int, Cell]]) -> bool:
    years = [
        int(c.value)
        for _, c in segment
        if c.type is CellType.NUMBER and isinstance(c.value, (int, float)) and float(c.value).is_integer()
        and 1900 <= c.value <= 2100
    ]
    run = best = 1 if years else 0
    for a, b in itertools.pairwise(years):
        run = run + 1 if b == a + 1 else 1
        best = max(best, run)
    return best >= MIN_YEAR_RUN


def _is_header_like(segment: list[tuple[int, Cell]], col: int) -> bool:
    if any(c.formula is not None for _, c in segment):
        return False
    if _is_year_run(segment):
        return True
    labels = sum(1 for _, c in segment if _is_label(c))
    if labels == 0 or labels < LABEL_SHARE * len(segment):
        return False
    own = next((c for k, c in segment if k == col), None)
    return len(segment) >= 2 or (own is not None and _is_label(own))


def find_header_rows(
    sheet: Sheet, row: int, col: int, *, radius: int = WINDOW_RADIUS, index: RowIndex | None = None
) -> tuple[int, ...]:
    """Header row numbers (top to bottom) of the table that cell ``(row, col)`` sits in.

    Looks at columns ``col - radius .. col + radius``. Returns ``()`` when the block above the
    cell has no header (e.g. a bare list of numbers) or the cell is itself in the top row.
    Pass a prebuilt ``index`` when asking for many cells of one sheet.
    """
    table = sheet.table_at(row, col)
    if table is not None and table.header_rows > 0:
        if row < table.min_row + table.header_rows:
            return ()
        return tuple(range(table.min_row, table.min_row + table.header_rows))

    index = index or RowIndex.build(sheet)
    first_col, last_col = max(1, col - radius), col + radius
    run: list[int] = []  # header-like rows seen, bottom-up, consecutive
    seen_content = False
    r = row - 1
    stop = max(0, row - 1 - HEADER_SEARCH_ROWS)
    while r > stop:
        segment = index.segment(r, first_col, last_col)
        if not segment:
            if run or seen_content:
                break  # a blank row ends the block
            r -= 1  # blank rows directly above the cell (e.g. before a totals row) are skipped
            continue
        if _is_header_like(segment, col):
            run.append(r)
        elif run:
            break  # header found: a data row above it belongs to another table
        seen_content = True
        r -= 1

    if not run:
        return ()
    if len(run) > MAX_HEADER_ROWS:
        # A long run of text rows is a text table: its top row is the header.
        return (run[-1],)
    rows = sorted(run)
    if len(rows) == 2:
        top = index.segment(rows[0], first_col, last_col)
        below = index.segment(rows[1], first_col, last_col)
        lone_title = len(top) == 1 and len(below) >= 2 and sheet.merged_at(rows[0], top[0][0]) is None
        if lone_title:
            rows = rows[1:]
    return tuple(rows)
