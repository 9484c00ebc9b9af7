"""Small labelled panels that calculator-style sheets are made of.

``rows_panel`` writes "label | formula" lines; ``column_panel`` writes input columns and formula
columns filled down beside them; ``array_panel`` writes a CSE array formula and its spilled values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..book import SheetData, a1
from ..ctx import Gen
from ..expr import Expr
from ..values import Scalar

__all__ = ["Output", "Row", "array_formula", "column_panel", "rows_panel"]

Row = tuple[str, Callable[[], Expr], "str | None"]
Output = tuple[str, Callable[[int], Expr], "str | None"]


def rows_panel(g: Gen, ws: SheetData, r: int, c: int, title: str, rows: Sequence[Row], k: int | None = None) -> int:
    """A bold title, then up to ``k`` random rows of label and formula; returns the next free row."""
    ws.put(r, c, title, bold=True)
    r += 1
    chosen = g.picks(rows, k if k is not None else g.randint(2, len(rows)))
    for label, make, fmt in chosen:
        ws.put(r, c, label)
        ws.formula(r, c + 1, make(), fmt)
        r += 1
    return r + 1


def column_panel(g: Gen, ws: SheetData, r: int, c: int, title: str,
                 inputs: Sequence[tuple[str, Sequence[Scalar], str | None]], outputs: Sequence[Output],
                 k: int | None = None) -> tuple[int, int, int]:
    """Input columns and formula columns (each one fill-down group).

    Returns (next free row, first data row, last data row).
    """
    ws.put(r, c, title, bold=True)
    hr = r + 1
    chosen = g.picks(outputs, k if k is not None else g.randint(2, len(outputs)))
    g.header(ws, hr, c, [h for h, _, _ in inputs] + [h for h, _, _ in chosen])
    n = len(inputs[0][1])
    first, last = hr + 1, hr + n
    for j, (_, values, fmt) in enumerate(inputs):
        for i, v in enumerate(values):
            ws.put(first + i, c + j, v, fmt)
    for j, (_, make, fmt) in enumerate(chosen):
        g.fill_down(ws, c + len(inputs) + j, first, last, make, fmt)
    return last + 2, first, last


def array_formula(ws: SheetData, r: int, c: int, e: Expr, fmt: str | None = None) -> int:
    """A CSE array formula at (r, c) over the shape of its value; returns the number of rows."""
    grid = e.value if isinstance(e.value, tuple) else ((e.value,),)
    h, w = len(grid), len(grid[0])
    ws.formula(r, c, e, fmt, array=f"{a1(r, c)}:{a1(r + h - 1, c + w - 1)}" if (h, w) != (1, 1) else a1(r, c))
    for i in range(h):
        for j in range(w):
            if (i, j) != (0, 0):
                v = grid[i][j]
                ws.put(r + i, c + j, 0.0 if v is None else v, fmt)
    return h
