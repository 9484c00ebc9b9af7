"""Writing accepted repairs into an .xlsx package (``spreadsheetcoder check --fix``, issue 15).

Each repair replaces what one cell holds (a formula, or a number typed over one) with the proposed
formula, through the lossless writer's ``replace_formulas``: only those ``<c>`` elements change,
every other part of the package keeps its bytes. A repair the writer refuses (the cell is the
master of a shared formula, part of an array formula, inside a merged area) is reported with the
writer's reason and left out; the others are still written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..xlsx.writer import WriteError, replace_formulas
from .checker import CheckFlag

__all__ = ["RepairResult", "repair_bytes"]


@dataclass
class RepairResult:
    """The new package, the flags written into it and the ones the writer refused (with why)."""

    data: bytes
    applied: list[CheckFlag] = field(default_factory=list)
    refused: list[tuple[CheckFlag, str]] = field(default_factory=list)

    def cells(self) -> dict[str, list[tuple[int, int]]]:
        """``{sheet: [(row, col), ...]}`` of the applied repairs (for ``writer.changed_outside``)."""
        out: dict[str, list[tuple[int, int]]] = {}
        for flag in self.applied:
            out.setdefault(flag.sheet, []).append((flag.row, flag.col))
        return out


def repair_bytes(data: bytes, flags: Sequence[CheckFlag]) -> RepairResult:
    """``data`` (an .xlsx package, never modified) with each flag's repair written in its cell."""
    result = RepairResult(data)
    for flag in flags:
        try:
            result.data = replace_formulas(result.data, {flag.sheet: {(flag.row, flag.col): flag.repair}})
        except WriteError as exc:
            result.refused.append((flag, str(exc)))
            continue
        result.applied.append(flag)
    return result
