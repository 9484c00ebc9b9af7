"""Lossless writing of formulas into an .xlsx package: surgical edits of the sheet XML.

openpyxl's load/save round trip drops charts, images, pivot caches, slicers, form controls and more,
so nothing here goes through it. ``set_formulas`` rewrites only:

- the worksheet part(s) that hold a target cell, and in them only the target ``<c>`` elements (a
  new ``<c>`` or ``<row>`` where the sheet has none at that place) plus the ``<dimension>`` hint
  when a new cell lies outside it;
- ``xl/workbook.xml``, where ``<calcPr fullCalcOnLoad="1">`` asks Excel and LibreOffice to
  compute the new formulas (they are written without a cached value).

Every other part of the zip is copied with byte-identical content, in the same order. Offsets
come from expat (``CurrentByteIndex``), so the bytes between edits are never re-serialised: the
XML declaration, namespaces, attribute order and whitespace all stay as they were. Only empty
cells are written: a cell that holds a value, a formula or inline text raises ``CellNotEmpty``.

``replace_formulas`` is the same edit for occupied cells (``check --fix``: a wrong formula, or a
number typed over one, gets its repair). Each target ``<c>`` must exist and hold a formula or a
value (number, string, shared string, bool, inline text); it is rewritten to hold only the new
``<f>``, keeping ``r``, the style ``s`` and its other attributes but not the type ``t`` (nor the
``cm``/``vm`` metadata of the old content). It refuses, with a ``WriteError``, an empty or missing
cell (``set_formulas`` writes those), the master of a shared formula (the cells of its range
borrow its text), an array formula or data table and the cells of their ranges, and a cell of a
merged area other than its top-left; a shared-formula child may be replaced (it gets a formula of
its own). ``xl/workbook.xml`` gets ``fullCalcOnLoad`` as for ``set_formulas``.

``clear_cells`` is the inverse edit (a formula cell becomes an empty cell that keeps its style);
the blank-and-fill round trip of the tests and the demo workbooks of ``sample_sheets/`` use it.
``write_atomic`` writes a file through a temporary file in the destination folder and a rename.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from ..errors import SpreadsheetCoderError, WorkbookError
from ..references import column_letter, parse_a1
from ..text import NOT_XML, bad_char
from .package import open_package
from .parts import read_part, sheet_parts

__all__ = [
    "CellNotEmpty",
    "WriteError",
    "changed_outside",
    "clear_cells",
    "formula_cells",
    "replace_formulas",
    "set_formulas",
    "write_atomic",
    "xml_formula",
]

# Bounds for the package we rewrite (the reader's defaults are of the same order).
MAX_PACKAGE_BYTES = 1 << 30
MAX_COMPRESSION_RATIO = 200.0

_START_TAG = re.compile(rb"""<[^\s/>]+(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_ATTR = r"""(\s+{name}\s*=\s*)("[^"]*"|'[^']*')"""
# Children of <workbook> that follow <calcPr> in the schema's sequence (CT_Workbook).
_AFTER_CALCPR = ("oleSize", "customWorkbookViews", "pivotCaches", "smartTagPr", "smartTagTypes",
                 "webPublishing", "fileRecoveryPr", "webPublishObjects", "extLst")


class WriteError(SpreadsheetCoderError):
    """A package that cannot be edited safely (no such sheet, a layout the writer refuses)."""


class CellNotEmpty(WriteError):
    """A target cell already holds a value or a formula."""

    def __init__(self, sheet: str, cell: str, content: str) -> None:
        self.sheet, self.cell, self.content = sheet, cell, content
        super().__init__(f"{sheet}!{cell} is not empty (holds {content}); only empty cells are written")


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _prefix(name: str) -> str:
    return name[: -len(_local(name))]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def xml_formula(formula: str) -> str:
    """The text of an ``<f>`` element for ``formula`` as ``render_formula`` writes it (``=`` dropped)."""
    text = formula[1:] if formula.startswith("=") else formula
    if not text.strip():
        raise WriteError(f"empty formula {formula!r}")
    found = bad_char(formula, NOT_XML)
    if found is not None:  # a lone surrogate has no UTF-8 form; the others make the part malformed XML
        raise WriteError(f"formula {formula[:80]!r} holds a {found[1]} at position {found[0]}, "
                         "which XML cannot carry; nothing was written")
    return text


# ---------------------------------------------------------------------------------------------
# Reading where things are


@dataclass
class _Element:
    name: str  # qualified name as written (with its prefix)
    start: int  # offset of '<'
    tag_end: int  # offset just after the start tag's '>'
    empty: bool  # <x/>
    end: int = -1  # offset just after the element
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class _Cell(_Element):
    row: int = 0
    col: int = 0
    explicit: bool = True  # has an r attribute
    occupied: str | None = None  # what it holds ("a formula", "a value", "inline text")
    shared_master: bool = False  # holds <f t="shared" ref=...>: other cells borrow its text
    formula_type: str | None = None  # the t attribute of its <f> ("normal" when absent)
    formula_ref: str | None = None  # the ref attribute of its <f> (the range of a shared, array or data-table formula)


@dataclass
class _Row(_Element):
    number: int = 0
    explicit: bool = True
    cells: list[_Cell] = field(default_factory=list)


@dataclass
class _SheetLayout:
    sheet_data: _Element | None = None
    rows: list[_Row] = field(default_factory=list)
    dimension: _Element | None = None
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)

    def formula_areas(self) -> list[tuple[tuple[int, int, int, int], _Cell]]:
        """The ranges of the array formulas and data tables with the cell that holds each: the other
        cells of such a range hold only its results."""
        areas = []
        for row in self.rows:
            for cell in row.cells:
                if cell.formula_type in ("array", "dataTable") and cell.formula_ref:
                    area = _area(cell.formula_ref)
                    if area is not None:
                        areas.append((area, cell))
        return areas


def _area(ref: str) -> tuple[int, int, int, int] | None:
    """``(top, left, bottom, right)`` of an A1 range or single cell; None when it is not one."""
    corners = ref.split(":")
    try:
        (r1, c1), (r2, c2) = parse_a1(corners[0]), parse_a1(corners[-1])
    except ValueError:
        return None
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _inside(area: tuple[int, int, int, int], r: int, c: int) -> bool:
    top, left, bottom, right = area
    return top <= r <= bottom and left <= c <= right


def _a1_area(area: tuple[int, int, int, int]) -> str:
    top, left, bottom, right = area
    return f"{column_letter(left)}{top}:{column_letter(right)}{bottom}"


def _start_element(data: bytes, start: int, name: str, attrs: dict[str, str], cls: type[_Element] = _Element,
                   **extra: object) -> _Element:
    match = _START_TAG.match(data, start)
    if match is None:  # expat accepted it, so this cannot happen for well-formed input
        raise WriteError(f"cannot locate the start tag of <{name}> at byte {start}")
    element = cls(name=name, start=start, tag_end=match.end(), empty=bool(match.group(1)), attrs=attrs, **extra)  # type: ignore[arg-type]
    if element.empty:
        element.end = element.tag_end
    return element


def _end_offset(data: bytes, index: int) -> int:
    close = data.index(b">", index)
    return close + 1


class _SheetScanner:
    """expat handlers that record the layout of one worksheet part as it is parsed.

    ``stack`` holds the local name of each open element and, for those whose offsets are kept
    (sheetData, dimension, rows, cells), the element itself; rows and cells without an ``r``
    attribute take the place after the previous one.
    """

    def __init__(self, data: bytes, parser: expat.XMLParserType) -> None:
        self.data, self.parser = data, parser
        self.layout = _SheetLayout()
        self.stack: list[tuple[str, _Element | None]] = []
        self.row: _Row | None = None
        self.cell: _Cell | None = None
        self.in_value = False
        self.value_text: list[str] = []
        self.next_row = 1
        self.next_col = 1

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = _local(name)
        index = self.parser.CurrentByteIndex
        element: _Element | None = None
        depth = len(self.stack)
        if depth == 1 and local == "sheetData":
            element = self.layout.sheet_data = _start_element(self.data, index, name, attrs)
        elif depth == 1 and local == "dimension":
            element = self.layout.dimension = _start_element(self.data, index, name, attrs)
        elif depth == 2 and local == "mergeCell" and "ref" in attrs:
            self._merge_cell(attrs["ref"])
        elif depth == 2 and local == "row" and self.stack[-1][0] == "sheetData":
            element = self._start_row(index, name, attrs)
        elif depth == 3 and local == "c" and self.row is not None:
            element = self._start_cell(self.row, index, name, attrs)
        elif depth == 4 and self.cell is not None:
            self._cell_content(self.cell, local, attrs)
        self.stack.append((local, element))

    def _merge_cell(self, ref: str) -> None:
        area = _area(ref)
        if area is not None:
            self.layout.merged.append(area)

    def _start_row(self, index: int, name: str, attrs: dict[str, str]) -> _Row:
        explicit = "r" in attrs
        number = int(attrs["r"]) if explicit else self.next_row
        self.next_row, self.next_col = number + 1, 1
        row = _start_element(self.data, index, name, attrs, _Row, number=number, explicit=explicit)
        assert isinstance(row, _Row)
        self.row = row
        self.layout.rows.append(row)
        return row

    def _start_cell(self, row: _Row, index: int, name: str, attrs: dict[str, str]) -> _Cell:
        ref = attrs.get("r")
        if ref is not None:
            r, c = parse_a1(ref)
        else:
            r, c = row.number, self.next_col
        self.next_col = c + 1
        cell = _start_element(self.data, index, name, attrs, _Cell, row=r, col=c, explicit=ref is not None)
        assert isinstance(cell, _Cell)
        self.cell = cell
        row.cells.append(cell)
        return cell

    def _cell_content(self, cell: _Cell, local: str, attrs: dict[str, str]) -> None:
        """A child of ``<c>``: a formula, inline text or the start of a value."""
        if local == "f":
            cell.occupied = "a formula"
            cell.formula_type = attrs.get("t", "normal")
            cell.shared_master = cell.formula_type == "shared" and "ref" in attrs
            cell.formula_ref = attrs.get("ref")
        elif local == "is":
            cell.occupied = cell.occupied or "inline text"
        elif local == "v":
            self.in_value = True
            self.value_text.clear()

    def end(self, name: str) -> None:
        local, element = self.stack.pop()
        if element is not None and not element.empty:
            element.end = _end_offset(self.data, self.parser.CurrentByteIndex)
        if self.in_value and local == "v":
            self.in_value = False
            value = "".join(self.value_text)
            if value and self.cell is not None and self.cell.occupied is None:
                self.cell.occupied = f"the value {value[:40]!r}"
        if local == "c" and len(self.stack) == 3:
            self.cell = None
        elif local == "row" and len(self.stack) == 2:
            self.row = None

    def text(self, chunk: str) -> None:
        if self.in_value:
            self.value_text.append(chunk)


def _scan_sheet(data: bytes, part: str) -> _SheetLayout:
    """Offsets of sheetData, its rows and cells, the dimension and the merged areas of a worksheet part."""
    parser = expat.ParserCreate()
    scanner = _SheetScanner(data, parser)
    parser.StartElementHandler = scanner.start
    parser.EndElementHandler = scanner.end
    parser.CharacterDataHandler = scanner.text
    try:
        parser.Parse(data, True)
    except (expat.ExpatError, ValueError) as exc:
        raise WorkbookError("corrupt", f"malformed worksheet XML in {part}: {exc}") from None
    layout = scanner.layout
    if layout.sheet_data is None:
        raise WorkbookError("corrupt", f"worksheet {part} has no <sheetData>")
    return layout


def _open(data: bytes) -> zipfile.ZipFile:
    archive: zipfile.ZipFile = open_package(io.BytesIO(data), len(data), None, max_uncompressed_bytes=MAX_PACKAGE_BYTES,
                                            max_compression_ratio=MAX_COMPRESSION_RATIO)
    return archive


def _find_sheet(parts: Mapping[str, str], name: str) -> str:
    if name in parts:
        return parts[name]
    folded = {k.casefold(): v for k, v in parts.items()}
    if name.casefold() in folded:
        return folded[name.casefold()]
    raise WriteError(f"no worksheet named {name!r}; worksheets: {list(parts)}")


def _rewrite(data: bytes, replaced: Mapping[str, bytes]) -> bytes:
    """The package with the parts in ``replaced`` swapped in; every other member copied as it is."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        target.comment = source.comment
        for info in source.infolist():
            body = replaced[info.filename] if info.filename in replaced else source.read(info)
            clone = zipfile.ZipInfo(info.filename, info.date_time)
            clone.compress_type = info.compress_type
            clone.external_attr = info.external_attr
            clone.create_system = info.create_system
            clone.comment = info.comment
            target.writestr(clone, body)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Edits


def _splice(data: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    """Replace ``data[start:end]`` by each text; edits must not overlap."""
    out: list[bytes] = []
    at = 0
    for start, end, text in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < at:
            raise WriteError("overlapping edits")  # two targets on one cell: callers deduplicate
        out += [data[at:start], text]
        at = end
    out.append(data[at:])
    return b"".join(out)


def _cell_xml(prefix: str, ref: str, formula: str, start_tag: str | None = None) -> str:
    head = start_tag if start_tag is not None else f'<{prefix}c r="{ref}">'
    return f"{head}<{prefix}f>{_escape(xml_formula(formula))}</{prefix}f></{prefix}c>"


def _without_type(start_tag: str) -> str:
    """A cell's start tag as a non-self-closing tag without its ``t`` attribute, nor the ``cm`` and
    ``vm`` metadata indexes that belong to the old content (a dynamic-array formula, a rich value)."""
    tag = start_tag
    for name in ("t", "cm", "vm"):
        tag = re.sub(_ATTR.format(name=name), "", tag, count=1)
    return tag[:-2].rstrip() + ">" if tag.endswith("/>") else tag


def _check_target(sheet: str, r: int, c: int, cell: _Cell | None, layout: _SheetLayout,
                  formula_areas: list[tuple[tuple[int, int, int, int], _Cell]], replace: bool) -> None:
    """Raise unless the cell at (r, c) may get a formula.

    Never a cell of a merged area other than its top-left. ``set_formulas`` (``replace`` false)
    writes only cells that hold nothing (``CellNotEmpty`` otherwise, which ``fill`` turns into a
    skipped cell). ``replace_formulas`` writes only cells that hold something, and neither the
    master of a shared formula (its text is borrowed by the other cells of its range) nor an array
    formula or data table, nor a result cell in its range (the formula spans the whole range). A
    shared-formula child may be replaced: it just gets a formula of its own.
    """
    ref = f"{column_letter(c)}{r}"
    for area in layout.merged:
        if _inside(area, r, c) and (r, c) != area[:2]:
            raise WriteError(f"{sheet}!{ref} is inside the merged area {_a1_area(area)}")
    occupied = cell.occupied if cell is not None else None
    if not replace:
        if occupied:
            raise CellNotEmpty(sheet, ref, occupied)
        return
    for area, holder in formula_areas:
        if _inside(area, r, c) and holder is not cell:
            raise WriteError(f"{sheet}!{ref} is inside the range {_a1_area(area)} of the {holder.formula_type} "
                             f"formula of {column_letter(holder.col)}{holder.row}: repair it in Excel")
    if cell is None or not occupied:
        raise WriteError(f"{sheet}!{ref} is empty; replace_formulas only rewrites cells that hold a formula "
                         "or a value (set_formulas writes empty cells)")
    if cell.shared_master:
        raise WriteError(f"{sheet}!{ref} is the master of a shared formula ({cell.formula_ref}); replacing it "
                         "would break the cells that share it: repair it in Excel")
    if cell.formula_type in ("array", "dataTable"):
        kind = "an array formula" if cell.formula_type == "array" else "a data table"
        raise WriteError(f"{sheet}!{ref} holds {kind} ({cell.formula_ref or ref}); it spans its whole range "
                         "and is not replaced cell by cell: repair it in Excel")


def _sheet_edits(data: bytes, part: str, sheet: str, formulas: Mapping[tuple[int, int], str],
                 replace: bool = False) -> bytes:
    """The sheet part with the formulas written; ``replace`` as in ``_check_target``."""
    layout = _scan_sheet(data, part)
    sheet_data = layout.sheet_data
    assert sheet_data is not None
    prefix = _prefix(sheet_data.name)
    rows = {row.number: row for row in layout.rows}
    formula_areas = layout.formula_areas()
    edits: list[tuple[int, int, bytes]] = []
    new_rows: dict[int, list[tuple[int, str]]] = {}
    for (r, c), formula in sorted(formulas.items()):
        ref = f"{column_letter(c)}{r}"
        row = rows.get(r)
        cell = next((x for x in row.cells if x.col == c), None) if row is not None else None
        _check_target(sheet, r, c, cell, layout, formula_areas, replace)
        if row is None:
            new_rows.setdefault(r, []).append((c, formula))
            continue
        if cell is not None:
            start_tag = data[cell.start:cell.tag_end].decode("utf-8")
            if not cell.explicit:
                start_tag = start_tag.replace(_local_open(cell.name), f'{_local_open(cell.name)} r="{ref}"', 1)
            edits.append((cell.start, cell.end, _cell_xml(prefix, ref, formula, _without_type(start_tag)).encode()))
            continue
        # Cells and rows without r follow the previous one, so none sits after a gap a new one fills.
        after = next((x for x in row.cells if x.col > c), None)
        new_cell = _cell_xml(prefix, ref, formula).encode("utf-8")
        closing = f"</{row.name}>".encode()
        if after is not None:
            edits.append((after.start, after.start, new_cell))
        elif row.empty:
            edits.append((row.tag_end - 2, row.tag_end, b">" + new_cell + closing))
        else:
            edits.append((row.end - len(closing), row.end - len(closing), new_cell))
    for r, items in sorted(new_rows.items()):
        cells = "".join(_cell_xml(prefix, f"{column_letter(c)}{r}", f) for c, f in sorted(items))
        new_row = f'<{prefix}row r="{r}">{cells}</{prefix}row>'.encode()
        after_row = next((x for x in layout.rows if x.number > r), None)
        if after_row is not None:
            edits.append((after_row.start, after_row.start, new_row))
        elif sheet_data.empty:
            closing = f"</{sheet_data.name}>".encode()
            edits.append((sheet_data.tag_end - 2, sheet_data.tag_end, b">" + new_row + closing))
        else:
            at = sheet_data.end - len(f"</{sheet_data.name}>".encode())
            edits.append((at, at, new_row))
    edits.extend(_dimension_edit(data, layout.dimension, formulas))
    # Several new cells may be inserted at one offset: merge them in column/row order.
    merged: dict[tuple[int, int], bytes] = {}
    for start, end, piece in edits:
        merged[(start, end)] = merged.get((start, end), b"") + piece
    return _splice(data, [(s, e, t) for (s, e), t in merged.items()])


def _local_open(name: str) -> str:
    return f"<{name}"


def _dimension_edit(data: bytes, dimension: _Element | None,
                    cells: Iterable[tuple[int, int]]) -> list[tuple[int, int, bytes]]:
    """Widen ``<dimension ref>`` to hold new cells (readers in streaming mode trust it)."""
    if dimension is None or "ref" not in dimension.attrs:
        return []
    old = _area(dimension.attrs["ref"])
    if old is None:
        return []
    cells = list(cells)
    top, left = min([old[0]] + [r for r, _ in cells]), min([old[1]] + [c for _, c in cells])
    bottom, right = max([old[2]] + [r for r, _ in cells]), max([old[3]] + [c for _, c in cells])
    if (top, left, bottom, right) == old:
        return []
    ref = _a1_area((top, left, bottom, right))
    tag = data[dimension.start:dimension.tag_end].decode("utf-8")
    new = re.sub(_ATTR.format(name="ref"), lambda m: f'{m.group(1)}"{ref}"', tag, count=1)
    return [(dimension.start, dimension.tag_end, new.encode("utf-8"))]


def _full_calc_on_load(data: bytes) -> bytes:
    """``xl/workbook.xml`` with ``<calcPr fullCalcOnLoad="1">`` (added or set), nothing else changed."""
    parser = expat.ParserCreate()
    children: list[_Element] = []
    root: list[_Element] = []
    depth = 0

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth
        if depth <= 1:
            element = _start_element(data, parser.CurrentByteIndex, name, attrs)
            (root if depth == 0 else children).append(element)
        depth += 1

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1
        if depth == 0 and root:
            root[0].end = _end_offset(data, parser.CurrentByteIndex)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise WorkbookError("corrupt", f"malformed workbook XML: {exc}") from None
    prefix = _prefix(root[0].name)
    calc = next((x for x in children if _local(x.name) == "calcPr"), None)
    if calc is not None:
        if calc.attrs.get("fullCalcOnLoad") in ("1", "true"):
            return data
        tag = data[calc.start:calc.tag_end].decode("utf-8")
        if "fullCalcOnLoad" in calc.attrs:
            new = re.sub(_ATTR.format(name="fullCalcOnLoad"), lambda m: f'{m.group(1)}"1"', tag, count=1)
        else:
            cut = len(tag) - (2 if tag.endswith("/>") else 1)
            new = tag[:cut].rstrip() + ' fullCalcOnLoad="1"' + tag[cut:]
        return _splice(data, [(calc.start, calc.tag_end, new.encode("utf-8"))])
    text = f'<{prefix}calcPr fullCalcOnLoad="1"/>'.encode()
    after = next((x for x in children if _local(x.name) in _AFTER_CALCPR), None)
    at = after.start if after is not None else root[0].end - len(f"</{root[0].name}>".encode())
    return _splice(data, [(at, at, text)])


def set_formulas(data: bytes, formulas: Mapping[str, Mapping[tuple[int, int], str]]) -> bytes:
    """Write formulas into empty cells of an .xlsx package given as bytes; return the new package.

    Args:
        data: the .xlsx/.xlsm file's bytes (never modified).
        formulas: ``{sheet name: {(row, col): "=FORMULA"}}``, rows and columns 1-based; formulas as
            ``render_formula`` writes them (``_xlfn.`` prefixes included).

    Raises:
        WorkbookError: the bytes are not a readable package (reason codes as the reader's).
        WriteError: an unknown sheet, a cell inside a merged area, an empty formula, a formula
            holding a character XML cannot carry (a lone surrogate, NUL, ...); ``CellNotEmpty``
            for a cell that holds something.
    """
    return _write_formulas(data, formulas, replace=False)


def replace_formulas(data: bytes, formulas: Mapping[str, Mapping[tuple[int, int], str]]) -> bytes:
    """Replace the content of occupied cells by formulas (the repair of a wrong formula or of a
    number typed over one); return the new package.

    Each target ``<c>`` is rewritten to hold only the new ``<f>`` (no cached value): its ``r``, ``s``
    and other attributes stay, its type ``t`` and the ``cm``/``vm`` metadata of the old content go.
    Arguments as ``set_formulas``.

    Raises:
        WorkbookError: the bytes are not a readable package.
        WriteError: an unknown sheet; an empty or missing cell (``set_formulas`` writes those); a
            cell inside a merged area other than its top-left, or in the range of an array formula
            or data table; the master of a shared formula, an array formula or a data table (to be
            repaired in Excel); an empty formula or one XML cannot carry.
    """
    return _write_formulas(data, formulas, replace=True)


def _write_formulas(data: bytes, formulas: Mapping[str, Mapping[tuple[int, int], str]], replace: bool) -> bytes:
    """``set_formulas`` or, with ``replace``, ``replace_formulas``: the sheet parts edited, calcPr set."""
    with _open(data) as archive:
        book, parts = sheet_parts(archive)
        replaced: dict[str, bytes] = {}
        for sheet, cells in formulas.items():
            if not cells:
                continue
            part = _find_sheet(parts, sheet)
            replaced[part] = _sheet_edits(read_part(archive, part), part, sheet, cells, replace)
        if not replaced:
            return data
        replaced[book] = _full_calc_on_load(read_part(archive, book))
    return _rewrite(data, replaced)


def formula_cells(data: bytes) -> dict[str, list[tuple[int, int, str]]]:
    """``{worksheet: [(row, col, formula type), ...]}`` of a package's formula cells as stored
    (type ``normal``, ``shared``, ``array`` or ``dataTable``; shared-formula masters are ``shared-master``)."""
    out: dict[str, list[tuple[int, int, str]]] = {}
    with _open(data) as archive:
        _, parts = sheet_parts(archive)
        for name, part in parts.items():
            layout = _scan_sheet(read_part(archive, part), part)
            out[name] = [(c.row, c.col, "shared-master" if c.shared_master else c.formula_type or "normal")
                         for row in layout.rows for c in row.cells if c.formula_type is not None]
    return out


def clear_cells(data: bytes, cells: Mapping[str, Iterable[tuple[int, int]]]) -> bytes:
    """Empty cells of a package (their formula and value go; the ``<c>`` keeps its style attributes).

    Cells that do not exist are left as they are. Used to blank formula cells for the round trip of
    ``set_formulas`` and for the demo workbooks.
    """
    with _open(data) as archive:
        _, parts = sheet_parts(archive)
        replaced: dict[str, bytes] = {}
        for sheet, wanted in cells.items():
            part = _find_sheet(parts, sheet)
            xml = read_part(archive, part)
            layout = _scan_sheet(xml, part)
            targets = set(wanted)
            edits = []
            for row in layout.rows:
                for cell in row.cells:
                    if (cell.row, cell.col) in targets and not cell.empty:
                        if cell.shared_master:
                            raise WriteError(f"{sheet}!{column_letter(cell.col)}{cell.row} is the master of a "
                                             "shared formula; clearing it would break the cells that share it")
                        tag = _without_type(xml[cell.start:cell.tag_end].decode("utf-8"))
                        edits.append((cell.start, cell.end, (tag[:-1].rstrip() + "/>").encode("utf-8")))
            if edits:
                replaced[part] = _splice(xml, edits)
    return _rewrite(data, replaced) if replaced else data


def _mask_sheet(data: bytes, part: str, cells: set[tuple[int, int]]) -> bytes:
    """A sheet part with the target cells, rows made only of them and the dimension cut out."""
    layout = _scan_sheet(data, part)
    cuts: list[tuple[int, int, bytes]] = []
    for row in layout.rows:
        targets = [c for c in row.cells if (c.row, c.col) in cells]
        ours = data[row.start:row.tag_end] == f'<{row.name} r="{row.number}">'.encode()
        if targets and ours and len(targets) == len(row.cells):
            cuts.append((row.start, row.end, b""))
        else:
            cuts += [(c.start, c.end, b"") for c in targets]
    if layout.dimension is not None:
        cuts.append((layout.dimension.start, layout.dimension.end, b""))
    return _splice(data, cuts)


def _mask_calc(data: bytes) -> bytes:
    match = re.search(rb"<(?:[A-Za-z_][\w.-]*:)?calcPr\b", data)
    if match is None:
        return data
    end = _START_TAG.match(data, match.start())
    return data[:match.start()] + data[end.end() if end else match.end():]


def changed_outside(before: bytes, after: bytes, cells: Mapping[str, Iterable[tuple[int, int]]]) -> list[str]:
    """What differs between two packages outside what ``set_formulas`` or ``replace_formulas`` may
    change for ``cells``.

    Allowed: the target cells of the named sheets (and rows holding only them), the sheets'
    ``<dimension>``, and ``<calcPr>`` of the workbook part. Returns one line per other difference
    (a part added, dropped, reordered or changed); ``[]`` means the edit was surgical.
    """
    problems: list[str] = []
    with _open(before) as a, _open(after) as b:
        names_a, names_b = a.namelist(), b.namelist()
        if names_a != names_b:
            problems.append(f"parts differ: {sorted(set(names_a) ^ set(names_b)) or 'same parts, other order'}")
        book, parts = sheet_parts(a)
        edited = {_find_sheet(parts, sheet): set(targets) for sheet, targets in cells.items()}
        for name in names_a:
            if name not in names_b:
                continue
            x, y = a.read(name), b.read(name)
            if x == y:
                continue
            if name in edited and _mask_sheet(x, name, edited[name]) == _mask_sheet(y, name, edited[name]):
                continue
            if name == book and _mask_calc(x) == _mask_calc(y):
                continue
            problems.append(f"{name} changed outside the target cells")
    return problems


def _umask() -> int:
    """The process's umask, read without changing it (Linux), else the common 022."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    return 0o022


def write_atomic(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    The file gets permission bits ``mode``; by default those of the file it replaces, or of a new
    file under the umask (the temporary file's private 0600 is never left behind)."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"output folder {str(folder)!r} does not exist")
    if mode is None:
        mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fp:
            fp.write(data)
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target

