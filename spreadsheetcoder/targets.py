"""Cells to predict.

Training and evaluation targets are formula cells; the evaluation protocol (DESIGN.md) keeps one
target per distinct relative formula per sheet, its first occurrence in reading order, so a formula
filled down 500 rows counts once. At inference the targets are empty cells the user names
(``'Sheet1!F2:F40,Summary!C9'``); they get the same context as a masked formula cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from openpyxl.formula.translate import Translator

from .errors import FormulaError
from .formula import Formula, parse_formula, relative_formula
from .references import format_a1, parse_cell_list
from .sheet import Cell, Sheet, Workbook

__all__ = ["Target", "distinct_targets", "list_targets", "named_cells"]

# Unrepresentable formulas still need a relative key for de-duplication: shift them all to one far
# cell with openpyxl's Translator, which moves relative references only.
_KEY_ORIGIN = "XFD1048576"


@dataclass
class Target:
    """A formula cell to predict.

    Attributes:
        sheet: sheet name; row, col: 1-based position.
        cell: the cell (its formula and cached value).
        formula: the parsed formula, or ``None`` when it is not representable.
        reason: why it is not representable (a ``FormulaError`` reason), else ``None``.
        key: its relative form; equal keys on one sheet are the same program.
        occurrences: how many formula cells of the sheet share ``key`` (1 with ``all_cells``).
    """

    sheet: str
    row: int
    col: int
    cell: Cell
    formula: Formula | None
    reason: str | None
    key: str
    occurrences: int = 1

    @property
    def text(self) -> str:
        assert self.cell.formula is not None
        return self.cell.formula


def _fallback_key(text: str, row: int, col: int) -> str:

    try:
        return "~" + Translator(text, origin=format_a1(row, col)).translate_formula(_KEY_ORIGIN)
    except Exception:  # the Translator raises several types on odd input; the raw text still works as a key
        return "~" + text


def _parse(text: str, row: int, col: int) -> tuple[Formula | None, str | None, str]:
    try:
        formula = parse_formula(text, (row, col))
    except FormulaError as err:
        return None, err.reason, _fallback_key(text, row, col)
    return formula, None, relative_formula(formula)


def iter_formula_cells(sheet: Sheet) -> Iterator[Target]:
    """Every formula cell of ``sheet`` in reading order, parsed."""
    for row, col, cell in sheet.formula_cells():
        assert cell.formula is not None
        formula, reason, key = _parse(cell.formula, row, col)
        yield Target(sheet.name, row, col, cell, formula, reason, key)


def list_targets(sheet: Sheet, *, all_cells: bool = False) -> list[Target]:
    """Targets of ``sheet``: the first occurrence of each distinct relative formula, in reading
    order (``all_cells=True``: every formula cell)."""
    if all_cells:
        return list(iter_formula_cells(sheet))
    return distinct_targets(iter_formula_cells(sheet))


def distinct_targets(targets: Iterable[Target]) -> list[Target]:
    """The first of each relative formula among ``targets`` (in reading order), with its count of
    occurrences (on copies: ``targets`` are left as they are, so a caller can keep every cell and
    the distinct ones without parsing twice)."""
    first: dict[str, Target] = {}
    for target in targets:
        seen = first.get(target.key)
        if seen is None:
            first[target.key] = replace(target, occurrences=1)
        else:
            seen.occurrences += 1
    return list(first.values())


def named_cells(workbook: Workbook, spec: str, default_sheet: str | None = None) -> list[tuple[str, int, int]]:
    """Resolve a user's cell list (``'Sheet1!F2:F40,Summary!C9'``) to ``(sheet, row, col)``.

    Unqualified cells belong to ``default_sheet`` (else the first sheet). Unknown sheets raise
    ``KeyError`` listing the workbook's sheets; bad addresses raise ``ValueError``.
    """
    out = []
    for sheet_name, row, col in parse_cell_list(spec):
        sheet = workbook.sheet_or_first(sheet_name or default_sheet)
        out.append((sheet.name, row, col))
    return out
