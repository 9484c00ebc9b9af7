"""Candidates made from other candidates once they have run on the siblings (the sheet as tests).

- ``rounded``: a candidate whose values at the siblings are right once rounded (``ROUND(x, d)``
  for ``d`` in ``ROUND_DIGITS``) becomes ``=ROUND(x,d)``.
- ``guarded``: a division that is right wherever its divisor is not zero gets the guards users
  write around it: ``IF(b=0,0,a/b)``, ``IF(b=0,"",a/b)``, ``IFERROR(a/b,0)``, ``IFERROR(a/b,"")``.
- ``labelled``: where the siblings show two labels (``"Pass"``/``"Fail"``), ``=IF(test,"A","B")``
  for the comparisons of the row's numbers with each other, or with a round threshold, that
  separate the labels on every sibling; where they show text, ``=TEXT(a,"mmm")`` and the other
  formats of ``TEXT_FORMATS`` of the nearest numbers (dates are numbers) of the row.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from ...formula import render_formula
from ...references import format_a1, format_reference
from ...values import values_equal
from ..check import Execution
from ..siblings import Sibling, Siblings
from ..target import TargetView, is_number
from ..types import Candidate
from .structure import numeric_neighbours

__all__ = ["ROUND_DIGITS", "expansion_candidates", "labelled_candidates"]

ROUND_DIGITS = (0, 1, 2, 3, 4, -1, -2, -3)
TEXT_FORMATS = ("ddd", "dddd", "mmm", "mmmm", "yyyy", "mmm yyyy", "mmm-yy", "yyyy-mm-dd", "0", "0.00")
_COMPARISONS = (">", "<", ">=", "<=", "=", "<>")


def _round(x: float, digits: int) -> float:
    scale = 10.0 ** digits
    return math.copysign(math.floor(abs(x) * scale + 0.5 + 1e-9) / scale, x)


def _rounded(inner: str, execution: Execution) -> Iterator[str]:
    pairs = [(got, sib.value) for sib, got in execution.outputs if is_number(got) and is_number(sib.value)]
    if len(pairs) < 2 or all(values_equal(g, v) for g, v in pairs):
        return
    for digits in ROUND_DIGITS:
        if all(values_equal(_round(g, digits), v) for g, v in pairs):  # type: ignore[arg-type]
            yield f"=ROUND({inner},{digits})"
            return


def _guarded(inner: str, execution: Execution, view: TargetView) -> Iterator[str]:
    formula = execution.formula
    if formula is None or formula.sketch not in (("RANGE", "/", "RANGE"), ("RANGE", "/", "RANGE", "-", "1")):
        return
    checked, matched, errors = sum(execution.checked), sum(execution.matched), sum(execution.errors)
    if not checked or matched + errors != checked:
        return
    divisor = format_reference(formula.ranges[1], (view.row, view.col))
    yield f"=IF({divisor}=0,0,{inner})"
    yield f'=IF({divisor}=0,"",{inner})'
    yield f"=IFERROR({inner},0)"
    yield f'=IFERROR({inner},"")'


def expansion_candidates(text: str, execution: Execution, view: TargetView) -> list[Candidate]:
    """What one executed candidate suggests (see the module doc)."""
    if execution.formula is None or execution.reason:
        return []
    inner = render_formula(execution.formula, (view.row, view.col))[1:]
    out = [Candidate(t, 0.0, 0.0, "expansion") for t in _rounded(inner, execution)]
    out += [Candidate(t, 0.0, 0.0, "expansion") for t in _guarded(inner, execution, view)]
    return out


def _threshold(low: list[float], high: list[float]) -> float | None:
    """The roundest number ``k`` with ``max(low) < k <= min(high)``."""
    lo, hi = max(low), min(high)
    if lo >= hi:
        return None
    for step in (1000.0, 100.0, 50.0, 10.0, 5.0, 1.0, 0.5, 0.1, 0.05, 0.01):
        k = math.ceil((lo + 1e-12) / step) * step
        if lo < k <= hi:
            return round(k, 6)
    return None


def _number_text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def labelled_candidates(view: TargetView, siblings: Siblings) -> list[Candidate]:
    texts: dict[str, None] = {}
    for direction in range(4):
        group = list(siblings.cells(direction))
        while group and (len({s.value for s in group}) > 2 or not all(isinstance(s.value, str) for s in group)):
            group.pop()  # the farthest first: a header above a column of labels is no label
        labels = {s.value for s in group}
        if len(group) < 2:
            continue
        operands = numeric_neighbours(view, 0, -1, 4, 12) + numeric_neighbours(view, 0, 1, 1, 6)
        offsets = [(r - view.row, c - view.col) for r, c in operands]

        columns = {off: _column(view, group, off) for off in offsets}
        for r, c in operands[:2]:  # a date shown as text: =TEXT(A2,"mmm")
            if columns[(r - view.row, c - view.col)] is not None:
                for code in TEXT_FORMATS:
                    texts.setdefault(f'=TEXT({format_a1(r, c)},"{code}")')
        first = group[0].value
        for i, a in enumerate(offsets):
            va = columns[a]
            if va is None:
                continue
            ref_a = format_a1(view.row + a[0], view.col + a[1])
            for b in offsets[i + 1:]:
                vb = columns[b]
                if vb is None:
                    continue
                ref_b = format_a1(view.row + b[0], view.col + b[1])
                for op in _COMPARISONS:
                    truth = [_holds(x, op, y) for x, y in zip(va, vb, strict=True)]
                    texts.update(dict.fromkeys(_if(f"{ref_a}{op}{ref_b}", truth, group)))
                    swapped = [_holds(y, op, x) for x, y in zip(va, vb, strict=True)]
                    texts.update(dict.fromkeys(_if(f"{ref_b}{op}{ref_a}", swapped, group)))
            if len(labels) == 2:
                other = next(v for v in labels if v != first)
                low = [x for x, s in zip(va, group, strict=True) if s.value == first]
                high = [x for x, s in zip(va, group, strict=True) if s.value == other]
                for lows, highs, below, above in ((low, high, first, other), (high, low, other, first)):
                    k = _threshold(lows, highs)
                    if k is None:
                        continue
                    kt = _number_text(k)
                    texts.setdefault(f'=IF({ref_a}>={kt},"{above}","{below}")')
                    texts.setdefault(f'=IF({ref_a}<{kt},"{below}","{above}")')
                    texts.setdefault(f'=IF({ref_a}>{kt},"{above}","{below}")')
                    texts.setdefault(f'=IF({ref_a}<={kt},"{below}","{above}")')
    return [Candidate(t, 0.0, 0.0, "expansion") for t in texts]


def _column(view: TargetView, group: list[Sibling], offset: tuple[int, int]) -> list[float] | None:
    """The numbers at ``offset`` from each sibling, or None when one is not a number."""
    got = [view.value(s.row + offset[0], s.col + offset[1]) for s in group]
    return got if all(is_number(v) for v in got) else None  # type: ignore[return-value]


def _holds(x: float, op: str, y: float) -> bool:
    return {">": x > y, "<": x < y, ">=": x >= y, "<=": x <= y, "=": x == y, "<>": x != y}[op]


def _if(test: str, truth: list[bool], group: list[Sibling]) -> Iterator[str]:
    yes = {s.value for s, t in zip(group, truth, strict=True) if t}
    no = {s.value for s, t in zip(group, truth, strict=True) if not t}
    if len(yes) == 1 and len(no) == 1 and yes != no:
        yield f'=IF({test},"{next(iter(yes))}","{next(iter(no))}")'
