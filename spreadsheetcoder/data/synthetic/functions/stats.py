"""Statistical functions (AVERAGE, COUNT, MEDIAN, RANK, PERCENTILE, FORECAST/TREND, distributions)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..expr import Expr
from ..values import DIV0, NA, VALUE, Scalar, Value, XlError, XlErrorSignal, is_number
from .base import boolean, cells, grid, integer, num, numbers, opt_num, register, require
from .mathfns import seq_sum


@register("AVERAGE")
def _average(args: Sequence[Expr]) -> Value:
    xs = numbers(args)
    require(bool(xs), DIV0)
    return seq_sum(xs) / len(xs)


@register("AVERAGEA")
def _averagea(args: Sequence[Expr]) -> Value:
    xs: list[float] = []
    for e in args:
        for v in cells(e):
            if isinstance(v, XlError):
                raise XlErrorSignal(v)
            if v is None:
                continue
            xs.append(1.0 if v is True else 0.0 if v is False or isinstance(v, str) else float(v))
    require(bool(xs), DIV0)
    return seq_sum(xs) / len(xs)


@register("MIN")
def _min(args: Sequence[Expr]) -> Value:
    return min(numbers(args), default=0.0)


@register("MAX")
def _max(args: Sequence[Expr]) -> Value:
    return max(numbers(args), default=0.0)


@register("COUNT")
def _count(args: Sequence[Expr]) -> Value:
    return float(sum(1 for e in args for v in cells(e) if is_number(v)))


@register("COUNTA")
def _counta(args: Sequence[Expr]) -> Value:
    return float(sum(1 for e in args for v in cells(e) if v is not None))


@register("COUNTBLANK")
def _countblank(args: Sequence[Expr]) -> Value:
    return float(sum(1 for v in cells(args[0]) if v is None or v == ""))


@register("MEDIAN")
def _median(args: Sequence[Expr]) -> Value:
    xs = sorted(numbers(args))
    require(bool(xs))
    n = len(xs)
    return xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def _variance(xs: list[float], sample: bool) -> float:
    n = len(xs)
    require(n > (1 if sample else 0), DIV0)
    mean = seq_sum(xs) / n
    return seq_sum([(x - mean) ** 2 for x in xs]) / (n - 1 if sample else n)


@register("STDEV", "STDEV.S")
def _stdev(args: Sequence[Expr]) -> Value:
    return math.sqrt(_variance(numbers(args), True))


@register("STDEV.P", "STDEVP")
def _stdevp(args: Sequence[Expr]) -> Value:
    return math.sqrt(_variance(numbers(args), False))


@register("VAR", "VAR.S")
def _var(args: Sequence[Expr]) -> Value:
    return _variance(numbers(args), True)


@register("VAR.P", "VARP")
def _varp(args: Sequence[Expr]) -> Value:
    return _variance(numbers(args), False)


@register("LARGE")
def _large(args: Sequence[Expr]) -> Value:
    xs, k = sorted(numbers(args[:1]), reverse=True), integer(args[1])
    require(1 <= k <= len(xs))
    return xs[k - 1]


@register("SMALL")
def _small(args: Sequence[Expr]) -> Value:
    xs, k = sorted(numbers(args[:1])), integer(args[1])
    require(1 <= k <= len(xs))
    return xs[k - 1]


def _rank(args: Sequence[Expr], average: bool) -> Value:
    x, xs = num(args[0]), numbers(args[1:2])
    descending = opt_num(args, 2, 0.0) == 0
    require(x in xs, NA)
    better = sum(1 for v in xs if (v > x if descending else v < x))
    if not average:
        return float(better + 1)
    ties = sum(1 for v in xs if v == x)
    return better + (ties + 1) / 2


@register("RANK", "RANK.EQ")
def _rank_eq(args: Sequence[Expr]) -> Value:
    return _rank(args, average=False)


@register("RANK.AVG")
def _rank_avg(args: Sequence[Expr]) -> Value:
    return _rank(args, average=True)


def _interpolate(xs: list[float], pos: float) -> float:
    lo = math.floor(pos)
    if lo + 1 >= len(xs):
        return xs[lo]
    return xs[lo] + (pos - lo) * (xs[lo + 1] - xs[lo])


@register("PERCENTILE", "PERCENTILE.INC")
def _percentile(args: Sequence[Expr]) -> Value:
    xs, k = sorted(numbers(args[:1])), num(args[1])
    require(bool(xs) and 0 <= k <= 1)
    return _interpolate(xs, k * (len(xs) - 1))


@register("PERCENTILE.EXC")
def _percentile_exc(args: Sequence[Expr]) -> Value:
    xs, k = sorted(numbers(args[:1])), num(args[1])
    pos = k * (len(xs) + 1)
    require(bool(xs) and 1 <= pos <= len(xs))
    return _interpolate(xs, pos - 1)


@register("TRIMMEAN")
def _trimmean(args: Sequence[Expr]) -> Value:
    xs, p = sorted(numbers(args[:1])), num(args[1])
    require(bool(xs) and 0 <= p < 1)
    k = int(len(xs) * p)
    k -= k % 2
    kept = xs[k // 2: len(xs) - k // 2]
    return seq_sum(kept) / len(kept)


def _pairs(ys: Expr, xs: Expr) -> tuple[list[float], list[float]]:
    gy, gx = [v for row in grid(ys) for v in row], [v for row in grid(xs) for v in row]
    require(len(gy) == len(gx), NA)
    px, py = [], []
    for x, y in zip(gx, gy, strict=True):
        if is_number(x) and is_number(y):
            px.append(float(x))  # type: ignore[arg-type]
            py.append(float(y))  # type: ignore[arg-type]
    return px, py


def _fit(px: list[float], py: list[float]) -> tuple[float, float]:
    n = len(px)
    require(n >= 1, DIV0)
    mx, my = seq_sum(px) / n, seq_sum(py) / n
    sxx = seq_sum([(x - mx) ** 2 for x in px])
    require(sxx != 0, DIV0)
    slope = seq_sum([(x - mx) * (y - my) for x, y in zip(px, py, strict=True)]) / sxx
    return slope, my - slope * mx


@register("FORECAST", "FORECAST.LINEAR")
def _forecast(args: Sequence[Expr]) -> Value:
    slope, intercept = _fit(*_pairs(args[1], args[2]))
    return intercept + slope * num(args[0])


@register("SLOPE")
def _slope(args: Sequence[Expr]) -> Value:
    return _fit(*_pairs(args[0], args[1]))[0]


@register("INTERCEPT")
def _intercept(args: Sequence[Expr]) -> Value:
    return _fit(*_pairs(args[0], args[1]))[1]


def _predict(args: Sequence[Expr], log: bool) -> Value:
    px, py = _pairs(args[0], args[1])
    if log:
        require(all(y > 0 for y in py))
        py = [math.log(y) for y in py]
    slope, intercept = _fit(px, py)

    def at(v: Scalar) -> Scalar:
        if not is_number(v):
            return VALUE
        y = intercept + slope * float(v)  # type: ignore[arg-type]
        return math.exp(y) if log else y
    new = grid(args[2])
    if len(new) == 1 and len(new[0]) == 1:
        return at(new[0][0])
    return tuple(tuple(at(v) for v in row) for row in new)


@register("TREND")
def _trend(args: Sequence[Expr]) -> Value:
    return _predict(args, log=False)


@register("GROWTH")
def _growth(args: Sequence[Expr]) -> Value:
    return _predict(args, log=True)


@register("LINEST")
def _linest(args: Sequence[Expr]) -> Value:
    px, py = _pairs(args[0], args[1])
    slope, intercept = _fit(px, py)
    return ((slope, intercept),)


@register("FREQUENCY")
def _frequency(args: Sequence[Expr]) -> Value:
    data, bins = numbers(args[:1]), sorted(numbers(args[1:2]))
    counts = [0.0] * (len(bins) + 1)
    for x in data:
        i = next((k for k, b in enumerate(bins) if x <= b), len(bins))
        counts[i] += 1
    return tuple((c,) for c in counts)


@register("POISSON.DIST", "POISSON")
def _poisson(args: Sequence[Expr]) -> Value:
    x, mean, cumulative = math.floor(num(args[0])), num(args[1]), boolean(args[2])
    require(x >= 0 and mean >= 0)
    pmf = [math.exp(-mean + k * math.log(mean) - math.lgamma(k + 1)) if mean > 0 else float(k == 0)
           for k in range(x + 1)]
    return seq_sum(pmf) if cumulative else pmf[-1]


@register("EXPON.DIST", "EXPONDIST")
def _expon(args: Sequence[Expr]) -> Value:
    x, lam, cumulative = num(args[0]), num(args[1]), boolean(args[2])
    require(x >= 0 and lam > 0)
    return 1 - math.exp(-lam * x) if cumulative else lam * math.exp(-lam * x)


@register("FISHER")
def _fisher(args: Sequence[Expr]) -> Value:
    x = num(args[0])
    require(-1 < x < 1)
    return 0.5 * math.log((1 + x) / (1 - x))


@register("FISHERINV")
def _fisherinv(args: Sequence[Expr]) -> Value:
    return math.tanh(num(args[0]))


@register("GAUSS")
def _gauss(args: Sequence[Expr]) -> Value:
    return 0.5 * math.erf(num(args[0]) / math.sqrt(2))


@register("NORM.S.DIST")
def _norm_s_dist(args: Sequence[Expr]) -> Value:
    z = num(args[0])
    if boolean(args[1]):
        return 0.5 * math.erfc(-z / math.sqrt(2))
    return math.exp(-z * z / 2) / math.sqrt(2 * math.pi)


@register("PROB")
def _prob(args: Sequence[Expr]) -> Value:
    xs = [v for row in grid(args[0]) for v in row]
    ps = [v for row in grid(args[1]) for v in row]
    require(len(xs) == len(ps), NA)
    lower = num(args[2])
    upper = opt_num(args, 3, lower)
    probs = [float(p) for p in ps if is_number(p)]  # type: ignore[arg-type]
    require(all(0 <= p <= 1 for p in probs) and abs(seq_sum(probs) - 1) < 1e-9)
    return seq_sum([float(p) for x, p in zip(xs, ps, strict=True)  # type: ignore[arg-type]
                     if is_number(x) and is_number(p) and lower <= float(x) <= upper])  # type: ignore[arg-type]
