"""What every candidate source and check sees of one target: ``TargetView``.

A ``TargetView`` is the sheet as the context setting shows it with the target cell empty: its
``value`` never returns the target's own cached value, and in the ``values`` setting ``formula``
returns ``None`` for every cell (other formula cells show only their cached values). Sources read
cells through it, never through the ``Sheet`` directly, so neither the target's value nor a hidden
formula can reach a candidate, a feature or a check (``tests/test_suggest.py`` proves it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..constants import CONTEXT_FORMULAS, ContextSetting
from ..sheet import Cell, CellType, Sheet, Workbook
from ..values import ExcelValue, cached_value

__all__ = ["TargetView", "is_number"]


def is_number(value: ExcelValue | None) -> bool:
    return isinstance(value, float) and not isinstance(value, bool)


@dataclass
class TargetView:
    """One target cell of a workbook, seen in one context setting (see the module doc)."""

    workbook: Workbook
    sheet: Sheet
    row: int
    col: int
    context: ContextSetting
    _values: dict[tuple[str, int, int], ExcelValue | None] = field(default_factory=dict, repr=False)

    @property
    def masked(self) -> tuple[str, int, int]:
        return self.sheet.name, self.row, self.col

    def cell(self, row: int, col: int, sheet: Sheet | None = None) -> Cell | None:
        """The stored cell, or None for the target itself and empty cells."""
        sheet = sheet or self.sheet
        if sheet is self.sheet and (row, col) == (self.row, self.col):
            return None
        return sheet.get(row, col)

    def value(self, row: int, col: int, sheet: Sheet | None = None) -> ExcelValue | None:
        """The value a cell shows (None when empty, and always for the target)."""
        sheet = sheet or self.sheet
        key = (sheet.name, row, col)
        if key not in self._values:
            cell = self.cell(row, col, sheet)
            self._values[key] = None if cell is None else cached_value(cell)
        return self._values[key]

    def text(self, row: int, col: int, sheet: Sheet | None = None) -> str | None:
        """The cell's text when it is a label (a string, not a formula's result where visible)."""
        cell = self.cell(row, col, sheet)
        if cell is None or cell.type is not CellType.STRING or not isinstance(cell.value, str):
            return None
        if self.context == CONTEXT_FORMULAS and cell.formula is not None:
            return None
        return cell.value.strip() or None

    def formula(self, row: int, col: int, sheet: Sheet | None = None) -> str | None:
        """A neighbouring cell's formula where the setting shows formulas, else None."""
        if self.context != CONTEXT_FORMULAS:
            return None
        cell = self.cell(row, col, sheet)
        return None if cell is None else cell.formula

    def number(self, row: int, col: int, sheet: Sheet | None = None) -> bool:
        return is_number(self.value(row, col, sheet))

    def row_label(self) -> str | None:
        """The first label left of the target in its row."""
        for c in range(1, self.col):
            text = self.text(self.row, c)
            if text is not None:
                return text
        return None

    def column_header(self, max_up: int = 40) -> str | None:
        """The nearest label above the target in its column."""
        for r in range(self.row - 1, max(0, self.row - max_up), -1):
            text = self.text(r, self.col)
            if text is not None:
                return text
        return None
