"""Excel value semantics for the generator: errors, coercions, comparison, criteria, date serials.

The generator computes every formula's cached value itself, so the rules Excel applies to values
live here, in one place: what a blank becomes in arithmetic, how a number prints inside ``&``,
how ``"<>East"`` matches in ``COUNTIF``, and which serial ``DATE(2024,2,29)`` is. Values are plain
Python objects: ``float`` (Excel has only doubles; ints are accepted), ``str``, ``bool``,
``XlError`` and ``None`` (a blank cell). A range's value is a ``Grid``: a tuple of row tuples.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

__all__ = [
    "DIV0",
    "NA",
    "NUM",
    "REF",
    "VALUE",
    "Grid",
    "Scalar",
    "Value",
    "XlError",
    "compare",
    "criterion_test",
    "date_of",
    "flatten",
    "matches_criterion",
    "number_text",
    "serial",
    "to_bool",
    "to_number",
    "to_text",
]


@dataclass(frozen=True, slots=True)
class XlError:
    """An Excel error value such as ``#DIV/0!``; it propagates through most operations."""

    code: str

    def __str__(self) -> str:
        return self.code


NULL = XlError("#NULL!")
DIV0 = XlError("#DIV/0!")
VALUE = XlError("#VALUE!")
REF = XlError("#REF!")
NAME = XlError("#NAME?")
NUM = XlError("#NUM!")
NA = XlError("#N/A")
# ERROR.TYPE numbers, in Excel's order.
ERROR_TYPES = {e.code: i for i, e in enumerate((NULL, DIV0, VALUE, REF, NAME, NUM, NA), start=1)}

Scalar = float | int | str | bool | XlError | None
Grid = tuple[tuple[Scalar, ...], ...]
Value = Scalar | Grid

# Excel's day zero: serial 1 is 1900-01-01, and the fictitious 1900-02-29 shifts later dates by one.
_EPOCH = dt.date(1899, 12, 30)
_NUMBER_TEXT = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


class XlErrorSignal(Exception):
    """Raised inside a function implementation to return an Excel error value."""

    def __init__(self, error: XlError) -> None:
        super().__init__(error.code)
        self.error = error


def is_number(v: object) -> bool:
    """True for ints and floats, not for bools (Excel keeps them apart inside ranges)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def flatten(v: Value) -> Iterator[Scalar]:
    """The scalars of a grid in row-major order, or the scalar itself."""
    if isinstance(v, tuple):
        for row in v:
            yield from row
    else:
        yield v


def to_number(v: Value) -> float:
    """Coerce one value the way arithmetic does; raise ``XlErrorSignal`` when Excel gives an error.

    Blank -> 0, TRUE -> 1, numeric text -> its number, other text -> #VALUE!, errors propagate.
    A 1x1 grid acts as its single cell.
    """
    if isinstance(v, tuple):
        if len(v) == 1 and len(v[0]) == 1:
            return to_number(v[0][0])
        raise XlErrorSignal(VALUE)
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, XlError):
        raise XlErrorSignal(v)
    if _NUMBER_TEXT.match(v):
        return float(v)
    raise XlErrorSignal(VALUE)


def to_bool(v: Value) -> bool:
    """Coerce a condition: numbers are true when non-zero, "TRUE"/"FALSE" text works, else #VALUE!."""
    if isinstance(v, tuple):
        if len(v) == 1 and len(v[0]) == 1:
            return to_bool(v[0][0])
        raise XlErrorSignal(VALUE)
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return v != 0
    if isinstance(v, XlError):
        raise XlErrorSignal(v)
    if v.upper() in ("TRUE", "FALSE"):
        return v.upper() == "TRUE"
    raise XlErrorSignal(VALUE)


def number_text(x: float) -> str:
    """A number as Excel shows it in text (``&``, CONCATENATE): at most 15 significant digits."""
    if x == 0:
        return "0"
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    text = f"{x:.15g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa.upper()}E{sign}{abs(int(exponent)):02d}"
    return text


def to_text(v: Value) -> str:
    """Coerce a value to text: blank -> "", TRUE -> "TRUE", numbers per ``number_text``."""
    if isinstance(v, tuple):
        if len(v) == 1 and len(v[0]) == 1:
            return to_text(v[0][0])
        raise XlErrorSignal(VALUE)
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        return number_text(float(v))
    if isinstance(v, XlError):
        raise XlErrorSignal(v)
    return v


def _rank(v: Scalar) -> int:
    # Excel orders numbers < text < booleans.
    if isinstance(v, bool):
        return 2
    if isinstance(v, str):
        return 1
    return 0


def compare(a: Scalar, b: Scalar) -> int:
    """Excel's comparison: -1, 0 or 1. Text compares case-insensitively; a blank is 0, "" or FALSE."""
    if isinstance(a, XlError):
        raise XlErrorSignal(a)
    if isinstance(b, XlError):
        raise XlErrorSignal(b)
    if a is None:
        a = "" if isinstance(b, str) else (False if isinstance(b, bool) else 0.0)
    if b is None:
        b = "" if isinstance(a, str) else (False if isinstance(a, bool) else 0.0)
    ra, rb = _rank(a), _rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if isinstance(a, str) and isinstance(b, str):
        x, y = a.lower(), b.lower()
        return (x > y) - (x < y)
    fa, fb = float(a), float(b)
    return (fa > fb) - (fa < fb)


@functools.lru_cache(maxsize=1024)
def wildcard_pattern(text: str) -> re.Pattern[str]:
    """Compile an Excel wildcard pattern (``*``, ``?``, ``~`` escapes) to a full-match regex."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "~" and i + 1 < len(text):
            out.append(re.escape(text[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


_OPERATORS = ("<=", ">=", "<>", "<", ">", "=")
_TESTS: dict[str, Callable[[int], bool]] = {"=": lambda c: c == 0, "<>": lambda c: c != 0, "<": lambda c: c < 0,
                                           "<=": lambda c: c <= 0, ">": lambda c: c > 0, ">=": lambda c: c >= 0}


def criterion_test(criterion: Scalar) -> Callable[[Scalar], bool]:
    """The predicate of a COUNTIF/SUMIF criterion (number, text, or ``">=10"``-style text).

    Numbers match equal numbers; ``"East"`` matches text case-insensitively with wildcards;
    ``">=10"`` compares numbers; ``""`` matches blanks and ``"<>"`` non-blanks.
    """
    if isinstance(criterion, XlError):
        raise XlErrorSignal(criterion)
    if criterion is None:
        criterion = 0.0
    if isinstance(criterion, bool) or is_number(criterion):
        target = criterion
        return lambda cell: cell is not None and not isinstance(cell, (str, XlError)) \
            and isinstance(cell, bool) == isinstance(target, bool) and compare(cell, target) == 0
    assert isinstance(criterion, str)
    op = next((o for o in _OPERATORS if criterion.startswith(o)), "=")
    operand = criterion[len(op):] if criterion.startswith(op) else criterion
    test = _TESTS[op]
    if _NUMBER_TEXT.match(operand):
        number = float(operand)

        def numeric(cell: Scalar) -> bool:
            return test(compare(cell, number)) if is_number(cell) else op == "<>"
        return numeric
    if operand.upper() in ("TRUE", "FALSE"):
        flag = operand.upper() == "TRUE"
        return lambda cell: test(compare(cell, flag)) if isinstance(cell, bool) else op == "<>"
    if operand == "":
        if op == "=":
            return lambda cell: cell is None or cell == ""
        if op == "<>":
            return lambda cell: not (cell is None or cell == "")
        return lambda cell: False
    if op in ("=", "<>"):
        want = op == "="
        if any(ch in operand for ch in "*?~"):
            pattern = wildcard_pattern(operand)
            return lambda cell: (isinstance(cell, str) and pattern.fullmatch(cell) is not None) == want
        lowered = operand.lower()
        return lambda cell: (isinstance(cell, str) and cell.lower() == lowered) == want
    return lambda cell: isinstance(cell, str) and test(compare(cell, operand))


def matches_criterion(cell: Scalar, criterion: Scalar) -> bool:
    """Whether one cell satisfies a criterion (see ``criterion_test``)."""
    return criterion_test(criterion)(cell)


def serial(d: dt.date | dt.datetime) -> float:
    """The Excel serial number of a date (or date-time), for dates after 1900-03-01."""
    if isinstance(d, dt.datetime):
        day = (d.date() - _EPOCH).days
        return day + (d.hour * 3600 + d.minute * 60 + d.second) / 86400
    return float((d - _EPOCH).days)


def date_of(x: float) -> dt.date:
    """The calendar date of an Excel serial (time of day dropped); #NUM! before 1900-03-01."""
    if x < 61 or x > 2958465:
        raise XlErrorSignal(NUM)
    return _EPOCH + dt.timedelta(days=math.floor(x))
