"""The two baselines of formula checking (issue 15): cells flagged as likely mistakes, with a score.

``inconsistent_formula_flags`` applies three of Excel's background error-checking rules, as
Excel documents them:

- **Inconsistent formula** ("formulas inconsistent with other formulas in the region", score
  1.0): the formula's relative (R1C1) form differs from that of its neighbours above and below,
  which agree with each other, or from its neighbours left and right, which agree; Excel needs
  consistent formulas on both sides, so the first and last cells of a run are never flagged. A
  cell that continues a run of its own along the other axis is not flagged (a block of formulas
  whose columns differ is consistent down each column).
- **Number among formulas** (score 1.0), the equivalent for a constant of "inconsistent
  calculated column formula", which covers values typed into a formula column: a typed number
  whose neighbours on both sides, above and below or left and right, hold one relative formula.
- **Formula omits adjacent cells** ("formulas which omit cells in a region", score 0.5): an area
  one row or one column wide on the formula's own sheet, next to a cell along it that shows a
  number (typed or computed) and is neither the formula's own cell nor a formula reading the
  area's cell next to it (a total of the column): ``=SUM(B2:B8)`` with a number in B9. Running
  totals (``=SUM($B$2:B2)`` filled down) are flagged by this rule, as in Excel.

``excelint_flags`` is the ExceLint-style reference-fingerprint analysis of ``excelint.py``.

Both return one ``Flag`` per cell (its best reason), highest score first, then in sheet order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..formula import Formula
from ..references import format_a1
from ..sheet import Sheet, Workbook
from ..values import cached_value
from .cells import is_number_constant, parsed_formula, relative_forms
from .excelint import outliers

__all__ = ["Flag", "excelint_flags", "inconsistent_formula_flags"]

_PAIRS = (((-1, 0), (1, 0)), ((0, -1), (0, 1)))  # above/below, left/right


@dataclass(frozen=True)
class Flag:
    """A cell a baseline suspects: ``score`` (higher is more suspicious), ``reason`` a short code
    (``inconsistent_formula``, ``number_among_formulas``, ``omits_adjacent_cells``,
    ``fingerprint_outlier``) and ``detail`` for people."""

    sheet: str
    row: int
    col: int
    score: float
    reason: str
    detail: str = ""


def _patterns(forms: dict[tuple[int, int], str], row: int, col: int) -> list[tuple[int, str]]:
    """``(pair index, form)`` for each pair of opposite neighbours that hold one relative formula."""
    found = []
    for index, ((r1, c1), (r2, c2)) in enumerate(_PAIRS):
        first = forms.get((row + r1, col + c1))
        if first is not None and first == forms.get((row + r2, col + c2)):
            found.append((index, first))
    return found


def _continues_run(forms: dict[tuple[int, int], str], row: int, col: int, pair: int) -> bool:
    own = forms.get((row, col))
    return any(forms.get((row + dr, col + dc)) == own for dr, dc in _PAIRS[pair])


def _inconsistencies(sheet: Sheet, forms: dict[tuple[int, int], str]) -> list[Flag]:
    flags = []
    for (row, col), cell in sorted(sheet.cells.items()):
        own = forms.get((row, col))
        if own is None and not is_number_constant(cell):
            continue
        for index, form in _patterns(forms, row, col):
            if own is None:
                flags.append(Flag(sheet.name, row, col, 1.0, "number_among_formulas",
                                  f"a number where the neighbours hold {form}"))
                break
            if form != own and not _continues_run(forms, row, col, 1 - index):
                flags.append(Flag(sheet.name, row, col, 1.0, "inconsistent_formula",
                                  f"{own} between neighbours holding {form}"))
                break
    return flags


def _omitted(sheet: Sheet, row: int, col: int, edge: tuple[int, int]) -> bool:
    """The cell shows a number and is no formula reading ``edge``, the area's cell next to it
    (a total of the area, below or beside it, is not an omitted cell)."""
    cell = sheet.get(row, col)
    if cell is None or not isinstance(cached_value(cell), float):
        return False
    formula = parsed_formula(cell, row, col)
    for ref in formula.ranges if formula is not None else ():
        if ref.start is None or ref.spec is not None or ref.name is not None or ref.sheet is not None:
            continue
        (r1, c1), (r2, c2) = ref.start.position((row, col)), (ref.end or ref.start).position((row, col))
        if None not in (r1, c1, r2, c2) and _between(edge, (r1, c1), (r2, c2)):
            return False
    return True


def _between(cell: tuple[int, int], first: tuple[int | None, int | None], last: tuple[int | None, int | None]) -> bool:
    (r1, c1), (r2, c2) = first, last
    assert r1 is not None and c1 is not None and r2 is not None and c2 is not None
    return min(r1, r2) <= cell[0] <= max(r1, r2) and min(c1, c2) <= cell[1] <= max(c1, c2)


def _omissions(sheet: Sheet, row: int, col: int, formula: Formula) -> list[str]:
    """The numbers next to the formula's one-line areas on its own sheet, as A1 text."""
    found = []
    for ref in formula.ranges:
        own_sheet = ref.sheet is None or ref.sheet.casefold() == sheet.name.casefold()
        if not own_sheet or ref.end is None or ref.start is None or ref.spec is not None:
            continue
        (r1, c1), (r2, c2) = ref.start.position((row, col)), ref.end.position((row, col))
        if r1 is None or c1 is None or r2 is None or c2 is None or (r1 != r2 and c1 != c2):
            continue
        (top, bottom), (left, right) = sorted((r1, r2)), sorted((c1, c2))
        step = (1, 0) if top != bottom or left == right else (0, 1)
        ends = (((top - step[0], left - step[1]), (top, left)), ((bottom + step[0], right + step[1]), (bottom, right)))
        for (r, c), edge in ends:
            if r >= 1 and c >= 1 and (r, c) != (row, col) and _omitted(sheet, r, c, edge):
                found.append(format_a1(r, c))
    return list(dict.fromkeys(found))


def _omitted_cells(sheet: Sheet) -> list[Flag]:
    flags = []
    for row, col, cell in sheet.formula_cells():
        formula = parsed_formula(cell, row, col)
        missed = _omissions(sheet, row, col, formula) if formula is not None else []
        if missed:
            flags.append(Flag(sheet.name, row, col, 0.5, "omits_adjacent_cells",
                              f"numbers next to its area: {', '.join(missed)}"))
    return flags


def _best_per_cell(flags: list[Flag], workbook: Workbook) -> list[Flag]:
    """One flag per cell (the first of its highest score), highest score first, then sheet order."""
    best: dict[tuple[str, int, int], Flag] = {}
    for flag in flags:
        key = (flag.sheet, flag.row, flag.col)
        if key not in best or best[key].score < flag.score:
            best[key] = flag
    order = {name: i for i, name in enumerate(workbook.sheet_names)}
    return sorted(best.values(), key=lambda f: (-f.score, order[f.sheet], f.row, f.col))


def _chosen(workbook: Workbook, sheets: Sequence[str] | None) -> list[Sheet]:
    return list(workbook.sheets) if sheets is None else [workbook.sheet(name) for name in sheets]


def inconsistent_formula_flags(workbook: Workbook, sheets: Sequence[str] | None = None) -> list[Flag]:
    """Excel's inconsistent-formula, number-among-formulas and omitted-cells rules (module doc),
    on the named ``sheets`` (all when None)."""
    flags = []
    for sheet in _chosen(workbook, sheets):
        flags.extend(_inconsistencies(sheet, relative_forms(sheet)))
        flags.extend(_omitted_cells(sheet))
    return _best_per_cell(flags, workbook)


def excelint_flags(workbook: Workbook, sheets: Sequence[str] | None = None) -> list[Flag]:
    """ExceLint-style reference-fingerprint outliers (``excelint.py``), one flag per cell, on the
    named ``sheets`` (all when None)."""
    flags = []
    for sheet in _chosen(workbook, sheets):
        for outlier in outliers(sheet):
            flags.append(Flag(sheet.name, outlier.row, outlier.col, outlier.score, "fingerprint_outlier",
                              f"reference shape differs from {outlier.target.a1}"))
    return _best_per_cell(flags, workbook)
