"""ExceLint-style reference-fingerprint outliers (Barowy, Berger, Zorn: "ExceLint: automatically
finding spreadsheet formula errors", OOPSLA 2018), the second baseline of ``baselines.py``.

ExceLint's idea: copies of one formula have the same *reference shape*, so a sheet decomposes
into rectangles of cells with one shape each; a cell whose shape makes a small minority of a
rectangle it borders is a likely error, and merging it into its neighbour lowers the sheet's
entropy. The steps here, and where they are simpler than the paper:

1. **Fingerprints.** A formula's fingerprint is the resultant of its reference vectors: the sum,
   over every cell each reference reads, of the vector from the formula to that cell, relative
   parts as offsets and ``$`` parts as coordinates (the ``Corner`` values of ``references.py``),
   plus the other sheets and the names it reads (ExceLint folds sheets into a third coordinate).
   Numbers typed in cells share one fingerprint, ``DATA``; text and empty cells are left out.
   Functions and operators do not count, as in ExceLint: ``A-B`` and ``B-A`` look alike.
2. **Regions.** A binary min-entropy tree, as ExceLint's: a set of cells with more than one
   fingerprint is cut along the row or column line that minimises the cell-weighted entropy of
   the two sides, until every leaf holds one fingerprint; leaves with the same fingerprint whose
   union is a rectangle are then merged (ExceLint's coalescing).
3. **Fixes.** Two regions that share a whole edge (their union is a rectangle) and differ in
   fingerprint make a proposed fix: the smaller one (the source) takes the larger one's (the
   target's) fingerprint. Kept when the target holds formulas and the source is at most
   ``MINORITY`` of the union. Simpler than the paper: the full-edge rule stands in for its
   prevailing-direction dot product, and there is no cut at 5% of the formulas (every flag is
   returned, ranked). One filter the paper lacks: a source whose formulas read at least half of
   the target's cells is a total of it (``SUM(D4:D9)`` under ``D4:D9``), not a copy gone wrong.
4. **Score.** How much the fix lowers the entropy of the sheet's decomposition (bits, regions
   weighted by their share of the sheet's cells), per cell it changes: the paper ranks by the
   inverse entropy change, which also favours small fixes. Each source cell takes its best score.

Sheets with more than ``MAX_CELLS`` numbers and formulas are skipped (the tree is quadratic at worst).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from ..formula import Formula, canonical_formula
from ..references import format_a1
from ..sheet import Sheet
from .cells import is_number_constant, parsed_formula

__all__ = ["DATA", "MAX_CELLS", "MINORITY", "Outlier", "Region", "fingerprint", "outliers", "regions"]

DATA: tuple[str, ...] = ("data",)
MINORITY = 0.25
MAX_CELLS = 20_000

Fingerprint = tuple[object, ...]
_Item = tuple[int, int, Fingerprint]  # (row, col, fingerprint)


@dataclass(frozen=True)
class Region:
    """A rectangle of cells sharing one fingerprint (its bounding box may hold gaps)."""

    top: int
    left: int
    bottom: int
    right: int
    fingerprint: Fingerprint
    cells: tuple[tuple[int, int], ...]

    @property
    def a1(self) -> str:
        first, last = format_a1(self.top, self.left), format_a1(self.bottom, self.right)
        return first if first == last else f"{first}:{last}"


@dataclass(frozen=True)
class Outlier:
    """A cell a proposed fix would change: ``score`` as in the module doc, ``target`` the region
    whose fingerprint it would take."""

    row: int
    col: int
    score: float
    target: Region


def fingerprint(formula: Formula, own_sheet: str) -> Fingerprint:
    """The resultant of ``formula``'s reference vectors (module doc), doubled to stay integral."""
    rows = cols = 0
    sheets: set[str] = set()
    names: set[tuple[str, str]] = set()
    for ref in formula.ranges:
        if ref.start is None or ref.spec is not None or ref.name is not None:
            names.add(((ref.name or "").casefold(), ref.spec or ""))
            continue
        if ref.sheet is not None and ref.sheet.casefold() != own_sheet.casefold():
            sheets.add(ref.sheet.casefold())
        start, end = ref.start, ref.end or ref.start
        a_row, b_row, a_col, b_col = start.row or 0, end.row or 0, start.col or 0, end.col or 0
        n_rows, n_cols = abs(b_row - a_row) + 1, abs(b_col - a_col) + 1
        rows += n_cols * n_rows * (a_row + b_row)  # the sum over an arithmetic run, doubled
        cols += n_rows * n_cols * (a_col + b_col)
    return ("formula", rows, cols, tuple(sorted(sheets)), tuple(sorted(names)))


def _items(sheet: Sheet) -> tuple[list[_Item], dict[tuple[int, int], Formula]]:
    """The analysed cells of ``sheet`` with their fingerprints, and the parsed formulas."""
    items: list[_Item] = []
    formulas: dict[tuple[int, int], Formula] = {}
    for (row, col), cell in sorted(sheet.cells.items()):
        if cell.formula is not None:
            formula = parsed_formula(cell, row, col)
            if formula is None:
                items.append((row, col, ("text", canonical_formula(cell.formula))))
                continue
            formulas[(row, col)] = formula
            items.append((row, col, fingerprint(formula, sheet.name)))
        elif is_number_constant(cell):
            items.append((row, col, DATA))
    return items, formulas


def _xlogx(n: int) -> float:
    return n * math.log(n) if n > 0 else 0.0


def _line(item: _Item, axis: int) -> int:
    """The item's row (axis 0) or column (axis 1)."""
    return item[0] if axis == 0 else item[1]


def _best_cut(group: list[_Item]) -> tuple[int, int]:
    """``(axis, value)``: cut between ``value`` and the next line of ``axis`` (0 rows, 1 columns)
    with the least cell-weighted entropy on the two sides (first such cut on ties)."""
    total = Counter(fp for _, _, fp in group)
    best: tuple[float, int, int] | None = None
    for axis in (0, 1):
        ordered = sorted(group, key=lambda item: (_line(item, axis), _line(item, 1 - axis)))
        left: Counter[Fingerprint] = Counter()
        s_left, s_right = 0.0, sum(_xlogx(n) for n in total.values())
        for i, item in enumerate(ordered[:-1]):
            fp = item[2]
            s_left += _xlogx(left[fp] + 1) - _xlogx(left[fp])
            s_right += _xlogx(total[fp] - left[fp] - 1) - _xlogx(total[fp] - left[fp])
            left[fp] += 1
            if _line(ordered[i + 1], axis) == _line(item, axis):
                continue
            n_left, n_right = i + 1, len(ordered) - i - 1
            cost = _xlogx(n_left) - s_left + _xlogx(n_right) - s_right
            if best is None or cost < best[0] - 1e-12:
                best = (cost, axis, _line(item, axis))
    assert best is not None, "a group of two or more cells always has a cut"
    return best[1], best[2]


def _leaves(items: list[_Item]) -> list[list[_Item]]:
    """The min-entropy tree's leaves: groups of one fingerprint each."""
    stack, leaves = [items] if items else [], []
    while stack:
        group = stack.pop()
        if len({fp for _, _, fp in group}) == 1:
            leaves.append(group)
            continue
        axis, value = _best_cut(group)
        stack.append([item for item in group if _line(item, axis) > value])
        stack.append([item for item in group if _line(item, axis) <= value])
    return leaves


def _region(items: list[_Item]) -> Region:
    rows, cols = [r for r, _, _ in items], [c for _, c, _ in items]
    return Region(min(rows), min(cols), max(rows), max(cols), items[0][2], tuple((r, c) for r, c, _ in items))


def _merged(a: Region, b: Region) -> Region:
    return Region(min(a.top, b.top), min(a.left, b.left), max(a.bottom, b.bottom), max(a.right, b.right),
                  a.fingerprint, a.cells + b.cells)


def _coalesce(found: list[Region]) -> list[Region]:
    """Merge same-fingerprint regions whose union is a rectangle, until none is left."""
    merged = True
    while merged:
        merged = False
        below = {(r.fingerprint, r.left, r.right, r.top): r for r in found}
        beside = {(r.fingerprint, r.top, r.bottom, r.left): r for r in found}
        used: set[int] = set()
        out = []
        for region in sorted(found, key=lambda r: (r.top, r.left)):
            if id(region) in used:
                continue
            partner = below.get((region.fingerprint, region.left, region.right, region.bottom + 1))
            if partner is None or id(partner) in used:
                partner = beside.get((region.fingerprint, region.top, region.bottom, region.right + 1))
            if partner is not None and id(partner) not in used:
                used.update((id(region), id(partner)))
                out.append(_merged(region, partner))
                merged = True
            else:
                used.add(id(region))
                out.append(region)
        found = out
    return found


def regions(sheet: Sheet) -> tuple[list[Region], dict[tuple[int, int], Formula]]:
    """The sheet's decomposition into regions of one fingerprint (empty past ``MAX_CELLS``), and
    its parsed formulas."""
    items, formulas = _items(sheet)
    if len(items) > MAX_CELLS:
        return [], formulas
    return _coalesce([_region(leaf) for leaf in _leaves(items)]), formulas


def _reads_most_of(source: Region, target: Region, formulas: dict[tuple[int, int], Formula]) -> bool:
    """Some formula of ``source`` reads at least half of ``target``'s cells on its own sheet."""
    wanted = set(target.cells)
    for row, col in source.cells:
        formula = formulas.get((row, col))
        read: set[tuple[int, int]] = set()
        for ref in formula.ranges if formula is not None else ():
            if ref.sheet is not None or ref.start is None or ref.spec is not None or ref.name is not None:
                continue
            r1, c1 = ref.start.position((row, col))
            r2, c2 = ref.end.position((row, col)) if ref.end is not None else (r1, c1)
            if r1 is None or c1 is None or r2 is None or c2 is None:
                continue
            (top, bottom), (left, right) = sorted((r1, r2)), sorted((c1, c2))
            read.update(cell for cell in wanted if top <= cell[0] <= bottom and left <= cell[1] <= right)
        if 2 * len(read) >= len(wanted):
            return True
    return False


def _entropy_drop(source: int, target: int, total: int) -> float:
    def term(n: int) -> float:
        p = n / total
        return -p * math.log2(p)
    return term(source) + term(target) - term(source + target)


def outliers(sheet: Sheet) -> list[Outlier]:
    """The cells of ``sheet`` that proposed fixes would change (module doc), best score first."""
    found, formulas = regions(sheet)
    total = sum(len(r.cells) for r in found)
    below = {(r.left, r.right, r.top): r for r in found}
    beside = {(r.top, r.bottom, r.left): r for r in found}
    best: dict[tuple[int, int], Outlier] = {}
    for a in found:
        for b in (below.get((a.left, a.right, a.bottom + 1)), beside.get((a.top, a.bottom, a.right + 1))):
            if b is None or a.fingerprint == b.fingerprint or len(a.cells) == len(b.cells):
                continue
            source, target = (a, b) if len(a.cells) < len(b.cells) else (b, a)
            small = len(source.cells) <= MINORITY * (len(source.cells) + len(target.cells))
            if target.fingerprint == DATA or not small or _reads_most_of(source, target, formulas):
                continue
            score = _entropy_drop(len(source.cells), len(target.cells), total) / len(source.cells)
            for row, col in source.cells:
                if (row, col) not in best or best[(row, col)].score < score:
                    best[(row, col)] = Outlier(row, col, score, target)
    return sorted(best.values(), key=lambda o: (-o.score, o.row, o.col))
