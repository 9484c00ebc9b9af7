"""Formula expressions that carry their Excel text and their value together.

A template never writes formula text by hand: it composes ``Expr`` objects (``a * b``,
``call("SUM", block)``), and each composition renders the text with the parentheses Excel needs
and computes the value with Excel's semantics at once, from the cells already on the sheet. So a
cell's cached value is, by construction, the value of the formula written in it, provided the
cells it reads are final when the formula is built (templates fill inputs first).

Example: ``ws.ref(5, 2) * ws.ref(5, 3, abs_row=True)`` renders ``B5*C$5`` with the product as value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, Union

from .values import (
    DIV0,
    NUM,
    VALUE,
    Grid,
    Scalar,
    Value,
    XlError,
    XlErrorSignal,
    compare,
    number_text,
    to_number,
    to_text,
)

__all__ = ["BookLike", "CellLike", "Expr", "SheetLike", "Span", "binop", "home_of", "lift", "literal_text"]

# Operator precedence, loosest first (Excel: comparison < & < +- < */ < ^ < % < unary minus).
PREC_CMP, PREC_CAT, PREC_ADD, PREC_MUL, PREC_POW, PREC_PCT, PREC_NEG, PREC_ATOM = range(1, 9)
_PREC = {"=": PREC_CMP, "<>": PREC_CMP, "<": PREC_CMP, "<=": PREC_CMP, ">": PREC_CMP, ">=": PREC_CMP,
         "&": PREC_CAT, "+": PREC_ADD, "-": PREC_ADD, "*": PREC_MUL, "/": PREC_MUL, "^": PREC_POW}
# Operators whose right operand of equal precedence needs no parentheses (a+(b+c) == a+b+c).
_ASSOCIATIVE = {"+", "*", "&"}


class CellLike(Protocol):
    """A cell as functions read it (``book.CellData``): its value and its formula text (no ``=``)."""

    @property
    def value(self) -> Scalar: ...

    @property
    def formula(self) -> str | None: ...


class SheetLike(Protocol):
    """The sheet a reference points at, as expressions and functions read it. ``book.SheetData`` is
    the one kind; it is described here so that this module needs nothing from book.py, which builds
    on it."""

    @property
    def name(self) -> str: ...

    @property
    def book(self) -> BookLike: ...

    @property
    def cells(self) -> Mapping[tuple[int, int], CellLike]: ...

    def get(self, row: int, col: int) -> Scalar: ...

    def grid(self, r1: int, c1: int, r2: int, c2: int) -> Grid: ...

    def prefix(self) -> str: ...


class BookLike(Protocol):
    """The workbook of a sheet (``book.BookData``): its sheets in tab order."""

    @property
    def sheets(self) -> Sequence[SheetLike]: ...


@dataclass(frozen=True, slots=True)
class Span:
    """The cells a reference points at: a sheet and a 1-based inclusive rectangle."""

    sheet: SheetLike
    r1: int
    c1: int
    r2: int
    c2: int

    @property
    def shape(self) -> tuple[int, int]:
        return self.r2 - self.r1 + 1, self.c2 - self.c1 + 1


Operand = Union["Expr", float, int, str, bool]


@dataclass(frozen=True, slots=True)
class Expr:
    """Formula text (no leading ``=``), its value, its precedence, and what it references.

    Attributes:
        text: Excel formula text as stored in the file (``_xlfn.`` prefixes included).
        value: a scalar, or a ``Grid`` for ranges and array results.
        prec: precedence of the outermost operator (``PREC_ATOM`` for refs, calls, literals).
        span: for references only, the cells referenced (ROW, OFFSET, INDEX... read it).
        home: the sheet whose cells the text's unqualified references (``B5``) point at, if any;
            a formula may only be written on that sheet (``SheetData.formula`` checks).
    """

    text: str
    value: Value
    prec: int = PREC_ATOM
    span: Span | None = None
    home: SheetLike | None = None

    def __add__(self, other: Operand) -> Expr:
        return binop("+", self, other)

    def __radd__(self, other: Operand) -> Expr:
        return binop("+", other, self)

    def __sub__(self, other: Operand) -> Expr:
        return binop("-", self, other)

    def __rsub__(self, other: Operand) -> Expr:
        return binop("-", other, self)

    def __mul__(self, other: Operand) -> Expr:
        return binop("*", self, other)

    def __rmul__(self, other: Operand) -> Expr:
        return binop("*", other, self)

    def __truediv__(self, other: Operand) -> Expr:
        return binop("/", self, other)

    def __rtruediv__(self, other: Operand) -> Expr:
        return binop("/", other, self)

    def __pow__(self, other: Operand) -> Expr:
        return binop("^", self, other)

    def __neg__(self) -> Expr:
        inner = self.text if self.prec >= PREC_NEG else f"({self.text})"
        return Expr(f"-{inner}", _elementwise(lambda x: -to_number(x), self.value), PREC_NEG, None, self.home)

    def cat(self, other: Operand) -> Expr:
        """``self&other``."""
        return binop("&", self, other)

    def eq(self, other: Operand) -> Expr:
        return binop("=", self, other)

    def ne(self, other: Operand) -> Expr:
        return binop("<>", self, other)

    def lt(self, other: Operand) -> Expr:
        return binop("<", self, other)

    def le(self, other: Operand) -> Expr:
        return binop("<=", self, other)

    def gt(self, other: Operand) -> Expr:
        return binop(">", self, other)

    def ge(self, other: Operand) -> Expr:
        return binop(">=", self, other)

    def pct(self) -> Expr:
        """``self%`` (divides by 100)."""
        inner = self.text if self.prec >= PREC_PCT else f"({self.text})"
        return Expr(f"{inner}%", _elementwise(lambda x: to_number(x) / 100, self.value), PREC_PCT, None, self.home)

    def paren(self) -> Expr:
        """The same expression inside redundant parentheses, as people often write them."""
        return Expr(f"({self.text})", self.value, PREC_ATOM, None, self.home)


def home_of(exprs: Sequence[Expr]) -> SheetLike | None:
    """The common home sheet of some expressions' unqualified references (ValueError if two differ)."""
    home = None
    for e in exprs:
        if e.home is not None:
            if home is not None and e.home is not home:
                raise ValueError(f"unqualified references to two sheets ({home.name!r}, {e.home.name!r}) "
                                 f"in one formula: {e.text}")
            home = e.home
    return home


def literal_text(v: float | int | str | bool) -> str:
    """How a constant is written in a formula: ``"East"`` (quotes doubled), ``TRUE``, ``0.05``."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, str):
        return '"' + v.replace('"', '""') + '"'
    return number_text(float(v))


def lift(v: Operand) -> Expr:
    """A constant as an expression; an ``Expr`` is returned unchanged."""
    if isinstance(v, Expr):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if v < 0:
            return -lift(-v)
        return Expr(literal_text(v), float(v))
    return Expr(literal_text(v), v)


def _guard(fn: Callable[[Scalar, Scalar], Scalar], a: Scalar, b: Scalar) -> Scalar:
    try:
        return fn(a, b)
    except XlErrorSignal as signal:
        return signal.error


def _arith(op: str) -> Callable[[Scalar, Scalar], Scalar]:
    def apply(a: Scalar, b: Scalar) -> Scalar:
        x, y = to_number(a), to_number(b)
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        if op == "/":
            if y == 0:
                return DIV0
            return x / y
        if x == 0 and y < 0:
            return DIV0
        if x < 0 and not float(y).is_integer():
            return NUM
        try:
            result = x**y
        except OverflowError:
            return NUM
        return result if math.isfinite(result) else NUM
    return apply


def _compare_op(op: str) -> Callable[[Scalar, Scalar], Scalar]:
    def apply(a: Scalar, b: Scalar) -> Scalar:
        c = compare(a, b)
        return {"=": c == 0, "<>": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
    return apply


def _concat(a: Scalar, b: Scalar) -> Scalar:
    return to_text(a) + to_text(b)


def _elementwise(fn: Callable[[Scalar], Scalar], v: Value) -> Value:
    def safe(x: Scalar) -> Scalar:
        try:
            return fn(x)
        except XlErrorSignal as signal:
            return signal.error
    if isinstance(v, tuple):
        return tuple(tuple(safe(x) for x in row) for row in v)
    return safe(v)


def _broadcast(fn: Callable[[Scalar, Scalar], Scalar], a: Value, b: Value) -> Value:
    """Apply a binary scalar function, element by element when either side is a grid."""
    if not isinstance(a, tuple) and not isinstance(b, tuple):
        return _guard(fn, a, b)
    ga: Grid = a if isinstance(a, tuple) else ((a,),)
    gb: Grid = b if isinstance(b, tuple) else ((b,),)
    rows = max(len(ga), len(gb))
    cols = max(len(ga[0]), len(gb[0]))

    def pick(g: Grid, i: int, j: int) -> Scalar:
        gi = 0 if len(g) == 1 else i
        gj = 0 if len(g[0]) == 1 else j
        if gi >= len(g) or gj >= len(g[0]):
            return XlError("#N/A")
        return g[gi][gj]
    return tuple(tuple(_guard(fn, pick(ga, i, j), pick(gb, i, j)) for j in range(cols)) for i in range(rows))


def binop(op: str, left: Operand, right: Operand) -> Expr:
    """``left op right`` with the parentheses Excel's precedence needs and Excel's value.

    Arithmetic coerces blanks to 0 and numeric text to numbers; text that is not a number gives
    #VALUE!; errors propagate; grids combine element by element (array formulas, SUMPRODUCT).
    """
    a, b = lift(left), lift(right)
    prec = _PREC[op]
    lt = a.text if a.prec >= prec else f"({a.text})"
    right_ok = b.prec > prec or (b.prec == prec and op in _ASSOCIATIVE)
    rt = b.text if right_ok else f"({b.text})"
    if op in ("+", "-", "*", "/", "^"):
        fn = _arith(op)
    elif op == "&":
        fn = _concat
    else:
        fn = _compare_op(op)
    return Expr(f"{lt}{op}{rt}", _broadcast(fn, a.value, b.value), prec, None, home_of((a, b)))


def final_value(v: Value) -> Scalar:
    """What a cell shows for a formula result: a blank reference reads 0, a grid its top-left."""
    if isinstance(v, tuple):
        v = v[0][0] if v and v[0] else VALUE
    return 0.0 if v is None else v
