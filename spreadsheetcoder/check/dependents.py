"""Which formulas read a cell, directly or through other formulas, on any sheet; and the order in
which to recompute them.

``DependencyIndex(workbook)`` parses every formula once and indexes the cells each one reads:
cell and area references on any sheet, whole rows and columns (up to the sheet's used range),
defined names that stand for a cell or an area, and structured references (as the whole area of
their table, which over-approximates). ``affected(key)`` walks from a cell to every formula that
reads it, transitively, and returns them so that each comes after every cell it reads (Kahn's
algorithm); cells caught in a circular reference come apart, since they have no such order.

Not seen: references computed while the formula runs (INDIRECT, OFFSET), names that hold formulas
rather than references, and formulas that cannot be parsed; a dependent reached only through them
is missed.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass

from ..errors import FormulaError
from ..formula import Formula, parse_formula
from ..references import Reference, parse_reference
from ..sheet import Sheet, Workbook
from .cells import CellKey

__all__ = ["SMALL_BOX", "Affected", "Box", "DependencyIndex"]

# An area read by a formula: (sheet name, top, left, bottom, right), 1-based and inclusive.
Box = tuple[str, int, int, int, int]

# Areas of up to this many cells are indexed cell by cell; larger ones are scanned on each look-up.
SMALL_BOX = 4096


@dataclass(frozen=True)
class Affected:
    """The formulas a change of one cell reaches.

    Attributes:
        order: the dependents, each after every cell it reads.
        cyclic: dependents caught in a circular reference, which no order satisfies.
        reads: for each dependent, the cells it reads among the changed cell and the dependents.
    """

    order: tuple[CellKey, ...]
    cyclic: tuple[CellKey, ...]
    reads: dict[CellKey, frozenset[CellKey]]


def _inside(box: Box, key: CellKey) -> bool:
    return box[0] == key[0] and box[1] <= key[1] <= box[3] and box[2] <= key[2] <= box[4]


class DependencyIndex:
    """The cells each formula of ``workbook`` reads, indexed by cell (see the module doc)."""

    def __init__(self, workbook: Workbook) -> None:
        self.workbook = workbook
        self._sheets = {s.name.casefold(): s for s in workbook.sheets}
        self.formulas: dict[CellKey, Formula] = {}
        self._readers: dict[CellKey, list[CellKey]] = defaultdict(list)
        self._large: dict[str, list[tuple[Box, CellKey]]] = defaultdict(list)  # by sheet name
        self._affected: dict[CellKey, Affected] = {}
        for sheet in workbook.sheets:
            for row, col, cell in sheet.formula_cells():
                try:
                    formula = parse_formula(cell.formula or "", (row, col))
                except (FormulaError, ValueError):
                    continue
                key = (sheet.name, row, col)
                self.formulas[key] = formula
                for box in self.boxes(formula, sheet, (row, col)):
                    self._register(box, key)

    def _register(self, box: Box, reader: CellKey) -> None:
        name, top, left, bottom, right = box
        if (bottom - top + 1) * (right - left + 1) > SMALL_BOX:
            self._large[name].append((box, reader))
            return
        for row in range(top, bottom + 1):
            for col in range(left, right + 1):
                self._readers[(name, row, col)].append(reader)

    def boxes(self, formula: Formula, sheet: Sheet, origin: tuple[int, int]) -> list[Box]:
        """The areas ``formula`` reads when it stands in ``origin`` of ``sheet``."""
        out = []
        for ref in formula.ranges:
            host: Sheet | None = sheet
            if ref.spec is not None:
                box = self._table_box(ref, sheet, origin)
                if box is not None:
                    out.append(box)
                continue
            if ref.name is not None:
                host, resolved = self._name(ref, sheet)
                if resolved is None:
                    continue
                ref, origin = resolved, (1, 1)  # names hold absolute references
            elif ref.sheet is not None:
                host = self._sheets.get(ref.sheet.casefold())
            if host is not None:
                box = _area(ref, host, origin)
                if box is not None:
                    out.append(box)
        return out

    def _name(self, ref: Reference, sheet: Sheet) -> tuple[Sheet | None, Reference | None]:
        """The sheet and the cell or area a defined name stands for (as suggest/engine.py reads it)."""
        assert ref.name is not None
        text = sheet.defined_names.get(ref.name) or self.workbook.defined_names.get(ref.name)
        if text is None:
            return None, None
        try:
            target = parse_reference(text.lstrip("="), (1, 1))
        except (FormulaError, ValueError):
            return None, None
        if target.name is not None or target.spec is not None or target.start is None:
            return None, None
        host = sheet if target.sheet is None else self._sheets.get(target.sheet.casefold())
        return host, target

    def _table_box(self, ref: Reference, sheet: Sheet, origin: tuple[int, int]) -> Box | None:
        """The whole area of the table a structured reference names (the one at ``origin`` when unnamed)."""
        for host in (sheet, *self.workbook.sheets):
            for table in host.tables:
                named = ref.name and table.name.casefold() == ref.name.casefold()
                if named or (not ref.name and host is sheet and table.contains(*origin)):
                    return host.name, table.min_row, table.min_col, table.max_row, table.max_col
        return None

    def readers(self, key: CellKey) -> list[CellKey]:
        """The formulas that read the cell ``key`` directly."""
        found = list(self._readers.get(key, ()))
        found.extend(reader for box, reader in self._large.get(key[0], ()) if _inside(box, key))
        return found

    def affected(self, key: CellKey) -> Affected:
        """Every formula a change of ``key`` reaches, in recomputation order (module doc); computed
        once per cell (the mutations of one cell share it)."""
        known = self._affected.get(key)
        if known is None:
            known = self._affected[key] = self._reach(key)
        return known

    def _reach(self, key: CellKey) -> Affected:
        feeds: dict[CellKey, list[CellKey]] = defaultdict(list)
        reads: dict[CellKey, set[CellKey]] = defaultdict(set)
        seen = {key}
        queue = deque([key])
        while queue:
            cell = queue.popleft()
            for reader in self.readers(cell):
                if reader == key or cell in reads[reader]:
                    continue
                reads[reader].add(cell)
                feeds[cell].append(reader)
                if reader not in seen:
                    seen.add(reader)
                    queue.append(reader)
        waiting = {cell: sum(1 for p in precedents if p != key) for cell, precedents in reads.items()}
        ready = deque(cell for cell in feeds[key] if waiting[cell] == 0)
        order: list[CellKey] = []
        while ready:
            cell = ready.popleft()
            order.append(cell)
            for reader in feeds[cell]:
                waiting[reader] -= 1
                if waiting[reader] == 0:
                    ready.append(reader)
        placed = set(order)
        cyclic = tuple(sorted(cell for cell in reads if cell not in placed))
        return Affected(tuple(order), cyclic, {cell: frozenset(p) for cell, p in reads.items()})


def _area(ref: Reference, host: Sheet, origin: tuple[int, int]) -> Box | None:
    """The box of a cell or area reference on ``host``; whole rows and columns span its used range."""
    assert ref.start is not None
    r1, c1 = ref.start.position(origin)
    r2, c2 = ref.end.position(origin) if ref.end is not None else (r1, c1)
    rows = (1, host.max_row) if r1 is None or r2 is None else (min(r1, r2), max(r1, r2))
    cols = (1, host.max_col) if c1 is None or c2 is None else (min(c1, c2), max(c1, c2))
    if rows[1] < 1 or cols[1] < 1:
        return None
    return host.name, max(rows[0], 1), max(cols[0], 1), rows[1], cols[1]
