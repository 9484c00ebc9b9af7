"""Engineering functions (ERF, BIT*, HEX2DEC, COMPLEX/IMREAL/IMAGINARY, CONVERT)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..expr import Expr
from ..values import NA, NUM, Value, number_text
from .base import integer, num, register, require, text

# CONVERT units used by templates, as factors to one base unit per dimension (exact definitions).
UNITS: dict[str, tuple[str, float]] = {
    "m": ("length", 1.0), "km": ("length", 1000.0), "cm": ("length", 0.01), "mm": ("length", 0.001),
    "mi": ("length", 1609.344), "ft": ("length", 0.3048), "in": ("length", 0.0254), "yd": ("length", 0.9144),
    "g": ("mass", 1.0), "kg": ("mass", 1000.0), "lbm": ("mass", 453.59237), "ozm": ("mass", 28.349523125),
    "l": ("volume", 1.0), "ml": ("volume", 0.001), "gal": ("volume", 3.785411784),
    "J": ("energy", 1.0), "kJ": ("energy", 1000.0), "Wh": ("energy", 3600.0), "kWh": ("energy", 3.6e6),
    "W": ("power", 1.0), "kW": ("power", 1000.0),
}
TEMPERATURES = ("C", "F", "K")


@register("CONVERT")
def _convert(args: Sequence[Expr]) -> Value:
    x, src, dst = num(args[0]), text(args[1]), text(args[2])
    if src in TEMPERATURES and dst in TEMPERATURES:
        kelvin = {"C": x + 273.15, "F": (x - 32) * 5 / 9 + 273.15, "K": x}[src]
        return {"C": kelvin - 273.15, "F": (kelvin - 273.15) * 9 / 5 + 32, "K": kelvin}[dst]
    require(src in UNITS and dst in UNITS and UNITS[src][0] == UNITS[dst][0], NA)
    return x * UNITS[src][1] / UNITS[dst][1]


@register("ERF", "ERF.PRECISE")
def _erf(args: Sequence[Expr]) -> Value:
    if len(args) > 1:
        return math.erf(num(args[1])) - math.erf(num(args[0]))
    return math.erf(num(args[0]))


@register("ERFC", "ERFC.PRECISE")
def _erfc(args: Sequence[Expr]) -> Value:
    return math.erfc(num(args[0]))


def _bits(args: Sequence[Expr], n: int) -> list[int]:
    out = []
    for e in args[:n]:
        x = num(e)
        require(x >= 0 and x.is_integer() and x < 2**48)
        out.append(int(x))
    return out


@register("BITAND")
def _bitand(args: Sequence[Expr]) -> Value:
    a, b = _bits(args, 2)
    return float(a & b)


@register("BITOR")
def _bitor(args: Sequence[Expr]) -> Value:
    a, b = _bits(args, 2)
    return float(a | b)


@register("BITXOR")
def _bitxor(args: Sequence[Expr]) -> Value:
    a, b = _bits(args, 2)
    return float(a ^ b)


@register("BITLSHIFT")
def _bitlshift(args: Sequence[Expr]) -> Value:
    (a,), shift = _bits(args, 1), integer(args[1])
    result = a << shift if shift >= 0 else a >> -shift
    require(result < 2**48)
    return float(result)


@register("BITRSHIFT")
def _bitrshift(args: Sequence[Expr]) -> Value:
    (a,), shift = _bits(args, 1), integer(args[1])
    result = a >> shift if shift >= 0 else a << -shift
    require(result < 2**48)
    return float(result)


@register("HEX2DEC")
def _hex2dec(args: Sequence[Expr]) -> Value:
    s = text(args[0]).upper()
    require(0 < len(s) <= 10 and all(ch in "0123456789ABCDEF" for ch in s))
    v = int(s, 16)
    return float(v - 2**40 if len(s) == 10 and v >= 2**39 else v)


def complex_text(re_: float, im: float, suffix: str = "i") -> str:
    """Excel's COMPLEX rendering: ``3+4i``, ``3-i``, ``4i``, ``3``."""
    if im == 0:
        return number_text(re_)
    imag = "" if abs(im) == 1 else number_text(abs(im))
    if re_ == 0:
        return ("-" if im < 0 else "") + imag + suffix
    return number_text(re_) + ("-" if im < 0 else "+") + imag + suffix


def parse_complex(s: str) -> tuple[float, float]:
    """Inverse of ``complex_text`` for the forms it produces."""
    s = s.strip()
    if not s.endswith(("i", "j")):
        return float(s), 0.0
    body = s[:-1]
    cut = max(body.rfind("+", 1), body.rfind("-", 1))
    real_text, imag_text = (body[:cut], body[cut:]) if cut > 0 else ("0", body)
    if imag_text in ("", "+", "-"):
        imag_text += "1"
    return float(real_text), float(imag_text)


@register("COMPLEX")
def _complex(args: Sequence[Expr]) -> Value:
    suffix = text(args[2]) if len(args) > 2 else "i"
    require(suffix in ("i", "j"), NUM)
    return complex_text(num(args[0]), num(args[1]), suffix)


@register("IMREAL")
def _imreal(args: Sequence[Expr]) -> Value:
    try:
        return parse_complex(text(args[0]))[0]
    except ValueError:
        require(False)
        raise


@register("IMAGINARY")
def _imaginary(args: Sequence[Expr]) -> Value:
    try:
        return parse_complex(text(args[0]))[1]
    except ValueError:
        require(False)
        raise
