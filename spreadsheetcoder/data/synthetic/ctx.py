"""Generation context: the workbook's random source, wording, number formats and layout helpers.

Templates receive one ``Gen`` and use its helpers to place titles, notes and headers, to fill a
formula down a column or across a row (one fill group, i.e. one relative formula), and to write
total rows, so that layout variety (tables not at A1, merged titles, blank header cells, blank
separator rows) is shared by every kind.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from .book import BookData, SheetData
from .expr import Expr
from .functions import call
from .names import POOLS
from .values import serial
from .vocab import Words

__all__ = ["Gen"]

T = TypeVar("T")

_MONEY = ["$#,##0.00", "#,##0.00", "#,##0", '"€"#,##0.00', '#,##0.00 "€"', "$#,##0", "#,##0;(#,##0)",
          "$#,##0.00_);($#,##0.00)", "£#,##0.00", "[$¥-804]#,##0"]
_PERCENT = ["0.0%", "0%", "0.00%"]
_DATES = ["yyyy-mm-dd", "m/d/yyyy", "dd/mm/yyyy", "d-mmm-yy", "dd.mm.yyyy", "mm-dd-yy", "d mmm yyyy"]
_NOTES = ["Source: internal records", "All figures in USD", "Amounts in thousands", "Prepared by Finance",
          "Draft – for discussion", "Confidential", "Updated monthly", "Figures are unaudited",
          "Enter data in the white cells only", "Do not edit formulas", "Stand: vorläufig",
          "Fuente: contabilidad", "Données provisoires", "数据来源：财务部"]


class Gen:
    """Random choices and layout helpers for one workbook.

    Attributes:
        rng: the workbook's random source (seeded from ``(seed, index)``).
        book: the workbook under construction.
        words: header wording for this workbook.
        money, percent, date: number formats this workbook uses.
        year: the workbook's reference year.
    """

    def __init__(self, rng: random.Random, book: BookData) -> None:
        self.rng = rng
        self.book = book
        self.words = Words.sample(rng)
        self.money = rng.choice(_MONEY)
        self.percent = rng.choice(_PERCENT)
        self.date = rng.choice(_DATES)
        self.year = rng.randint(2015, 2025)

    # -- random helpers ------------------------------------------------------------------------
    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def picks(self, items: Sequence[T], k: int) -> list[T]:
        return self.rng.sample(list(items), min(k, len(items)))

    def pool(self, name: str, k: int) -> list[str]:
        """``k`` distinct labels from a pool (numbered when the pool is too small)."""
        items = POOLS[name]
        if k <= len(items):
            return self.picks(items, k)
        return [f"{items[i % len(items)]} {i // len(items) + 1}" for i in range(k)]

    def randint(self, a: int, b: int) -> int:
        return self.rng.randint(a, b)

    def amount(self, lo: float, hi: float, decimals: int = 2) -> float:
        return round(self.rng.uniform(lo, hi), decimals)

    def size(self, small: int, large: int) -> int:
        """A table length: mostly small, sometimes long (long SUM ranges exist in real sheets)."""
        if self.chance(0.15):
            return self.randint(large // 2, large)
        return self.randint(small, max(small, large // 6))

    def day(self, start_year: int | None = None) -> float:
        """A random date serial within the workbook's year (or ``start_year``)."""
        y = start_year or self.year
        return serial(dt.date(y, 1, 1) + dt.timedelta(days=self.rng.randrange(365)))

    def origin(self) -> tuple[int, int]:
        """Where a sheet's first block starts: A1 often, otherwise a few rows/columns in."""
        row = 1 if self.chance(0.35) else self.randint(2, 6)
        col = 1 if self.chance(0.6) else self.randint(2, 4)
        return row, col

    # -- layout --------------------------------------------------------------------------------
    def title(self, ws: SheetData, row: int, col: int, text: str, width: int) -> int:
        """A title (sometimes merged across the table), optional notes, then a blank row.

        Returns the first row free for the table.
        """
        if self.chance(0.15):
            return row
        ws.put(row, col, text.replace("{year}", str(self.year)).replace("{term}", str(self.randint(1, 3))),
               bold=True)
        if width > 1 and self.chance(0.3):
            ws.merge(row, col, row, col + width - 1)
        row += 1
        for _ in range(self.pick([0, 0, 1, 1, 2])):
            ws.put(row, col, self.pick(_NOTES))
            row += 1
        return row + (1 if self.chance(0.75) else 0)

    def header(self, ws: SheetData, row: int, col: int, labels: Sequence[str | None]) -> None:
        """A bold header row; ``None`` leaves a blank header cell."""
        for k, label in enumerate(labels):
            if label is not None:
                ws.put(row, col + k, label, bold=True)
        if self.chance(0.5):
            ws.widths.setdefault(col, float(self.randint(14, 28)))

    def group_header(self, ws: SheetData, row: int, col: int, text: str, width: int) -> None:
        """A merged header cell spanning ``width`` columns (two-row headers)."""
        ws.put(row, col, text, bold=True)
        if width > 1:
            ws.merge(row, col, row, col + width - 1)

    def fill_down(self, ws: SheetData, col: int, r1: int, r2: int, make: Callable[[int], Expr],
                  fmt: str | None = None) -> None:
        """The same relative formula in rows ``r1..r2`` of ``col`` (one fill group)."""
        group = ws.new_group()
        for r in range(r1, r2 + 1):
            ws.formula(r, col, make(r), fmt, group)

    def fill_right(self, ws: SheetData, row: int, c1: int, c2: int, make: Callable[[int], Expr],
                   fmt: str | None = None) -> None:
        """The same relative formula in columns ``c1..c2`` of ``row`` (one fill group)."""
        group = ws.new_group()
        for c in range(c1, c2 + 1):
            ws.formula(row, c, make(c), fmt, group)

    def total_label(self) -> str:
        return self.words.h("total")

    def aggregate(self) -> str:
        """The function of a summary row: SUM mostly."""
        return self.rng.choices(["SUM", "AVERAGE", "MAX", "MIN", "COUNT"], weights=[70, 14, 6, 5, 5])[0]

    def total_row(self, ws: SheetData, row: int, label_col: int, c1: int, c2: int, r1: int, r2: int,
                  fmt: str | None = None, func: str = "SUM", label: str | None = None) -> None:
        """``label`` then ``func(col r1:r2)`` under each of columns ``c1..c2``."""
        ws.put(row, label_col, label or self.total_label(), bold=True)
        if func == "SUM" and r2 - r1 < 6 and self._numeric(ws, r1, c1, r2, c2) and self.chance(0.5):
            # Short columns are often added cell by cell (=B5+B6+B7).
            self.fill_right(ws, row, c1, c2, lambda c: _plus(ws.ref(r, c) for r in range(r1, r2 + 1)), fmt)
            return
        self.fill_right(ws, row, c1, c2, lambda c: call(func, ws.rng(r1, c, r2, c)), fmt)

    @staticmethod
    def _numeric(ws: SheetData, r1: int, c1: int, r2: int, c2: int) -> bool:
        """Whether every cell of the block holds a number (so ``+`` and SUM agree)."""
        return all(isinstance(v, (int, float)) and not isinstance(v, bool)
                   for row in ws.grid(r1, c1, r2, c2) for v in row)

    def total_col(self, ws: SheetData, col: int, r1: int, r2: int, c1: int, c2: int,
                  fmt: str | None = None, func: str = "SUM") -> None:
        """``func(row c1:c2)`` in column ``col`` for rows ``r1..r2``."""
        if func == "SUM" and c2 - c1 < 6 and self._numeric(ws, r1, c1, r2, c2) and self.chance(0.5):
            self.fill_down(ws, col, r1, r2, lambda r: _plus(ws.ref(r, c) for c in range(c1, c2 + 1)), fmt)
            return
        self.fill_down(ws, col, r1, r2, lambda r: call(func, ws.rng(r, c1, r, c2)), fmt)

    def named(self, p: float, names: Sequence[str], ws: SheetData, row: int, col: int) -> Expr:
        """With probability ``p`` a new defined name for the cell (the first of ``names`` not yet
        taken), else an absolute reference such as ``$B$3``."""
        taken = {n.lower() for n in self.book.names} | self.book.table_names()
        free = [n for n in names if n.lower() not in taken]
        if free and self.chance(p):
            return self.book.define(free[0], ws, row, col)
        return ws.absref(row, col)

    def divider(self) -> Callable[[Expr, Expr], Expr]:
        """A way to write ``a/b`` (fixed, so a fill group keeps one relative formula), often guarded
        against a zero or blank divisor as people write it: ``IF(b=0,0,a/b)``, ``IF(b<>0,a/b,"")``,
        ``IFERROR(a/b,0)``, ``IF(b>0,ROUND(a/b,2),0)``."""
        style = self.rng.choices(["plain", "eq0", "ne0", "blank", "iferror", "round"],
                                 weights=[25, 25, 15, 10, 15, 10])[0]
        digits = self.pick([2, 2, 3, 4])

        def div(a: Expr, b: Expr) -> Expr:
            if style == "eq0":
                return call("IF", b.eq(0), 0, a / b)
            if style == "ne0":
                return call("IF", b.ne(0), a / b, "")
            if style == "blank":
                return call("IF", b.eq(""), "", a / b)
            if style == "iferror":
                return call("IFERROR", a / b, 0)
            if style == "round":
                return call("IF", b.gt(0), call("ROUND", a / b, digits), 0)
            return a / b
        return div

    def sheet(self, name: str) -> SheetData:
        return self.book.add_sheet(name)


def _plus(refs: Iterable[Expr]) -> Expr:
    """``a+b+c`` of some references."""
    out: Expr | None = None
    for e in refs:
        out = e if out is None else out + e
    assert out is not None
    return out
