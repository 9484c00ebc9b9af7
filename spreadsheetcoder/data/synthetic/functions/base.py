"""Function registry and argument coercion shared by the function modules.

Each implementation takes the argument expressions (so reference functions can read ``span``)
and returns a value; raising ``XlErrorSignal`` returns an Excel error. ``call`` renders the text,
adding the ``_xlfn.`` prefix the file format needs for functions newer than Excel 2007.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence

from ..expr import Expr, Operand, home_of, lift
from ..values import (
    DIV0,
    NUM,
    VALUE,
    Grid,
    Scalar,
    Value,
    XlError,
    XlErrorSignal,
    is_number,
    to_bool,
    to_number,
    to_text,
)

__all__ = ["FUNCTIONS", "Impl", "call", "register"]

Impl = Callable[[Sequence[Expr]], Value]
FUNCTIONS: dict[str, Impl] = {}
# Stored as `_xlfn.NAME` (or `_xlfn._xlws.NAME`) in files; shown without the prefix in Excel.
PREFIXES: dict[str, str] = {}
_XLFN = ["CONCAT", "TEXTJOIN", "IFS", "SWITCH", "XLOOKUP", "XMATCH", "FORECAST.LINEAR", "POISSON.DIST", "EXPON.DIST", "GAMMALN.PRECISE", "ERF.PRECISE", "ERFC.PRECISE", "PERCENTILE.INC", "PERCENTILE.EXC", "RANK.EQ", "RANK.AVG", "STDEV.S", "STDEV.P", "IFNA", "BITAND", "BITOR", "BITXOR", "BITLSHIFT", "BITRSHIFT", "BASE", "DECIMAL", "PDURATION", "RRI", "PERMUTATIONA", "GAUSS", "SHEET", "FORMULATEXT", "GAMMA", "DAYS", "SEQUENCE", "UNIQUE", "TEXTSPLIT", "VALUETOTEXT", "MINIFS", "MAXIFS", "NORM.S.DIST"]
PREFIXES.update({name: "_xlfn." for name in _XLFN})
PREFIXES["FILTER"] = "_xlfn._xlws."
PREFIXES["SORT"] = "_xlfn._xlws."


def register(*names: str) -> Callable[[Impl], Impl]:
    """Decorator: register an implementation under one or more function names."""
    def wrap(fn: Impl) -> Impl:
        for name in names:
            FUNCTIONS[name] = fn
        return fn
    return wrap


def call(name: str, *args: Operand | None) -> Expr:
    """``NAME(arg,...)`` with its value; ``None`` leaves an argument empty (``PMT(r,n,pv,,1)``)."""
    impl = FUNCTIONS[name]
    exprs = [lift(a) if a is not None else Expr("", None) for a in args]
    text = f"{PREFIXES.get(name, '')}{name}({','.join(e.text for e in exprs)})"
    try:
        value = impl(exprs)
    except XlErrorSignal as signal:
        value = signal.error
    except ZeroDivisionError:
        value = DIV0
    except (ValueError, OverflowError):
        value = NUM
    if isinstance(value, float) and not math.isfinite(value):
        value = NUM
    return Expr(text, value, home=home_of(exprs))


# -- argument helpers ---------------------------------------------------------------------------
def is_range(e: Expr) -> bool:
    """References and arrays follow range rules (text and booleans inside them are skipped)."""
    return e.span is not None or isinstance(e.value, tuple)


def grid(e: Expr) -> Grid:
    v = e.value
    return v if isinstance(v, tuple) else ((v,),)


def cells(e: Expr) -> Iterator[Scalar]:
    for row in grid(e):
        yield from row


def numbers(args: Sequence[Expr], *, raise_errors: bool = True) -> list[float]:
    """Numbers of aggregate arguments (SUM, AVERAGE, MAX...): in ranges only true numbers count,
    literal arguments are coerced (TRUE is 1, "3" is 3, other text is #VALUE!)."""
    out: list[float] = []
    for e in args:
        if e.text == "" and e.value is None:
            continue
        if is_range(e):
            for v in cells(e):
                if isinstance(v, XlError):
                    if raise_errors:
                        raise XlErrorSignal(v)
                elif is_number(v):
                    out.append(float(v))  # type: ignore[arg-type]
        else:
            out.append(to_number(e.value))
    return out


def scalar(e: Expr) -> Scalar:
    v = e.value
    if isinstance(v, tuple):
        if len(v) == 1 and len(v[0]) == 1:
            return v[0][0]
        raise XlErrorSignal(VALUE)
    return v


def num(e: Expr) -> float:
    return to_number(e.value)


def opt_num(args: Sequence[Expr], i: int, default: float) -> float:
    if i >= len(args) or (args[i].text == "" and args[i].value is None):
        return default
    return num(args[i])


def integer(e: Expr) -> int:
    return math.trunc(num(e))


def text(e: Expr) -> str:
    return to_text(e.value)


def boolean(e: Expr) -> bool:
    return to_bool(e.value)


def require(condition: bool, error: XlError = NUM) -> None:
    """Raise the Excel error unless ``condition`` holds (argument checks)."""
    if not condition:
        raise XlErrorSignal(error)


def vector(e: Expr) -> list[Scalar]:
    """A one-row or one-column range as a flat list (#N/A for a 2-D block)."""
    g = grid(e)
    if len(g) == 1:
        return list(g[0])
    require(len(g[0]) == 1, XlError("#N/A"))
    return [row[0] for row in g]
