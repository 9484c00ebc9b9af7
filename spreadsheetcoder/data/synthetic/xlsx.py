"""A small, fast .xlsx writer that stores formulas together with their cached values.

openpyxl cannot write cached values, so the package is written here directly: content types,
relationships, workbook (sheets, defined names), one XML part per sheet (shared strings for
constants, ``t="str"`` for text results, shared, array and data-table formulas, merged cells), styles with
the number formats in use, and one table part per Excel table. Output is byte-for-byte
deterministic: parts are written in a fixed order with a fixed timestamp.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from openpyxl.utils.cell import get_column_letter

from .book import BookData, CellData, SheetData, Style, a1
from .values import XlError

__all__ = ["write_xlsx", "xlsx_bytes"]

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
# Built-in number formats (ECMA-376 18.8.30) that need no <numFmt> entry.
_BUILTIN_FORMATS = {None: 0, "General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9,
                    "0.00%": 10, "0.00E+00": 11, "mm-dd-yy": 14, "d-mmm-yy": 15, "d-mmm": 16,
                    "mmm-yy": 17, "h:mm AM/PM": 18, "h:mm": 20, "h:mm:ss": 21, "m/d/yy h:mm": 22}
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def escape(text: str) -> str:
    """Escape text content for XML (quotes too, so it is safe in attributes)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def number_repr(x: float | int) -> str:
    """Shortest text that reads back as the same double (integers without ``.0``)."""
    f = float(x)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return repr(f)


class _Styles:
    """Assigns one cellXfs index per (number format, bold) pair in first-use order."""

    def __init__(self) -> None:
        self.xfs: dict[Style, int] = {(None, False): 0}
        self.custom: dict[str, int] = {}

    def index(self, style: Style) -> int:
        xf = self.xfs.get(style)
        if xf is None:
            fmt = style[0]
            if fmt not in _BUILTIN_FORMATS and fmt not in self.custom:
                self.custom[fmt] = 164 + len(self.custom)  # type: ignore[index]
            xf = self.xfs[style] = len(self.xfs)
        return xf

    def xml(self) -> str:
        fmts = "".join(f'<numFmt numFmtId="{i}" formatCode="{escape(code)}"/>' for code, i in self.custom.items())
        xfs = []
        for (fmt, bold), _ in sorted(self.xfs.items(), key=lambda kv: kv[1]):
            fid = _BUILTIN_FORMATS.get(fmt, self.custom.get(fmt or "", 0))
            apply = ' applyNumberFormat="1"' if fid else ""
            font = ' fontId="1" applyFont="1"' if bold else ' fontId="0"'
            xfs.append(f'<xf numFmtId="{fid}"{font} fillId="0" borderId="0" xfId="0"{apply}/>')
        return (f'{_DECL}<styleSheet xmlns="{_MAIN}">'
                + (f'<numFmts count="{len(self.custom)}">{fmts}</numFmts>' if self.custom else "")
                + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
                '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
                '<fills count="2"><fill><patternFill patternType="none"/></fill>'
                '<fill><patternFill patternType="gray125"/></fill></fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                '</styleSheet>')


class _Strings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def add(self, s: str) -> int:
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.index)
        return i

    def xml(self, total: int) -> str:
        items = []
        for s in self.index:
            space = ' xml:space="preserve"' if s != s.strip() or "\n" in s else ""
            items.append(f"<si><t{space}>{escape(s)}</t></si>")
        return (f'{_DECL}<sst xmlns="{_MAIN}" count="{total}" uniqueCount="{len(items)}">'
                + "".join(items) + "</sst>")


def _shared_masters(sheet: SheetData) -> dict[tuple[int, int], tuple[str, int]]:
    """For each fill group that is a solid rectangle, its master cell -> (ref, shared index)."""
    groups: dict[int, list[tuple[int, int]]] = {}
    for pos, cell in sheet.cells.items():
        if cell.group is not None and cell.formula is not None and cell.array_ref is None:
            groups.setdefault(cell.group, []).append(pos)
    masters: dict[tuple[int, int], tuple[str, int]] = {}
    for positions in groups.values():
        if len(positions) < 2:
            continue
        rows = [r for r, _ in positions]
        cols = [c for _, c in positions]
        r1, r2, c1, c2 = min(rows), max(rows), min(cols), max(cols)
        if (r2 - r1 + 1) * (c2 - c1 + 1) == len(positions):
            masters[(r1, c1)] = (f"{a1(r1, c1)}:{a1(r2, c2)}", len(masters))
    return masters


def _cell_xml(ref: str, cell: CellData, xf: int, strings: _Strings, formula: str) -> str:
    s = f' s="{xf}"' if xf else ""
    v = cell.value
    if cell.formula is None:
        if v is None:
            return f'<c r="{ref}"{s}/>'
        if isinstance(v, bool):
            return f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>'
        if isinstance(v, str):
            return f'<c r="{ref}"{s} t="s"><v>{strings.add(v)}</v></c>'
        if isinstance(v, XlError):
            return f'<c r="{ref}"{s} t="e"><v>{escape(v.code)}</v></c>'
        return f'<c r="{ref}"{s}><v>{number_repr(v)}</v></c>'
    if isinstance(v, bool):
        return f'<c r="{ref}"{s} t="b">{formula}<v>{int(v)}</v></c>'
    if isinstance(v, str):
        return f'<c r="{ref}"{s} t="str">{formula}<v>{escape(v)}</v></c>'
    if isinstance(v, XlError):
        return f'<c r="{ref}"{s} t="e">{formula}<v>{escape(v.code)}</v></c>'
    return f'<c r="{ref}"{s}>{formula}<v>{number_repr(v or 0)}</v></c>'


def _sheet_xml(sheet: SheetData, styles: _Styles, strings: _Strings, shared: bool) -> str:
    masters = _shared_masters(sheet) if shared else {}
    group_si = {sheet.cells[pos].group: si for pos, (_, si) in masters.items()}
    rows: dict[int, list[int]] = {}
    for r, c in sheet.cells:
        rows.setdefault(r, []).append(c)
    out = [f'{_DECL}<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}">']
    if sheet.cells:
        out.append(f'<dimension ref="A1:{a1(max(rows), sheet.max_col)}"/>')
    out.append('<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
    if sheet.widths:
        out.append("<cols>" + "".join(f'<col min="{c}" max="{c}" width="{w:g}" customWidth="1"/>'
                                      for c, w in sorted(sheet.widths.items())) + "</cols>")
    out.append("<sheetData>")
    for r in sorted(rows):
        out.append(f'<row r="{r}">')
        for c in sorted(rows[r]):
            cell = sheet.cells[(r, c)]
            ref = f"{get_column_letter(c)}{r}"
            formula = ""
            if cell.formula is not None:
                body = escape(cell.formula)
                if cell.data_table is not None:
                    ref_dt, r1_dt = cell.data_table
                    formula = f'<f t="dataTable" ref="{ref_dt}" dt2D="0" dtr="0" r1="{r1_dt}"/>'
                elif cell.array_ref is not None:
                    formula = f'<f t="array" ref="{cell.array_ref}">{body}</f>'
                elif (r, c) in masters:
                    mref, si = masters[(r, c)]
                    formula = f'<f t="shared" ref="{mref}" si="{si}">{body}</f>'
                elif cell.group in group_si:
                    formula = f'<f t="shared" si="{group_si[cell.group]}"/>'
                else:
                    formula = f"<f>{body}</f>"
            out.append(_cell_xml(ref, cell, styles.index(cell.style), strings, formula))
        out.append("</row>")
    out.append("</sheetData>")
    if sheet.merges:
        out.append(f'<mergeCells count="{len(sheet.merges)}">'
                   + "".join(f'<mergeCell ref="{a1(r1, c1)}:{a1(r2, c2)}"/>' for r1, c1, r2, c2 in sheet.merges)
                   + "</mergeCells>")
    out.append('<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>')
    if sheet.tables:
        out.append(f'<tableParts count="{len(sheet.tables)}">'
                   + "".join(f'<tablePart r:id="rId{i}"/>' for i in range(1, len(sheet.tables) + 1))
                   + "</tableParts>")
    out.append("</worksheet>")
    return "".join(out)


def _table_xml(table_id: int, sheet: SheetData, index: int) -> str:
    t = sheet.tables[index]
    ref = f"{a1(t.r1, t.c1)}:{a1(t.r2, t.c2)}"
    cols = []
    for i, name in enumerate(t.columns, start=1):
        calc = t.calculated.get(name)
        inner = f"<calculatedColumnFormula>{escape(calc)}</calculatedColumnFormula>" if calc else ""
        cols.append(f'<tableColumn id="{i}" name="{escape(name)}"' + (f">{inner}</tableColumn>" if inner else "/>"))
    return (f'{_DECL}<table xmlns="{_MAIN}" id="{table_id}" name="{escape(t.name)}" '
            f'displayName="{escape(t.name)}" ref="{ref}" totalsRowShown="0">'
            f'<autoFilter ref="{ref}"/><tableColumns count="{len(cols)}">{"".join(cols)}</tableColumns>'
            '<tableStyleInfo name="TableStyleMedium2" showFirstColumn="0" showLastColumn="0" '
            'showRowStripes="1" showColumnStripes="0"/></table>')


def _workbook_xml(book: BookData) -> str:
    sheets = "".join(f'<sheet name="{escape(s.name)}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, s in enumerate(book.sheets, start=1))
    names = ""
    if book.names:
        items = []
        for name, span in sorted(book.names.items(), key=lambda kv: kv[0].lower()):
            ref = span.sheet.prefix() + a1(span.r1, span.c1, True, True)
            if (span.r1, span.c1) != (span.r2, span.c2):
                ref += ":" + a1(span.r2, span.c2, True, True)
            items.append(f'<definedName name="{escape(name)}">{escape(ref)}</definedName>')
        names = f"<definedNames>{''.join(items)}</definedNames>"
    return (f'{_DECL}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><workbookPr/>'
            f'<bookViews><workbookView activeTab="0"/></bookViews><sheets>{sheets}</sheets>{names}'
            '<calcPr calcId="191029"/></workbook>')


def xlsx_bytes(book: BookData, shared_formulas: bool = True) -> bytes:
    """The .xlsx package of ``book`` as bytes (deterministic for a given book)."""
    styles, strings = _Styles(), _Strings()
    parts: list[tuple[str, str]] = []
    overrides = [("/xl/workbook.xml", f"{_SML}.sheet.main+xml"), ("/xl/styles.xml", f"{_SML}.styles+xml"),
                 ("/xl/sharedStrings.xml", f"{_SML}.sharedStrings+xml")]
    wb_rels = []
    table_id = 0
    for i, sheet in enumerate(book.sheets, start=1):
        parts.append((f"xl/worksheets/sheet{i}.xml", _sheet_xml(sheet, styles, strings, shared_formulas)))
        overrides.append((f"/xl/worksheets/sheet{i}.xml", f"{_SML}.worksheet+xml"))
        wb_rels.append(f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>')
        rels = []
        for k in range(len(sheet.tables)):
            table_id += 1
            parts.append((f"xl/tables/table{table_id}.xml", _table_xml(table_id, sheet, k)))
            overrides.append((f"/xl/tables/table{table_id}.xml", f"{_SML}.table+xml"))
            rels.append(f'<Relationship Id="rId{k + 1}" Type="{_REL}/table" Target="../tables/table{table_id}.xml"/>')
        if rels:
            parts.append((f"xl/worksheets/_rels/sheet{i}.xml.rels",
                          f'{_DECL}<Relationships xmlns="{_PKG_REL}">{"".join(rels)}</Relationships>'))
    n = len(book.sheets)
    wb_rels.append(f'<Relationship Id="rId{n + 1}" Type="{_REL}/styles" Target="styles.xml"/>')
    wb_rels.append(f'<Relationship Id="rId{n + 2}" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>')
    total_strings = sum(1 for s in book.sheets for c in s.cells.values()
                        if c.formula is None and isinstance(c.value, str))
    content_types = (f'{_DECL}<Types xmlns="{_CT}">'
                     '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                     '<Default Extension="xml" ContentType="application/xml"/>'
                     + "".join(f'<Override PartName="{p}" ContentType="{t}"/>' for p, t in overrides) + "</Types>")
    head = [
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", f'{_DECL}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
                        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        ("xl/workbook.xml", _workbook_xml(book)),
        ("xl/_rels/workbook.xml.rels", f'{_DECL}<Relationships xmlns="{_PKG_REL}">{"".join(wb_rels)}</Relationships>'),
        ("xl/styles.xml", styles.xml()),
        ("xl/sharedStrings.xml", strings.xml(total_strings)),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in head + parts:
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, text.encode("utf-8"), compresslevel=6)
    return buffer.getvalue()


def write_xlsx(book: BookData, path: Path, shared_formulas: bool = True) -> int:
    """Write ``book`` to ``path`` (atomically, via a temporary sibling); returns the file size."""
    data = xlsx_bytes(book, shared_formulas)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)
