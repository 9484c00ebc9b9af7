"""Builders of workbooks, good and bad, for the reader, writer, fill, baseline and service tests.
Everything is made in memory.

Good workbooks come from openpyxl (``openpyxl_workbook`` builds one from ``{"A1": value}`` cells),
post-edited where openpyxl cannot write what a test needs (cached values of formulas, shared
formulas, data tables), or from ``minimal_xlsx`` where every part must be under the test's control
(shared strings, hostile parts).
"""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
from collections.abc import Callable, Mapping
from typing import Any
from xml.etree import ElementTree as ET

import openpyxl

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"

PartEdit = bytes | Callable[[bytes], bytes] | None  # new content, a rewrite, or None to delete


def openpyxl_workbook(sheets: Mapping[str, Mapping[str, Any]]) -> openpyxl.Workbook:
    """A workbook of these sheets, in order, each from ``{"A1": value}`` (formulas as '=...'; openpyxl
    stores no cached values)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, cells in sheets.items():
        ws = wb.create_sheet(name)
        for address, value in cells.items():
            ws[address] = value
    return wb


def xlsx_bytes(wb: openpyxl.Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def edit_parts(data: bytes, edits: Mapping[str, PartEdit], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """Rewrite a zip: replace, transform or delete members (``edits`` may also add new ones)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for name in src.namelist():
            edit = edits[name] if name in edits else src.read(name)
            if callable(edit):
                edit = edit(src.read(name))
            if edit is not None:
                dst.writestr(name, edit)
        for name, edit in edits.items():
            if name not in src.namelist() and isinstance(edit, bytes):
                dst.writestr(name, edit)
    return out.getvalue()


def edit_cells(xml: bytes, cells: Mapping[str, Mapping[str, str | None]]) -> bytes:
    """Set, per cell reference, ``v`` (cached value text), ``t`` (cell type) and ``f`` (formula text)
    and ``f.<attr>`` (formula attributes) in a sheet part; a value of None removes the item."""
    root = ET.fromstring(xml)
    by_ref = {c.get("r"): c for c in root.iter(f"{{{MAIN_NS}}}c")}
    for ref, changes in cells.items():
        cell = by_ref[ref]
        for key, value in changes.items():
            if key == "t":
                _set_attr(cell, "t", value)
            elif key in ("v", "f"):
                _set_child(cell, key, value)
            elif key.startswith("f."):
                formula = cell.find(f"{{{MAIN_NS}}}f")
                if formula is None:
                    formula = _set_child(cell, "f", None, create=True)
                _set_attr(formula, key[2:], value)
    return ET.tostring(root)


def _set_attr(element: ET.Element, name: str, value: str | None) -> None:
    if value is None:
        element.attrib.pop(name, None)
    else:
        element.set(name, value)


def _set_child(cell: ET.Element, tag: str, text: str | None, create: bool = False) -> ET.Element:
    child = cell.find(f"{{{MAIN_NS}}}{tag}")
    if child is None:
        if text is None and not create:
            return cell
        child = ET.Element(f"{{{MAIN_NS}}}{tag}")
        # <f> comes before <v> in a cell
        cell.insert(0 if tag == "f" else len(cell), child)
    child.text = text
    return child


# ---------------------------------------------------------------------------------------------
# A minimal package, every part under control


def minimal_xlsx(
    sheet_data: str = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1"><v>1</v></c></row>',
    shared_strings: list[str] | None = None,
    *,
    workbook_extra: str = "",
    sheet_extra: str = "",
    with_table: bool = False,
    parts: Mapping[str, bytes] | None = None,
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """An .xlsx with one sheet "S" built by hand: content types, rels, workbook, styles, shared
    strings (an item starting with "<" is the raw inside of its ``<si>``), the sheet (``sheet_data`` is the inside of ``<sheetData>``) and optionally a table part.
    ``parts`` replaces or adds members verbatim (for hostile content)."""
    strings = shared_strings if shared_strings is not None else ["hello"]
    table_part = '<tableParts count="1"><tablePart r:id="rId1"/></tableParts>' if with_table else ""
    table_ct = '<Override PartName="/xl/tables/table1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"/>'
    members = {
        "[Content_Types].xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{CT_NS}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            f'{table_ct if with_table else ""}</Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>{workbook_extra}</workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/>'
            f'<Relationship Id="rId3" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/styles.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{MAIN_NS}">'
            '<numFmts count="1"><numFmt numFmtId="164" formatCode="0.000"/></numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
            '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>'
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN_NS}" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">' + "".join(f"<si>{s}</si>" if s.startswith("<") else f"<si><t>{s}</t></si>" for s in strings) + "</sst>"
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
            f'<sheetData>{sheet_data}</sheetData>{sheet_extra}'
            f"{table_part}</worksheet>"
        ),
    }
    if with_table:
        members["xl/worksheets/_rels/sheet1.xml.rels"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{REL_NS}/table" Target="../tables/table1.xml"/></Relationships>'
        )
        members["xl/tables/table1.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><table xmlns="{MAIN_NS}" id="1" name="T1" '
            'displayName="T1" ref="A1:B2"><tableColumns count="2"><tableColumn id="1" name="hello"/>'
            '<tableColumn id="2" name="x"/></tableColumns></table>'
        )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as zf:
        for name, text in members.items():
            if parts is None or name not in parts:
                zf.writestr(name, text.encode())
        for name, content in (parts or {}).items():
            zf.writestr(name, content)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Hostile XML


def billion_laughs(root: str, body: str = "&lol9;") -> bytes:
    """An XML document whose one entity reference expands to 10**9 "lol"s (3 GB) if resolved."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [{"".join(entities)}]>'
            f'<{root} xmlns="{MAIN_NS}">{body}</{root}>').encode()


def external_entity(root: str, body: str = "&xxe;") -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            f'<{root} xmlns="{MAIN_NS}">{body}</{root}>').encode()


def with_doctype(xml: bytes) -> bytes:
    """The same part with a (harmless-looking) internal DTD declaring one entity, after its declaration."""
    declaration = re.match(rb"<\?xml[^>]*\?>", xml)
    head = declaration.group(0) if declaration else b""
    root = re.search(rb"<([A-Za-z_][\w:.-]*)", xml[len(head):])
    assert root is not None
    return head + b'<!DOCTYPE ' + root.group(1) + b' [<!ENTITY e "x">]>' + xml[len(head):]


# ---------------------------------------------------------------------------------------------
# Zip-level damage


def patch_central_directory(data: bytes, name: str, *, flag_bits: int | None = None,
                            compress_size: int | None = None, file_size: int | None = None) -> bytes:
    """Overwrite fields of one member's central-directory header (and its local header's sizes)."""
    out = bytearray(data)
    pos = out.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = struct.unpack_from("<H", out, pos + 28)[0]
        if out[pos + 46:pos + 46 + name_len].decode() == name:
            local = struct.unpack_from("<I", out, pos + 42)[0]
            if flag_bits is not None:
                struct.pack_into("<H", out, pos + 8, flag_bits)
                struct.pack_into("<H", out, local + 6, flag_bits)
            if compress_size is not None:
                struct.pack_into("<I", out, pos + 20, compress_size)
            if file_size is not None:
                struct.pack_into("<I", out, pos + 24, file_size)
                struct.pack_into("<I", out, local + 22, file_size)
            return bytes(out)
        pos = out.find(b"PK\x01\x02", pos + 46)
    raise KeyError(name)


def zip_bomb(zero_bytes: int = 64 * 1024 * 1024) -> bytes:
    """A real bomb: a package whose sheet part is ``zero_bytes`` of spaces inside the XML, streamed
    through zlib (about 1000:1), so nothing that large is ever held in memory."""
    base = minimal_xlsx()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            if name != "xl/worksheets/sheet1.xml":
                dst.writestr(name, src.read(name))
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode())
            block = b" " * (1024 * 1024)
            for _ in range(zero_bytes // len(block)):
                part.write(block)
            part.write(b"</sheetData></worksheet>")
    return out.getvalue()


def random_bytes(n: int = 4096, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


# ---------------------------------------------------------------------------------------------
# Other formats


def ole_container(stream_names: list[str]) -> bytes:
    """A minimal OLE2 compound file whose directory lists ``stream_names`` (all empty streams):
    enough for format detection, the fallback when xlwt or msoffcrypto-tool is unavailable."""
    sector = 512
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9)   # minor, major version, byte order, shift
    struct.pack_into("<H", header, 0x20, 6)                         # mini sector shift
    struct.pack_into("<I", header, 0x2C, 1)                         # one FAT sector
    struct.pack_into("<I", header, 0x30, 1)                         # directory starts at sector 1
    struct.pack_into("<I", header, 0x38, 4096)                      # mini stream cutoff
    struct.pack_into("<IIII", header, 0x3C, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    difat = [0] + [0xFFFFFFFF] * 108                                # the FAT is sector 0
    struct.pack_into("<109I", header, 0x4C, *difat)
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [0xFFFFFFFF] * (sector // 4 - 2)
    entries = ["Root Entry", *stream_names]
    directory = bytearray()
    for index, name in enumerate(entries):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[:len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 64, len(encoded), 5 if index == 0 else 2, 1)
        right = index + 1 if 0 < index < len(entries) - 1 else 0xFFFFFFFF
        child = 1 if index == 0 and len(entries) > 1 else 0xFFFFFFFF
        struct.pack_into("<III", entry, 68, 0xFFFFFFFF, right, child)
        struct.pack_into("<II", entry, 116, 0xFFFFFFFE, 0)
        directory += entry
    directory += b"\x00" * (-len(directory) % sector)
    return bytes(header) + struct.pack(f"<{sector // 4}I", *fat) + bytes(directory)


def xls_bytes() -> bytes:
    """A real .xls from xlwt, or a minimal OLE2 file with a Workbook stream without it."""
    try:
        import xlwt
    except ImportError:
        return ole_container(["Workbook"])
    book = xlwt.Workbook()
    sheet = book.add_sheet("Old")
    sheet.write(0, 0, 2)
    sheet.write(0, 1, "two")
    sheet.write(1, 0, xlwt.Formula("A1*3"))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def encrypted_xlsx(password: str = "secret") -> bytes:
    """A real password-protected .xlsx (msoffcrypto-tool), or a minimal OLE2 file with an
    EncryptedPackage stream without it."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        return ole_container(["EncryptionInfo", "EncryptedPackage"])
    wb = openpyxl.Workbook()
    wb.active["A1"] = 42
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(xlsx_bytes(wb))).encrypt(password, out)
    return out.getvalue()


def ods_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), b"application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("META-INF/manifest.xml", b'<?xml version="1.0"?><manifest:manifest/>')
        zf.writestr("content.xml", b'<?xml version="1.0"?><office:document-content/>')
    return out.getvalue()


def xlsb_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00")
        zf.writestr("xl/worksheets/sheet1.bin", b"\x81\x01\x00")
    return out.getvalue()
