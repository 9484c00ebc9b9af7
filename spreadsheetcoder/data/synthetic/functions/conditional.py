"""Conditional aggregates (SUMIF(S), COUNTIF(S), AVERAGEIF(S), MINIFS, MAXIFS) and DSUM/DMIN/DMAX."""

from __future__ import annotations

from collections.abc import Sequence

from ..expr import Expr
from ..values import (
    DIV0,
    VALUE,
    Scalar,
    Value,
    XlError,
    XlErrorSignal,
    criterion_test,
    is_number,
    matches_criterion,
)
from .base import grid, register, require, scalar
from .mathfns import seq_sum


def _flat(e: Expr) -> list[Scalar]:
    return [v for row in grid(e) for v in row]


def _mask(pairs: Sequence[tuple[Expr, Expr]]) -> list[bool]:
    """Cells where every (range, criterion) pair matches; all ranges must have one shape."""
    shape = None
    mask: list[bool] | None = None
    for rng, crit in pairs:
        g = grid(rng)
        if shape is None:
            shape = (len(g), len(g[0]))
        require((len(g), len(g[0])) == shape, VALUE)
        test = criterion_test(scalar(crit))
        hits = [test(v) for row in g for v in row]
        mask = hits if mask is None else [a and b for a, b in zip(mask, hits, strict=True)]
    assert mask is not None
    return mask


def _picked(values: list[Scalar], mask: list[bool]) -> list[float]:
    require(len(values) == len(mask), VALUE)
    out = []
    for v, keep in zip(values, mask, strict=True):
        if not keep:
            continue
        if isinstance(v, XlError):
            raise XlErrorSignal(v)
        if is_number(v):
            out.append(float(v))  # type: ignore[arg-type]
    return out


@register("SUMIF")
def _sumif(args: Sequence[Expr]) -> Value:
    mask = _mask([(args[0], args[1])])
    return seq_sum(_picked(_flat(args[2] if len(args) > 2 else args[0]), mask))


@register("AVERAGEIF")
def _averageif(args: Sequence[Expr]) -> Value:
    xs = _picked(_flat(args[2] if len(args) > 2 else args[0]), _mask([(args[0], args[1])]))
    require(bool(xs), DIV0)
    return seq_sum(xs) / len(xs)


@register("COUNTIF")
def _countif(args: Sequence[Expr]) -> Value:
    return float(sum(_mask([(args[0], args[1])])))


@register("COUNTIFS")
def _countifs(args: Sequence[Expr]) -> Value:
    return float(sum(_mask(list(zip(args[::2], args[1::2], strict=True)))))


def _ifs_values(args: Sequence[Expr]) -> list[float]:
    return _picked(_flat(args[0]), _mask(list(zip(args[1::2], args[2::2], strict=True))))


@register("SUMIFS")
def _sumifs(args: Sequence[Expr]) -> Value:
    return seq_sum(_ifs_values(args))


@register("AVERAGEIFS")
def _averageifs(args: Sequence[Expr]) -> Value:
    xs = _ifs_values(args)
    require(bool(xs), DIV0)
    return seq_sum(xs) / len(xs)


@register("MINIFS")
def _minifs(args: Sequence[Expr]) -> Value:
    return min(_ifs_values(args), default=0.0)


@register("MAXIFS")
def _maxifs(args: Sequence[Expr]) -> Value:
    return max(_ifs_values(args), default=0.0)


def _database(args: Sequence[Expr]) -> list[float]:
    """Values of the ``field`` column in records matching the criteria block (rows OR, columns AND).

    A plain text criterion matches values that begin with it, as in Excel's advanced filter.
    """
    db, crit = grid(args[0]), grid(args[2])
    headers = [str(h).lower() for h in db[0]]
    field = scalar(args[1])
    if is_number(field):
        col = int(field) - 1  # type: ignore[arg-type]
    else:
        require(isinstance(field, str) and field.lower() in headers, VALUE)
        col = headers.index(str(field).lower())
    require(0 <= col < len(headers), VALUE)
    conditions: list[list[tuple[int, Scalar]]] = []
    for row in crit[1:]:
        conds: list[tuple[int, Scalar]] = []
        for name, c in zip(crit[0], row, strict=True):
            if c is None or c == "":
                continue
            require(str(name).lower() in headers, VALUE)
            if isinstance(c, str) and c[:1] not in "<>=":
                c = c + "*"
            conds.append((headers.index(str(name).lower()), c))
        conditions.append(conds)
    out = []
    for record in db[1:]:
        if any(all(matches_criterion(record[k], c) for k, c in conds) for conds in conditions):
            v = record[col]
            if is_number(v):
                out.append(float(v))  # type: ignore[arg-type]
    return out


@register("DSUM")
def _dsum(args: Sequence[Expr]) -> Value:
    return seq_sum(_database(args))


@register("DMIN")
def _dmin(args: Sequence[Expr]) -> Value:
    return min(_database(args), default=0.0)


@register("DMAX")
def _dmax(args: Sequence[Expr]) -> Value:
    return max(_database(args), default=0.0)
