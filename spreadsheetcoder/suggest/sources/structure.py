"""Candidates instantiated on the sheet's structure: aggregates over the block above or to the
left, and arithmetic of the numbers in the target's row and column.

- ``aggregate_candidates``: ``SUM``, ``AVERAGE``, ``MIN``, ``MAX``, ``COUNT`` and ``SUBTOTAL(9,…)``
  over the contiguous numeric block directly above the target (AutoSum's block), over the block up
  to the header (blanks included), and the same to the left.
- ``arithmetic_candidates``: ``=a`` and ``a+b``, ``a-b``, ``a*b``, ``a/b``, ``a/b-1``, ``a*(1+b)`` of
  the nearest numeric cells of the row (left and right) and of the column above, and ``a*k``,
  ``a/k``, ``a+k`` with a constant ``k`` where the target's siblings call for one (every sibling
  is its operand times, over or plus the same ``k``); ``k`` may also be a cell of the workbook
  holding that value (``=B21/'Conversion Factors'!$B$39``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from ...references import format_a1
from ..siblings import Siblings
from ..target import TargetView, is_number
from ..types import Candidate

# Where a constant ``k`` is held in the workbook: A1 texts of cells (absolute, sheet-qualified
# when on another sheet) whose value is ``k``.
ConstantFinder = Callable[[float], list[str]]

__all__ = ["AGGREGATES", "ConstantFinder", "aggregate_candidates", "arithmetic_candidates", "numeric_neighbours"]

AGGREGATES = ("SUM", "AVERAGE", "MIN", "MAX", "COUNT", "SUBTOTAL(9,")
# How far the block search and the operand search look from the target.
MAX_BLOCK = 2000
ROW_REACH = 12
COL_REACH = 12
# Operands of arithmetic: the nearest numeric cells left, right and above.
LEFT_OPERANDS = 6
RIGHT_OPERANDS = 2
ABOVE_OPERANDS = 3


def _block(view: TargetView, d_row: int, d_col: int, to_header: bool) -> tuple[int, int] | None:
    """First and last offset (steps from the target) of the numeric block in direction
    ``(d_row, d_col)``: contiguous numbers (AutoSum), or with ``to_header`` numbers and blanks up
    to the first label; one blank next to the target is skipped."""
    r, c = view.row + d_row, view.col + d_col
    step = 1
    if view.value(r, c) is None:
        r, c, step = r + d_row, c + d_col, 2
    if r < 1 or c < 1 or not view.number(r, c):
        return None
    first = last = step
    blanks = 0
    while step < MAX_BLOCK:
        r, c, step = r + d_row, c + d_col, step + 1
        if r < 1 or c < 1:
            break
        value = view.value(r, c)
        if is_number(value):
            last, blanks = step, 0
        elif value is None and to_header and blanks < 2:
            blanks += 1
        else:
            break
    return first, last


def _area(view: TargetView, d_row: int, d_col: int, near: int, far: int) -> str:
    a = format_a1(view.row + d_row * far, view.col + d_col * far)
    b = format_a1(view.row + d_row * near, view.col + d_col * near)
    return a if a == b else f"{a}:{b}"


def _running_totals(view: TargetView) -> Iterator[str]:
    """``=SUM(B$4:B9)`` in row 9: the total so far of a numeric column to the left."""
    for _, col in numeric_neighbours(view, 0, -1, 3, ROW_REACH):
        top = view.row
        while top > 1 and view.number(top - 1, col) and view.row - top < MAX_BLOCK:
            top -= 1
        if top < view.row:
            yield f"=SUM({format_a1(top, col, row_abs=True)}:{format_a1(view.row, col)})"


def aggregate_candidates(view: TargetView) -> list[Candidate]:
    out: dict[str, Candidate] = {}
    for text in _running_totals(view):
        out.setdefault(text, Candidate(text, 0.0, 0.0, "aggregate"))
    for d_row, d_col in ((-1, 0), (0, -1)):
        for to_header in (False, True):
            block = _block(view, d_row, d_col, to_header)
            if block is None:
                continue
            area = _area(view, d_row, d_col, *block)
            for fn in AGGREGATES:
                text = f"={fn}{area})" if fn.endswith(",") else f"={fn}({area})"
                out.setdefault(text, Candidate(text, 0.0, 0.0, "aggregate"))
    return list(out.values())


def numeric_neighbours(view: TargetView, d_row: int, d_col: int, count: int, reach: int) -> list[tuple[int, int]]:
    """The nearest ``count`` cells from the target in direction ``(d_row, d_col)`` that hold a
    number, or whose neighbours across the line (the same column in the rows above and below, for
    a row) do: a cell left empty beside the target (another blank to fill) is still an operand."""
    found = []
    across = (1, 0) if d_row == 0 else (0, 1)
    for step in range(1, reach + 1):
        r, c = view.row + d_row * step, view.col + d_col * step
        if r < 1 or c < 1:
            break
        if view.number(r, c) or (view.value(r, c) is None and (
                view.number(r - across[0], c - across[1]) or view.number(r + across[0], c + across[1]))):
            found.append((r, c))
            if len(found) == count:
                break
    return found


def _binary(a: str, b: str) -> Iterator[str]:
    yield f"={a}+{b}"
    yield f"={a}-{b}"
    yield f"={a}*{b}"
    yield f"={b}+{a}"
    yield f"={b}*{a}"
    yield f"={a}/{b}"
    yield f"={b}-{a}"
    yield f"={b}/{a}"
    yield f"={a}/{b}-1"
    yield f"={a}*(1+{b})"


def _nice(k: float) -> str | None:
    """A constant as a user would type it, or None when it looks accidental."""
    if k == 0 or not math.isfinite(k):
        return None
    for digits in range(0, 7):
        text = f"{k:.{digits}f}"
        text = text.rstrip("0").rstrip(".") if "." in text else text
        if text in ("", "-", "0", "-0"):
            continue
        if abs(float(text) - k) <= 1e-9 * max(1.0, abs(k)):
            return text if len(text.replace("-", "").replace(".", "")) <= 6 else None
    return None


def _constant_candidates(view: TargetView, operand: tuple[int, int], siblings: Siblings,
                         constants: ConstantFinder | None) -> Iterator[str]:
    """``a*k``, ``a/k``, ``a+k``, ``a-k`` where every checked sibling agrees on one ``k``; ``k`` is
    written as a number, or as a reference to a cell of the workbook that holds it."""
    dr, dc = operand[0] - view.row, operand[1] - view.col
    ratios, diffs = [], []
    for sib in siblings.cells():
        a = view.value(sib.row + dr, sib.col + dc)
        if not (is_number(a) and is_number(sib.value)):
            continue
        assert isinstance(a, float) and isinstance(sib.value, float)
        diffs.append(sib.value - a)
        if a != 0:
            ratios.append(sib.value / a)
    ref = format_a1(*operand)
    if len(ratios) >= 2 and all(math.isclose(x, ratios[0], rel_tol=1e-9) for x in ratios):
        k = ratios[0]
        if constants is not None and k not in (0.0, 1.0):
            for cell in constants(k):
                yield f"={ref}*{cell}"
            for cell in constants(1 / k):
                yield f"={ref}/{cell}"
        if k not in (0.0, 1.0):
            inverse = _nice(1 / k)
            if inverse is not None and abs(1 / k) >= 1:
                yield f"={ref}/{inverse}"
            text = _nice(k)
            if text is not None:
                yield f"={ref}*{text}"
    if len(diffs) >= 2 and all(math.isclose(x, diffs[0], rel_tol=1e-9, abs_tol=1e-9) for x in diffs):
        text = _nice(abs(diffs[0]))
        if text is not None and diffs[0] != 0:
            yield f"={ref}+{text}" if diffs[0] > 0 else f"={ref}-{text}"
        if constants is not None and diffs[0] != 0:
            for cell in constants(diffs[0]):
                yield f"={ref}+{cell}"
            for cell in constants(-diffs[0]):
                yield f"={ref}-{cell}"


def arithmetic_candidates(view: TargetView, siblings: Siblings,
                          constants: ConstantFinder | None = None) -> list[Candidate]:
    left = numeric_neighbours(view, 0, -1, LEFT_OPERANDS, ROW_REACH)
    right = numeric_neighbours(view, 0, 1, RIGHT_OPERANDS, ROW_REACH)
    above = numeric_neighbours(view, -1, 0, ABOVE_OPERANDS, COL_REACH)
    texts: dict[str, None] = {}
    row_cells = sorted(left + right, key=lambda p: p[1])  # reading order: a is left of b
    for cell in [*left[:4], *right[:1], *above[:2]]:
        texts.setdefault(f"={format_a1(*cell)}")
        for text in _constant_candidates(view, cell, siblings, constants):
            texts.setdefault(text)
    for i, a in enumerate(row_cells):
        for b in row_cells[i + 1:]:
            for text in _binary(format_a1(*a), format_a1(*b)):
                texts.setdefault(text)
    above_cells = sorted(above)  # top first
    for i, a in enumerate(above_cells):
        for b in above_cells[i + 1:]:
            for text in _binary(format_a1(*a), format_a1(*b)):
                texts.setdefault(text)
    for a in left[:3]:  # a row value times a rate above it; a running balance (above plus the row's)
        for b in above[:2]:
            texts.setdefault(f"={format_a1(*a)}*{format_a1(*b)}")
            texts.setdefault(f"={format_a1(*a)}/{format_a1(*b)}")
            texts.setdefault(f"={format_a1(*b)}+{format_a1(*a)}")
            texts.setdefault(f"={format_a1(*b)}-{format_a1(*a)}")
    return [Candidate(text, 0.0, 0.0, "arithmetic") for text in texts]
