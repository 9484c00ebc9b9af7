"""Financial functions (PMT, IPMT, NPV, IRR, XIRR, RATE, depreciation, bond accrual helpers).

Iterative ones (IRR, XIRR, RATE) run Newton's method to machine precision, so independent
engines agree to ~1e-12; the generator only builds cash flows that have one sign change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from ..expr import Expr
from ..values import NUM, Value, date_of
from .base import integer, num, numbers, opt_num, register, require
from .dates import days360
from .mathfns import seq_sum


def _fv(r: float, n: float, pmt: float, pv: float, kind: float) -> float:
    if r == 0:
        return -(pv + pmt * n)
    g = (1 + r) ** n
    return -(pv * g + pmt * (1 + r * kind) * (g - 1) / r)


def _pmt(r: float, n: float, pv: float, fv: float, kind: float) -> float:
    if r == 0:
        return -(pv + fv) / n
    g = (1 + r) ** n
    return -(r * (pv * g + fv)) / ((1 + r * kind) * (g - 1))


@register("PMT")
def _pmt_fn(args: Sequence[Expr]) -> Value:
    return _pmt(num(args[0]), num(args[1]), num(args[2]), opt_num(args, 3, 0), opt_num(args, 4, 0))


@register("FV")
def _fv_fn(args: Sequence[Expr]) -> Value:
    return _fv(num(args[0]), num(args[1]), num(args[2]), opt_num(args, 3, 0), opt_num(args, 4, 0))


@register("PV")
def _pv(args: Sequence[Expr]) -> Value:
    r, n, pmt, fv, kind = num(args[0]), num(args[1]), num(args[2]), opt_num(args, 3, 0), opt_num(args, 4, 0)
    if r == 0:
        return -(fv + pmt * n)
    g = (1 + r) ** n
    return -(fv + pmt * (1 + r * kind) * (g - 1) / r) / g


@register("NPER")
def _nper(args: Sequence[Expr]) -> Value:
    r, pmt, pv, fv, kind = num(args[0]), num(args[1]), num(args[2]), opt_num(args, 3, 0), opt_num(args, 4, 0)
    if r == 0:
        return -(pv + fv) / pmt
    return math.log((pmt * (1 + r * kind) - fv * r) / (pmt * (1 + r * kind) + pv * r)) / math.log(1 + r)


def _ipmt(r: float, per: int, n: float, pv: float) -> float:
    pmt = _pmt(r, n, pv, 0, 0)
    return _fv(r, per - 1, pmt, pv, 0) * r


@register("IPMT")
def _ipmt_fn(args: Sequence[Expr]) -> Value:
    r, per, n, pv = num(args[0]), integer(args[1]), num(args[2]), num(args[3])
    require(1 <= per <= n)
    return _ipmt(r, per, n, pv)


@register("PPMT")
def _ppmt(args: Sequence[Expr]) -> Value:
    r, per, n, pv = num(args[0]), integer(args[1]), num(args[2]), num(args[3])
    require(1 <= per <= n)
    return _pmt(r, n, pv, 0, 0) - _ipmt(r, per, n, pv)


def _cumulative(args: Sequence[Expr], interest: bool) -> float:
    r, n, pv = num(args[0]), num(args[1]), num(args[2])
    start, end, kind = integer(args[3]), integer(args[4]), integer(args[5])
    require(r > 0 and n > 0 and pv > 0 and 1 <= start <= end and kind == 0)
    pmt = _pmt(r, n, pv, 0, 0)
    parts = [_ipmt(r, k, n, pv) if interest else pmt - _ipmt(r, k, n, pv) for k in range(start, end + 1)]
    return seq_sum(parts)


@register("CUMIPMT")
def _cumipmt(args: Sequence[Expr]) -> Value:
    return _cumulative(args, interest=True)


@register("CUMPRINC")
def _cumprinc(args: Sequence[Expr]) -> Value:
    return _cumulative(args, interest=False)


@register("NPV")
def _npv(args: Sequence[Expr]) -> Value:
    r = num(args[0])
    return seq_sum([v / (1 + r) ** i for i, v in enumerate(numbers(args[1:]), start=1)])


def _newton(f: Callable[[float], float], guess: float) -> float:
    x = guess
    for _ in range(100):
        y = f(x)
        h = 1e-7 * max(1.0, abs(x))
        d = (f(x + h) - f(x - h)) / (2 * h)
        require(d != 0)
        step = y / d
        x -= step
        require(x > -1)
        if abs(step) <= 1e-15 * max(1.0, abs(x)):
            return x
    require(abs(f(x)) < 1e-7)
    return x


@register("IRR")
def _irr(args: Sequence[Expr]) -> Value:
    flows = numbers(args[:1])
    return _newton(lambda r: seq_sum([v / (1 + r) ** i for i, v in enumerate(flows)]), opt_num(args, 1, 0.1))


def _xflows(values: Expr, dates: Expr) -> tuple[list[float], list[float]]:
    vs, ds = numbers([values]), numbers([dates])
    require(len(vs) == len(ds) and len(vs) >= 2)
    return vs, [math.floor(d) for d in ds]


@register("XNPV")
def _xnpv(args: Sequence[Expr]) -> Value:
    r = num(args[0])
    vs, ds = _xflows(args[1], args[2])
    return seq_sum([v / (1 + r) ** ((d - ds[0]) / 365) for v, d in zip(vs, ds, strict=True)])


@register("XIRR")
def _xirr(args: Sequence[Expr]) -> Value:
    vs, ds = _xflows(args[0], args[1])
    return _newton(lambda r: seq_sum([v / (1 + r) ** ((d - ds[0]) / 365) for v, d in zip(vs, ds, strict=True)]),
                   opt_num(args, 2, 0.1))


@register("RATE")
def _rate(args: Sequence[Expr]) -> Value:
    n, pmt, pv = num(args[0]), num(args[1]), num(args[2])
    fv, kind = opt_num(args, 3, 0), opt_num(args, 4, 0)

    def f(r: float) -> float:
        if abs(r) < 1e-12:
            return pv + pmt * n + fv
        g = (1 + r) ** n
        return pv * g + pmt * (1 + r * kind) * (g - 1) / r + fv
    return _newton(f, opt_num(args, 5, 0.1))


@register("SLN")
def _sln(args: Sequence[Expr]) -> Value:
    return (num(args[0]) - num(args[1])) / num(args[2])


@register("SYD")
def _syd(args: Sequence[Expr]) -> Value:
    cost, salvage, life, per = num(args[0]), num(args[1]), num(args[2]), num(args[3])
    require(1 <= per <= life)
    return (cost - salvage) * (life - per + 1) * 2 / (life * (life + 1))


@register("DDB")
def _ddb(args: Sequence[Expr]) -> Value:
    cost, salvage, life, period = num(args[0]), num(args[1]), num(args[2]), integer(args[3])
    factor = opt_num(args, 4, 2.0)
    require(1 <= period <= life and cost >= salvage >= 0)
    accumulated, dep = 0.0, 0.0
    for _ in range(period):
        dep = min((cost - accumulated) * factor / life, max(0.0, cost - salvage - accumulated))
        accumulated += dep
    return dep


@register("DB")
def _db(args: Sequence[Expr]) -> Value:
    cost, salvage, life, period = num(args[0]), num(args[1]), integer(args[2]), integer(args[3])
    month = int(opt_num(args, 4, 12))
    require(cost > 0 and salvage >= 0 and 1 <= period <= life + (month < 12))
    rate = round(1 - (salvage / cost) ** (1 / life), 3)
    accumulated = cost * rate * month / 12
    dep = accumulated
    for p in range(2, period + 1):
        dep = (cost - accumulated) * rate * ((12 - month) / 12 if p == life + 1 else 1)
        accumulated += dep
    return dep


@register("NOMINAL")
def _nominal(args: Sequence[Expr]) -> Value:
    effect, n = num(args[0]), integer(args[1])
    require(effect > 0 and n >= 1)
    return n * ((1 + effect) ** (1 / n) - 1)


@register("EFFECT")
def _effect(args: Sequence[Expr]) -> Value:
    nominal, n = num(args[0]), integer(args[1])
    require(nominal > 0 and n >= 1)
    return (1 + nominal / n) ** n - 1


@register("PDURATION")
def _pduration(args: Sequence[Expr]) -> Value:
    r, pv, fv = num(args[0]), num(args[1]), num(args[2])
    require(r > 0 and pv > 0 and fv > 0)
    return (math.log(fv) - math.log(pv)) / math.log(1 + r)


@register("RRI")
def _rri(args: Sequence[Expr]) -> Value:
    n, pv, fv = num(args[0]), num(args[1]), num(args[2])
    require(n > 0 and pv != 0)
    return (fv / pv) ** (1 / n) - 1


@register("ISPMT")
def _ispmt(args: Sequence[Expr]) -> Value:
    r, per, n, pv = num(args[0]), num(args[1]), num(args[2]), num(args[3])
    return pv * r * (per / n - 1)


def _days_basis(a: Expr, b: Expr, basis: int) -> tuple[float, float]:
    """(days between, days per year) under a day-count basis (0 = 30/360 US, 2 = act/360, 3 = act/365)."""
    if basis == 0:
        return days360(date_of(num(a)), date_of(num(b))), 360.0
    require(basis in (2, 3))
    days = (date_of(num(b)) - date_of(num(a))).days
    return float(days), 360.0 if basis == 2 else 365.0


@register("ACCRINTM")
def _accrintm(args: Sequence[Expr]) -> Value:
    rate, par, basis = num(args[2]), num(args[3]), int(opt_num(args, 4, 0))
    days, year = _days_basis(args[0], args[1], basis)
    require(rate > 0 and par > 0 and days > 0)
    return par * rate * days / year


@register("ACCRINT")
def _accrint(args: Sequence[Expr]) -> Value:
    # Settlement within the first coupon period, 30/360: accrual from issue to settlement.
    rate, par, basis = num(args[3]), num(args[4]), int(opt_num(args, 6, 0))
    require(basis == 0 and num(args[2]) <= num(args[1]), NUM)
    days, year = _days_basis(args[0], args[2], basis)
    return par * rate * days / year


@register("DISC")
def _disc(args: Sequence[Expr]) -> Value:
    price, redemption, basis = num(args[2]), num(args[3]), int(opt_num(args, 4, 0))
    days, year = _days_basis(args[0], args[1], basis)
    require(days > 0 and price > 0 and redemption > 0)
    return (redemption - price) / redemption * year / days


def _fraction_digits(fraction: int) -> int:
    return math.ceil(math.log10(fraction))


@register("DOLLARDE")
def _dollarde(args: Sequence[Expr]) -> Value:
    x, fraction = num(args[0]), integer(args[1])
    require(fraction > 0)
    whole = math.trunc(x)
    return whole + (x - whole) * 10 ** _fraction_digits(fraction) / fraction


@register("DOLLARFR")
def _dollarfr(args: Sequence[Expr]) -> Value:
    x, fraction = num(args[0]), integer(args[1])
    require(fraction > 0)
    whole = math.trunc(x)
    return whole + (x - whole) * fraction / 10 ** _fraction_digits(fraction)
