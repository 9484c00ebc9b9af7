"""Conversion of other spreadsheet formats to .xlsx through LibreOffice, for ``read_workbook(convert=True)``.

``converted_to_xlsx`` runs ``soffice --headless --convert-to xlsx`` on a copy of the input in a private
temporary folder (with its own LibreOffice profile, so it runs beside a desktop LibreOffice) and
yields the converted file, which the caller reads with the same limits as any other input. The
conversion is bounded in time: past the limit the whole soffice process group is killed. Nothing is
ever written beside the input.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from ..errors import WorkbookError
from .package import FORMAT_NAMES

__all__ = ["CONVERTIBLE", "HOW_TO_CONVERT", "converted_to_xlsx"]


# LibreOffice reads these; the value is the file extension its type detection expects.
CONVERTIBLE = {"xls": ".xls", "xlsb": ".xlsb", "ods": ".ods", "csv": ".csv", "text": ".csv",
               "html": ".xls", "xml": ".xls"}
HOW_TO_CONVERT = ("convert it with `soffice --headless --convert-to xlsx FILE` "
                  "(from Python: read_workbook(path, convert=True))")


@contextmanager
def converted_to_xlsx(fp: BinaryIO, fmt: str, label: str | None, timeout_s: float) -> Iterator[Path]:
    """The path of ``fp`` converted to .xlsx, valid inside the ``with`` block (the folder is then removed).

    Args:
        fp: the seekable input, read from its start; ``fmt`` is its format, one of ``CONVERTIBLE``.
        label: names the input in messages.
        timeout_s: wall-clock limit of the conversion.

    Raises:
        WorkbookError: ``unsupported_format`` when soffice is not on PATH, runs past ``timeout_s`` or
            writes no workbook.
    """
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise WorkbookError("unsupported_format", f"{FORMAT_NAMES[fmt]}, and LibreOffice (soffice) is not on "
                            "PATH to convert it; install it or convert the file to .xlsx first", label)
    with tempfile.TemporaryDirectory(prefix="spreadsheetcoder-convert-") as tmp:
        src = Path(tmp, "input" + CONVERTIBLE[fmt])
        fp.seek(0)
        with open(src, "wb") as out:
            shutil.copyfileobj(fp, out)
        command = [soffice, "--headless", "--norestore", "--nologo", "--nolockcheck",
                   f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}",
                   "--convert-to", "xlsx", "--outdir", str(Path(tmp, "out")), str(src)]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # soffice forks soffice.bin: end the whole group
            process.communicate()
            raise WorkbookError("unsupported_format", f"{FORMAT_NAMES[fmt]}: LibreOffice did not convert it "
                                f"within {timeout_s:g} s", label) from None
        result = Path(tmp, "out", "input.xlsx")
        if not result.is_file():
            detail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            raise WorkbookError("unsupported_format", f"{FORMAT_NAMES[fmt]}: LibreOffice could not convert "
                                f"it ({detail[0]})", label)
        yield result
