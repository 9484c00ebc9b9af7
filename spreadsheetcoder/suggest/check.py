"""Run a candidate on the sheet: at the target (its own cell empty) and at each of its siblings,
whose cached values are the expected outputs.

``run_candidate`` returns an ``Execution``: the value at the target (or why it could not be
computed), and per sibling direction how many were computed, matched and raised an Excel error.
The target's own cached value is never read (``TargetView`` masks it), so a check can only use
what a user filling the cell would see.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import FormulaError
from ..formula import Formula, parse_formula
from ..values import ExcelError, ExcelValue, values_equal
from .engine import NotComputable, SheetEngine
from .siblings import Sibling, Siblings
from .target import TargetView

__all__ = ["Execution", "run_candidate"]


@dataclass
class Execution:
    """What running one candidate showed.

    Attributes:
        formula: the parsed candidate (None when it does not parse).
        value: its value at the target; None when not computable.
        reason: why it was not computable ("" when it was).
        checked, matched, errors, adjacent: per direction (down, up, right, left): siblings
            computed, siblings whose value it reproduced, siblings where it gave an Excel error
            while the sibling shows none, and whether the adjacent sibling matched.
        reads_target: the candidate reads the target cell itself (a circular reference).
        empty_reads: every cell it reads at the target is empty.
        outputs: what it computed at each sibling (for the expansions of ``sources/expansions.py``).
    """

    formula: Formula | None
    value: ExcelValue | None = None
    reason: str = ""
    checked: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    matched: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    errors: list[int] = field(default_factory=lambda: [0, 0, 0, 0])
    adjacent: list[bool] = field(default_factory=lambda: [False] * 4)
    reads_target: bool = False
    empty_reads: bool = False
    outputs: list[tuple[Sibling, ExcelValue]] = field(default_factory=list)  # what it computed at each sibling

    @property
    def signature(self) -> tuple[object, ...] | None:
        """What it computes where it was run: candidates with equal signatures behave the same."""
        return None if self.formula is None else (repr(self.value), tuple(self.matched), tuple(self.checked))


def _reads_target(formula: Formula, view: TargetView) -> bool:
    for ref in formula.ranges:
        if ref.sheet is not None and ref.sheet.casefold() != view.sheet.name.casefold():
            continue
        if ref.start is None:
            continue
        r1, c1 = ref.start.position((view.row, view.col))
        r2, c2 = ref.end.position((view.row, view.col)) if ref.end is not None else (r1, c1)
        rows = (min(r1, r2), max(r1, r2)) if r1 is not None and r2 is not None else (1, 1 << 20)
        cols = (min(c1, c2), max(c1, c2)) if c1 is not None and c2 is not None else (1, 1 << 14)
        if rows[0] <= view.row <= rows[1] and cols[0] <= view.col <= cols[1]:
            return True
    return False


def _empty_reads(formula: Formula, view: TargetView, engine: SheetEngine) -> bool:
    if not formula.ranges:
        return False
    for ref in formula.ranges:
        if ref.name is not None or ref.spec is not None or ref.start is None:
            return False
        try:
            sheet = engine.sheet(ref.sheet, view.sheet)
        except Exception:  # a missing sheet reads as #REF!, not as empty
            return False
        r1, c1 = ref.start.position((view.row, view.col))
        r2, c2 = ref.end.position((view.row, view.col)) if ref.end is not None else (r1, c1)
        if None in (r1, c1, r2, c2):
            return False
        assert r1 is not None and c1 is not None and r2 is not None and c2 is not None
        if (abs(r2 - r1) + 1) * (abs(c2 - c1) + 1) > 400:
            return False
        for r in range(min(r1, r2), max(r1, r2) + 1):
            for c in range(min(c1, c2), max(c1, c2) + 1):
                if view.value(r, c, sheet) is not None:
                    return False
    return True


def run_candidate(text: str, view: TargetView, siblings: Siblings, engine: SheetEngine) -> Execution:
    try:
        formula = parse_formula(text, (view.row, view.col))
    except (FormulaError, ValueError):
        return Execution(None, reason="parse")
    run = Execution(formula)
    run.reads_target = _reads_target(formula, view)
    run.empty_reads = _empty_reads(formula, view, engine)
    try:
        run.value = engine.compute(formula, view.sheet, (view.row, view.col), view.masked)
    except NotComputable as exc:
        run.reason = exc.reason
        return run  # what cannot be computed at the target cannot be at its siblings either
    for sib in siblings.cells():
        try:
            got = engine.compute(formula, view.sheet, (sib.row, sib.col), view.masked)
        except NotComputable:
            continue
        d = sib.direction
        run.outputs.append((sib, got))
        run.checked[d] += 1
        if values_equal(got, sib.value):
            run.matched[d] += 1
            if sib.step == 1:
                run.adjacent[d] = True
        elif isinstance(got, ExcelError) and not isinstance(sib.value, ExcelError):
            run.errors[d] += 1
    return run
