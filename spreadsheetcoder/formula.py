"""Formulas as a sketch plus relative references, parsed with openpyxl's Excel tokenizer.

``parse_formula("=SUM(D2:D4)*$B$1", origin=(5, 4))`` gives the sketch
``("SUM(", "RANGE", ")", "*", "RANGE")`` and the references ``R[-3]C:R[-1]C`` and ``R1C2``;
``render_formula`` turns them back into A1 text at any cell, and ``relative_formula`` into R1C1
text, the key under which copied formulas compare equal.

Sketch tokens:

- functions as ``"SUM("`` (upper case, ``_xlfn.``/``_xlws.`` dropped for the functions in
  ``FUTURE_FUNCTIONS``, which ``render_formula`` prefixes again so Excel accepts the file; other
  prefixed names keep their prefix, ``"_XLFN._FV("``), and ``")"`` to close them;
- ``"("``, ``")"``, ``","``, ``";"`` (array row separator), ``"{"``, ``"}"``;
- infix operators ``+ - * / ^ & = <> < > <= >= :`` and ``" "`` for intersection (other
  whitespace is dropped), prefix operators ``"u-"``, ``"u+"``, ``"u@"``, postfix ``"%"``;
- literals verbatim: numbers (``"1.5"``), strings with their quotes (``'"a""b"'``), ``TRUE`` and
  ``FALSE`` (upper case), error values (``"#N/A"``; not ``#REF!``, which marks a deleted
  reference and is refused), LAMBDA/LET parameters (``"_xlpm.x"``);
- ``RANGE_PLACEHOLDER`` for each reference, in the order of ``Formula.ranges``.

Formulas that cannot be represented raise ``FormulaError`` with a reason from
``UNREPRESENTABLE_REASONS``; nothing is dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

from .constants import (
    KIND_BEYOND_WINDOW,
    KIND_DEFINED_NAME,
    KIND_IN_WINDOW,
    KIND_OTHER_SHEET,
    KIND_STRUCTURED,
    MAX_COL,
    MAX_ROW,
    RANGE_PLACEHOLDER,
    WINDOW_RADIUS,
)
from .errors import FormulaError
from .references import (
    CELL_RE,
    COLUMN_RE,
    ROW_RE,
    Reference,
    find_top_level,
    format_reference,
    parse_reference,
    quote_sheet,
    relative_reference,
    split_top_level,
    unquote_sheet,
)

__all__ = [
    "FUTURE_FUNCTIONS",
    "MAX_FORMULA_CHARS",
    "UNREPRESENTABLE_REASONS",
    "Formula",
    "canonical_formula",
    "formula_functions",
    "parse_formula",
    "reference_kinds",
    "relative_formula",
    "render_formula",
]

UNREPRESENTABLE_REASONS: tuple[str, ...] = (
    "not_a_formula",  # text does not start with "="
    "empty_formula",  # "=" and nothing else
    "too_long",  # over Excel's 8,192 characters
    "tokenizer_error",  # unbalanced brackets or quotes, unknown error code, ...
    "external_workbook",  # [1]Sheet1!A1, '[Book.xlsx]Sheet'!A1, [1]!Name
    "3d_reference",  # Sheet1:Sheet3!A1
    "broken_reference",  # #REF! in place of a reference: =A1*#REF!, Sheet1!#REF!, SUM(#REF!:#REF!)
    "spill_reference",  # A1# as typed in Excel (files store _xlfn.ANCHORARRAY(A1), which is fine)
    "data_table",  # {=TABLE(B1,)}: what-if data tables
    "invalid_reference",  # an operand that is no literal, cell, area, name or structured reference
    "invalid_function",  # a call of something that is no function name: 2(...), Sheet1!F(...)
    "out_of_bounds",  # a relative reference shifted off the sheet by render_formula
)

# Excel's limit on the length of a formula.
MAX_FORMULA_CHARS = 8192

# Functions Excel stores with the `_xlfn.` prefix (introduced after Excel 2007); Excel shows
# #NAME? for them when a file lacks the prefix. FILTER and SORT are `_xlfn._xlws.`.
FUTURE_FUNCTIONS: frozenset[str] = frozenset(
    """
    ACOT ACOTH AGGREGATE ANCHORARRAY ARABIC ARRAYTOTEXT BASE BETA.DIST BETA.INV BINOM.DIST
    BINOM.DIST.RANGE BINOM.INV BITAND BITLSHIFT BITOR BITRSHIFT BITXOR BYCOL BYROW CEILING.MATH
    CEILING.PRECISE CHISQ.DIST CHISQ.DIST.RT CHISQ.INV CHISQ.INV.RT CHISQ.TEST CHOOSECOLS CHOOSEROWS
    COMBINA CONCAT CONFIDENCE.NORM CONFIDENCE.T COT COTH COVARIANCE.P COVARIANCE.S CSC CSCH DAYS
    DECIMAL DROP ECMA.CEILING ERF.PRECISE ERFC.PRECISE EXPAND EXPON.DIST F.DIST F.DIST.RT F.INV
    F.INV.RT F.TEST FIELDVALUE FILTER FILTERXML FLOOR.MATH FLOOR.PRECISE FORECAST.ETS
    FORECAST.ETS.CONFINT FORECAST.ETS.SEASONALITY FORECAST.ETS.STAT FORECAST.LINEAR FORMULATEXT GAMMA
    GAMMA.DIST GAMMA.INV GAMMALN.PRECISE GAUSS GROUPBY HSTACK HYPGEOM.DIST IFNA IFS IMAGE IMCOSH IMCOT
    IMCSC IMCSCH IMSEC IMSECH IMSINH IMTAN ISFORMULA ISO.CEILING ISOMITTED ISOWEEKNUM LAMBDA LET
    LOGNORM.DIST LOGNORM.INV MAKEARRAY MAP MAXIFS MINIFS MODE.MULT MODE.SNGL MUNIT NEGBINOM.DIST
    NETWORKDAYS.INTL NORM.DIST NORM.INV NORM.S.DIST NORM.S.INV NUMBERVALUE PDURATION PERCENTILE.EXC
    PERCENTILE.INC PERCENTOF PERCENTRANK.EXC PERCENTRANK.INC PERMUTATIONA PHI PIVOTBY POISSON.DIST
    QUARTILE.EXC QUARTILE.INC QUERYSTRING RANDARRAY RANK.AVG RANK.EQ REDUCE REGEXEXTRACT REGEXREPLACE
    REGEXTEST RRI SCAN SEC SECH SEQUENCE SHEET SHEETS SINGLE SKEW.P SORT SORTBY STDEV.P STDEV.S
    STOCKHISTORY SWITCH T.DIST T.DIST.2T T.DIST.RT T.INV T.INV.2T T.TEST TAKE TEXTAFTER TEXTBEFORE
    TEXTJOIN TEXTSPLIT TOCOL TOROW TRIMRANGE UNICHAR UNICODE UNIQUE VALUETOTEXT VAR.P VAR.S VSTACK
    WEBSERVICE WEIBULL.DIST WORKDAY.INTL WRAPCOLS WRAPROWS XLOOKUP XMATCH XOR Z.TEST
    """.split()  # noqa: SIM905 (a word list reads better than 170 quoted strings)
)
_XLWS_FUNCTIONS = frozenset({"FILTER", "SORT"})

ERROR_LITERALS = frozenset(Tokenizer.ERROR_CODES)
NUMBER_RE = re.compile(r"^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[Ee][+-]?[0-9]+)?$")
FUNCTION_NAME_RE = re.compile(r"^(?:[^\W\d]|\\)[\w.\\]*$")
# A1# typed in Excel; files store _xlfn.ANCHORARRAY(A1) instead.
SPILL_RE = re.compile(r"(?:^|[^\w.\"])\$?[A-Za-z]{1,3}\$?[0-9]+#")
# LET and LAMBDA parameters (_xlpm.x) and optional LAMBDA parameters (_xlop.x): local variables,
# kept in the sketch rather than treated as references.
LAMBDA_PARAMETER_PREFIXES = ("_xlpm.", "_xlop.")
_PREFIXES = ("_XLFN.", "_XLWS.")  # both six characters long

_UNARY = {"-": "u-", "+": "u+"}
_UNARY_TEXT = {"u-": "-", "u+": "+", "u@": "@"}
# Sketch token -> A1 text, for every token that is not written as it is.
_RENDER_TOKEN: dict[str, str] = dict(_UNARY_TEXT)
_RENDER_TOKEN.update(
    {f"{name}(": f"_xlfn.{'_xlws.' if name in _XLWS_FUNCTIONS else ''}{name}(" for name in FUTURE_FUNCTIONS}
)

# Tokenizer token kinds, as module constants for the hot loop.
_OPERAND, _FUNC, _PAREN, _ARRAY, _SEP = Token.OPERAND, Token.FUNC, Token.PAREN, Token.ARRAY, Token.SEP
_OP_PRE, _OP_IN, _OP_POST, _WSPACE = Token.OP_PRE, Token.OP_IN, Token.OP_POST, Token.WSPACE
_OPEN, _CLOSE = Token.OPEN, Token.CLOSE
_TEXT, _NUMBER, _LOGICAL, _ERROR = Token.TEXT, Token.NUMBER, Token.LOGICAL, Token.ERROR


@dataclass(frozen=True, slots=True)
class Formula:
    """A formula independent of the cell it sits in.

    Attributes:
        sketch: the tokens, each reference replaced by ``RANGE_PLACEHOLDER`` (see the module doc).
        ranges: one ``Reference`` per placeholder, in order, relative to the formula's cell.
    """

    sketch: tuple[str, ...]
    ranges: tuple[Reference, ...]


def _fail(reason: str, text: str, detail: str = "") -> FormulaError:
    assert reason in UNREPRESENTABLE_REASONS, reason
    return FormulaError(reason, text, detail)


class _Parser:
    """One parse: collects the sketch tokens and references of one formula at one origin."""

    __slots__ = ("origin", "ranges", "sketch", "text")

    def __init__(self, text: str, origin: tuple[int, int]) -> None:
        self.text = text
        self.origin = origin
        self.sketch: list[str] = []
        self.ranges: list[Reference] = []

    def reference(self, value: str) -> None:
        """Append one reference (a piece of a range built with ':')."""
        try:
            ref = parse_reference(value, self.origin)
        except FormulaError as exc:
            raise _fail(exc.reason, self.text, value) from None
        self.sketch.append(RANGE_PLACEHOLDER)
        self.ranges.append(ref)

    def operand(self, value: str) -> None:
        """Append the tokens of one operand the tokenizer left untyped (a reference, mostly)."""
        if not value:
            raise _fail("invalid_reference", self.text, "empty operand")
        upper = value.upper()
        if upper == "TRUE" or upper == "FALSE":
            self.sketch.append(upper)
        elif "#REF!" in upper:
            raise _fail("broken_reference", self.text, value)
        elif value.startswith(LAMBDA_PARAMETER_PREFIXES):
            self.sketch.append(value)
        elif value[0] == "@":  # implicit intersection as Excel 365 shows it
            self.sketch.append("u@")
            self.operand(value[1:])
        elif value[0] == ":":  # the end of a range that starts with a call: INDEX(...):B9
            self.sketch.append(":")
            self.operand(value[1:])
        elif NUMBER_RE.match(value):
            self.sketch.append(value)
        else:
            try:
                ref = parse_reference(value, self.origin)
            except FormulaError as exc:
                pieces = split_top_level(value, ":")
                if exc.reason != "invalid_reference" or len(pieces) == 1:
                    raise _fail(exc.reason, self.text, value) from None
                # Two or more references joined by the range operator: A1:Name, 'S'!A1:'S'!B2.
                for i, piece in enumerate(pieces):
                    if i:
                        self.sketch.append(":")
                    self.reference(piece)
                return
            self.sketch.append(RANGE_PLACEHOLDER)
            self.ranges.append(ref)

    def function(self, value: str) -> None:
        """Append the tokens of a function opener such as 'SUM(', '_xlfn.IFS(' or 'A1:INDEX('."""
        name = value[:-1]
        pieces = split_top_level(name, ":")
        if len(pieces) > 1:
            # The tokenizer glues "A1:" (or ":" after a call) to the function that ends a range.
            name = pieces.pop()
            if pieces != [""]:
                self.operand(":".join(pieces))
            self.sketch.append(":")
            if not name:
                self.sketch.append("(")
                return
        if name.startswith("@"):
            self.sketch.append("u@")
            name = name[1:]
        if name.startswith(LAMBDA_PARAMETER_PREFIXES):  # a LET variable holding a LAMBDA
            self.sketch.append(name + "(")
            return
        upper = name.upper()
        bare = upper
        while bare.startswith(_PREFIXES):
            bare = bare[6:]
        if bare in FUTURE_FUNCTIONS:
            upper = bare
        elif not FUNCTION_NAME_RE.match(name):
            reason = "external_workbook" if "[" in name else "invalid_function"
            raise _fail(reason, self.text, value)
        elif bare == "TABLE":
            raise _fail("data_table", self.text)
        self.sketch.append(upper + "(")


def _intersections(items: Iterable[Token]) -> Iterator[tuple[Token, bool | None]]:
    """The tokenizer items of a formula but its whitespace, each with the grammar's reading of the gap
    before it: the one rule for spaces, shared by ``parse_formula`` and ``canonical_formula``.

    Whitespace between a token that ends an operand (an operand, a closing bracket, ``%``) and one that
    starts an operand (an operand, a call, an opening parenthesis or brace; not ``:B9`` or ``:INDEX(``,
    which continue a range after a call) is the intersection operator; any other whitespace is dropped.
    The flag is True for a token that starts an operand after such whitespace, False for one that
    starts an operand right after another with nothing between (no operator), None otherwise.
    """
    ends_operand = False  # the last token ends an operand, so whitespace next may be an intersection
    space = False  # whitespace since the last token
    for token in items:
        kind = token.type
        if kind == _WSPACE:
            space = True
            continue
        subtype = token.subtype
        starts_operand = (kind == _OPERAND or (subtype == _OPEN and kind != _ARRAY)) and token.value[0] != ":"
        yield token, (space if ends_operand and starts_operand else None)
        space = False
        ends_operand = kind in (_OPERAND, _OP_POST) or subtype == _CLOSE


def _tokenize(text: str) -> list[Token]:
    """Tokenizer items of ``text``, or FormulaError with the most specific reason."""
    try:
        tokenizer = Tokenizer(text)
        if tokenizer.token_stack:
            raise TokenizerError(f"unclosed {tokenizer.token_stack[-1].value!r}")
    except (TokenizerError, IndexError, AssertionError, ValueError) as exc:
        if "#REF!" in text.upper():
            raise _fail("broken_reference", text) from None
        if SPILL_RE.search(text):
            raise _fail("spill_reference", text) from None
        raise _fail("tokenizer_error", text, str(exc)) from None
    items: list[Token] = tokenizer.items
    return items


def parse_formula(text: str, origin: tuple[int, int]) -> Formula:
    """Parse A1 formula text at the 1-based ``origin`` cell ``(row, col)`` into a ``Formula``.

    Raises:
        FormulaError: with a reason from ``UNREPRESENTABLE_REASONS`` when the formula cannot be
            represented (``"external_workbook"``, ``"tokenizer_error"``, ...).
        ValueError: when ``origin`` is not on the sheet.
    """
    row, col = origin
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COL):
        raise ValueError(f"origin {origin} is outside the sheet")
    if not text.startswith("="):
        raise _fail("not_a_formula", text)
    if len(text) > MAX_FORMULA_CHARS:
        raise _fail("too_long", text, f"{len(text)} characters")
    if not text[1:].strip():
        raise _fail("empty_formula", text)
    parser = _Parser(text, origin)
    append = parser.sketch.append
    for token, intersection in _intersections(_tokenize(text)):
        kind = token.type
        value = token.value
        subtype = token.subtype
        if intersection:
            append(" ")  # the intersection operator
        elif intersection is not None and not (kind == _PAREN and parser.sketch[-1] == ")"):
            # An operand right after another needs an operator (LAMBDA(...)(A1) is a call).
            reason = "broken_reference" if "#REF!" in text else "tokenizer_error"
            raise _fail(reason, text, f"no operator before {value!r}")
        if kind == _OPERAND:
            if subtype in (_TEXT, _LOGICAL) or (subtype == _NUMBER and NUMBER_RE.match(value)):
                append(value)
            elif subtype == _ERROR:
                # #REF! stands where Excel deleted a reference (=R68*#REF!, Sheet1!#REF!): the
                # formula lost part of its meaning, so it is not learned from.
                if value not in ERROR_LITERALS or value == "#REF!":
                    raise _fail("broken_reference", text, value)
                append(value)
            else:
                parser.operand(value)
        elif subtype == _OPEN:
            if kind == _FUNC:
                parser.function(value)
            else:
                append(value)
        elif subtype == _CLOSE or kind == _OP_POST or kind in (_OP_IN, _SEP):
            append(value)
        elif kind == _OP_PRE:
            append(_UNARY[value])
        else:
            raise _fail("tokenizer_error", text, f"unexpected token {value!r}")
    return Formula(tuple(parser.sketch), tuple(parser.ranges))


def render_formula(formula: Formula, origin: tuple[int, int]) -> str:
    """A1 text (``"=..."``) of ``formula`` placed at ``origin``.

    Raises:
        FormulaError: ``"out_of_bounds"`` when a relative reference falls off the sheet there.
    """
    parts = ["="]
    append = parts.append
    ranges = iter(formula.ranges)
    render_token = _RENDER_TOKEN.get
    for token in formula.sketch:
        if token == RANGE_PLACEHOLDER:
            try:
                append(format_reference(next(ranges), origin))
            except ValueError as exc:
                raise _fail("out_of_bounds", relative_formula(formula), f"at {origin}: {exc}") from None
        else:
            append(render_token(token, token))
    return "".join(parts)


def relative_formula(formula: Formula) -> str:
    """R1C1 text of ``formula`` with ``$`` parts absolute: ``"=SUM(R[-8]C:R[-1]C)*R2C3"``.

    Function names come without ``_xlfn.``. Copies of one formula (filled down or across) have
    the same relative text, so it is the key of "distinct formulas".
    """
    parts = ["="]
    ranges = iter(formula.ranges)
    for token in formula.sketch:
        if token == RANGE_PLACEHOLDER:
            parts.append(relative_reference(next(ranges)))
        else:
            parts.append(_UNARY_TEXT.get(token, token))
    return "".join(parts)


def formula_functions(formula: Formula) -> list[str]:
    """Names of the functions ``formula`` calls, in order, upper case, without ``_xlfn.``."""
    names = []
    for token in formula.sketch:
        if len(token) > 1 and token[-1] == "(":  # strings end with '"', so only calls end with "("
            name = token[:-1].upper()
            while name.startswith(_PREFIXES):
                name = name[6:]
            names.append(name)
    return names


def _near(value: int, absolute: bool, origin: int | None, radius: int) -> bool:
    if absolute:
        return origin is not None and abs(value - origin) <= radius
    return abs(value) <= radius


def reference_kinds(
    formula: Formula | str,
    own_sheet: str | None = None,
    radius: int = WINDOW_RADIUS,
    *,
    origin: tuple[int, int] | None = None,
) -> set[str]:
    """The reference kinds (``constants.REFERENCE_KINDS``) that ``formula`` uses.

    A reference qualified with ``own_sheet`` (compared case-insensitively, as Excel does)
    counts as same-sheet. A same-sheet cell or area is in-window when every corner lies within
    ``radius`` rows and columns of the formula's cell; whole rows and columns are beyond the
    window. Absolute parts (``$B$2``) are measured from ``origin``, and count as beyond the
    window when no origin is given. A formula without references gives an empty set.

    ``formula`` may be A1 text, which needs ``origin`` (ValueError otherwise) and is parsed
    (FormulaError when unrepresentable).
    """
    if isinstance(formula, str):
        if origin is None:
            raise ValueError("reference_kinds needs the origin to read A1 text")
        formula = parse_formula(formula, origin)
    own = own_sheet.casefold() if own_sheet is not None else None
    origin_row, origin_col = origin if origin is not None else (None, None)
    kinds: set[str] = set()
    for ref in formula.ranges:
        if ref.spec is not None:
            kinds.add(KIND_STRUCTURED)
        elif ref.name is not None:
            kinds.add(KIND_DEFINED_NAME)
        elif ref.sheet is not None and ref.sheet.casefold() != own:
            kinds.add(KIND_OTHER_SHEET)
        else:
            corners = (ref.start,) if ref.end is None else (ref.start, ref.end)
            inside = all(
                corner is not None
                and corner.row is not None
                and corner.col is not None
                and _near(corner.row, corner.row_abs, origin_row, radius)
                and _near(corner.col, corner.col_abs, origin_col, radius)
                for corner in corners
            )
            kinds.add(KIND_IN_WINDOW if inside else KIND_BEYOND_WINDOW)
    return kinds


# ---------------------------------------------------------------------------------------------
# Canonical text. Deliberately independent of parse_formula, which it judges: it works on the
# tokenizer's items alone, with only the grammar's rule for spaces (_intersections) in common.


def _canonical_sheet(prefix: str) -> str:
    return quote_sheet(unquote_sheet(prefix)) if prefix else prefix


def _canonical_operand(value: str, keep_absolute: bool) -> str:
    upper = value.upper()
    if upper in ("TRUE", "FALSE"):
        return upper
    pieces = split_top_level(value, ":")
    out = []
    for piece in pieces:
        sheet_text = ""
        bang = find_top_level(piece, "!")
        if bang >= 0:
            # Excel compares sheet names and defined names case-insensitively.
            sheet_text = _canonical_sheet(piece[:bang]).upper() + "!"
            piece = piece[bang + 1 :]
        if "[" not in piece:
            is_ref = CELL_RE.match(piece) or (len(pieces) > 1 and (COLUMN_RE.match(piece) or ROW_RE.match(piece)))
            piece = piece.upper()
            if is_ref and not keep_absolute:
                piece = piece.replace("$", "")
        out.append(sheet_text + piece)
    return ":".join(out)


def _canonical_function(value: str, keep_absolute: bool) -> str:
    pieces = split_top_level(value[:-1], ":")
    name = pieces.pop().upper()
    head = _canonical_operand(":".join(pieces), keep_absolute) + ":" if pieces else ""
    at = name.startswith("@")
    if at:
        name = name[1:]
    while name.startswith(_PREFIXES):
        name = name[6:]
    return f"{head}{'@' if at else ''}{name}("


def canonical_formula(text: str, *, keep_absolute: bool = False) -> str:
    """Comparison form of A1 formula text.

    Function names upper case without ``_xlfn.``/``_xlws.``, cell references, defined names and
    sheet names upper case (Excel ignores their case), ``TRUE``/``FALSE`` upper case, sheet names
    quoted only where Excel needs it, whitespace
    dropped except one space for an intersection, and ``$`` dropped (kept with
    ``keep_absolute=True``). Text the tokenizer cannot read comes back stripped.
    """
    text = text.strip()
    try:
        items = Tokenizer(text).items
    except (TokenizerError, IndexError, AssertionError, ValueError):
        return text
    if not items or items[0].type == Token.LITERAL:
        return text
    out = ["="]
    for token, intersection in _intersections(items):
        kind = token.type
        value = token.value
        subtype = token.subtype
        if intersection:
            out.append(" ")
        if kind == _OPERAND and subtype != _TEXT:
            value = _canonical_operand(value, keep_absolute)
        elif kind == _FUNC and subtype == _OPEN:
            value = _canonical_function(value, keep_absolute)
        out.append(value)
    return "".join(out)
