"""Text functions (LEFT, MID, TRIM, SUBSTITUTE, FIND, TEXT, FIXED, TEXTJOIN...).

``TEXT`` supports the format codes in ``TEXT_FORMATS`` (the ones templates use): fixed decimals,
thousands separators, percentages, a currency sign, zero padding and common date patterns.
Rounding is half away from zero on the decimal value, as Excel displays numbers.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from ..expr import Expr
from ..values import VALUE, Value, XlError, XlErrorSignal, date_of, number_text, to_text, wildcard_pattern
from .base import boolean, cells, integer, num, opt_num, register, require, scalar, text

NUMBER_FORMATS = ("0", "0.0", "0.00", "#,##0", "#,##0.00", "0%", "0.0%", "0.00%", "$#,##0",
                  "$#,##0.00", "000", "0000", "00000")
DATE_FORMATS = ("yyyy-mm-dd", "dd/mm/yyyy", "mm/dd/yyyy", "mmm yyyy", "mmmm yyyy", "mmm", "mmmm",
                "ddd", "dddd", "yyyy", "dd-mmm-yyyy", "d-mmm-yy", "mmm-yy", "yyyymm", "dd.mm.yyyy")
TEXT_FORMATS = NUMBER_FORMATS + DATE_FORMATS

__all__ = ["DATE_FORMATS", "NUMBER_FORMATS", "TEXT_FORMATS", "format_date", "format_number"]


def _decimal_text(x: float, decimals: int, thousands: bool, min_int_digits: int) -> str:
    d = Decimal(f"{abs(x):.15g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    int_part, _, frac = f"{d:f}".partition(".")
    int_part = int_part.lstrip("0").rjust(min_int_digits, "0")
    if thousands:
        int_part = f"{int(int_part or '0'):,}" if int_part else ""
    sign = "-" if x < 0 and d != 0 else ""
    return sign + int_part + ("." + frac if decimals else "")


def format_number(x: float, code: str) -> str:
    """Render a number with one of ``NUMBER_FORMATS``."""
    percent = code.endswith("%")
    body = code.rstrip("%")
    currency = body.startswith("$")
    body = body.lstrip("$")
    int_code, _, frac_code = body.partition(".")
    digits = _decimal_text(x * 100 if percent else x, len(frac_code), "," in int_code,
                           max(int_code.count("0"), 0))
    if currency:
        digits = digits.replace("-", "-$", 1) if digits.startswith("-") else "$" + digits
    return digits + ("%" if percent else "")


def format_date(x: float, code: str) -> str:
    """Render a date serial with one of ``DATE_FORMATS``."""
    d = date_of(x)
    tokens = {"yyyy": f"{d.year:04d}", "yy": f"{d.year % 100:02d}", "mmmm": calendar.month_name[d.month],
              "mmm": calendar.month_abbr[d.month], "mm": f"{d.month:02d}",
              "dddd": calendar.day_name[d.weekday()], "ddd": calendar.day_abbr[d.weekday()],
              "dd": f"{d.day:02d}", "d": str(d.day), "m": str(d.month)}
    out, i = [], 0
    while i < len(code):
        for tok in ("yyyy", "yy", "mmmm", "mmm", "mm", "dddd", "ddd", "dd", "d", "m"):
            if code.startswith(tok, i):
                out.append(tokens[tok])
                i += len(tok)
                break
        else:
            out.append(code[i])
            i += 1
    return "".join(out)


@register("TEXT")
def _text(args: Sequence[Expr]) -> Value:
    v, code = scalar(args[0]), text(args[1])
    if isinstance(v, str):
        return v
    x = num(args[0])
    if code in DATE_FORMATS:
        return format_date(x, code)
    require(code in NUMBER_FORMATS, VALUE)
    return format_number(x, code)


@register("FIXED")
def _fixed(args: Sequence[Expr]) -> Value:
    decimals = int(opt_num(args, 1, 2))
    no_commas = len(args) > 2 and boolean(args[2])
    return _decimal_text(num(args[0]), decimals, not no_commas, 1)


@register("LEFT")
def _left(args: Sequence[Expr]) -> Value:
    n = int(opt_num(args, 1, 1))
    require(n >= 0, VALUE)
    return text(args[0])[:n]


@register("RIGHT")
def _right(args: Sequence[Expr]) -> Value:
    n = int(opt_num(args, 1, 1))
    require(n >= 0, VALUE)
    s = text(args[0])
    return s[len(s) - n:] if n else ""


@register("MID")
def _mid(args: Sequence[Expr]) -> Value:
    start, n = integer(args[1]), integer(args[2])
    require(start >= 1 and n >= 0, VALUE)
    return text(args[0])[start - 1: start - 1 + n]


@register("LEN")
def _len(args: Sequence[Expr]) -> Value:
    return float(len(text(args[0])))


@register("UPPER")
def _upper(args: Sequence[Expr]) -> Value:
    return text(args[0]).upper()


@register("LOWER")
def _lower(args: Sequence[Expr]) -> Value:
    return text(args[0]).lower()


@register("PROPER")
def _proper(args: Sequence[Expr]) -> Value:
    return text(args[0]).title()


@register("TRIM")
def _trim(args: Sequence[Expr]) -> Value:
    return " ".join(part for part in text(args[0]).split(" ") if part)


@register("CONCATENATE")
def _concatenate(args: Sequence[Expr]) -> Value:
    return "".join(text(a) for a in args)


@register("CONCAT")
def _concat(args: Sequence[Expr]) -> Value:
    return "".join(to_text(v) for a in args for v in cells(a))


@register("TEXTJOIN")
def _textjoin(args: Sequence[Expr]) -> Value:
    delim, skip_empty = text(args[0]), boolean(args[1])
    parts = [to_text(v) for a in args[2:] for v in cells(a)]
    return delim.join(p for p in parts if p or not skip_empty)


@register("SUBSTITUTE")
def _substitute(args: Sequence[Expr]) -> Value:
    s, old, new = text(args[0]), text(args[1]), text(args[2])
    if not old:
        return s
    if len(args) < 4:
        return s.replace(old, new)
    k = integer(args[3])
    require(k >= 1, VALUE)
    pos = -1
    for _ in range(k):
        pos = s.find(old, pos + 1)
        if pos < 0:
            return s
    return s[:pos] + new + s[pos + len(old):]


@register("REPLACE")
def _replace(args: Sequence[Expr]) -> Value:
    s, start, n, new = text(args[0]), integer(args[1]), integer(args[2]), text(args[3])
    require(start >= 1 and n >= 0, VALUE)
    return s[: start - 1] + new + s[start - 1 + n:]


@register("FIND")
def _find(args: Sequence[Expr]) -> Value:
    needle, hay, start = text(args[0]), text(args[1]), int(opt_num(args, 2, 1))
    require(1 <= start <= len(hay) + 1, VALUE)
    i = hay.find(needle, start - 1)
    require(i >= 0, VALUE)
    return float(i + 1)


@register("SEARCH")
def _search(args: Sequence[Expr]) -> Value:
    needle, hay, start = text(args[0]), text(args[1]), int(opt_num(args, 2, 1))
    require(1 <= start <= len(hay) + 1, VALUE)
    pattern = wildcard_pattern(needle + "*")
    for i in range(start - 1, len(hay) + 1):
        if pattern.match(hay, i):
            return float(i + 1)
    raise XlErrorSignal(VALUE)


@register("REPT")
def _rept(args: Sequence[Expr]) -> Value:
    n = integer(args[1])
    require(n >= 0, VALUE)
    return text(args[0]) * n


@register("EXACT")
def _exact(args: Sequence[Expr]) -> Value:
    return text(args[0]) == text(args[1])


@register("CHAR")
def _char(args: Sequence[Expr]) -> Value:
    n = integer(args[0])
    require(32 <= n <= 126, VALUE)
    return chr(n)


@register("CODE")
def _code(args: Sequence[Expr]) -> Value:
    s = text(args[0])
    require(s != "" and ord(s[0]) < 127, VALUE)
    return float(ord(s[0]))


@register("VALUE")
def _value(args: Sequence[Expr]) -> Value:
    v = scalar(args[0])
    if isinstance(v, str):
        return num(Expr("", v.strip()))
    return num(args[0])


@register("VALUETOTEXT")
def _valuetotext(args: Sequence[Expr]) -> Value:
    v = scalar(args[0])
    if isinstance(v, XlError):
        return v.code
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return number_text(float(v))
    return to_text(v)


@register("TEXTSPLIT")
def _textsplit(args: Sequence[Expr]) -> Value:
    s, delim = text(args[0]), text(args[1])
    require(delim != "", VALUE)
    return (tuple(s.split(delim)),)

