"""Date and time functions on Excel serials (DATE, EOMONTH, WEEKNUM, DAYS360, DATEDIF, YEARFRAC...)."""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Sequence

from ..expr import Expr
from ..values import NUM, VALUE, Value, date_of, serial
from .base import integer, num, opt_num, register, require, text


def _days(e: Expr) -> dt.date:
    return date_of(num(e))


def _shift_months(d: dt.date, months: int, end_of_month: bool) -> dt.date:
    y, m = divmod(d.year * 12 + d.month - 1 + months, 12)
    last = calendar.monthrange(y, m + 1)[1]
    return dt.date(y, m + 1, last if end_of_month else min(d.day, last))


@register("DATE")
def _date(args: Sequence[Expr]) -> Value:
    y, m, d = integer(args[0]), integer(args[1]), integer(args[2])
    if 0 <= y < 1900:
        y += 1900
    yy, mm = divmod(y * 12 + m - 1, 12)
    require(1900 <= yy <= 9999)
    return serial(dt.date(yy, mm + 1, 1) + dt.timedelta(days=d - 1))


@register("YEAR")
def _year(args: Sequence[Expr]) -> Value:
    return float(_days(args[0]).year)


@register("MONTH")
def _month(args: Sequence[Expr]) -> Value:
    return float(_days(args[0]).month)


@register("DAY")
def _day(args: Sequence[Expr]) -> Value:
    return float(_days(args[0]).day)


@register("EOMONTH")
def _eomonth(args: Sequence[Expr]) -> Value:
    return serial(_shift_months(_days(args[0]), integer(args[1]), True))


@register("EDATE")
def _edate(args: Sequence[Expr]) -> Value:
    return serial(_shift_months(_days(args[0]), integer(args[1]), False))


@register("WEEKDAY")
def _weekday(args: Sequence[Expr]) -> Value:
    d, kind = _days(args[0]), int(opt_num(args, 1, 1))
    monday0 = d.weekday()
    if kind == 1:
        return float((monday0 + 1) % 7 + 1)
    if kind == 2:
        return float(monday0 + 1)
    require(kind == 3)
    return float(monday0)


@register("WEEKNUM")
def _weeknum(args: Sequence[Expr]) -> Value:
    d, kind = _days(args[0]), int(opt_num(args, 1, 1))
    if kind == 21:
        return float(d.isocalendar()[1])
    require(kind in (1, 2))
    jan1 = dt.date(d.year, 1, 1)
    start = 6 if kind == 1 else 0  # weekday() of the first day of a week: Sunday or Monday
    offset = (jan1.weekday() - start) % 7
    return float((d.timetuple().tm_yday - 1 + offset) // 7 + 1)


def days360(a: dt.date, b: dt.date, european: bool = False) -> float:
    """Days between two dates on a 360-day year (US/NASD rules unless ``european``)."""
    sd, ed = a.day, b.day
    if european:
        sd, ed = min(sd, 30), min(ed, 30)
        return float((b.year - a.year) * 360 + (b.month - a.month) * 30 + ed - sd)
    em, ey = b.month, b.year
    if sd == 31 or (a.month == 2 and sd == calendar.monthrange(a.year, 2)[1]):
        sd = 30
    if ed == 31:
        if sd < 30:
            ed, em = 1, em + 1
        else:
            ed = 30
    return float((ey - a.year) * 360 + (em - a.month) * 30 + ed - sd)


@register("DAYS360")
def _days360(args: Sequence[Expr]) -> Value:
    return days360(_days(args[0]), _days(args[1]), len(args) > 2 and bool(num(args[2])))


@register("DAYS")
def _days_between(args: Sequence[Expr]) -> Value:
    return float(math.floor(num(args[0])) - math.floor(num(args[1])))


@register("DATEDIF")
def _datedif(args: Sequence[Expr]) -> Value:
    a, b, unit = _days(args[0]), _days(args[1]), text(args[2]).upper()
    require(a <= b)
    months = (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)
    if unit == "D":
        return float((b - a).days)
    if unit == "M":
        return float(months)
    if unit == "Y":
        return float(months // 12)
    if unit == "YM":
        return float(months % 12)
    require(False, VALUE)
    return 0.0


@register("YEARFRAC")
def _yearfrac(args: Sequence[Expr]) -> Value:
    a, b = _days(args[0]), _days(args[1])
    if a > b:
        a, b = b, a
    basis = int(opt_num(args, 2, 0))
    if basis == 0:
        sd, ed = min(a.day, 30), b.day
        if ed == 31 and sd == 30:
            ed = 30
        return ((b.year - a.year) * 360 + (b.month - a.month) * 30 + ed - sd) / 360
    require(basis in (2, 3))
    return (b - a).days / (360 if basis == 2 else 365)


def _parse_date_text(s: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%d-%b-%Y", "%d %B %Y"):
        try:
            return dt.datetime.strptime(s.strip(), fmt).date()
        except ValueError:
            continue
    require(False, VALUE)
    raise AssertionError


@register("DATEVALUE")
def _datevalue(args: Sequence[Expr]) -> Value:
    return serial(_parse_date_text(text(args[0])))


@register("TIMEVALUE")
def _timevalue(args: Sequence[Expr]) -> Value:
    parts = text(args[0]).strip().split(":")
    require(len(parts) in (2, 3) and all(p.isdigit() for p in parts), VALUE)
    h, m, s = (int(p) for p in parts + ["0"] * (3 - len(parts)))
    require(h < 24 and m < 60 and s < 60, VALUE)
    return (h * 3600 + m * 60 + s) / 86400


@register("TIME")
def _time(args: Sequence[Expr]) -> Value:
    seconds = integer(args[0]) * 3600 + integer(args[1]) * 60 + integer(args[2])
    require(seconds >= 0)
    return (seconds % 86400) / 86400


def _clock(e: Expr) -> tuple[int, int, int]:
    x = num(e)
    require(x >= 0, NUM)
    seconds = round((x - math.floor(x)) * 86400) % 86400
    h, rest = divmod(seconds, 3600)
    return h, rest // 60, rest % 60


@register("HOUR")
def _hour(args: Sequence[Expr]) -> Value:
    return float(_clock(args[0])[0])


@register("MINUTE")
def _minute(args: Sequence[Expr]) -> Value:
    return float(_clock(args[0])[1])


@register("SECOND")
def _second(args: Sequence[Expr]) -> Value:
    return float(_clock(args[0])[2])


@register("NETWORKDAYS")
def _networkdays(args: Sequence[Expr]) -> Value:
    a, b = _days(args[0]), _days(args[1])
    sign = 1.0
    if a > b:
        a, b, sign = b, a, -1.0
    return sign * sum(1 for k in range((b - a).days + 1) if (a + dt.timedelta(days=k)).weekday() < 5)


@register("WORKDAY")
def _workday(args: Sequence[Expr]) -> Value:
    d, n = _days(args[0]), integer(args[1])
    step = 1 if n >= 0 else -1
    while n:
        d += dt.timedelta(days=step)
        if d.weekday() < 5:
            n -= step
    return serial(d)
