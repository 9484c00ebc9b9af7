"""Target sequences of the decoder and their vocabularies.

A formula is decoded in two stages by one LSTM with two heads (DESIGN.md, "Model"): first the
sketch tokens (``SUM( RANGE )``, then ``<eos>``), then the range tokens of each ``RANGE`` in
order. Each reference becomes a short, fixed-shape token group:

======================  ==============================================================
cell                    ``<cell>`` sheet  row  col
area                    ``<area>`` sheet  row  col  row  col
defined name            ``<name>`` ``name:K`` (pointer: index into the visible names)
structured reference    ``<struct>`` ``table:NAME`` ``spec:PATTERN`` then one ``hcol:±k`` per ``{}``
======================  ==============================================================

A structured reference's specifier becomes a pattern with its column names taken out
(``[@Qty]`` -> ``spec:[@{}]``, ``[[#Totals],[Qty]]`` -> ``spec:[[#Totals],[{}]]``), and each
column becomes a pointer over the table's header cells: ``hcol:-2`` is the table column whose header
sits two columns left of the target. A specifier whose columns cannot be found in the table (or an
unusual spelling) stays verbatim, with no ``hcol``.

``sheet`` is ``sheet:=`` for the formula's own sheet or ``sheet:K``, a pointer into the
workbook's sheet names. A row is ``r-3`` (offset from the target), ``R12`` (absolute, ``$12``),
``r*`` (whole column) or, for a relative row beyond the window, an anchor such as ``r^first``
(anchors.py: the first data row, the top of the block above, the row with the target's label on
another sheet, ...); a column likewise ``c+2``, ``C4``, ``c*`` or ``c^left``. ``RefContext``
carries what the pointers and anchors refer to; ``decode_formula`` inverts ``formula_tokens``
exactly with the same context, so a prediction renders back to A1 at the target.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .anchors import ANCHOR_NAMES, OWN
from .constants import RANGE_PLACEHOLDER, WINDOW_RADIUS
from .errors import FormulaError
from .formula import Formula
from .references import Corner, Reference

__all__ = ["SPECIALS", "RefContext", "Vocab", "decode_formula", "formula_tokens", "range_tokens"]

# The first tokens of both vocabularies, in this order (``<pad>`` is id 0, ``<bos>`` id 1).
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)
# Heads of the range token groups.
CELL, AREA, NAME, STRUCT = "<cell>", "<area>", "<name>", "<struct>"
# Prefixes of the pointer tokens: ``sheet:K`` and ``name:K`` point into the workbook's sheet names and
# visible defined names, ``hcol:±k`` at a table column's header; ``table:``/``spec:`` carry a
# structured reference's table and specifier.
SHEET_PREFIX, NAME_PREFIX, HCOL_PREFIX = "sheet:", "name:", "hcol:"
TABLE_PREFIX, SPEC_PREFIX = "table:", "spec:"
OWN_SHEET = f"{SHEET_PREFIX}="


@dataclass(frozen=True)
class RefContext:
    """What a target's references are tokenised against.

    Attributes:
        own_sheet: the target's sheet (``sheet:=``).
        sheets: the workbook's sheet names in tab order (``sheet:K`` points into them).
        names: the defined names visible from the target's sheet (``name:K``).
        origin: the target cell ``(row, col)``; without it no anchors are used.
        radius: offsets up to this size are written as offsets, farther ones try anchors first.
        anchors: ``AnchorIndex.anchors`` of the target (``{"=": {"r^first": 2, ...}, "1": {...}}``).
        tables: the workbook's tables, ``{name casefolded: (first column, column names)}``.
        own_table: the name of the table the target sits in (what ``[@Qty]`` refers to), if any.
    """

    own_sheet: str
    sheets: Sequence[str] = ()
    names: Sequence[str] = ()
    origin: tuple[int, int] | None = None
    radius: int = WINDOW_RADIUS
    anchors: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    tables: Mapping[str, tuple[int, Sequence[str]]] = field(default_factory=dict)
    own_table: str | None = None

    def table(self, name: str | None) -> tuple[int, Sequence[str]] | None:
        key = (name or self.own_table or "").casefold()
        return self.tables.get(key)


# Specifier spellings whose column names become pointers (anything else stays verbatim).
_SPEC_FORMS = [
    (re.compile(r"^\[@([^\[\]']+)\]$"), "[@{}]"),
    (re.compile(r"^\[@\[([^\[\]']+)\]\]$"), "[@[{}]]"),
    (re.compile(r"^\[([^\[\]#@'][^\[\]']*)\]$"), "[{}]"),
    (re.compile(r"^\[\[(#[^\[\]']+)\],\[([^\[\]']+)\]\]$"), "[[{0}],[{{}}]]"),
    (re.compile(r"^\[\[([^\[\]#']+)\]:\[([^\[\]']+)\]\]$"), "[[{}]:[{}]]"),
    (re.compile(r"^\[\[(#[^\[\]']+)\],\[([^\[\]']+)\]:\[([^\[\]']+)\]\]$"), "[[{0}],[{{}}]:[{{}}]]"),
]


def _split_spec(spec: str) -> tuple[str, list[str]] | None:
    """``("[[#Totals],[{}]]", ["Qty"])`` for ``[[#Totals],[Qty]]``; None for other spellings."""
    for pattern, form in _SPEC_FORMS:
        match = pattern.match(spec)
        if match is None:
            continue
        groups = list(match.groups())
        if form.startswith("[[{0}]"):
            return form.format(groups[0]), groups[1:]
        return form, groups
    return None


def _struct_tokens(ref: Reference, ctx: RefContext) -> list[str]:
    assert ref.spec is not None
    head = [STRUCT, f"{TABLE_PREFIX}{ref.name or ''}"]
    split = _split_spec(ref.spec)
    table = ctx.table(ref.name)
    if split is not None and table is not None and ctx.origin is not None:
        pattern, columns = split
        first_col, names = table
        folded = [n.casefold() for n in names]
        if all(c.casefold() in folded for c in columns):
            offsets = [first_col + folded.index(c.casefold()) - ctx.origin[1] for c in columns]
            return [*head, f"{SPEC_PREFIX}{pattern}", *(f"{HCOL_PREFIX}{k:+d}" for k in offsets)]
    return [*head, f"{SPEC_PREFIX}{ref.spec}"]


def _axis_token(value: int | None, absolute: bool, axis: int, sheet_key: str, ctx: RefContext) -> str:
    rel, abs_ = ("r", "R") if axis == 0 else ("c", "C")
    if value is None:
        return f"{rel}*"
    if absolute:
        return f"{abs_}{value}"
    if abs(value) > ctx.radius and ctx.origin is not None:
        target = ctx.origin[axis] + value
        anchors = ctx.anchors.get(sheet_key, {})
        for name in ANCHOR_NAMES:
            if name[0] == rel and anchors.get(name) == target:
                return name
    return f"{rel}{value:+d}"


def _corner_tokens(corner: Corner, sheet_key: str, ctx: RefContext) -> list[str]:
    return [_axis_token(corner.row, corner.row_abs, 0, sheet_key, ctx),
            _axis_token(corner.col, corner.col_abs, 1, sheet_key, ctx)]


def range_tokens(ref: Reference, ctx: RefContext) -> list[str]:
    """Tokens of one reference (see the module docstring). Pointers that find nothing give ``<unk>``."""
    if ref.spec is not None:
        return _struct_tokens(ref, ctx)
    if ref.name is not None:
        folded = [n.casefold() for n in ctx.names]
        key = ref.name.casefold()
        return [NAME, f"{NAME_PREFIX}{folded.index(key)}" if key in folded else UNK]
    sheet_key = OWN
    if ref.sheet is None or ref.sheet.casefold() == ctx.own_sheet.casefold():
        sheet = OWN_SHEET
    else:
        folded = [s.casefold() for s in ctx.sheets]
        if ref.sheet.casefold() in folded:
            sheet_key = str(folded.index(ref.sheet.casefold()))
            sheet = f"{SHEET_PREFIX}{sheet_key}"
        else:
            sheet = UNK
    assert ref.start is not None
    if ref.end is None:
        return [CELL, sheet, *_corner_tokens(ref.start, sheet_key, ctx)]
    return [AREA, sheet, *_corner_tokens(ref.start, sheet_key, ctx), *_corner_tokens(ref.end, sheet_key, ctx)]


def formula_tokens(formula: Formula, ctx: RefContext) -> tuple[list[str], list[str]]:
    """``(sketch tokens + <eos>, range tokens)`` of a formula."""
    ranges: list[str] = []
    for ref in formula.ranges:
        ranges += range_tokens(ref, ctx)
    return [*formula.sketch, EOS], ranges


def _parse_axis(token: str, axis: int, sheet_key: str, ctx: RefContext) -> tuple[int | None, bool]:
    rel, abs_ = ("r", "R") if axis == 0 else ("c", "C")
    if token == f"{rel}*":
        return None, False
    if token.startswith(abs_) and token[1:].isdigit():
        return int(token[1:]), True
    if token.startswith(f"{rel}^"):
        if ctx.origin is None:
            raise ValueError(f"anchor {token} needs the target cell")
        return ctx.anchors[sheet_key][token] - ctx.origin[axis], False
    if token.startswith(rel):
        return int(token[1:]), False
    raise ValueError(token)


def _parse_corner(row: str, col: str, sheet_key: str, ctx: RefContext) -> Corner:
    r, r_abs = _parse_axis(row, 0, sheet_key, ctx)
    c, c_abs = _parse_axis(col, 1, sheet_key, ctx)
    return Corner(r, c, r_abs, c_abs)


def decode_formula(sketch: Sequence[str], ranges: Sequence[str], ctx: RefContext) -> Formula:
    """The formula that ``sketch`` (with or without ``<eos>``) and ``ranges`` tokens describe.

    Raises ``FormulaError("undecodable")`` for ill-formed sequences (wrong group shapes, ``<unk>``,
    pointers out of range, anchors the target does not have, fewer or more groups than ``RANGE``
    placeholders).
    """
    body = [t for t in sketch if t not in (BOS, EOS)]
    refs: list[Reference] = []
    i = 0
    try:
        while i < len(ranges):
            head = ranges[i]
            if head == STRUCT:
                name, spec = ranges[i + 1].removeprefix(TABLE_PREFIX), ranges[i + 2].removeprefix(SPEC_PREFIX)
                i += 3
                slots = spec.count("{}")
                if slots:
                    table = ctx.table(name)
                    if table is None or ctx.origin is None:
                        raise ValueError(f"no table {name!r} for a column pointer")
                    first_col, names = table
                    columns = []
                    for token in ranges[i:i + slots]:
                        if not token.startswith(HCOL_PREFIX):
                            raise ValueError(token)
                        index = ctx.origin[1] + int(token.removeprefix(HCOL_PREFIX)) - first_col
                        if not 0 <= index < len(names):
                            raise ValueError(f"{token} points outside table {name!r}")
                        columns.append(names[index])
                    for column in columns:
                        spec = spec.replace("{}", column, 1)
                    i += slots
                refs.append(Reference(name=name, spec=spec))
            elif head == NAME:
                refs.append(Reference(name=ctx.names[int(ranges[i + 1].removeprefix(NAME_PREFIX))]))
                i += 2
            elif head in (CELL, AREA):
                sheet_token = ranges[i + 1]
                if sheet_token == OWN_SHEET:
                    sheet, sheet_key = None, OWN
                else:
                    sheet_key = sheet_token.removeprefix(SHEET_PREFIX)
                    sheet = ctx.sheets[int(sheet_key)]
                start = _parse_corner(ranges[i + 2], ranges[i + 3], sheet_key, ctx)
                end = _parse_corner(ranges[i + 4], ranges[i + 5], sheet_key, ctx) if head == AREA else None
                refs.append(Reference(sheet=sheet, start=start, end=end))
                i += 6 if head == AREA else 4
            else:
                raise ValueError(head)
    except (IndexError, ValueError, KeyError) as err:
        raise FormulaError("undecodable", " ".join([*body, "|", *ranges]), str(err)) from err
    if len(refs) != body.count(RANGE_PLACEHOLDER) or UNK in body:
        raise FormulaError("undecodable", " ".join([*body, "|", *ranges]), "ranges do not match the sketch")
    return Formula(tuple(body), tuple(refs))


@dataclass
class Vocab:
    """A token <-> id mapping whose first ids are ``SPECIALS`` (``<pad>`` is 0)."""

    tokens: list[str]

    def __post_init__(self) -> None:
        if tuple(self.tokens[: len(SPECIALS)]) != SPECIALS:
            raise ValueError(f"a vocabulary starts with {SPECIALS}, got {self.tokens[:4]}")
        self._ids = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, sequences: Iterable[Sequence[str]], min_count: int = 1, always: Iterable[str] = ()) -> Vocab:
        """Tokens seen at least ``min_count`` times (plus ``always``), most frequent first."""
        counts: Counter[str] = Counter()
        for seq in sequences:
            counts.update(seq)
        extra = [t for t in always if t not in SPECIALS]
        kept = [t for t, c in counts.most_common() if c >= min_count and t not in SPECIALS and t not in extra]
        return cls([*SPECIALS, *extra, *kept])

    def __len__(self) -> int:
        return len(self.tokens)

    def id(self, token: str) -> int:
        return self._ids.get(token, self._ids[UNK])

    def encode(self, seq: Sequence[str]) -> list[int]:
        return [self.id(t) for t in seq]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.tokens[i] for i in ids]

    def covers(self, seq: Sequence[str]) -> bool:
        return all(t in self._ids for t in seq)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.tokens, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))
