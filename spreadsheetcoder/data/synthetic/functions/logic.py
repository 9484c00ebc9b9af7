"""Logical and information functions (IF, IFERROR, AND, CHOOSE, ISBLANK, ISNUMBER, TYPE, N, T...)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..expr import Expr
from ..values import ERROR_TYPES, NA, VALUE, Value, XlError, XlErrorSignal, compare, is_number, to_bool
from .base import boolean, cells, integer, is_range, num, opt_num, register, require, scalar


def _given(args: Sequence[Expr], i: int) -> bool:
    return i < len(args) and not (args[i].text == "" and args[i].value is None)


@register("IF")
def _if(args: Sequence[Expr]) -> Value:
    if boolean(args[0]):
        return args[1].value if _given(args, 1) else 0.0
    if len(args) < 3:
        return False
    return args[2].value if _given(args, 2) else 0.0


@register("IFS")
def _ifs(args: Sequence[Expr]) -> Value:
    for cond, result in zip(args[::2], args[1::2], strict=True):
        if boolean(cond):
            return result.value
    raise XlErrorSignal(NA)


@register("SWITCH")
def _switch(args: Sequence[Expr]) -> Value:
    target = scalar(args[0])
    rest = args[1:]
    for case, result in zip(rest[::2], rest[1::2], strict=False):
        if compare(target, scalar(case)) == 0:
            return result.value
    if len(rest) % 2:
        return rest[-1].value
    raise XlErrorSignal(NA)


@register("IFERROR")
def _iferror(args: Sequence[Expr]) -> Value:
    v = args[0].value
    return args[1].value if isinstance(v, XlError) else v


@register("IFNA")
def _ifna(args: Sequence[Expr]) -> Value:
    v = args[0].value
    return args[1].value if v == NA else v


def _logicals(args: Sequence[Expr]) -> list[bool]:
    out: list[bool] = []
    for e in args:
        if is_range(e):
            for v in cells(e):
                if isinstance(v, XlError):
                    raise XlErrorSignal(v)
                if isinstance(v, bool) or is_number(v):
                    out.append(to_bool(v))
        else:
            out.append(boolean(e))
    require(bool(out), VALUE)
    return out


@register("AND")
def _and(args: Sequence[Expr]) -> Value:
    return all(_logicals(args))


@register("OR")
def _or(args: Sequence[Expr]) -> Value:
    return any(_logicals(args))


@register("XOR")
def _xor(args: Sequence[Expr]) -> Value:
    return sum(_logicals(args)) % 2 == 1


@register("NOT")
def _not(args: Sequence[Expr]) -> Value:
    return not boolean(args[0])


@register("TRUE")
def _true(args: Sequence[Expr]) -> Value:
    return True


@register("FALSE")
def _false(args: Sequence[Expr]) -> Value:
    return False


@register("CHOOSE")
def _choose(args: Sequence[Expr]) -> Value:
    k = integer(args[0])
    require(1 <= k < len(args), VALUE)
    return args[k].value


@register("ISBLANK")
def _isblank(args: Sequence[Expr]) -> Value:
    return args[0].value is None


@register("ISNUMBER")
def _isnumber(args: Sequence[Expr]) -> Value:
    return is_number(args[0].value)


@register("ISTEXT")
def _istext(args: Sequence[Expr]) -> Value:
    return isinstance(args[0].value, str)


@register("ISNONTEXT")
def _isnontext(args: Sequence[Expr]) -> Value:
    return not isinstance(args[0].value, str)


@register("ISLOGICAL")
def _islogical(args: Sequence[Expr]) -> Value:
    return isinstance(args[0].value, bool)


@register("ISERROR")
def _iserror(args: Sequence[Expr]) -> Value:
    return isinstance(args[0].value, XlError)


@register("ISERR")
def _iserr(args: Sequence[Expr]) -> Value:
    return isinstance(args[0].value, XlError) and args[0].value != NA


@register("ISNA")
def _isna(args: Sequence[Expr]) -> Value:
    return args[0].value == NA


def _parity(args: Sequence[Expr]) -> int:
    v = scalar(args[0])
    require(not isinstance(v, (bool, str)), VALUE)
    return math.trunc(num(args[0])) % 2


@register("ISODD")
def _isodd(args: Sequence[Expr]) -> Value:
    return _parity(args) == 1


@register("ISEVEN")
def _iseven(args: Sequence[Expr]) -> Value:
    return _parity(args) == 0


@register("ISREF")
def _isref(args: Sequence[Expr]) -> Value:
    return args[0].span is not None


@register("NA")
def _na(args: Sequence[Expr]) -> Value:
    return NA


@register("ERROR.TYPE")
def _error_type(args: Sequence[Expr]) -> Value:
    v = scalar(args[0])
    require(isinstance(v, XlError), NA)
    assert isinstance(v, XlError)
    return float(ERROR_TYPES[v.code])


@register("TYPE")
def _type(args: Sequence[Expr]) -> Value:
    v = args[0].value
    if isinstance(v, tuple):
        return 64.0
    if isinstance(v, bool):
        return 4.0
    if isinstance(v, str):
        return 2.0
    if isinstance(v, XlError):
        return 16.0
    return 1.0


@register("N")
def _n(args: Sequence[Expr]) -> Value:
    v = scalar(args[0])
    if isinstance(v, XlError):
        raise XlErrorSignal(v)
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    return float(v) if is_number(v) else 0.0  # type: ignore[arg-type]


@register("T")
def _t(args: Sequence[Expr]) -> Value:
    v = scalar(args[0])
    if isinstance(v, XlError):
        raise XlErrorSignal(v)
    return v if isinstance(v, str) else ""


@register("DELTA")
def _delta(args: Sequence[Expr]) -> Value:
    return 1.0 if num(args[0]) == opt_num(args, 1, 0.0) else 0.0


@register("GESTEP")
def _gestep(args: Sequence[Expr]) -> Value:
    return 1.0 if num(args[0]) >= opt_num(args, 1, 0.0) else 0.0
