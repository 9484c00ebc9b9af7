"""Math and trigonometry functions (SUM, ROUND, MOD, SUMPRODUCT, MMULT, ROMAN, BASE...)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal

from ..expr import Expr
from ..values import DIV0, VALUE, Scalar, Value, XlError, XlErrorSignal, is_number
from .base import grid, integer, num, numbers, opt_num, register, require, text


@register("SUM")
def _sum(args: Sequence[Expr]) -> Value:
    return seq_sum(numbers(args))


def seq_sum(xs: list[float]) -> float:
    """Left-to-right sum, as Excel adds (math.fsum would differ in the last bits)."""
    total = 0.0
    for x in xs:
        total += x
    return total


@register("PRODUCT")
def _product(args: Sequence[Expr]) -> Value:
    xs = numbers(args)
    return math.prod(xs) if xs else 0.0


@register("SUMSQ")
def _sumsq(args: Sequence[Expr]) -> Value:
    return seq_sum([x * x for x in numbers(args)])


@register("SUMPRODUCT")
def _sumproduct(args: Sequence[Expr]) -> Value:
    grids = [grid(a) for a in args]
    shape = (len(grids[0]), len(grids[0][0]))
    require(all((len(g), len(g[0])) == shape for g in grids), VALUE)
    total = 0.0
    for i in range(shape[0]):
        for j in range(shape[1]):
            p = 1.0
            for g in grids:
                v = g[i][j]
                if isinstance(v, XlError):
                    raise XlErrorSignal(v)
                p *= float(v) if is_number(v) else 0.0  # type: ignore[arg-type]
            total += p
    return total


def _unary(name: str, fn: Callable[[float], float]) -> None:
    def impl(args: Sequence[Expr]) -> Value:
        return fn(num(args[0]))
    register(name)(impl)


def _odd_up(x: float) -> float:
    n = math.ceil(x)
    return float(n if n % 2 else n + 1)


def _checked_sqrt(x: float) -> float:
    require(x >= 0)
    return math.sqrt(x)


def _checked_ln(x: float) -> float:
    require(x > 0)
    return math.log(x)


_unary("ABS", abs)
_unary("SQRT", _checked_sqrt)
_unary("SQRTPI", lambda x: _checked_sqrt(x * math.pi))
_unary("EXP", math.exp)
_unary("LN", _checked_ln)
_unary("LOG10", lambda x: _checked_ln(x) / math.log(10))
_unary("SIN", math.sin)
_unary("COS", math.cos)
_unary("TAN", math.tan)
_unary("RADIANS", math.radians)
_unary("DEGREES", math.degrees)
_unary("INT", lambda x: float(math.floor(x)))
_unary("SIGN", lambda x: float((x > 0) - (x < 0)))
_unary("EVEN", lambda x: math.copysign(2 * math.ceil(abs(x) / 2), x) if x else 0.0)
_unary("ODD", lambda x: math.copysign(_odd_up(abs(x)), x) if x else 1.0)


@register("PI")
def _pi(args: Sequence[Expr]) -> Value:
    return math.pi


@register("POWER")
def _power(args: Sequence[Expr]) -> Value:
    x, y = num(args[0]), num(args[1])
    require(not (x == 0 and y < 0), DIV0)
    require(x >= 0 or y.is_integer())
    return x**y


@register("LOG")
def _log(args: Sequence[Expr]) -> Value:
    x, base = num(args[0]), opt_num(args, 1, 10.0)
    require(x > 0 and base > 0)
    require(base != 1, DIV0)
    return math.log(x) / math.log(base)


@register("ATAN2")
def _atan2(args: Sequence[Expr]) -> Value:
    x, y = num(args[0]), num(args[1])
    require(x != 0 or y != 0, DIV0)
    return math.atan2(y, x)  # Excel takes (x, y)


@register("MOD")
def _mod(args: Sequence[Expr]) -> Value:
    x, y = num(args[0]), num(args[1])
    require(y != 0, DIV0)
    return x - y * math.floor(x / y)


@register("QUOTIENT")
def _quotient(args: Sequence[Expr]) -> Value:
    x, y = num(args[0]), num(args[1])
    require(y != 0, DIV0)
    return float(math.trunc(x / y))


def _decimal_round(x: float, digits: int, mode: str) -> float:
    # Excel rounds the number as displayed to 15 significant digits, so ROUND(2.675,2) is 2.68.
    d = Decimal(f"{x:.15g}")
    return float(d.quantize(Decimal(1).scaleb(-digits), rounding=mode))


@register("ROUND")
def _round(args: Sequence[Expr]) -> Value:
    return _decimal_round(num(args[0]), integer(args[1]), ROUND_HALF_UP)


@register("ROUNDUP")
def _roundup(args: Sequence[Expr]) -> Value:
    return _decimal_round(num(args[0]), integer(args[1]), ROUND_UP)


@register("ROUNDDOWN")
def _rounddown(args: Sequence[Expr]) -> Value:
    return _decimal_round(num(args[0]), integer(args[1]), ROUND_DOWN)


@register("TRUNC")
def _trunc(args: Sequence[Expr]) -> Value:
    return _decimal_round(num(args[0]), int(opt_num(args, 1, 0)), ROUND_DOWN)


def _to_multiple(x: float, sig: float, up: bool) -> float:
    if x == 0 or sig == 0:
        return 0.0
    require(not (x > 0 and sig < 0))
    q = Decimal(f"{x / sig:.15g}")
    n = math.ceil(q) if up else math.floor(q)
    return float(Decimal(n) * Decimal(f"{sig:.15g}"))


@register("FLOOR")
def _floor(args: Sequence[Expr]) -> Value:
    return _to_multiple(num(args[0]), num(args[1]), up=False)


@register("CEILING")
def _ceiling(args: Sequence[Expr]) -> Value:
    return _to_multiple(num(args[0]), num(args[1]), up=True)


@register("FACT")
def _fact(args: Sequence[Expr]) -> Value:
    n = math.floor(num(args[0]))
    require(n >= 0)
    return float(math.factorial(n))


@register("FACTDOUBLE")
def _factdouble(args: Sequence[Expr]) -> Value:
    n = math.floor(num(args[0]))
    require(n >= -1)
    return float(math.prod(range(n, 0, -2))) if n > 0 else 1.0


@register("MULTINOMIAL")
def _multinomial(args: Sequence[Expr]) -> Value:
    ks = [math.floor(x) for x in numbers(args)]
    require(all(k >= 0 for k in ks))
    result = math.factorial(sum(ks))
    for k in ks:
        result //= math.factorial(k)
    return float(result)


@register("PERMUT")
def _permut(args: Sequence[Expr]) -> Value:
    n, k = math.floor(num(args[0])), math.floor(num(args[1]))
    require(n >= 0 and k >= 0 and n >= k)
    return float(math.perm(n, k))


@register("PERMUTATIONA")
def _permutationa(args: Sequence[Expr]) -> Value:
    n, k = math.floor(num(args[0])), math.floor(num(args[1]))
    require(n >= 0 and k >= 0)
    return float(n**k)


@register("COMBIN")
def _combin(args: Sequence[Expr]) -> Value:
    n, k = math.floor(num(args[0])), math.floor(num(args[1]))
    require(n >= 0 and k >= 0 and n >= k)
    return float(math.comb(n, k))


@register("GAMMA")
def _gamma(args: Sequence[Expr]) -> Value:
    x = num(args[0])
    require(not (x <= 0 and x.is_integer()))
    return math.gamma(x)


@register("GAMMALN", "GAMMALN.PRECISE")
def _gammaln(args: Sequence[Expr]) -> Value:
    x = num(args[0])
    require(x > 0)
    return math.lgamma(x)


def _matrix(e: Expr) -> list[list[float]]:
    rows = grid(e)
    for v in (v for row in rows for v in row):
        require(is_number(v), VALUE)
    return [[float(v) for v in row] for row in rows]  # type: ignore[arg-type]


@register("MMULT")
def _mmult(args: Sequence[Expr]) -> Value:
    a, b = _matrix(args[0]), _matrix(args[1])
    require(len(a[0]) == len(b), VALUE)
    return tuple(tuple(seq_sum([a[i][k] * b[k][j] for k in range(len(b))]) for j in range(len(b[0])))
                 for i in range(len(a)))


def _det(m: list[list[float]]) -> float:
    m = [row[:] for row in m]
    n, det = len(m), 1.0
    for i in range(n):
        pivot = max(range(i, n), key=lambda r: abs(m[r][i]))
        if m[pivot][i] == 0:
            return 0.0
        if pivot != i:
            m[i], m[pivot] = m[pivot], m[i]
            det = -det
        det *= m[i][i]
        for r in range(i + 1, n):
            f = m[r][i] / m[i][i]
            for c in range(i, n):
                m[r][c] -= f * m[i][c]
    return det


@register("MDETERM")
def _mdeterm(args: Sequence[Expr]) -> Value:
    m = _matrix(args[0])
    require(len(m) == len(m[0]), VALUE)
    return _det(m)


@register("MINVERSE")
def _minverse(args: Sequence[Expr]) -> Value:
    m = _matrix(args[0])
    n = len(m)
    require(n == len(m[0]), VALUE)
    aug = [row[:] + [1.0 if i == j else 0.0 for j in range(n)] for i, row in enumerate(m)]
    for i in range(n):
        pivot = max(range(i, n), key=lambda r: abs(aug[r][i]))
        require(aug[pivot][i] != 0)
        aug[i], aug[pivot] = aug[pivot], aug[i]
        p = aug[i][i]
        aug[i] = [v / p for v in aug[i]]
        for r in range(n):
            if r != i:
                f = aug[r][i]
                aug[r] = [v - f * w for v, w in zip(aug[r], aug[i], strict=True)]
    return tuple(tuple(row[n:]) for row in aug)


@register("SEQUENCE")
def _sequence(args: Sequence[Expr]) -> Value:
    rows, cols = integer(args[0]), int(opt_num(args, 1, 1))
    start, step = opt_num(args, 2, 1.0), opt_num(args, 3, 1.0)
    require(rows > 0 and cols > 0, VALUE)
    return tuple(tuple(start + step * (i * cols + j) for j in range(cols)) for i in range(rows))


_SUBTOTALS = {1: "AVERAGE", 2: "COUNT", 3: "COUNTA", 4: "MAX", 5: "MIN", 6: "PRODUCT", 7: "STDEV",
              8: "STDEV.P", 9: "SUM", 10: "VAR", 11: "VAR.P"}


@register("SUBTOTAL")
def _subtotal(args: Sequence[Expr]) -> Value:
    from .base import FUNCTIONS  # the other aggregates register in sibling modules
    code = integer(args[0]) % 100
    require(code in _SUBTOTALS, VALUE)
    kept: list[Expr] = []
    for e in args[1:]:
        span = e.span
        require(span is not None, VALUE)
        assert span is not None
        rows: list[tuple[Scalar, ...]] = []
        for r in range(span.r1, span.r2 + 1):
            row: list[Scalar] = []
            for c in range(span.c1, span.c2 + 1):
                cell = span.sheet.cells.get((r, c))
                # SUBTOTAL skips cells that hold SUBTOTAL themselves, so nested subtotals count once.
                nested = cell is not None and cell.formula is not None and "SUBTOTAL(" in cell.formula
                row.append(None if cell is None or nested else cell.value)
            rows.append(tuple(row))
        kept.append(Expr(e.text, tuple(rows), span=None))
    return FUNCTIONS[_SUBTOTALS[code]](kept)


_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
          (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))


@register("ROMAN")
def _roman(args: Sequence[Expr]) -> Value:
    n = integer(args[0])
    require(0 <= n < 4000, VALUE)
    out = []
    for value, letters in _ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@register("BASE")
def _base(args: Sequence[Expr]) -> Value:
    n, radix, width = integer(args[0]), integer(args[1]), int(opt_num(args, 2, 0))
    require(n >= 0 and 2 <= radix <= 36)
    out = ""
    while n:
        n, d = divmod(n, radix)
        out = _DIGITS[d] + out
    return (out or "0").rjust(width, "0")


@register("DECIMAL")
def _decimal(args: Sequence[Expr]) -> Value:
    s, radix = text(args[0]).upper(), integer(args[1])
    require(2 <= radix <= 36)
    require(all(ch in _DIGITS[:radix] for ch in s) and s != "")
    return float(int(s, radix))
