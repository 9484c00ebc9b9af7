"""Compute a formula on a sheet's cached values with a real formula engine (the ``formulas`` package).

``compute_formula("=SUM(B2:B9)", sheet, workbook, (10, 2))`` returns what the formula would show
in B10, computed from the cached values the file holds, or raises ``NotComputable`` when no honest
answer can be given: the formula does not parse, calls a volatile or reference-returning function,
reads more than ``MAX_EXEC_CELLS`` cells, names something the workbook lacks, or the engine fails.

Before the engine sees a formula, every reference is made plain A1 on our side: defined names are
replaced by what they refer to, table (structured) references by the cells they denote, and whole
columns and rows by the sheet's used extent (the same values, far fewer cells). The formula's own
cell always reads as empty: it is the cell being predicted.

The engine is a test/evaluation dependency (``pip install formulas``), imported on first use.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import warnings
from dataclasses import replace
from functools import lru_cache
from typing import Any

import numpy as np
from openpyxl.utils.datetime import to_excel

from ..constants import RANGE_PLACEHOLDER
from ..errors import FormulaError
from ..formula import Formula, formula_functions, parse_formula, render_formula
from ..references import Corner, Reference, format_a1, parse_reference, split_top_level
from ..sheet import Cell, CellType, Sheet, TableDef, Workbook
from ..values import ExcelError, ExcelValue, cached_value, values_equal

logger = logging.getLogger(__name__)

__all__ = [
    "MAX_EXEC_CELLS",
    "UNCHECKABLE_FUNCTIONS",
    "ExcelError",
    "ExcelValue",
    "NotComputable",
    "cached_value",
    "compute_formula",
    "values_equal",
]

# A candidate that reads more cells than this is not computed (whole columns are bounded first).
MAX_EXEC_CELLS = 100_000
# Functions whose value cannot be reproduced from cached values: volatile ones, those returning
# references to cells the engine is never given (OFFSET, INDIRECT), and those about the workbook
# itself rather than its values.
UNCHECKABLE_FUNCTIONS = frozenset(
    """
    TODAY NOW RAND RANDBETWEEN RANDARRAY OFFSET INDIRECT CELL INFO FORMULATEXT ISFORMULA SHEET SHEETS
    GETPIVOTDATA HYPERLINK RTD DDE WEBSERVICE FILTERXML STOCKHISTORY IMAGE TABLE LAMBDA LET
    ANCHORARRAY CALL REGISTER.ID
    """.split()  # noqa: SIM905 (a word list reads better than quoted strings)
)
# Functions whose result depends on a reference's extent, which bounding whole columns changes.
_EXTENT_FUNCTIONS = frozenset({"ROWS", "COLUMNS", "COUNTBLANK", "ROW", "COLUMN", "AREAS"})
# A defined name that is a constant: a number, a string or a logical.
_CONSTANT_RE = re.compile(r'^(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[Ee][+-]?[0-9]+)?|"(?:[^"]|"")*"|TRUE|FALSE)$',
                          re.IGNORECASE)
_ESCAPE_RE = re.compile(r"'(.)")  # column names in structured references escape [ ] # ' with '
_MAX_NAME_DEPTH = 4  # a name may refer to a name, up to this depth
_OWN_ALIAS = "SHEET_0"  # what the engine calls the formula's own sheet (see _aliased)


class NotComputable(Exception):
    """The formula cannot be computed honestly here; ``reason`` says why (a short code)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        super().__init__(f"{reason}: {detail}" if detail else reason)




# ---------------------------------------------------------------------------------------------
# References -> plain A1 areas


def _find_table(sheet: Sheet, workbook: Workbook | None, ref: Reference,
                origin: tuple[int, int]) -> tuple[Sheet, TableDef]:
    if not ref.name:  # [@Qty]: the table the formula sits in
        table = sheet.table_at(*origin)
        if table is None:
            raise NotComputable("structured", f"{ref.spec} outside a table")
        return sheet, table
    wanted = ref.name.casefold()
    for candidate in (workbook.sheets if workbook is not None else [sheet]):
        for table in candidate.tables:
            if table.name.casefold() == wanted:
                return candidate, table
    raise NotComputable("structured", f"no table {ref.name!r}")


def _structured_area(sheet: Sheet, workbook: Workbook | None, ref: Reference,
                     origin: tuple[int, int]) -> Reference:
    """The A1 area a table reference denotes (``[@Qty]``, ``T[Qty]``, ``T[[#This Row],[Qty]]``,
    ``T[[A]:[B]]``, ``T[#Totals]``, ``T[]``); NotComputable for other forms."""
    host, table = _find_table(sheet, workbook, ref, origin)
    assert ref.spec is not None
    inner = ref.spec[1:-1].strip()
    this_row = inner.startswith("@")
    if this_row:
        inner = inner[1:].strip()
    items = [item.strip() for item in split_top_level(inner, ",")] if inner else []
    if len(items) == 1 and not items[0].startswith("["):
        items = [f"[{items[0]}]"]
    first_data = table.min_row + table.header_rows
    last_data = table.max_row - table.totals_rows
    sections = {
        "#all": (table.min_row, table.max_row),
        "#data": (first_data, last_data),
        "#headers": (table.min_row, first_data - 1),
        "#totals": (last_data + 1, table.max_row),
        "#this row": (origin[0], origin[0]),
    }
    rows: list[tuple[int, int]] = []
    cols: list[int] = []
    names = [name.casefold() for name in table.columns]
    for item in items:
        for piece in split_top_level(item, ":"):
            piece = piece.strip()
            if not (piece.startswith("[") and piece.endswith("]")):
                raise NotComputable("structured", ref.spec)
            name = piece[1:-1].strip()
            if name.startswith("#"):
                section = sections.get(name.casefold())
                if section is None:
                    raise NotComputable("structured", ref.spec)
                rows.append(section)
                this_row = this_row or name.casefold() == "#this row"
                continue
            try:
                cols.append(table.min_col + names.index(_ESCAPE_RE.sub(r"\1", name).casefold()))
            except ValueError:
                raise NotComputable("structured", f"no column {name!r} in {table.name}") from None
    if this_row:
        rows = [sections["#this row"]]
        if not first_data <= origin[0] <= last_data or host is not sheet:
            raise NotComputable("structured", f"{ref.spec} outside the table's rows")
    top, bottom = (min(r for r, _ in rows), max(r for _, r in rows)) if rows else sections["#data"]
    left, right = (min(cols), max(cols)) if cols else (table.min_col, table.max_col)
    if top > bottom:  # #Headers of a table without one, #Totals without a totals row
        raise NotComputable("structured", f"{ref.spec}: empty section")
    start = Corner(top, left, True, True)
    end = None if (top, left) == (bottom, right) else Corner(bottom, right, True, True)
    return Reference(host.name, start, end)


def _lookup_name(sheet: Sheet, workbook: Workbook | None, ref: Reference) -> str:
    """Refers-to text of a defined name: the sheet's own names first, then the workbook's."""
    assert ref.name is not None
    scope = sheet
    if ref.sheet is not None:
        if workbook is None:
            raise NotComputable("reference", f"no workbook to find sheet {ref.sheet!r}")
        scope = _sheet(workbook, sheet, ref.sheet)
    wanted = ref.name.casefold()
    books: list[dict[str, str]] = [scope.defined_names]
    if workbook is not None:
        books.append(workbook.defined_names)
    for names in books:
        for name, text in names.items():
            if name.casefold() == wanted:
                return text.removeprefix("=").strip()
    raise NotComputable("name", f"no defined name {ref.name!r}")


def _sheet(workbook: Workbook | None, own: Sheet, name: str | None) -> Sheet:
    if name is None or name.casefold() == own.name.casefold():
        return own
    if workbook is None:
        raise NotComputable("reference", f"no workbook to find sheet {name!r}")
    try:
        return workbook.sheet(name)
    except KeyError:
        raise NotComputable("reference", f"no sheet {name!r}") from None


def _bounded(ref: Reference, target: Sheet) -> Reference:
    """A whole-column (``A:C``) or whole-row (``3:5``) area cut to ``target``'s used extent."""
    start, end = ref.start, ref.end
    assert start is not None and end is not None
    if start.row is None or end.row is None:
        last = max(target.max_row, 1)
        start, end = Corner(1, start.col, True, start.col_abs), Corner(last, end.col, True, end.col_abs)
    if start.col is None or end.col is None:
        last = max(target.max_col, 1)
        start, end = Corner(start.row, 1, start.row_abs, True), Corner(end.row, last, end.row_abs, True)
    return Reference(ref.sheet, start, end)


def _resolve(ref: Reference, sheet: Sheet, workbook: Workbook | None, origin: tuple[int, int]) -> Reference | str:
    """A cell or area reference for ``ref`` (names and table references followed), or the text of
    the constant a defined name stands for."""
    for _ in range(_MAX_NAME_DEPTH):
        if ref.spec is not None:
            return _structured_area(sheet, workbook, ref, origin)
        if ref.name is None:
            return ref
        text = _lookup_name(sheet, workbook, ref)
        if _CONSTANT_RE.match(text):
            return text if text.startswith('"') else text.upper()
        try:
            # Names are defined from A1: relative parts of a name move with the cell using it.
            ref = parse_reference(text, (1, 1))
        except FormulaError:
            raise NotComputable("name", f"{text!r} is not a plain reference") from None
    raise NotComputable("name", "names refer to names too deeply")


def plain_formula(formula: Formula, sheet: Sheet, workbook: Workbook | None,
                  origin: tuple[int, int]) -> tuple[Formula, bool]:
    """``formula`` with names, table references and whole columns/rows replaced by A1 areas (or
    constants), and whether any whole column or row was bounded. NotComputable when one cannot be."""
    sketch: list[str] = []
    ranges: list[Reference] = []
    bounded = False
    todo = iter(formula.ranges)
    for token in formula.sketch:
        if token != RANGE_PLACEHOLDER:
            sketch.append(token)
            continue
        ref = _resolve(next(todo), sheet, workbook, origin)
        if isinstance(ref, str):
            sketch.extend(("(", ref, ")"))
            continue
        target = _sheet(workbook, sheet, ref.sheet)  # the sheet must exist
        start, end = ref.start, ref.end
        if start is not None and end is not None and None in (start.row, start.col, end.row, end.col):
            ref = _bounded(ref, target)
            bounded = True
        sketch.append(RANGE_PLACEHOLDER)
        ranges.append(ref)
    return Formula(tuple(sketch), tuple(ranges)), bounded


# ---------------------------------------------------------------------------------------------
# Values in and out of the engine


@lru_cache(maxsize=1)
def _engine() -> Any:
    """The engine's pieces, imported once: (Cell, Ranges, EMPTY, error values by code)."""
    try:
        import schedula
        from formulas.cell import Cell as EngineCell
        from formulas.ranges import Ranges
        from formulas.tokens.operand import Error
    except ImportError:
        logger.warning("execution match needs the `formulas` package (pip install formulas); not computed")
        return None
    return EngineCell, Ranges, schedula.EMPTY, dict(Error.errors)


def _engine_value(cell: Cell | None, empty: Any, errors: dict[str, Any]) -> Any:
    """A cell's cached value as the engine reads it: numbers, text, bools, dates as serials."""
    if cell is None or cell.value is None or cell.type is CellType.EMPTY:
        return empty
    value = cell.value
    if cell.type is CellType.ERROR:
        return errors.get(str(value), errors["#VALUE!"])
    if cell.type is CellType.DATE and isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        return to_excel(value)
    return value


def _area_values(sheet: Sheet, rng: dict[str, Any], mask: tuple[int, int] | None, empty: Any,
                 errors: dict[str, Any]) -> Any:
    top, bottom, left, right = int(rng["r1"]), int(rng["r2"]), int(rng["n1"]), int(rng["n2"])
    out = np.empty((bottom - top + 1, right - left + 1), dtype=object)
    get = sheet.cells.get
    for r in range(top, bottom + 1):
        for c in range(left, right + 1):
            cell = None if (r, c) == mask else get((r, c))
            out[r - top, c - left] = _engine_value(cell, empty, errors)
    return out


def _result(value: Any, empty: Any) -> ExcelValue:
    """The engine's result as one ``ExcelValue``; NotComputable for multi-cell results."""
    value = getattr(value, "value", value)  # a Ranges, when the formula is a bare reference
    if hasattr(value, "shape"):
        if value.size != 1:
            raise NotComputable("array", f"result of shape {value.shape}")
        value = value.ravel()[0]
    if value is empty or value is None:
        return 0.0  # a formula showing an empty cell shows 0
    if type(value).__name__ == "XlError":
        return ExcelError(str(value))
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NotComputable("engine", f"unexpected result {value!r}") from None
    return number if math.isfinite(number) else ExcelError("#NUM!")


def _aliased(formula: Formula, sheet: Sheet, workbook: Workbook | None) -> tuple[Formula, dict[str, Sheet]]:
    """``formula`` with each sheet named by a plain alias (``SHEET_1``), and the sheets by alias.

    The engine misreads some real sheet names (``'BASoBC-commercial'!B2``), so it never sees one;
    references to the formula's own sheet lose their qualifier.
    """
    sheets = {_OWN_ALIAS: sheet}
    aliases: dict[str, str] = {}
    ranges = []
    for ref in formula.ranges:
        target = _sheet(workbook, sheet, ref.sheet)
        if target is sheet:
            ranges.append(replace(ref, sheet=None))
            continue
        alias = aliases.get(target.name)
        if alias is None:
            alias = aliases[target.name] = f"SHEET_{len(aliases) + 1}"
            sheets[alias] = target
        ranges.append(replace(ref, sheet=alias))
    return Formula(formula.sketch, tuple(ranges)), sheets


def compute_formula(text: str, sheet: Sheet, workbook: Workbook | None, origin: tuple[int, int], *,
                    max_cells: int = MAX_EXEC_CELLS) -> ExcelValue:
    """The value formula ``text`` shows in cell ``origin`` of ``sheet``, from cached values.

    Other sheets and workbook-scoped names are looked up in ``workbook`` (None: only ``sheet``).
    The cell at ``origin`` reads as empty.

    Raises:
        NotComputable: with a reason code (``"unparsable"``, ``"uncheckable"``, ``"name"``,
            ``"structured"``, ``"reference"``, ``"unsupported"``, ``"too_large"``, ``"array"``, ``"engine"``,
            ``"no_engine"``) when no trustworthy value can be computed.
    """
    try:
        formula = parse_formula(text, origin)
    except (FormulaError, ValueError) as exc:
        raise NotComputable("unparsable", str(exc)) from None
    functions = set(formula_functions(formula))
    if functions & UNCHECKABLE_FUNCTIONS:
        raise NotComputable("uncheckable", ", ".join(sorted(functions & UNCHECKABLE_FUNCTIONS)))
    plain, bounded = plain_formula(formula, sheet, workbook, origin)
    if bounded and functions & _EXTENT_FUNCTIONS:
        raise NotComputable("uncheckable", "a whole column or row whose extent matters")
    plain, sheets = _aliased(plain, sheet, workbook)
    try:
        a1 = render_formula(plain, origin)
    except FormulaError as exc:
        raise NotComputable("reference", str(exc)) from None
    engine = _engine()
    if engine is None:
        raise NotComputable("no_engine")
    engine_cell, ranges_type, empty, errors = engine
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compiled = engine_cell(f"{_OWN_ALIAS}!{format_a1(*origin)}", a1).compile()
            args = []
            total = 0
            for key in compiled.inputs:
                if not isinstance(key, str) or type(key).__name__ == "XlError":
                    raise NotComputable("unsupported", f"engine input {key!r} (an unknown function or name)")
                rng = ranges_type().push(key).ranges[0]
                target = sheets.get(rng["sheet"])
                if target is None:
                    raise NotComputable("reference", f"engine sheet {rng['sheet']!r}")
                total += (int(rng["r2"]) - int(rng["r1"]) + 1) * (int(rng["n2"]) - int(rng["n1"]) + 1)
                if total > max_cells:
                    raise NotComputable("too_large", f"more than {max_cells} cells")
                mask = origin if target is sheet else None
                args.append(ranges_type().push(key, _area_values(target, rng, mask, empty, errors)))
            with np.errstate(all="ignore"):
                return _result(compiled.func(*args), empty)
        except NotComputable:
            raise
        except Exception as exc:  # the engine raises many types (NotImplementedError, DispatcherError, ...)
            raise NotComputable("engine", f"{type(exc).__name__}: {exc}") from None
