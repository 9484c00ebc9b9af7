"""Read one generated sheet of a million cells; print JSON {cells, seconds, peak_rss_mb}.

The workbook is written straight into the zip as XML, row by row, so generating it costs little
memory: the peak resident size reported is that of ``read_workbook`` and the Workbook it returns.
Each row holds a label (a shared string), numbers, and a formula with its cached value.

    python benchmarks/read_large_sheet.py [--rows 100000] [--cols 10] [--keep out.xlsx]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl.utils import get_column_letter

from spreadsheetcoder.xlsx.reader import ReadLimits, read_workbook

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
LABELS = 1000


def write_large_xlsx(path: Path, rows: int, cols: int) -> int:
    """Write an .xlsx of ``rows`` x ``cols`` non-empty cells; returns the number of cells."""
    last = get_column_letter(cols - 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            "</Types>"))
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
                    f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
                    '<sheet name="Big" sheetId="1" r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{RELS}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{RELS}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'))
        zf.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">'
                    + "".join(f"<si><t>item {i}</t></si>" for i in range(LABELS)) + "</sst>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            batch = []
            for r in range(1, rows + 1):
                cells = [f'<c r="A{r}" t="s"><v>{r % LABELS}</v></c>']
                numbers = [(r * 7 + c) % 1000 + (0.5 if c % 2 else 0) for c in range(2, cols)]
                cells.extend(f'<c r="{get_column_letter(c)}{r}"><v>{n:g}</v></c>' for c, n in zip(range(2, cols), numbers, strict=True))
                cells.append(f'<c r="{get_column_letter(cols)}{r}"><f>SUM(B{r}:{last}{r})</f><v>{sum(numbers):g}</v></c>')
                batch.append(f'<row r="{r}">{"".join(cells)}</row>')
                if len(batch) == 1000:
                    part.write("".join(batch).encode())
                    batch.clear()
            part.write(("".join(batch) + "</sheetData></worksheet>").encode())
    return rows * cols


def peak_rss_mb() -> float:
    # Linux keeps ru_maxrss across exec, so a child of a big process (pytest with torch loaded)
    # would report its parent's size: read this process image's own high-water mark instead.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="also keep the generated workbook here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp, "large.xlsx")
        expected = write_large_xlsx(path, args.rows, args.cols)
        before = peak_rss_mb()
        start = time.perf_counter()
        workbook = read_workbook(path, ReadLimits(max_cells=max(expected, 1)))
        seconds = time.perf_counter() - start
        cells = sum(len(sheet.cells) for sheet in workbook.sheets)
        assert cells == expected, (cells, expected)
        print(json.dumps({"cells": cells, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
                          "rss_before_read_mb": round(before, 1), "xlsx_mb": round(path.stat().st_size / 2**20, 1)}))


if __name__ == "__main__":
    main()
