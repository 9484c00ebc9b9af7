"""Candidates that point at one cell elsewhere in the workbook.

- *Same place on another sheet*: ``='Inputs'!C7`` for a target in C7 (sheets laid out alike).
- *Same label on another sheet* (the ``r^label`` anchor): the row of another sheet whose label
  equals the target's row label, in the target's column.
- *Defined names*: ``=Rate`` for a name that denotes one cell, ``=SUM(Sales)`` for an area.
- *Value-matched*: the target's siblings (the cells below or right of it) are looked up among the
  workbook's values; a cell whose value equals the first sibling's, at an offset that also gives
  the second sibling's value, makes ``=Sheet!X`` at that offset from the target. This finds
  cross-sheet links such as ``='Total Fuel Prices'!B27`` without knowing any formula.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator

from ...errors import FormulaError
from ...references import format_a1, parse_reference, quote_sheet
from ...sheet import CellType, Sheet, Workbook
from ...values import cached_value, values_equal
from ..siblings import Siblings
from ..target import TargetView, is_number
from ..types import Candidate

__all__ = ["ValueIndex", "constant_cells", "reference_candidates"]

# Hits of one value beyond which it is too common to point anywhere in particular (0, 1, 100, ...).
MAX_HITS = 40
MAX_SHEETS = 12
LABEL_COLUMNS = 6


def _key(value: float) -> float:
    return float(f"{value:.12g}")


class ValueIndex:
    """Where each number occurs in a workbook (built once per workbook), and each row label."""

    def __init__(self, workbook: Workbook) -> None:
        self.positions: dict[float, list[tuple[int, int, int]]] = defaultdict(list)
        self.labels: list[dict[str, int]] = []
        for s, sheet in enumerate(workbook.sheets):
            labels: dict[str, int] = {}
            for (row, col), cell in sheet.cells.items():
                if cell.type is CellType.NUMBER and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    self.positions[_key(float(cell.value))].append((s, row, col))
                elif (cell.type is CellType.STRING and col <= LABEL_COLUMNS and isinstance(cell.value, str)
                      and cell.value.strip()):
                    key = " ".join(cell.value.split()).casefold()
                    if labels.get(key, 10**9) > row:
                        labels[key] = row
            self.labels.append(labels)

    def hits(self, value: float) -> list[tuple[int, int, int]]:
        found = self.positions.get(_key(value), [])
        return found if len(found) <= MAX_HITS else []


def _ref(own: Sheet, sheet: Sheet, row: int, col: int, absolute: bool = False) -> str:
    cell = format_a1(row, col, absolute, absolute)
    return cell if sheet is own else f"{quote_sheet(sheet.name)}!{cell}"


# Constants held in cells: at most this many cells offered for one value.
MAX_CONSTANT_CELLS = 3


def constant_cells(view: TargetView, index: ValueIndex) -> Callable[[float], list[str]]:
    """A ``ConstantFinder``: the cells of the workbook (not the target) that hold a value."""
    sheets = view.workbook.sheets

    def find(value: float) -> list[str]:
        if not math.isfinite(value) or value in (0.0, 1.0, -1.0):
            return []
        out = []
        for s, r, c in index.hits(value):
            sheet = sheets[s]
            if sheet is view.sheet and (r, c) == (view.row, view.col):
                continue
            out.append(_ref(view.sheet, sheet, r, c, absolute=True))
            if len(out) == MAX_CONSTANT_CELLS:
                break
        return out
    return find


def _value_matched(view: TargetView, siblings: Siblings, index: ValueIndex) -> Iterator[tuple[Sheet, int, int, bool]]:
    sheets = view.workbook.sheets
    for direction in range(4):
        group = [s for s in siblings.cells(direction) if is_number(s.value)]
        if not group:
            continue
        seed = next((s for s in group if s.value != 0), None)
        if seed is None:
            continue
        assert isinstance(seed.value, float)
        constant = len(group) >= 2 and all(values_equal(x.value, seed.value) for x in group)
        for s, r, c in index.hits(seed.value):
            if constant and not (sheets[s] is view.sheet and (r, c) == (view.row, view.col)):
                yield sheets[s], r, c, True  # every sibling shows one value: a link to a fixed cell
            sheet = sheets[s]
            if sheet is view.sheet and (r, c) == (view.row, view.col):
                continue  # the index holds the target's own value: never look at it
            dr, dc = r - seed.row, c - seed.col
            if sheet is view.sheet and (dr, dc) == (0, 0):
                continue
            tr, tc = view.row + dr, view.col + dc
            if tr < 1 or tc < 1 or (sheet is view.sheet and (tr, tc) == (view.row, view.col)):
                continue
            others = [x for x in group if x is not seed][:2]
            if all(_same(view, sheet, x.row + dr, x.col + dc, x.value) for x in others):
                yield sheet, tr, tc, False


def _same(view: TargetView, sheet: Sheet, row: int, col: int, value: object) -> bool:
    got = view.value(row, col, sheet)
    return got is not None and values_equal(got, value)  # type: ignore[arg-type]


# Defined names offered as links (``=Rate``), the workbook's first ones in name order.
MAX_NAMES = 12


def _names(view: TargetView) -> Iterator[str]:
    """``=Name`` for defined names that denote one cell, ``=SUM(Name)`` for those that denote an area."""
    scoped = {**view.workbook.defined_names, **view.sheet.defined_names}
    for name in sorted(scoped, key=str.casefold)[:MAX_NAMES]:
        text = scoped[name].lstrip("=")
        if name.startswith("_") or "[" in text or "#REF!" in text:
            continue
        try:
            ref = parse_reference(text, (1, 1))
        except (FormulaError, ValueError):
            continue
        if ref.start is None or ref.name is not None:
            continue
        yield f"={name}" if ref.end is None else f"=SUM({name})"


def reference_candidates(view: TargetView, siblings: Siblings, index: ValueIndex) -> list[Candidate]:
    own = view.sheet
    found: dict[str, None] = dict.fromkeys(_names(view))
    others = [s for s in view.workbook.sheets if s is not own][:MAX_SHEETS]
    label = view.row_label()
    key = " ".join(label.split()).casefold() if label else None
    for sheet in others:
        cell = sheet.get(view.row, view.col)
        if cell is not None and is_number(cached_value(cell)):
            found.setdefault(f"={_ref(own, sheet, view.row, view.col)}")
    if key is not None:
        for s, sheet in enumerate(view.workbook.sheets):
            row = index.labels[s].get(key)
            if sheet is own or row is None:
                continue
            if view.number(row, view.col, sheet):
                found.setdefault(f"={_ref(own, sheet, row, view.col)}")
    for sheet, row, col, absolute in _value_matched(view, siblings, index):
        found.setdefault(f"={_ref(own, sheet, row, col, absolute)}")
    return [Candidate(text, 0.0, 0.0, "reference") for text in found]
