"""Safe opening of an untrusted package: what a file is, and a zip that is safe to hand to a parser.

Nothing here parses a workbook; reader.py does, through what this module opens. Every refusal is a
``WorkbookError`` with a reason code (errors.py), reached within bounded time and memory:

- format by content, not by extension (``sniff_format``, ``sniff_stream``): .xls, .xlsb, .ods, csv,
  ... are told apart from .xlsx; encrypted OOXML (an OLE2 file holding an ``EncryptedPackage``
  stream) is ``encrypted``. OLE2 directories are read sector by sector, never the whole file;
- the zip central directory is checked before anything is decompressed (``open_package``): declared
  sizes bound the output (``ZipExtFile`` never yields more than the declared size and then checks the
  CRC), so the declared total (``too_large``) and each member's compression ratio (``zip_bomb``) are
  enforced up front, as are the number of members and the size of the directory itself;
- every member opened for reading comes through a guard that refuses a DOCTYPE in its XML prolog
  (``hostile_xml``), whatever parser reads it next. The prolog is decoded as expat would decode it
  (BOMs, UTF-16 without a BOM, the declared encoding), so no encoding trick hides a DOCTYPE.
"""

from __future__ import annotations

import codecs
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from typing import IO, Any, BinaryIO

from ..errors import WorkbookError

__all__ = ["FORMATS", "FORMAT_NAMES", "GuardedZipFile", "open_package", "package_format", "sniff_format",
           "sniff_stream"]


# What sniff_format can answer. Only "xlsx" is read; the others are refused with a reason.
FORMATS = ("xlsx", "xls", "xlsb", "ods", "encrypted", "csv", "text", "html", "xml",
           "docx", "pptx", "ole", "zip", "unknown")
# How messages name the formats that are refused (or converted: convert.py).
FORMAT_NAMES = {
    "xls": "an Excel 97-2003 (.xls) workbook", "xlsb": "an Excel binary (.xlsb) workbook",
    "ods": "an OpenDocument (.ods) spreadsheet", "csv": "a CSV/text file", "text": "a text file",
    "html": "an HTML file", "xml": "an XML file (not an .xlsx package)", "docx": "a Word document",
    "pptx": "a PowerPoint presentation", "ole": "an OLE2 document that holds no workbook",
}
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_HEAD_BYTES = 64 * 1024

# Members under this size are never zip bombs, whatever their ratio (tiny XML parts compress 1000:1).
_RATIO_MIN_BYTES = 1024 * 1024
# Guards on the central directory itself, read before zipfile builds one ZipInfo per entry.
_MAX_ZIP_MEMBERS = 100_000
_MAX_ZIP_DIRECTORY_BYTES = 32 * 1024 * 1024
# A prolog (XML declaration, comments) longer than this is refused rather than scanned further.
_MAX_PROLOG_BYTES = 1024 * 1024
# What zipfile raises on damaged archives and members (RuntimeError: a password-protected member).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError,
               struct.error, OverflowError, NotImplementedError, RuntimeError)
_ENCODING_RE = re.compile(r"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


# ---------------------------------------------------------------------------------------------
# Format sniffing


def sniff_format(head: bytes, name: str = "") -> str:
    """The format of a file from its first bytes (the whole file is best), never from its extension.

    Returns one of ``FORMATS``: ``"xlsx"`` (any OOXML workbook package: .xlsx/.xlsm/.xltx/.xltm),
    ``"xls"``, ``"xlsb"``, ``"ods"``, ``"encrypted"`` (password-protected OOXML), ``"csv"``/``"text"``,
    ``"html"``, ``"xml"``, ``"docx"``, ``"pptx"``, ``"ole"`` (another OLE2 document), ``"zip"``
    (another zip) or ``"unknown"``. ``name`` is only a hint for text files (``.csv``/``.tsv``/``.txt``).
    """
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(lambda offset, n: head[offset:offset + n])
    if head.startswith(_ZIP_MAGICS):
        try:
            with zipfile.ZipFile(io.BytesIO(head)) as zf:
                return _classify_zip(zf.namelist(), lambda: _read_small(zf, "mimetype"))
        except _ZIP_ERRORS:
            names, mimetype = _local_header_names(head)  # a head shorter than the file: scan it
            return _classify_zip(names, lambda: mimetype)
    return _sniff_text(head, name)


def sniff_stream(fp: BinaryIO, name: str) -> str | None:
    """The format of a seekable stream, as ``sniff_format`` tells it, reading only its head and (for
    OLE2) its directory sectors; None for a zip, whose format ``package_format`` reads from its
    directory once ``open_package`` has checked it. The stream is left at an arbitrary position."""
    head = fp.read(_HEAD_BYTES)
    fp.seek(0)
    if head.startswith(_ZIP_MAGICS):
        return None
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(lambda offset, n: _read_at(fp, offset, n))
    return _sniff_text(head, name)


def _read_at(fp: BinaryIO, offset: int, n: int) -> bytes:
    fp.seek(offset)
    return fp.read(n)


def package_format(archive: zipfile.ZipFile) -> str:
    """The format of an opened zip package (one of ``FORMATS``): ``"xlsx"`` for a workbook package."""
    return _classify_zip(archive.namelist(), lambda: _read_small(archive, "mimetype"))


def _classify_zip(names: Sequence[str], mimetype: Callable[[], bytes]) -> str:
    members = set(names)
    if "xl/workbook.bin" in members:
        return "xlsb"
    if "[Content_Types].xml" in members and any(n.startswith("xl/") for n in names):
        return "xlsx"
    if "word/document.xml" in members:
        return "docx"
    if "ppt/presentation.xml" in members:
        return "pptx"
    if "mimetype" in members and mimetype().strip().startswith(_ODS_MIMETYPE):
        return "ods"
    return "zip"


def _read_small(zf: zipfile.ZipFile, name: str, limit: int = 1024) -> bytes:
    try:
        info = zf.getinfo(name)
    except KeyError:
        return b""
    return zf.read(info) if info.file_size <= limit else b""


def _local_header_names(head: bytes) -> tuple[list[str], bytes]:
    """Member names from the local file headers present in ``head``, and a stored ``mimetype``."""
    names: list[str] = []
    mimetype = b""
    pos = head.find(b"PK\x03\x04")
    while pos >= 0 and pos + 30 <= len(head):
        _, flags, method, _, _, _, csize, _, name_len, extra_len = struct.unpack_from("<5H3I2H", head, pos + 4)
        name = head[pos + 30:pos + 30 + name_len].decode("utf-8" if flags & 0x800 else "cp437", "replace")
        names.append(name)
        if name == "mimetype" and method == zipfile.ZIP_STORED:
            start = pos + 30 + name_len + extra_len
            mimetype = head[start:start + min(csize, 256)]
        pos = head.find(b"PK\x03\x04", pos + 30 + name_len)
    return names, mimetype


def _sniff_ole(read_at: Callable[[int, int], bytes]) -> str:
    try:
        names = _ole_stream_names(read_at)
    except (ValueError, struct.error):
        # Unparsable directory (a truncated head): fall back to scanning what we have for the names.
        first = read_at(0, _HEAD_BYTES)
        if "EncryptedPackage".encode("utf-16-le") in first:
            return "encrypted"
        return "xls" if "Workbook".encode("utf-16-le") in first else "ole"
    if "EncryptedPackage" in names:
        return "encrypted"
    if "Workbook" in names or "Book" in names:
        return "xls"
    return "ole"


def _ole_stream_names(read_at: Callable[[int, int], bytes]) -> set[str]:
    """Names of the entries in an OLE2 (Compound File) directory, read with bounded effort.

    Raises ValueError on anything malformed (the caller falls back to a byte scan).
    """
    header = read_at(0, 512)
    if len(header) < 512:
        raise ValueError("truncated OLE header")
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        raise ValueError(f"bad OLE sector shift {shift}")
    sector_size = 1 << shift
    num_fat, first_dir = struct.unpack_from("<2I", header, 0x2C)
    first_difat, num_difat = struct.unpack_from("<2I", header, 0x44)
    fat_sectors = list(struct.unpack_from("<109I", header, 0x4C))
    per_sector = sector_size // 4
    difat = first_difat
    for _ in range(min(num_difat, 1024)):  # DIFAT chain: only for files over ~7 MB
        if difat >= 0xFFFFFFFA:
            break
        entries = struct.unpack(f"<{per_sector}I", _ole_sector(read_at, difat, sector_size))
        fat_sectors.extend(entries[:-1])
        difat = entries[-1]
    fat_sectors = fat_sectors[:num_fat]

    fat_cache: dict[int, tuple[int, ...]] = {}

    def next_sector(sector: int) -> int:
        index, offset = divmod(sector, per_sector)
        if index >= len(fat_sectors):
            raise ValueError("OLE sector outside the FAT")
        if index not in fat_cache:
            fat_cache[index] = struct.unpack(f"<{per_sector}I", _ole_sector(read_at, fat_sectors[index], sector_size))
        return fat_cache[index][offset]

    names: set[str] = set()
    sector = first_dir
    for _ in range(4096):  # at most 4096 directory sectors (>16k entries): plenty for any workbook
        if sector >= 0xFFFFFFFA:
            return names
        data = _ole_sector(read_at, sector, sector_size)
        for start in range(0, sector_size, 128):
            name_len = struct.unpack_from("<H", data, start + 64)[0]
            if data[start + 66] in (1, 2, 5) and 2 <= name_len <= 64:
                names.add(data[start:start + name_len - 2].decode("utf-16-le", "replace"))
        sector = next_sector(sector)
    raise ValueError("OLE directory chain too long (a loop?)")


def _ole_sector(read_at: Callable[[int, int], bytes], sector: int, size: int) -> bytes:
    data = read_at((sector + 1) * size, size)
    if len(data) < size:
        raise ValueError("OLE sector past the end of the file")
    return data


def _sniff_text(head: bytes, name: str) -> str:
    sample = head[:4096]
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if sample.startswith(bom):
            sample = sample[len(bom):].replace(b"\x00", b"") if bom != b"\xef\xbb\xbf" else sample[len(bom):]
            break
    if not sample:
        return "unknown"
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    if b"\x00" in sample or controls > len(sample) // 100:
        return "unknown"
    lowered = sample.lstrip().lower()
    if lowered.startswith((b"<!doctype html", b"<html", b"<table")) or b"<html" in lowered[:1024]:
        return "html"
    if lowered.startswith(b"<"):
        return "xml"
    first_line = sample.split(b"\n", 1)[0]
    if any(d in first_line for d in (b",", b";", b"\t")) or name.lower().endswith((".csv", ".tsv", ".txt")):
        return "csv"
    return "text"


# ---------------------------------------------------------------------------------------------
# The zip package: checks before decompression, and an XML guard on every part opened


class _CheckedPart:
    """A zip member whose XML prolog is checked for a DOCTYPE before any byte reaches a parser."""

    def __init__(self, raw: IO[bytes], name: str) -> None:
        self._raw = raw
        self._name = name
        self._head = _check_prolog(self._read_raw, name)

    def read(self, n: int = -1) -> bytes:
        if self._head:
            if n is None or n < 0:
                data, self._head = self._head + self._read_raw(-1), b""
                return data
            data, self._head = self._head[:n], self._head[n:]
            return data
        return self._read_raw(n)

    def _read_raw(self, n: int) -> bytes:
        try:
            return self._raw.read(n)
        except _ZIP_ERRORS as exc:  # bad CRC, truncated deflate stream, ...
            raise WorkbookError("corrupt", f"damaged zip member {self._name}: {exc}") from exc

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> _CheckedPart:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_prolog(read: Callable[[int], bytes], name: str) -> bytes:
    """Read the head of an XML part up to its root element; refuse a DOCTYPE (the only place
    entity declarations can live). Returns the bytes read, to be replayed to the parser."""
    head = b""
    while True:
        chunk = read(8192)
        head += chunk
        verdict = _prolog_verdict(head, at_end=not chunk)
        if verdict is not None:
            break
        if len(head) > _MAX_PROLOG_BYTES:
            verdict = True
            break
    if verdict:
        raise WorkbookError("hostile_xml", f"{name} declares a DOCTYPE (entity declarations are refused)")
    return head


def _prolog_verdict(head: bytes, at_end: bool) -> bool | None:
    """True: a DOCTYPE before the root element; False: none; None: need more bytes."""
    text = _decode_like_expat(head)
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos) or text.startswith("<!--", pos):
            closing = "?>" if text[pos + 1] == "?" else "-->"
            end = text.find(closing, pos + 2)
            if end < 0:
                return False if at_end else None
            end += len(closing)
            if text.startswith("<?xml", pos):
                text = text[:end] + _decode_declared(text[pos:end], head, text[end:])
            pos = end
        elif text.startswith("<!", pos):
            return True  # DOCTYPE (anything else starting "<!" here is malformed anyway)
        elif pos + 2 > len(text):
            return False if at_end else None
        else:
            return False  # the root element (or junk the parser will reject)


def _decode_like_expat(head: bytes) -> str:
    """Decode as expat detects the encoding: a BOM, else a NUL first (UTF-16BE) or second byte (UTF-16LE)."""
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:].decode("utf-8", "replace")
    if head[:2] in (b"\xfe\xff", b"\xff\xfe") or b"\x00" in head[:2]:
        big = head.startswith(b"\xfe\xff") or head.startswith(b"\x00")
        return head[:len(head) // 2 * 2].decode("utf-16-be" if big else "utf-16-le", "replace").lstrip("\ufeff")
    return head.decode("utf-8", "replace")


def _decode_declared(declaration: str, head: bytes, rest: str) -> str:
    """The text after an ASCII XML declaration, decoded with the encoding it declares (expat switches
    to it there, and an EBCDIC-like single-byte encoding would hide a DOCTYPE from a UTF-8 reading)."""
    match = _ENCODING_RE.search(declaration)
    if match is None or head[:1] in (b"\x00", b"\xfe", b"\xff") or head[1:2] == b"\x00":
        return rest
    try:
        codec = codecs.lookup(match.group(1))
    except LookupError:
        return rest  # expat cannot read it either
    start = head.find(b"?>")
    return head[start + 2:].decode(codec.name, "replace") if start >= 0 else rest


class GuardedZipFile(zipfile.ZipFile):
    """A ZipFile whose members, opened for reading, come through the DOCTYPE guard; it also
    remembers the last part opened, for error messages."""

    last_part = ""

    def open(self, name: Any, mode: Any = "r", pwd: bytes | None = None, **kwargs: Any) -> Any:
        if mode != "r":
            return super().open(name, mode, pwd, **kwargs)
        self.last_part = name.filename if isinstance(name, zipfile.ZipInfo) else str(name)
        try:
            raw = super().open(name, mode, pwd, **kwargs)
        except _ZIP_ERRORS as exc:  # KeyError (no such member) is left to the caller
            raise WorkbookError("corrupt", f"damaged zip member {self.last_part}: {exc}") from exc
        try:
            return _CheckedPart(raw, self.last_part)
        except BaseException:
            raw.close()
            raise


def open_package(fp: BinaryIO, size: int, label: str | None, *, max_uncompressed_bytes: int,
                 max_compression_ratio: float) -> GuardedZipFile:
    """Open a zip package whose directory passed the checks, decompressing nothing yet.

    Args:
        fp: the seekable file, ``size`` bytes long (``label`` names it in messages).
        max_uncompressed_bytes: bound on the sum of the members' declared sizes (``too_large``).
        max_compression_ratio: bound on each member's ratio, for members over 1 MiB (``zip_bomb``).

    Returns:
        The archive, whose members come through the DOCTYPE guard when opened; the caller closes it.

    Raises:
        WorkbookError: ``corrupt``, ``too_large``, ``zip_bomb`` or ``encrypted`` (a password-protected member).
    """
    _check_directory(fp, size, label)
    try:
        archive = GuardedZipFile(fp)
    except _ZIP_ERRORS as exc:
        raise WorkbookError("corrupt", f"not a readable zip archive: {exc}", label) from exc
    try:
        _check_members(archive, max_uncompressed_bytes, max_compression_ratio, label)
    except BaseException:
        archive.close()
        raise
    return archive


def _check_directory(fp: BinaryIO, size: int, label: str | None) -> None:
    """Bound the central directory from the end record before zipfile materialises it."""
    tail_len = min(size, 22 + 65535)
    fp.seek(size - tail_len)
    tail = fp.read(tail_len)
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(tail):
        raise WorkbookError("corrupt", "not a zip archive, or truncated (no end of central directory)", label)
    entries, cd_size = struct.unpack_from("<HI", tail, pos + 10)
    locator = pos - 20
    if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and locator >= 0 and tail.startswith(b"PK\x06\x07", locator):
        offset = struct.unpack_from("<Q", tail, locator + 8)[0]
        fp.seek(min(offset, size))
        record = fp.read(56)
        if len(record) == 56 and record.startswith(b"PK\x06\x06"):
            entries, cd_size = struct.unpack_from("<2Q", record, 32)
    if entries > _MAX_ZIP_MEMBERS or cd_size > _MAX_ZIP_DIRECTORY_BYTES:
        raise WorkbookError("too_large", f"zip directory of {entries} entries / {cd_size} bytes is over the "
                            f"limits ({_MAX_ZIP_MEMBERS} entries, {_MAX_ZIP_DIRECTORY_BYTES} bytes)", label)
    fp.seek(0)


def _check_members(zf: zipfile.ZipFile, max_uncompressed_bytes: int, max_compression_ratio: float,
                   label: str | None) -> None:
    """Refuse encrypted members, bombs and oversize totals from declared sizes, decompressing nothing."""
    total = 0
    for info in zf.infolist():
        if info.flag_bits & 0x1:
            raise WorkbookError("encrypted", f"zip member {info.filename} is password-protected", label)
        if info.file_size > _RATIO_MIN_BYTES and info.file_size > max_compression_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise WorkbookError("zip_bomb", f"{info.filename} expands {ratio:.0f}:1 to {info.file_size} bytes "
                                f"(limit {max_compression_ratio:g}:1)", label)
        total += info.file_size
    if total > max_uncompressed_bytes:
        raise WorkbookError("too_large", f"{total} bytes uncompressed, over the limit of "
                            f"{max_uncompressed_bytes}", label)
