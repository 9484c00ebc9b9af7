"""Where things are in an .xlsx package: the workbook part, its worksheets' parts, a part's bytes.

The package's structure is read from its relationships (``_rels/.rels`` → the workbook part →
``xl/_rels/workbook.xml.rels`` → each worksheet), never from conventional names: generators write
``/xl/workbook.xml``, ``xl/worksheets/sheet1.xml`` or ``../worksheets/Data.xml`` alike. Used by the
lossless writer and by ``scripts/make_sample_sheets.py``; the reader gets the same from openpyxl.
"""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath
from xml.parsers import expat

from ..errors import WorkbookError

__all__ = ["attrs_of", "read_part", "resolve_target", "sheet_parts", "workbook_part"]

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def read_part(archive: zipfile.ZipFile, name: str) -> bytes:
    """The bytes of one member (a ``GuardedZipFile`` refuses a DOCTYPE before any parser sees it)."""
    with archive.open(name) as fp:
        return fp.read()


def attrs_of(data: bytes, wanted: str, depth: int) -> list[dict[str, str]]:
    """Attributes of every element with local name ``wanted`` at ``depth`` (root = 0).

    Attributes in the relationships namespace (``r:id``) are keyed by their local name (``id``).
    """
    found: list[dict[str, str]] = []
    level = 0
    parser = expat.ParserCreate(namespace_separator=" ")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal level
        if level == depth and name.rsplit(" ", 1)[-1] == wanted:
            found.append({k.rsplit(" ", 1)[-1] if k.startswith(_REL_NS) else k: v for k, v in attrs.items()})
        level += 1

    def end(name: str) -> None:
        nonlocal level
        level -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise WorkbookError("corrupt", f"malformed XML: {exc}") from None
    return found


def workbook_part(archive: zipfile.ZipFile) -> str:
    """The name of the package's workbook part (the ``officeDocument`` relationship's target)."""
    for rel in attrs_of(read_part(archive, "_rels/.rels"), "Relationship", 1):
        if rel.get("Type", "").endswith("/officeDocument"):
            return rel["Target"].lstrip("/")
    raise WorkbookError("corrupt", "the package has no officeDocument relationship")


def resolve_target(base_part: str, target: str) -> str:
    """A relationship's ``Target`` as a member name: absolute (``/xl/…``) or relative to ``base_part``."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts: list[str] = []
    for piece in (str(PurePosixPath(base_part).parent) + "/" + target).split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if parts:
                parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts)


def sheet_parts(archive: zipfile.ZipFile) -> tuple[str, dict[str, str]]:
    """``(workbook part, {worksheet name: its part})`` of an open package (chartsheets left out)."""
    book = workbook_part(archive)
    rels_name = str(PurePosixPath(book).parent / "_rels" / (PurePosixPath(book).name + ".rels"))
    rels = {rel["Id"]: rel for rel in attrs_of(read_part(archive, rels_name), "Relationship", 1)}
    names = set(archive.namelist())
    out: dict[str, str] = {}
    for sheet in attrs_of(read_part(archive, book), "sheet", 2):
        rel = rels.get(sheet.get("id", ""))
        if rel is None or not rel.get("Type", "").endswith("/worksheet"):
            continue
        part = resolve_target(book, rel["Target"])
        if part in names:
            out[sheet["name"]] = part
    return book, out
