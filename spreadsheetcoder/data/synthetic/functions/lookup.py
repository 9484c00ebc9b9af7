"""Lookup and reference functions (VLOOKUP, HLOOKUP, XLOOKUP, INDEX, MATCH, ROW, ADDRESS, UNIQUE...).

Approximate matches assume the lookup vector is sorted, as Excel does (the generator sorts it):
then Excel's binary search and "the last entry not greater than the value" agree.
"""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl.utils.cell import get_column_letter

from ....references import quote_sheet
from ..expr import Expr
from ..values import NA, REF, VALUE, Grid, Scalar, Value, XlErrorSignal, compare, is_number, wildcard_pattern
from .base import boolean, grid, integer, opt_num, register, require, scalar, text, vector


def _same_kind(a: Scalar, b: Scalar) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return isinstance(a, str) == isinstance(b, str) and a is not None and b is not None


def _exact(values: Sequence[Scalar], x: Scalar, wildcards: bool = True) -> int:
    """Index of the first entry equal to ``x`` (text case-insensitive, wildcards), or -1."""
    if isinstance(x, str) and wildcards and any(ch in x for ch in "*?~"):
        pattern = wildcard_pattern(x)
        return next((i for i, v in enumerate(values) if isinstance(v, str) and pattern.fullmatch(v)), -1)
    return next((i for i, v in enumerate(values) if _same_kind(v, x) and compare(v, x) == 0), -1)


def _approx(values: Sequence[Scalar], x: Scalar, descending: bool = False) -> int:
    """Ascending: last entry <= x. Descending (MATCH type -1): last entry >= x. -1 when none."""
    found = -1
    for i, v in enumerate(values):
        if not _same_kind(v, x):
            continue
        c = compare(v, x)
        if (c <= 0 and not descending) or (c >= 0 and descending):
            found = i
        elif not descending:
            break
    return found


@register("VLOOKUP")
def _vlookup(args: Sequence[Expr]) -> Value:
    x, table, col = scalar(args[0]), grid(args[1]), integer(args[2])
    exact = len(args) > 3 and not boolean(args[3])
    require(1 <= col <= len(table[0]), REF if col > 1 else VALUE)
    keys = [row[0] for row in table]
    i = _exact(keys, x) if exact else _approx(keys, x)
    require(i >= 0, NA)
    return table[i][col - 1]


@register("HLOOKUP")
def _hlookup(args: Sequence[Expr]) -> Value:
    x, table, row = scalar(args[0]), grid(args[1]), integer(args[2])
    exact = len(args) > 3 and not boolean(args[3])
    require(1 <= row <= len(table), REF if row > 1 else VALUE)
    keys = list(table[0])
    i = _exact(keys, x) if exact else _approx(keys, x)
    require(i >= 0, NA)
    return table[row - 1][i]


@register("MATCH")
def _match(args: Sequence[Expr]) -> Value:
    x, values = scalar(args[0]), vector(args[1])
    kind = opt_num(args, 2, 1.0)
    i = _exact(values, x) if kind == 0 else _approx(values, x, descending=kind < 0)
    require(i >= 0, NA)
    return float(i + 1)


@register("XMATCH")
def _xmatch(args: Sequence[Expr]) -> Value:
    x, values = scalar(args[0]), vector(args[1])
    mode = int(opt_num(args, 2, 0))
    i = _xfind(values, x, mode)
    require(i >= 0, NA)
    return float(i + 1)


def _xfind(values: Sequence[Scalar], x: Scalar, mode: int) -> int:
    if mode == 2:
        return _exact(values, x, wildcards=True)
    i = _exact(values, x, wildcards=False)
    if i >= 0 or mode == 0:
        return i
    best = -1
    for k, v in enumerate(values):
        if not _same_kind(v, x):
            continue
        c = compare(v, x)
        if mode == -1 and c < 0 and (best < 0 or compare(v, values[best]) > 0):
            best = k
        if mode == 1 and c > 0 and (best < 0 or compare(v, values[best]) < 0):
            best = k
    return best


@register("XLOOKUP")
def _xlookup(args: Sequence[Expr]) -> Value:
    x, keys, results = scalar(args[0]), vector(args[1]), vector(args[2])
    require(len(keys) == len(results), VALUE)
    mode = int(opt_num(args, 4, 0))
    i = _xfind(keys, x, mode)
    if i < 0:
        if len(args) > 3 and not (args[3].text == "" and args[3].value is None):
            return args[3].value
        raise XlErrorSignal(NA)
    return results[i]


@register("INDEX")
def _index(args: Sequence[Expr]) -> Value:
    g = grid(args[0])
    r = integer(args[1])
    c = int(opt_num(args, 2, 0 if len(g) > 1 or len(args) > 2 else 1))
    if len(g) == 1 and len(args) == 2:  # a single row: the one index picks the column
        r, c = 1, r
    require(0 <= r <= len(g) and 0 <= c <= len(g[0]), REF)
    if r == 0:
        return tuple((row[c - 1],) for row in g)
    if c == 0:
        return (g[r - 1],)
    return g[r - 1][c - 1]


@register("ROW")
def _row(args: Sequence[Expr]) -> Value:
    span = args[0].span
    require(span is not None, VALUE)
    assert span is not None
    return float(span.r1)


@register("COLUMN")
def _column(args: Sequence[Expr]) -> Value:
    span = args[0].span
    require(span is not None, VALUE)
    assert span is not None
    return float(span.c1)


@register("ROWS")
def _rows(args: Sequence[Expr]) -> Value:
    return float(len(grid(args[0])))


@register("COLUMNS")
def _columns(args: Sequence[Expr]) -> Value:
    return float(len(grid(args[0])[0]))


@register("ADDRESS")
def _address(args: Sequence[Expr]) -> Value:
    r, c = integer(args[0]), integer(args[1])
    mode = int(opt_num(args, 2, 1))
    require(r >= 1 and c >= 1 and 1 <= mode <= 4, VALUE)
    a1 = len(args) <= 3 or not args[3].text or boolean(args[3])
    require(a1, VALUE)
    col_abs, row_abs = mode in (1, 3), mode in (1, 2)
    ref = f"{'$' if col_abs else ''}{get_column_letter(c)}{'$' if row_abs else ''}{r}"
    if len(args) > 4:
        ref = quote_sheet(text(args[4])) + "!" + ref
    return ref


@register("TRANSPOSE")
def _transpose(args: Sequence[Expr]) -> Value:
    g = grid(args[0])
    return tuple(tuple(row[j] for row in g) for j in range(len(g[0])))


@register("UNIQUE")
def _unique(args: Sequence[Expr]) -> Value:
    seen: list[tuple[Scalar, ...]] = []
    for row in grid(args[0]):
        if not any(len(row) == len(s) and all(_same_or_blank(a, b) for a, b in zip(row, s, strict=True))
                   for s in seen):
            seen.append(row)
    return tuple(seen)


def _same_or_blank(a: Scalar, b: Scalar) -> bool:
    if a is None or b is None:
        return a is b
    return _same_kind(a, b) and compare(a, b) == 0


@register("FILTER")
def _filter(args: Sequence[Expr]) -> Value:
    g, keep = grid(args[0]), [v for row in grid(args[1]) for v in row]
    require(len(keep) == len(g), VALUE)
    rows: Grid = tuple(row for row, k in zip(g, keep, strict=True)
                       if (is_number(k) and k != 0) or k is True)
    if not rows:
        return args[2].value if len(args) > 2 else VALUE
    return rows


def sheet_index(args: Sequence[Expr]) -> float:
    """SHEET(ref): the 1-based tab position of the referenced sheet."""
    span = args[0].span
    require(span is not None, VALUE)
    assert span is not None
    return float(span.sheet.book.sheets.index(span.sheet) + 1)


register("SHEET")(sheet_index)


@register("FORMULATEXT")
def _formulatext(args: Sequence[Expr]) -> Value:
    span = args[0].span
    require(span is not None, VALUE)
    assert span is not None
    cell = span.sheet.cells.get((span.r1, span.c1))
    require(cell is not None and cell.formula is not None, NA)
    assert cell is not None
    return f"={cell.formula}"


@register("CELL")
def _cell(args: Sequence[Expr]) -> Value:
    """CELL for the location info types only (others depend on the file path or the machine)."""
    info, span = text(args[0]).lower(), args[1].span if len(args) > 1 else None
    require(span is not None and info in ("address", "row", "col", "contents"), VALUE)
    assert span is not None
    if info == "row":
        return float(span.r1)
    if info == "col":
        return float(span.c1)
    if info == "contents":
        return span.sheet.get(span.r1, span.c1)
    return f"${get_column_letter(span.c1)}${span.r1}"


@register("HYPERLINK")
def _hyperlink(args: Sequence[Expr]) -> Value:
    return args[1].value if len(args) > 1 else text(args[0])

