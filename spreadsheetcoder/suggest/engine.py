"""A small, fast formula evaluator for checking candidates on a sheet's cached values.

``SheetEngine(workbook).compute(formula, sheet, origin, masked)`` computes a parsed ``Formula`` as
it would show in ``origin``, reading the cached values the file holds; the ``masked`` cell (the
target being predicted) always reads as empty, so its value can never leak into a check.

It covers what candidates are made of (numbers, text, logicals, cell and area references on any
sheet, defined names that denote areas, ``+ - * / ^ & %``, comparisons, and about thirty common
functions) and raises ``NotComputable`` for anything else: another function, a structured
reference, a whole column, an area over ``MAX_AREA_CELLS``, or nesting deeper than ``MAX_DEPTH``.
Volatile and reference-returning functions (NOW, RAND, OFFSET, INDIRECT) are never computed, so a
hostile candidate costs at most one bounded pass over the cells it names.
``tests/test_suggest_engine.py`` checks it against the ``formulas`` engine on a table of formulas.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..constants import RANGE_PLACEHOLDER
from ..errors import FormulaError
from ..formula import Formula
from ..references import Reference, parse_reference
from ..sheet import Sheet, Workbook
from ..values import ExcelError, ExcelValue, cached_value

__all__ = ["MAX_AREA_CELLS", "MAX_DEPTH", "Area", "NotComputable", "SheetEngine"]

# An area reading more cells than this is not computed (whole columns are refused outright).
MAX_AREA_CELLS = 20_000
# Parenthesis and function nesting deeper than this is not computed.
MAX_DEPTH = 24

_DIV0 = ExcelError("#DIV/0!")
_VALUE = ExcelError("#VALUE!")
_NUM = ExcelError("#NUM!")
_NA = ExcelError("#N/A")


class NotComputable(Exception):
    """The evaluator cannot compute this formula honestly; ``reason`` is a short code."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


Scalar = ExcelValue | None  # None: an empty cell


@dataclass(frozen=True, slots=True)
class Area:
    """The values of a rectangular area, row by row (``None`` for empty cells)."""

    rows: int
    cols: int
    values: tuple[Scalar, ...]

    def __iter__(self) -> Iterator[Scalar]:
        return iter(self.values)


Value = Scalar | Area


class _Error(Exception):
    """An Excel error value travelling up the expression (``#DIV/0!`` and friends)."""

    def __init__(self, error: ExcelError) -> None:
        self.error = error


def _number(value: Value) -> float:
    """A value as an operand of arithmetic, as Excel coerces it."""
    if isinstance(value, Area):
        if value.rows * value.cols != 1:
            raise NotComputable("area_in_arithmetic")
        value = value.values[0]
    if value is None:
        return 0.0
    if isinstance(value, ExcelError):
        raise _Error(value)
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(value.strip()) if value.strip() else _raise(_VALUE)
    except ValueError:
        raise _Error(_VALUE) from None


def _raise(error: ExcelError) -> float:
    raise _Error(error)


def _scalar(value: Value) -> Scalar:
    if isinstance(value, Area):
        if value.rows * value.cols != 1:
            raise NotComputable("area_as_scalar")
        return value.values[0]
    return value


def _text(value: Value) -> str:
    value = _scalar(value)
    if value is None:
        return ""
    if isinstance(value, ExcelError):
        raise _Error(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return f"{value:.15g}"
    return value


def _truth(value: Value) -> bool:
    value = _scalar(value)
    if isinstance(value, str):
        upper = value.upper()
        if upper in ("TRUE", "FALSE"):
            return upper == "TRUE"
        raise _Error(_VALUE)
    return _number(value) != 0


def _numbers(args: list[Value]) -> list[float]:
    """The numbers an aggregate sees: numbers in areas (text, logicals and empties skipped);
    numbers, logicals and numeric text given directly. Errors propagate."""
    out: list[float] = []
    for arg in args:
        if isinstance(arg, Area):
            for v in arg:
                if isinstance(v, ExcelError):
                    raise _Error(v)
                if isinstance(v, float):
                    out.append(v)
        elif arg is not None:
            out.append(_number(arg))
    return out


def _finite(x: float) -> float:
    if not math.isfinite(x):
        raise _Error(_NUM)
    return x


def _round(args: list[Value], mode: str) -> float:
    if len(args) != 2:
        raise NotComputable("arity")
    x, digits = _number(args[0]), int(_number(args[1]))
    scale = 10.0 ** digits
    y = abs(x) * scale
    if mode == "near":
        r = math.floor(y + 0.5 + 1e-9)
    elif mode == "up":
        r = math.ceil(y - 1e-9)
    else:
        r = math.floor(y + 1e-9)
    return math.copysign(r / scale, x) if r else 0.0


def _average(args: list[Value]) -> float:
    xs = _numbers(args)
    if not xs:
        raise _Error(_DIV0)
    return sum(xs) / len(xs)


def _sumproduct(args: list[Value]) -> float:
    areas = [a if isinstance(a, Area) else Area(1, 1, (_scalar(a),)) for a in args]
    if not areas or any((a.rows, a.cols) != (areas[0].rows, areas[0].cols) for a in areas):
        raise _Error(_VALUE)
    total = 0.0
    for items in zip(*(a.values for a in areas), strict=True):
        product = 1.0
        for v in items:
            if isinstance(v, ExcelError):
                raise _Error(v)
            product *= v if isinstance(v, float) else 0.0
        total += product
    return total


def _count(args: list[Value]) -> float:
    n = 0
    for arg in args:
        values = arg.values if isinstance(arg, Area) else (arg,)
        n += sum(isinstance(v, float) for v in values)
    return float(n)


def _counta(args: list[Value]) -> float:
    n = 0
    for arg in args:
        values = arg.values if isinstance(arg, Area) else (arg,)
        n += sum(v is not None for v in values)
    return float(n)


def _min(args: list[Value]) -> float:
    xs = _numbers(args)
    return min(xs) if xs else 0.0


def _max(args: list[Value]) -> float:
    xs = _numbers(args)
    return max(xs) if xs else 0.0


def _product(args: list[Value]) -> float:
    xs = _numbers(args)
    return math.prod(xs) if xs else 0.0


_SUBTOTAL: dict[int, Callable[[list[Value]], float]] = {
    1: _average, 2: _count, 3: _counta, 4: _max, 5: _min, 6: _product, 9: lambda a: math.fsum(_numbers(a)),
}


def _subtotal(args: list[Value]) -> float:
    if len(args) < 2:
        raise NotComputable("arity")
    code = int(_number(args[0]))
    fn = _SUBTOTAL.get(code % 100)
    if fn is None:
        raise NotComputable("subtotal_code")
    return fn(args[1:])


def _one(fn: Callable[[float], float]) -> Callable[[list[Value]], float]:
    def apply(args: list[Value]) -> float:
        if len(args) != 1:
            raise NotComputable("arity")
        try:
            return _finite(fn(_number(args[0])))
        except (ValueError, OverflowError):
            raise _Error(_NUM) from None
    return apply


def _mod(args: list[Value]) -> float:
    if len(args) != 2:
        raise NotComputable("arity")
    a, b = _number(args[0]), _number(args[1])
    if b == 0:
        raise _Error(_DIV0)
    return a - b * math.floor(a / b)


def _power(args: list[Value]) -> float:
    if len(args) != 2:
        raise NotComputable("arity")
    return _pow(_number(args[0]), _number(args[1]))


def _pow(a: float, b: float) -> float:
    if a == 0 and b < 0:
        raise _Error(_DIV0)
    try:
        result = a ** b
    except (OverflowError, ZeroDivisionError):
        raise _Error(_NUM) from None
    if isinstance(result, complex):
        raise _Error(_NUM)
    return _finite(result)


# Date formats TEXT computes (others are not computed): Excel's codes -> strftime.
_DATE_FORMATS = {"ddd": "%a", "dddd": "%A", "mmm": "%b", "mmmm": "%B", "yyyy": "%Y", "yy": "%y",
                 "mmm yyyy": "%b %Y", "mmm-yy": "%b-%y", "mmmm yyyy": "%B %Y", "yyyy-mm-dd": "%Y-%m-%d",
                 "dd/mm/yyyy": "%d/%m/%Y", "mm/dd/yyyy": "%m/%d/%Y", "d-mmm": "%-d-%b", "dd-mmm-yy": "%d-%b-%y"}


def _text_format(args: list[Value]) -> str:
    """TEXT(serial, format) for the date formats of ``_DATE_FORMATS`` and plain number formats."""
    if len(args) != 2:
        raise NotComputable("arity")
    fmt = _text(args[1])
    x = _number(args[0])
    code = _DATE_FORMATS.get(fmt.casefold())
    if code is not None:
        if not 1 <= x < 2958466:
            raise _Error(_VALUE)
        day = _EPOCH + _dt.timedelta(days=math.floor(x))
        return day.strftime(code)
    if fmt in ("0", "0.0", "0.00", "#,##0", "#,##0.00"):
        digits = len(fmt.split(".")[1]) if "." in fmt else 0
        text = f"{abs(x):,.{digits}f}" if "," in fmt else f"{abs(x):.{digits}f}"
        return ("-" if x < 0 and float(text.replace(",", "")) != 0 else "") + text
    raise NotComputable("text_format")


_EPOCH = _dt.date(1899, 12, 30)  # Excel's serial 0 in the 1900 system (serials after Feb 1900)

# Functions whose arguments are all evaluated first.
_FUNCTIONS: dict[str, Callable[[list[Value]], Value]] = {
    "SUM": lambda a: math.fsum(_numbers(a)),
    "AVERAGE": _average,
    "MIN": _min,
    "MAX": _max,
    "COUNT": _count,
    "COUNTA": _counta,
    "PRODUCT": _product,
    "SUMPRODUCT": _sumproduct,
    "SUBTOTAL": _subtotal,
    "ROUND": lambda a: _round(a, "near"),
    "ROUNDUP": lambda a: _round(a, "up"),
    "ROUNDDOWN": lambda a: _round(a, "down"),
    "ABS": _one(abs),
    "SQRT": _one(math.sqrt),
    "LN": _one(math.log),
    "LOG10": _one(math.log10),
    "EXP": _one(math.exp),
    "INT": _one(lambda x: float(math.floor(x))),
    "MOD": _mod,
    "POWER": _power,
    "AND": lambda a: all(_truth(v) for v in _flat(a)),
    "OR": lambda a: any(_truth(v) for v in _flat(a)),
    "NOT": lambda a: not _truth(a[0]) if len(a) == 1 else _raise(_VALUE),
    "ISBLANK": lambda a: _scalar(a[0]) is None,
    "ISNUMBER": lambda a: isinstance(_scalar(a[0]), float),
    "CONCATENATE": lambda a: "".join(_text(v) for v in a),
    "TEXT": _text_format,
}
# Functions that decide which arguments to evaluate (IF's branches, IFERROR's fallback).
_LAZY = frozenset({"IF", "IFERROR"})


def _flat(args: list[Value]) -> list[Scalar]:
    out: list[Scalar] = []
    for arg in args:
        out.extend(v for v in (arg.values if isinstance(arg, Area) else (arg,)) if v is not None)
    return out


def _compare(op: str, a: Value, b: Value) -> bool:
    x, y = _scalar(a), _scalar(b)
    for v in (x, y):
        if isinstance(v, ExcelError):
            raise _Error(v)
    # Excel orders numbers < text < logicals; an empty cell is 0, "" or FALSE as its partner.
    def rank(v: Scalar, other: Scalar) -> tuple[int, object]:
        if v is None:
            v = 0.0 if isinstance(other, float) or other is None else ("" if isinstance(other, str) else False)
        if isinstance(v, bool):
            return 2, v
        if isinstance(v, float):
            return 0, v
        assert isinstance(v, str)
        return 1, v.casefold()
    ka, kb = rank(x, y), rank(y, x)
    if op == "=":
        return ka == kb if ka[0] != 0 else ka[0] == kb[0] and math.isclose(ka[1], kb[1], rel_tol=1e-12)  # type: ignore[arg-type]
    if op == "<>":
        return not _compare("=", a, b)
    lt = ka < kb
    gt = kb < ka
    return {"<": lt, ">": gt, "<=": not gt, ">=": not lt}[op]


_BINARY_POWER = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3, "*": 4, "/": 4, "^": 5}


class _Evaluation:
    """One pass of a Pratt parser over a formula's sketch, computing as it parses."""

    def __init__(self, engine: SheetEngine, formula: Formula, sheet: Sheet, origin: tuple[int, int],
                 masked: tuple[str, int, int] | None) -> None:
        self.engine = engine
        self.tokens = formula.sketch
        self.ranges = formula.ranges
        self.sheet = sheet
        self.origin = origin
        self.masked = masked
        self.pos = 0
        self.ref = 0
        self.depth = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        if self.pos >= len(self.tokens):
            raise NotComputable("truncated")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def expression(self, min_power: int = 0) -> Value:
        left = self.prefix()
        while True:
            token = self.peek()
            if token == "%":
                self.take()
                left = _number(left) / 100.0
                continue
            power = _BINARY_POWER.get(token or "")
            if power is None or power <= min_power:
                return left
            self.take()
            right = self.expression(power)  # left-associative: the right side binds tighter only
            left = self.binary(token or "", left, right)

    def binary(self, op: str, left: Value, right: Value) -> Value:
        if op == "&":
            return _text(left) + _text(right)
        if op in ("=", "<>", "<", ">", "<=", ">="):
            return _compare(op, left, right)
        a, b = _number(left), _number(right)
        if op == "+":
            return _finite(a + b)
        if op == "-":
            return _finite(a - b)
        if op == "*":
            return _finite(a * b)
        if op == "/":
            if b == 0:
                raise _Error(_DIV0)
            return _finite(a / b)
        return _pow(a, b)

    def prefix(self) -> Value:
        token = self.take()
        if token in ("u-", "u+"):
            value = self.expression(5)  # Excel's unary minus binds tighter than ^ : -2^2 = 4
            return -_number(value) if token == "u-" else value
        if token == RANGE_PLACEHOLDER:
            ref = self.ranges[self.ref]
            self.ref += 1
            return self.engine.read(ref, self.sheet, self.origin, self.masked)
        if token == "(":
            value = self.nested(lambda: self.expression())
            if self.take() != ")":
                raise NotComputable("union")
            return value
        if token.endswith("("):
            return self.nested(lambda: self.call(token[:-1]))
        return self.literal(token)

    def nested(self, inner: Callable[[], Value]) -> Value:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NotComputable("too_deep")
        try:
            return inner()
        finally:
            self.depth -= 1

    @staticmethod
    def literal(token: str) -> Value:
        if token.startswith('"'):
            return token[1:-1].replace('""', '"')
        if token in ("TRUE", "FALSE"):
            return token == "TRUE"
        if token.startswith("#"):
            raise _Error(ExcelError(token))
        try:
            return float(token)
        except ValueError:
            raise NotComputable("token") from None

    def arguments(self) -> list[Value | _Error]:
        """The arguments up to the closing parenthesis; an argument that errs is kept as its error."""
        args: list[Value | _Error] = []
        if self.peek() == ")":
            self.take()
            return args
        while True:
            if self.peek() in (",", ")"):
                args.append(None)  # an omitted argument
            else:
                try:
                    args.append(self.expression())
                except _Error as err:
                    self.skip_argument()
                    args.append(err)
            token = self.take()
            if token == ")":
                return args
            if token != ",":
                raise NotComputable("argument")

    def skip_argument(self) -> None:
        """Move past the rest of an argument whose value raised (to its ``,`` or ``)``)."""
        level = 0
        while self.peek() is not None:
            token = self.peek()
            if level == 0 and token in (",", ")"):
                return
            if token is not None and token.endswith("("):
                level += 1
            elif token == ")":
                level -= 1
            if token == RANGE_PLACEHOLDER:
                self.ref += 1
            self.pos += 1

    def call(self, name: str) -> Value:
        args = self.arguments()
        if name in _LAZY:
            return self.lazy(name, args)
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise NotComputable(f"function:{name}")
        for arg in args:
            if isinstance(arg, _Error):
                raise arg
        return fn(args)  # type: ignore[arg-type]

    @staticmethod
    def lazy(name: str, args: list[Value | _Error]) -> Value:
        # Both branches were computed (the parser must pass them anyway); only the chosen one counts.
        def value(arg: Value | _Error) -> Value:
            if isinstance(arg, _Error):
                raise arg
            return arg
        if name == "IFERROR":
            if len(args) != 2:
                raise NotComputable("arity")
            first = args[0]
            if isinstance(first, _Error) or isinstance(_scalar(first), ExcelError):
                return value(args[1])
            return first
        if not 2 <= len(args) <= 3:
            raise NotComputable("arity")
        chosen = args[1] if _truth(value(args[0])) else (args[2] if len(args) == 3 else False)
        result = value(chosen)
        return 0.0 if result is None else result


# The most cell values an engine with ``cache_areas`` keeps (about 100 MB at most).
MAX_CACHED_CELLS = 2_000_000


class SheetEngine:
    """Computes formulas on one workbook's cached values (see the module doc).

    Args:
        workbook: the workbook whose sheets and defined names references resolve against.
    """

    def __init__(self, workbook: Workbook, *, cache_areas: bool = False) -> None:
        self.workbook = workbook
        self._sheets = {s.name.casefold(): s for s in workbook.sheets}
        # Areas read, by (sheet, box), while the workbook does not change (the checker runs many
        # candidates over the same areas); off by default, as callers that edit cells need fresh reads.
        self._areas: dict[tuple[str, int, int, int, int], Area] | None = {} if cache_areas else None
        self._cached_cells = 0

    def sheet(self, name: str | None, own: Sheet) -> Sheet:
        if name is None:
            return own
        found = self._sheets.get(name.casefold())
        if found is None:
            raise _Error(ExcelError("#REF!"))
        return found

    def _name(self, ref: Reference, sheet: Sheet) -> tuple[Sheet, Reference]:
        assert ref.name is not None
        text = sheet.defined_names.get(ref.name) or self.workbook.defined_names.get(ref.name)
        if text is None:
            raise _Error(ExcelError("#NAME?"))
        try:
            target = parse_reference(text.lstrip("="), (1, 1))
        except (FormulaError, ValueError):
            raise NotComputable("name_not_a_reference") from None
        if target.name is not None or target.spec is not None or target.start is None:
            raise NotComputable("name_not_a_reference")
        return self.sheet(target.sheet, sheet), target

    def read(self, ref: Reference, sheet: Sheet, origin: tuple[int, int],
             masked: tuple[str, int, int] | None) -> Value:
        """The value of ``ref`` (a scalar for one cell, an ``Area`` otherwise) from ``origin``."""
        if ref.spec is not None:
            raise NotComputable("structured")
        if ref.name is not None:
            host, ref = self._name(ref, sheet)
            origin = (1, 1)  # names hold absolute references
        else:
            host = self.sheet(ref.sheet, sheet)
        assert ref.start is not None
        r1, c1 = ref.start.position(origin)
        r2, c2 = ref.end.position(origin) if ref.end is not None else (r1, c1)
        if r1 is None or c1 is None or r2 is None or c2 is None:
            raise NotComputable("whole_line")
        if min(r1, c1, r2, c2) < 1:
            raise _Error(ExcelError("#REF!"))
        r1, r2 = sorted((r1, r2))
        c1, c2 = sorted((c1, c2))
        rows, cols = r2 - r1 + 1, c2 - c1 + 1
        if rows * cols > MAX_AREA_CELLS:
            raise NotComputable("area_too_large")
        hidden = masked if masked is not None and masked[0] == host.name else None
        key = (host.name, r1, c1, r2, c2)
        if self._areas is not None and hidden is None and (known := self._areas.get(key)) is not None:
            return known
        values = tuple(self.value(host, r, c, hidden) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))
        if rows * cols == 1:
            return values[0]
        area = Area(rows, cols, values)
        if self._areas is not None and hidden is None and self._cached_cells + rows * cols <= MAX_CACHED_CELLS:
            self._areas[key] = area
            self._cached_cells += rows * cols
        return area

    @staticmethod
    def value(sheet: Sheet, row: int, col: int, hidden: tuple[str, int, int] | None) -> Scalar:
        if hidden is not None and hidden[1] == row and hidden[2] == col:
            return None
        cell = sheet.get(row, col)
        return None if cell is None else cached_value(cell)

    def compute(self, formula: Formula, sheet: Sheet, origin: tuple[int, int],
                masked: tuple[str, int, int] | None = None) -> ExcelValue:
        """What ``formula`` shows in ``origin`` of ``sheet``; the ``masked`` cell
        ``(sheet name, row, col)`` reads as empty. Raises ``NotComputable``."""
        run = _Evaluation(self, formula, sheet, origin, masked)
        try:
            value = run.expression()
            if run.pos != len(run.tokens):
                raise NotComputable("trailing_tokens")
            value = _scalar(value)
        except _Error as err:
            return err.error
        except (IndexError, RecursionError):
            raise NotComputable("malformed") from None
        except (ArithmeticError, ValueError):  # e.g. ROUND(x, 400): Excel shows #NUM!
            return _NUM
        return 0.0 if value is None else value
