"""Plausible formula mistakes injected into a workbook, for BugLab-style formula checking (issue 15).

Each kind is a rewrite users make by mistake, applied to one formula cell (``rewrites.py`` lists
the exact variants of each):

============================  =====================================================================
kind                          applies to a formula that has ...
============================  =====================================================================
``range_end``                 an area (``SUM(B2:B9)`` → ``SUM(B2:B8)`` or ``SUM(B2:B10)``)
``range_start``               an area (``SUM(B2:B9)`` → ``SUM(B1:B9)`` or ``SUM(B3:B9)``)
``shifted_column``            a cell or area reference (``B5`` → ``A5`` or ``C5``)
``wrong_row``                 a cell reference with a relative row (``B5`` → ``B4`` or ``B6``)
``swapped_operands``          a ``-`` or ``/`` between two primaries (``B5-C5`` → ``C5-B5``)
``function_family``           SUM/AVERAGE, MIN/MAX or COUNT/COUNTA (renamed to its sibling)
``absolute_dropped``          a ``$`` on the axis of a fill run the cell sits in, below/right of its
                              head: the run's head typed without it, then filled (``$F$1`` → ``$F3``)
``absolute_added``            a relative part on that axis: the head typed with a ``$``, then filled
                              (``B6*C6`` → ``B$4*C6`` when the run starts in row 4)
``hardcoded``                 a reference and a cached number: the number replaces the formula
``wrong_sheet``               a reference to another sheet (pointed at another sheet of the workbook)
============================  =====================================================================

The ``$`` kinds only apply inside a fill run (the cell above, or to the left, holds the same
relative formula), where the ``$`` changes what the copies mean; a ``$`` across the run's axis
(a column ``$`` in a filled-down run) changes nothing and is never touched.

**The value rule.** A mutation must change what the cell shows: a variant is kept only when
``suggest/engine.py``'s ``SheetEngine`` computes it, it reads neither the cell itself nor any
cell that depends on it (no circular reference), and its value differs (``values_equal``) both
from what the cell showed (its cached value) and from the engine's value of the original formula
(where the engine computes it). Off-by-one onto an empty or text row under SUM, MIN↔MAX over
one number, ``A-B`` with ``A = B``: none of these is kept. ``hardcoded`` is the exception: the cell keeps its value
(the mistake shows only once the inputs change), so nothing downstream changes either.

**Dependents.** The result is a new workbook: the mutated cell holds the mutated formula and its
computed value, and every formula reading it, transitively, on any sheet (``dependents.py``),
holds its recomputed value, computed in dependency order on the new values. A dependent is left
with its old value and listed in ``Mutation.stale_cells`` when the engine cannot compute it, when
the engine does not reproduce its cached value on the input workbook (so its recomputed value
could not be trusted), when it sits in a circular reference, or when it reads a stale cell.

**Copies.** The input workbook is never modified. The sheets holding changed cells are new
``Sheet`` objects with their own cell dictionaries and new ``Cell`` objects where values changed;
the other sheets are shared with the input (treat both workbooks as read-only).

**Determinism.** Cells, kinds and variants are listed in a fixed order and drawn with the given
``random.Random``: the same workbook and seed give the same mutation.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from openpyxl.utils.datetime import from_excel

from ..errors import FormulaError
from ..formula import Formula, canonical_formula, render_formula
from ..sheet import Cell, CellType, Sheet, Workbook
from ..suggest.engine import NotComputable, SheetEngine
from ..values import ExcelError, ExcelValue, cached_value, values_equal
from . import rewrites
from .cells import CellKey, parsed_formula, relative_forms
from .dependents import Affected, DependencyIndex

__all__ = [
    "MAX_SAMPLED_CELLS",
    "MUTATION_KINDS",
    "MutatedWorkbook",
    "Mutation",
    "Mutator",
    "applicable",
    "mutate",
    "sample_mutation",
]

MUTATION_KINDS: tuple[str, ...] = (
    "range_end",
    "range_start",
    "shifted_column",
    "wrong_row",
    "swapped_operands",
    "function_family",
    "absolute_dropped",
    "absolute_added",
    "hardcoded",
    "wrong_sheet",
)

# sample_mutation tries at most this many formula cells before giving up.
MAX_SAMPLED_CELLS = 200

_EXCEL_DAYS = 2958466  # serials of 1900-01-01 .. 9999-12-31 stay dates


@dataclass(frozen=True)
class Mutation:
    """One injected mistake.

    Attributes:
        kind: one of ``MUTATION_KINDS``.
        sheet, row, col: the mutated cell (sheet name as the workbook spells it, 1-based).
        original: the formula the cell held.
        mutated: the formula it holds now; None for ``hardcoded`` (the cell holds its value).
        original_value, mutated_value: what the cell showed before and shows now.
        recomputed: the dependents whose values were recomputed, in the order they were computed.
        stale_cells: dependents left with their old values (see the module doc).
    """

    kind: str
    sheet: str
    row: int
    col: int
    original: str
    mutated: str | None
    original_value: ExcelValue | None
    mutated_value: ExcelValue | None
    recomputed: tuple[CellKey, ...] = ()
    stale_cells: tuple[CellKey, ...] = ()


@dataclass(frozen=True)
class MutatedWorkbook:
    """The workbook with one mutation applied, and the mutation."""

    workbook: Workbook
    mutation: Mutation


def _with_value(cell: Cell, value: ExcelValue) -> Cell:
    """``cell`` (formula and number format kept) showing ``value``; a date cell stays a date."""
    if isinstance(value, ExcelError):
        return replace(cell, value=value.code, type=CellType.ERROR)
    if isinstance(value, bool):
        return replace(cell, value=value, type=CellType.BOOL)
    if isinstance(value, str):
        return replace(cell, value=value, type=CellType.STRING)
    if cell.type is CellType.DATE and 0 <= value < _EXCEL_DAYS:
        return replace(cell, value=from_excel(value), type=CellType.DATE)
    return replace(cell, value=value, type=CellType.NUMBER)


def _copy_sheet(sheet: Sheet) -> Sheet:
    return Sheet(sheet.name, dict(sheet.cells), list(sheet.merged), list(sheet.tables),
                 dict(sheet.defined_names), sheet.max_row, sheet.max_col)


def _render(formula: Formula, origin: tuple[int, int]) -> str | None:
    try:
        return render_formula(formula, origin)
    except FormulaError:  # a reference moved off the sheet
        return None


class Mutator:
    """Mutations of one workbook. Parses and indexes the workbook once, so that trying many cells
    (``sample``) stays cheap; the module-level functions build one per call."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self.engine = SheetEngine(workbook)
        self._index: DependencyIndex | None = None
        self._forms: dict[str, dict[tuple[int, int], str]] = {}
        self._trusted: dict[CellKey, bool] = {}

    @property
    def index(self) -> DependencyIndex:
        if self._index is None:
            self._index = DependencyIndex(self.workbook)
        return self._index

    def _runs(self, sheet: Sheet, row: int, col: int) -> list[rewrites.Run]:
        """The fill runs the cell sits in below (or right of) their head, down runs first."""
        forms = self._forms.get(sheet.name)
        if forms is None:
            forms = self._forms[sheet.name] = relative_forms(sheet)
        own = forms.get((row, col))
        runs = []
        for axis, (d_row, d_col) in (("row", (1, 0)), ("col", (0, 1))):
            offset = 0
            while own is not None and forms.get((row - d_row * (offset + 1), col - d_col * (offset + 1))) == own:
                offset += 1
            if offset:
                runs.append(rewrites.Run(axis, offset))
        return runs

    def variants(self, kind: str, sheet: Sheet, row: int, col: int, formula: Formula) -> list[Formula]:
        """Every rewrite of ``kind`` of the cell's formula, in a fixed order (``hardcoded``: none)."""
        origin = (row, col)
        if kind in ("range_end", "range_start"):
            return rewrites.range_variants(formula, origin, end=kind == "range_end")
        if kind == "shifted_column":
            return rewrites.shifted_column_variants(formula)
        if kind == "wrong_row":
            return rewrites.wrong_row_variants(formula)
        if kind == "swapped_operands":
            return rewrites.swapped_operands_variants(formula)
        if kind == "function_family":
            return rewrites.function_family_variants(formula)
        if kind == "wrong_sheet":
            return rewrites.wrong_sheet_variants(formula, sheet.name, self.workbook.sheet_names)
        if kind in ("absolute_dropped", "absolute_added"):
            dropped = kind == "absolute_dropped"
            return [v for run in self._runs(sheet, row, col)
                    for v in rewrites.absolute_variants(formula, origin, run, dropped)]
        if kind == "hardcoded":
            return []
        raise ValueError(f"unknown mutation kind {kind!r}; expected one of {MUTATION_KINDS}")

    def applicable(self, sheet_name: str, row: int, col: int) -> list[str]:
        """The kinds with at least one rewrite of the cell's formula, in ``MUTATION_KINDS`` order.
        Whether one of them changes the cell's value is only known to ``mutate``."""
        sheet = self.workbook.sheet(sheet_name)
        cell = sheet.get(row, col)
        formula = parsed_formula(cell, row, col)
        if cell is None or formula is None:
            return []
        hardcodable = bool(formula.ranges) and isinstance(cached_value(cell), float)
        return [
            kind for kind in MUTATION_KINDS
            if (hardcodable if kind == "hardcoded" else self.variants(kind, sheet, row, col, formula))
        ]

    def mutate(self, sheet_name: str, row: int, col: int, kind: str, rng: random.Random) -> MutatedWorkbook | None:
        """The workbook with a ``kind`` mistake in the cell, or None when no rewrite of that kind
        passes the value rule (module doc). The variant is drawn with ``rng``."""
        if kind not in MUTATION_KINDS:
            raise ValueError(f"unknown mutation kind {kind!r}; expected one of {MUTATION_KINDS}")
        sheet = self.workbook.sheet(sheet_name)
        cell = sheet.get(row, col)
        formula = parsed_formula(cell, row, col)
        if cell is None or cell.formula is None or formula is None:
            return None
        key = (sheet.name, row, col)
        if kind == "hardcoded":
            return self._hardcode(key, cell, formula)
        before = self._values(formula, sheet, (row, col), cell)
        if not before:
            return None
        affected = self.index.affected(key)
        forbidden = {key, *affected.order, *affected.cyclic}
        variants = self.variants(kind, sheet, row, col, formula)
        rng.shuffle(variants)
        original = canonical_formula(cell.formula, keep_absolute=True)
        for variant in variants:
            text = _render(variant, (row, col))
            if text is None or canonical_formula(text, keep_absolute=True) == original:
                continue
            if self._reads_any(variant, sheet, (row, col), forbidden):
                continue
            try:
                value = self.engine.compute(variant, sheet, (row, col))
            except NotComputable:
                continue
            if any(values_equal(value, shown) for shown in before):
                continue
            mutation = Mutation(kind, sheet.name, row, col, cell.formula, text, before[0], value)
            return self._apply(mutation, cell, affected)
        return None

    def _values(self, formula: Formula, sheet: Sheet, origin: tuple[int, int], cell: Cell) -> list[ExcelValue]:
        """What the original shows: its cached value, then the engine's value of it (where known)."""
        values = [] if (shown := cached_value(cell)) is None else [shown]
        with contextlib.suppress(NotComputable):
            values.append(self.engine.compute(formula, sheet, origin))
        return values

    def _reads_any(self, formula: Formula, sheet: Sheet, origin: tuple[int, int], cells: set[CellKey]) -> bool:
        boxes = self.index.boxes(formula, sheet, origin)
        return any(
            box[0] == name and box[1] <= r <= box[3] and box[2] <= c <= box[4]
            for box in boxes for name, r, c in cells
        )

    def _hardcode(self, key: CellKey, cell: Cell, formula: Formula) -> MutatedWorkbook | None:
        value = cached_value(cell)
        if not formula.ranges or not isinstance(value, float) or cell.formula is None:
            return None
        workbook = self._copy(key[0])
        workbook.sheet(key[0]).cells[key[1:]] = replace(cell, formula=None, formula_kind=None)
        mutation = Mutation("hardcoded", *key, cell.formula, None, value, value)
        return MutatedWorkbook(workbook, mutation)

    def _copy(self, *sheet_names: str) -> Workbook:
        """A new workbook whose sheets named ``sheet_names`` are copies, the others shared."""
        names = set(sheet_names)
        sheets = [_copy_sheet(s) if s.name in names else s for s in self.workbook.sheets]
        return Workbook(self.workbook.path, sheets, dict(self.workbook.defined_names))

    def _apply(self, mutation: Mutation, cell: Cell, affected: Affected) -> MutatedWorkbook:
        """The new workbook: the mutated cell, then its dependents recomputed in order."""
        key = (mutation.sheet, mutation.row, mutation.col)
        workbook = self._copy(key[0], *(k[0] for k in affected.order), *(k[0] for k in affected.cyclic))
        assert mutation.mutated is not None and mutation.mutated_value is not None
        mutated_cell = _with_value(replace(cell, formula=mutation.mutated), mutation.mutated_value)
        workbook.sheet(key[0]).cells[key[1:]] = mutated_cell
        engine = SheetEngine(workbook)
        stale = set(affected.cyclic)
        recomputed = []
        for dep in affected.order:
            value = None if affected.reads[dep] & stale else self._recompute(dep, workbook, engine)
            if value is None:
                stale.add(dep)
                continue
            host = workbook.sheet(dep[0])
            host.cells[dep[1:]] = _with_value(host.cells[dep[1:]], value)
            recomputed.append(dep)
        done = replace(mutation, recomputed=tuple(recomputed), stale_cells=tuple(sorted(stale)))
        return MutatedWorkbook(workbook, done)

    def _recompute(self, dep: CellKey, workbook: Workbook, engine: SheetEngine) -> ExcelValue | None:
        """The dependent's new value; None when the engine cannot compute it or does not
        reproduce its cached value on the input workbook."""
        if not self._reproduced(dep):
            return None
        try:
            return engine.compute(self.index.formulas[dep], workbook.sheet(dep[0]), dep[1:])
        except NotComputable:
            return None

    def _reproduced(self, dep: CellKey) -> bool:
        """The engine computes the formula's cached value on the input workbook (once per cell)."""
        known = self._trusted.get(dep)
        if known is None:
            old_sheet = self.workbook.sheet(dep[0])
            old_cell = old_sheet.get(dep[1], dep[2])
            cached = cached_value(old_cell) if old_cell is not None else None
            try:
                known = cached is not None and values_equal(
                    self.engine.compute(self.index.formulas[dep], old_sheet, dep[1:]), cached)
            except NotComputable:
                known = False
            self._trusted[dep] = known
        return known

    def sample(self, rng: random.Random, sheet: str | None = None,
               kinds: Sequence[str] = MUTATION_KINDS) -> MutatedWorkbook | None:
        """One mutation of a random kind (among ``kinds``) on a random formula cell of ``sheet``
        (every sheet when None); None when no cell of the first ``MAX_SAMPLED_CELLS`` drawn takes one."""
        sheets = [self.workbook.sheet(sheet)] if sheet else self.workbook.sheets
        cells = [(s.name, r, c) for s in sheets for r, c, cell in s.formula_cells() if cell.formula_kind is None]
        rng.shuffle(cells)
        for name, row, col in cells[:MAX_SAMPLED_CELLS]:
            options = [kind for kind in self.applicable(name, row, col) if kind in kinds]
            rng.shuffle(options)
            for kind in options:
                result = self.mutate(name, row, col, kind, rng)
                if result is not None:
                    return result
        return None


def applicable(workbook: Workbook, sheet: str, row: int, col: int) -> list[str]:
    """The mutation kinds that have a rewrite of the formula in ``sheet`` at ``(row, col)``."""
    return Mutator(workbook).applicable(sheet, row, col)


def mutate(workbook: Workbook, sheet: str, row: int, col: int, kind: str,
           rng: random.Random) -> MutatedWorkbook | None:
    """A new workbook with a ``kind`` mistake in the formula at ``(row, col)`` of ``sheet`` and
    its dependents recomputed; None when no rewrite of that kind changes the cell's value."""
    return Mutator(workbook).mutate(sheet, row, col, kind, rng)


def sample_mutation(workbook: Workbook, rng: random.Random, sheet: str | None = None,
                    kinds: Sequence[str] = MUTATION_KINDS) -> MutatedWorkbook | None:
    """One random applicable mutation on a random formula cell of ``sheet`` (any sheet when
    None), as a new workbook with its ``mutation``; None when none applies."""
    return Mutator(workbook).sample(rng, sheet, kinds)
