"""The target's siblings: the cells a copy of its formula would occupy that hold values.

A formula filled down (or right) repeats in the cells below and above (or right and left) of the
target; their cached values are input/output examples of the formula we are looking for. We do
not know which neighbours hold copies (in the ``values`` setting no formula is visible), so every
direction is collected separately, up to ``PER_DIRECTION`` cells, stopping at the first empty
cell; the checks count matches per direction and the ranker learns which ones to trust.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..values import ExcelValue
from .target import TargetView

__all__ = ["DIRECTIONS", "PER_DIRECTION", "Sibling", "Siblings", "find_siblings"]

# Below, above, right, left: the order of the per-direction features.
DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1))
DIRECTION_NAMES = ("down", "up", "right", "left")
PER_DIRECTION = 4


@dataclass(frozen=True, slots=True)
class Sibling:
    row: int
    col: int
    value: ExcelValue
    direction: int  # index into DIRECTIONS
    step: int  # 1 for the adjacent cell


@dataclass(frozen=True, slots=True)
class Siblings:
    by_direction: tuple[tuple[Sibling, ...], ...]

    def cells(self, direction: int | None = None) -> Iterator[Sibling]:
        for d, group in enumerate(self.by_direction):
            if direction is None or d == direction:
                yield from group

    def __len__(self) -> int:
        return sum(len(g) for g in self.by_direction)


def find_siblings(view: TargetView, per_direction: int = PER_DIRECTION) -> Siblings:
    groups = []
    for d, (d_row, d_col) in enumerate(DIRECTIONS):
        found = []
        for step in range(1, per_direction + 1):
            r, c = view.row + d_row * step, view.col + d_col * step
            if r < 1 or c < 1:
                break
            value = view.value(r, c)
            if value is None:
                break
            found.append(Sibling(r, c, value, d, step))
        groups.append(tuple(found))
    return Siblings(tuple(groups))
