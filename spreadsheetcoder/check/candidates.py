"""Repair candidates of a cell: the formulas it may have been meant to hold (issue 15).

A mistake of ``mutations.py`` is one rewrite away from the original, and every rewrite of a kind
is undone by a rewrite of the same kind (a range end moved down is moved back up, SUM renamed
AVERAGE is renamed back). So the repairs of a formula cell are:

- **its rewrites**: every variant of every kind of ``rewrites.py`` (``range_end``, ``range_start``,
  ``shifted_column``, ``wrong_row``, ``swapped_operands``, ``function_family``, ``wrong_sheet``),
  at most ``MAX_REWRITES`` of them;
- **its neighbours' formulas**: the relative (R1C1) formula of each formula cell one or two cells
  above, below, left or right, placed at this cell, where it differs from the cell's own. Such a
  candidate takes the kind of the rewrite that yields it; one that differs only in ``$``
  signs and what they pin is ``absolute_dropped`` (the cell has fewer ``$`` than the neighbours)
  or ``absolute_added``; any other is ``inconsistent_formula`` (more than one rewrite away).

A typed number among formulas (``hardcoded``) gets its neighbours' formulas as candidates.
Nothing here reads values: ``features.py`` runs the candidates on the sheet.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FormulaError
from ..formula import Formula, relative_formula, render_formula
from ..sheet import Sheet, Workbook
from . import rewrites
from .cells import is_number_constant, parsed_formula
from .mutations import MUTATION_KINDS

__all__ = [
    "CANDIDATE_KINDS",
    "MAX_REWRITES",
    "NEIGHBOUR_OFFSETS",
    "Candidate",
    "SheetForms",
    "cell_candidates",
    "dollar_kind",
]

# The kinds a candidate can carry: the mutation kinds, then a repair that is no single rewrite.
CANDIDATE_KINDS: tuple[str, ...] = (*MUTATION_KINDS, "inconsistent_formula")

# Rewrites kept per formula (a formula with many references has many; the first ones are kept,
# in the fixed order of ``rewrites.py``).
MAX_REWRITES = 64

# Neighbours whose formulas are candidates: one, then two cells away along the row and the column.
NEIGHBOUR_OFFSETS: tuple[tuple[int, int], ...] = (
    (-1, 0), (1, 0), (0, -1), (0, 1), (-2, 0), (2, 0), (0, -2), (0, 2),
)

_REWRITE_KINDS = ("range_end", "range_start", "shifted_column", "wrong_row", "swapped_operands",
                  "function_family", "wrong_sheet")


@dataclass(frozen=True)
class Candidate:
    """A formula the cell may have been meant to hold.

    Attributes:
        formula: the parsed candidate (references relative to the cell).
        form: its relative (R1C1) text, the key shared with the neighbours' formulas.
        text: its A1 text at the cell.
        kind: the mistake it undoes, one of ``CANDIDATE_KINDS``.
        from_neighbour: a neighbour (``NEIGHBOUR_OFFSETS``) holds this formula.
    """

    formula: Formula
    form: str
    text: str
    kind: str
    from_neighbour: bool


class SheetForms:
    """The parsed plain formulas of one sheet and their relative forms, computed once."""

    def __init__(self, sheet: Sheet) -> None:
        self.sheet = sheet
        self.formulas: dict[tuple[int, int], Formula] = {}
        self.forms: dict[tuple[int, int], str] = {}
        self.counts: dict[str, int] = {}
        for row, col, cell in sheet.formula_cells():
            formula = parsed_formula(cell, row, col)
            if formula is None:
                continue
            form = relative_formula(formula)
            self.formulas[(row, col)] = formula
            self.forms[(row, col)] = form
            self.counts[form] = self.counts.get(form, 0) + 1

    def checked_cells(self) -> list[tuple[int, int]]:
        """The cells worth checking, in reading order: every plain formula, and every typed number
        with a formula one cell above, below, left or right of it."""
        cells = set(self.formulas)
        for (row, col), cell in self.sheet.cells.items():
            if is_number_constant(cell) and any((row + dr, col + dc) in self.formulas for dr, dc in NEIGHBOUR_OFFSETS[:4]):
                cells.add((row, col))
        return sorted(cells)


def _render(formula: Formula, origin: tuple[int, int]) -> str | None:
    try:
        return render_formula(formula, origin)
    except FormulaError:
        return None


def _rewrites(formula: Formula, sheet: Sheet, workbook: Workbook, origin: tuple[int, int]) -> list[tuple[str, Formula]]:
    out: list[tuple[str, Formula]] = []
    for kind in _REWRITE_KINDS:
        if kind in ("range_end", "range_start"):
            variants = rewrites.range_variants(formula, origin, end=kind == "range_end")
        elif kind == "shifted_column":
            variants = rewrites.shifted_column_variants(formula)
        elif kind == "wrong_row":
            variants = rewrites.wrong_row_variants(formula)
        elif kind == "swapped_operands":
            variants = rewrites.swapped_operands_variants(formula)
        elif kind == "function_family":
            variants = rewrites.function_family_variants(formula)
        else:
            variants = rewrites.wrong_sheet_variants(formula, sheet.name, workbook.sheet_names, qualified_own=True)
        out.extend((kind, variant) for variant in variants)
        if len(out) >= MAX_REWRITES:
            return out[:MAX_REWRITES]
    return out


def _dollar_count(formula: Formula) -> int:
    return sum(int(corner.row_abs) + int(corner.col_abs)
               for ref in formula.ranges for corner in (ref.start, ref.end) if corner is not None)


def dollar_kind(own: Formula, candidate: Formula) -> str | None:
    """``absolute_dropped``/``absolute_added`` when the two differ only in the references their
    ``$`` signs pin (same tokens, same sheets, different ``$``), else None."""
    if own.sketch != candidate.sketch or len(own.ranges) != len(candidate.ranges):
        return None
    differs = False
    for a, b in zip(own.ranges, candidate.ranges, strict=True):
        if a == b:
            continue
        if a.sheet != b.sheet or a.name != b.name or a.spec != b.spec or (a.end is None) != (b.end is None):
            return None
        corners = [(a.start, b.start), (a.end, b.end)]
        if not any(x is not None and y is not None and (x.row_abs, x.col_abs) != (y.row_abs, y.col_abs)
                   for x, y in corners):
            return None
        differs = True
    if not differs:
        return None
    return "absolute_dropped" if _dollar_count(own) < _dollar_count(candidate) else "absolute_added"


def cell_candidates(forms: SheetForms, workbook: Workbook, row: int, col: int) -> list[Candidate]:
    """The repair candidates of the cell at ``(row, col)`` (module doc), rewrites first, each
    distinct formula once; empty for a cell that is neither a formula nor a typed number."""
    origin = (row, col)
    own = forms.formulas.get(origin)
    own_form = forms.forms.get(origin)
    found: dict[str, Candidate] = {}
    if own is not None:
        for kind, variant in _rewrites(own, forms.sheet, workbook, origin):
            form = relative_formula(variant)
            if form == own_form or form in found:
                continue
            text = _render(variant, origin)
            if text is not None:
                found[form] = Candidate(variant, form, text, kind, False)
    elif not is_number_constant(forms.sheet.get(row, col)):
        return []
    for dr, dc in NEIGHBOUR_OFFSETS:
        neighbour = forms.forms.get((row + dr, col + dc))
        if neighbour is None or neighbour == own_form:
            continue
        form = neighbour
        known = found.get(form)
        if known is not None:
            if not known.from_neighbour:
                found[form] = Candidate(known.formula, form, known.text, known.kind, True)
            continue
        formula = forms.formulas[(row + dr, col + dc)]
        text = _render(formula, origin)
        if text is None:
            continue
        kind = "hardcoded" if own is None else dollar_kind(own, formula) or "inconsistent_formula"
        found[form] = Candidate(formula, form, text, kind, True)
    return list(found.values())
