"""Structural anchors: rows and columns that references beyond the window point at.

The paper's range vocabulary only reaches corners within ±10 rows and columns of the target. Real
workbooks sum long columns (``=SUM(B2:B250)``), read the last row of a block, or look up the row of
another sheet whose label matches the target's row label (``=Inputs!C12`` next to the label
``Revenue``). An anchor names such a row or column by what it is, not by its number, so the range
head can emit it wherever the table sits:

=============  ===============================================================================
``r^hdr``      the last header row of the target's table
``r^first``    the row after it (the first data row)
``r^top``      the first row of the contiguous block of non-text cells directly above the target
``r^bot``      the last row of the contiguous block of non-text cells directly below the target
``r^last``     the sheet's last used row
``r^label``    (another sheet) the row whose label equals the label of the target's row
``c^left``     the first column of the contiguous block of non-text cells left of the target
``c^right``    the last column of the contiguous block right of the target
``c^last``     the sheet's last used column
=============  ===============================================================================

Anchors are keyed by sheet: ``"="`` for the target's own sheet, ``"K"`` for the workbook's K-th
sheet (the pointer the range head emits before the corners).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .constants import HEADER_SEARCH_ROWS
from .sheet import CellType, Sheet, Workbook

__all__ = ["ANCHOR_NAMES", "OWN", "AnchorIndex", "Anchors", "sheet_head", "sheet_view", "workbook_tables"]

OWN = "="
ROW_ANCHORS = ("r^first", "r^top", "r^bot", "r^hdr", "r^label", "r^last")
COL_ANCHORS = ("c^left", "c^right", "c^last")
ANCHOR_NAMES = ROW_ANCHORS + COL_ANCHORS  # also the order in which a matching anchor is preferred
LABEL_COLUMNS = 6  # a row's label is its first text cell among the first columns

Anchors = Mapping[str, Mapping[str, int]]


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def _is_block_cell(sheet: Sheet, row: int, col: int) -> bool:
    """A cell that belongs to a block of data: not empty and not text (numbers, dates, formulas)."""
    cell = sheet.get(row, col)
    if cell is None or cell.is_empty:
        return False
    return cell.type is not CellType.STRING or cell.formula is not None


def _block_end(sheet: Sheet, row: int, col: int, d_row: int, d_col: int) -> int | None:
    """Last row (or column) of the block that starts next to ``(row, col)`` going ``(d_row, d_col)``.

    Blank cells right next to the target are skipped (a total often sits below a blank row).
    """
    r, c = row + d_row, col + d_col
    for _ in range(2):
        if r >= 1 and c >= 1 and not _is_block_cell(sheet, r, c) and sheet.get(r, c) is None:
            r, c = r + d_row, c + d_col
    if not (r >= 1 and c >= 1 and _is_block_cell(sheet, r, c)):
        return None
    steps = 0
    while steps < HEADER_SEARCH_ROWS * 20:
        nr, nc = r + d_row, c + d_col
        if nr < 1 or nc < 1 or not _is_block_cell(sheet, nr, nc):
            break
        r, c, steps = nr, nc, steps + 1
    return r if d_row else c


class AnchorIndex:
    """Per-workbook index that answers ``anchors(sheet, row, col, header_rows)`` cheaply.

    Each sheet's row labels are indexed once, on first use.
    """

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._labels: dict[str, dict[str, int]] = {}

    def _row_labels(self, sheet: Sheet) -> dict[str, int]:
        labels = self._labels.get(sheet.name)
        if labels is None:
            labels = {}
            first_text: dict[int, tuple[int, str]] = {}
            for (row, col), cell in sheet.cells.items():
                if col <= LABEL_COLUMNS and cell.type is CellType.STRING and isinstance(cell.value, str):
                    seen = first_text.get(row)
                    if seen is None or col < seen[0]:
                        first_text[row] = (col, cell.value)
            for row in sorted(first_text):
                labels.setdefault(_label(first_text[row][1]), row)
            self._labels[sheet.name] = labels
        return labels

    @staticmethod
    def row_label(sheet: Sheet, row: int, col: int) -> str | None:
        """Label of the target's row: its first text cell left of the target."""
        for c in range(1, col):
            cell = sheet.get(row, c)
            if cell is not None and cell.type is CellType.STRING and isinstance(cell.value, str) and cell.value.strip():
                return _label(cell.value)
        return None

    def anchors(self, sheet: Sheet, row: int, col: int, header_rows: Sequence[int] = ()) -> dict[str, dict[str, int]]:
        """Anchors of target ``(row, col)`` of ``sheet``: ``{"=": {...}, "K": {...}}`` (see the module doc)."""
        own: dict[str, int] = {}
        if header_rows:
            own["r^hdr"] = header_rows[-1]
            own["r^first"] = header_rows[-1] + 1
        for name, d_row, d_col in (("r^top", -1, 0), ("r^bot", 1, 0), ("c^left", 0, -1), ("c^right", 0, 1)):
            end = _block_end(sheet, row, col, d_row, d_col)
            if end is not None:
                own[name] = end
        own["r^last"], own["c^last"] = sheet.max_row, sheet.max_col
        out = {OWN: own}
        label = self.row_label(sheet, row, col)
        for k, other in enumerate(self.workbook.sheets):
            if other.name == sheet.name:
                continue
            entry = {"r^last": other.max_row, "c^last": other.max_col}
            if label is not None:
                match = self._row_labels(other).get(label)
                if match is not None:
                    entry["r^label"] = match
            out[str(k)] = entry
        return out


def sheet_head(sheet: Sheet, max_cells: int = 6) -> str:
    """A compact view of a sheet for the sheet-name pointer: its first non-empty row's texts.

    ``"Year | 2020 | 2021 | 2022"``; empty for an empty sheet.
    """
    rows: dict[int, list[tuple[int, str]]] = {}
    for (row, col), cell in sheet.cells.items():
        if cell.value is not None and str(cell.value).strip():
            rows.setdefault(row, []).append((col, str(cell.value).strip()[:24]))
    if not rows:
        return ""
    first = sorted(rows[min(rows)])[:max_cells]
    return " | ".join(text for _, text in first)


def sheet_view(name: str, head: str) -> str:
    """The text a sheet pointer candidate is encoded from: ``"Inputs | Year | 2020 | 2021"``."""
    return f"{name} | {head}" if head else name


def workbook_tables(workbook: Workbook) -> list[tuple[str, int, list[str]]]:
    """Every table of the workbook as ``(name, first column, column names)``: what structured
    references' column pointers point into (vocab.RefContext.tables)."""
    return [(t.name, t.min_col, list(t.columns)) for s in workbook.sheets for t in s.tables]


def visible_names(book: Workbook, sheet: str) -> list[str]:
    """Defined names a formula on ``sheet`` can use: workbook-scoped and the sheet's own, sorted."""
    return sorted(set(book.defined_names) | set(book.sheet(sheet).defined_names), key=lambda n: (n.casefold(), n))
