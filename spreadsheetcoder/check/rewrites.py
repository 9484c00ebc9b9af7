"""The formula rewrites behind ``check/mutations.py``: for one parsed formula and one mutation
kind, every variant a user could have typed by mistake, in a fixed order.

Pure functions on ``Formula`` (the sketch and its ``Reference``/``Corner`` ranges): they read no
cell. Whether a variant changes what the cell shows, or reads the cell itself, is decided by
``mutations.py`` on the sheet. The rewrites:

- ``range_variants``: one corner of an area (``B2:B9``) moved one row (column-shaped and
  one-cell areas) or one column (row-shaped areas; 2-D areas get both), never turning the area
  inside out (``B2:B2`` does not become ``B2:B1``); whole rows and columns are left alone;
- ``shifted_column_variants``: a cell or area moved one column left or right, both corners;
- ``wrong_row_variants``: a single cell whose row is relative moved one row up or down;
- ``swapped_operands_variants``: the operands of one ``-`` or ``/`` swapped, only where both are
  primaries (a reference, a literal, a call or a parenthesised group) that the operator alone
  binds: ``A-B*C`` and ``A*B/C`` are left as they are, ``A-B-C`` swaps only the first ``-``;
- ``function_family_variants``: one call of SUM, AVERAGE, MIN, MAX, COUNT or COUNTA renamed to
  its sibling (``FUNCTION_FAMILIES``);
- ``absolute_variants``: in a fill run, one ``$`` on the run's axis dropped or added where the
  head of the run (the cell the formula was typed in) had it, the copy at the cell rendered
  from that faulty head: ``$F$1`` typed as ``$F1`` in row 4 reads ``$F3`` two rows further down;
- ``wrong_sheet_variants``: a reference to another sheet pointed at each other sheet of the
  workbook (the formula's own sheet included, written with its name).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from ..constants import RANGE_PLACEHOLDER
from ..formula import Formula
from ..references import Corner, Reference

__all__ = [
    "FUNCTION_FAMILIES",
    "Run",
    "absolute_variants",
    "function_family_variants",
    "range_variants",
    "shifted_column_variants",
    "swapped_operands_variants",
    "wrong_row_variants",
    "wrong_sheet_variants",
]

FUNCTION_FAMILIES: dict[str, str] = {
    "SUM": "AVERAGE", "AVERAGE": "SUM", "MIN": "MAX", "MAX": "MIN", "COUNT": "COUNTA", "COUNTA": "COUNT",
}

_COMPARISONS = frozenset({"=", "<>", "<", ">", "<=", ">="})
_OPERATORS = frozenset({"+", "-", "*", "/", "^", "&", ":", " ", "u-", "u+", "u@", "%"}) | _COMPARISONS
_SEPARATORS = frozenset({",", ";"})
_CLOSERS = frozenset({")", "}"})
# Tokens that may stand right before the left operand of the operator, and right after its right
# operand, for that operand to be the operator's whole operand (precedence and left associativity).
_BEFORE_LEFT = {"-": frozenset({"&"}) | _COMPARISONS, "/": frozenset({"&", "+", "-"}) | _COMPARISONS}
_AFTER_RIGHT = {
    "-": frozenset({"&", "+", "-"}) | _COMPARISONS,
    "/": frozenset({"&", "+", "-", "*", "/"}) | _COMPARISONS,
}


@dataclass(frozen=True, slots=True)
class Run:
    """A fill run through a cell: ``axis`` is ``"row"`` when the formula was filled down (the
    cells above hold the same relative formula), ``"col"`` when filled right; ``offset`` is the
    cell's distance from the run's head, the first cell of the run (1 or more)."""

    axis: str
    offset: int


def _cells(ref: Reference) -> bool:
    """A cell or area reference (not a defined name or a structured reference)."""
    return ref.spec is None and ref.name is None and ref.start is not None


def _with_ref(formula: Formula, index: int, ref: Reference) -> Formula:
    ranges = list(formula.ranges)
    ranges[index] = ref
    return Formula(formula.sketch, tuple(ranges))


def _shift(corner: Corner, rows: int = 0, cols: int = 0) -> Corner | None:
    """``corner`` moved by ``rows`` and ``cols`` (absolute parts too); None when a part to move is
    missing (a whole row or column)."""
    if (rows and corner.row is None) or (cols and corner.col is None):
        return None
    row = corner.row + rows if corner.row is not None else None
    col = corner.col + cols if corner.col is not None else None
    return replace(corner, row=row, col=col)


def _cell_refs(formula: Formula) -> Iterator[tuple[int, Reference]]:
    for index, ref in enumerate(formula.ranges):
        if _cells(ref):
            yield index, ref


def _keeps_orientation(old: Reference, new: Reference, origin: tuple[int, int]) -> bool:
    """The moved area still runs the same way along both axes, at least one cell long."""
    assert old.start is not None and old.end is not None and new.start is not None and new.end is not None
    before = (old.start.position(origin), old.end.position(origin))
    after = (new.start.position(origin), new.end.position(origin))
    for axis in (0, 1):
        old_first, old_last, new_first, new_last = before[0][axis], before[1][axis], after[0][axis], after[1][axis]
        if old_first is None or old_last is None or new_first is None or new_last is None:
            return False
        old_extent, new_extent = old_last - old_first, new_last - new_first
        if (old_extent >= 0 > new_extent) or (old_extent < 0 < new_extent):
            return False
    return True


def range_variants(formula: Formula, origin: tuple[int, int], end: bool) -> list[Formula]:
    """One corner of an area moved by one: the end corner when ``end``, else the start."""
    out = []
    for index, ref in _cell_refs(formula):
        first, last = ref.start, ref.end
        if first is None or last is None or None in (first.row, first.col, last.row, last.col):
            continue
        (r1, c1), (r2, c2) = first.position(origin), last.position(origin)
        axes = []
        if r1 != r2 or c1 == c2:
            axes.append((1, 0))
        if c1 != c2:
            axes.append((0, 1))
        for rows, cols in axes:
            for step in (-1, 1):
                corner = _shift(last if end else first, rows * step, cols * step)
                moved = replace(ref, end=corner) if end else replace(ref, start=corner)
                if _keeps_orientation(ref, moved, origin):
                    out.append(_with_ref(formula, index, moved))
    return out


def shifted_column_variants(formula: Formula) -> list[Formula]:
    """A cell or area moved one column left, then right."""
    out = []
    for index, ref in _cell_refs(formula):
        for step in (-1, 1):
            start = _shift(ref.start, cols=step) if ref.start is not None else None
            end = _shift(ref.end, cols=step) if ref.end is not None else None
            if start is None or (ref.end is not None and end is None):
                continue
            out.append(_with_ref(formula, index, replace(ref, start=start, end=end)))
    return out


def wrong_row_variants(formula: Formula) -> list[Formula]:
    """A single cell with a relative row moved one row up, then down."""
    out = []
    for index, ref in _cell_refs(formula):
        start = ref.start
        if ref.end is not None or start is None or start.row is None or start.row_abs:
            continue
        for step in (-1, 1):
            out.append(_with_ref(formula, index, replace(ref, start=_shift(start, rows=step))))
    return out


def function_family_variants(formula: Formula) -> list[Formula]:
    """One call renamed to its sibling in ``FUNCTION_FAMILIES``."""
    out = []
    for position, token in enumerate(formula.sketch):
        sibling = FUNCTION_FAMILIES.get(token[:-1]) if token.endswith("(") else None
        if sibling is not None:
            sketch = (*formula.sketch[:position], sibling + "(", *formula.sketch[position + 1 :])
            out.append(Formula(sketch, formula.ranges))
    return out


def wrong_sheet_variants(formula: Formula, own_sheet: str, sheet_names: list[str], *,
                         qualified_own: bool = False) -> list[Formula]:
    """A reference to another sheet pointed at each other sheet of the workbook, in tab order.
    With ``qualified_own``, a reference naming the formula's own sheet (``Orders!B4`` on Orders)
    is pointed elsewhere too: the inverse of a mistake that named the own sheet."""
    out = []
    for index, ref in _cell_refs(formula):
        if ref.sheet is None or (not qualified_own and ref.sheet.casefold() == own_sheet.casefold()):
            continue
        for name in sheet_names:
            if name.casefold() != ref.sheet.casefold():
                out.append(_with_ref(formula, index, replace(ref, sheet=name)))
    return out


def _set_axis(corner: Corner, axis: str, value: int, absolute: bool) -> Corner:
    if axis == "row":
        return replace(corner, row=value, row_abs=absolute)
    return replace(corner, col=value, col_abs=absolute)


def absolute_variants(formula: Formula, origin: tuple[int, int], run: Run, dropped: bool) -> list[Formula]:
    """One ``$`` on the run's axis dropped (``dropped``) or added, as if the run's head had been
    typed that way and filled to ``origin``; one variant per corner that can take the change."""
    position = 0 if run.axis == "row" else 1
    head = origin[position] - run.offset  # the head's row (or column)
    out = []
    for index, ref in _cell_refs(formula):
        for which in ("start", "end"):
            corner: Corner | None = getattr(ref, which)
            if corner is None:
                continue
            value = corner.row if run.axis == "row" else corner.col
            absolute = corner.row_abs if run.axis == "row" else corner.col_abs
            if value is None or absolute != dropped:
                continue
            # Dropped: the head pointed at `value` through the relative offset `value - head`.
            # Added: the head's relative offset froze into the absolute coordinate it pointed at.
            changed = _set_axis(corner, run.axis, value - head if dropped else head + value, not dropped)
            moved = replace(ref, start=changed) if which == "start" else replace(ref, end=changed)
            out.append(_with_ref(formula, index, moved))
    return out


def _opens(token: str) -> bool:
    """A group opener: ``(``, ``{`` or a call such as ``SUM(`` (strings end with a quote)."""
    return token == "{" or (token.endswith("(") and not token.startswith('"'))


def _atom(token: str) -> bool:
    return not (token in _OPERATORS or token in _SEPARATORS or token in _CLOSERS or _opens(token))


def _operand_start(sketch: tuple[str, ...], operator: int) -> int | None:
    """Index of the first token of the primary that ends right before ``operator``."""
    k = operator - 1
    if k < 0:
        return None
    if _atom(sketch[k]):
        return k
    if sketch[k] not in _CLOSERS:
        return None
    depth = 0
    while k >= 0:
        if sketch[k] in _CLOSERS:
            depth += 1
        elif _opens(sketch[k]):
            depth -= 1
            if depth == 0:
                return k
        k -= 1
    return None


def _operand_end(sketch: tuple[str, ...], operator: int) -> int | None:
    """Index just past the primary that starts right after ``operator``."""
    k = operator + 1
    if k >= len(sketch):
        return None
    if _atom(sketch[k]):
        return k + 1
    if not _opens(sketch[k]):
        return None
    depth = 0
    while k < len(sketch):
        if _opens(sketch[k]):
            depth += 1
        elif sketch[k] in _CLOSERS:
            depth -= 1
            if depth == 0:
                return k + 1
        k += 1
    return None


def _bounded(sketch: tuple[str, ...], start: int, end: int, operator: str) -> bool:
    """The primaries ``sketch[start:operator]`` and ``sketch[operator+1:end]`` are the operator's
    whole operands: nothing binding tighter stands before the left one or after the right one."""
    before = sketch[start - 1] if start > 0 else None
    after = sketch[end] if end < len(sketch) else None
    left_ok = before is None or before in _SEPARATORS or _opens(before) or before in _BEFORE_LEFT[operator]
    right_ok = after is None or after in _SEPARATORS or after in _CLOSERS or after in _AFTER_RIGHT[operator]
    return left_ok and right_ok


def swapped_operands_variants(formula: Formula) -> list[Formula]:
    """The operands of one ``-`` or ``/`` swapped (see the module doc for which ones qualify)."""
    refs = iter(formula.ranges)
    items = [(token, next(refs) if token == RANGE_PLACEHOLDER else None) for token in formula.sketch]
    out = []
    for position, token in enumerate(formula.sketch):
        if token not in ("-", "/"):
            continue
        start = _operand_start(formula.sketch, position)
        end = _operand_end(formula.sketch, position)
        if start is None or end is None or not _bounded(formula.sketch, start, end, token):
            continue
        swapped = items[:start] + items[position + 1 : end] + [items[position]] + items[start:position] + items[end:]
        out.append(Formula(tuple(t for t, _ in swapped), tuple(r for _, r in swapped if r is not None)))
    return out
