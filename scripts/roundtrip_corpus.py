"""Blank-and-fill round trip over a folder of workbooks (issue 6's check of the lossless writer).

For every workbook the reader accepts: blank one formula cell (the first plain formula of the first
worksheet that has one, else a cell that borrows a shared formula, else an array-formula cell for
workbooks that hold nothing else; shared-formula masters and data tables are never blanked), fill it
with ``fill_bytes`` and the model (the original formula is written instead when the model proposes
none, so the writer is exercised on every workbook), then check

- ``changed_outside(blank, filled)``: no byte changed outside the target cell, the sheet's
  dimension and the workbook's calcPr;
- the filled package opens with openpyxl (when the input does: a few real files converted by other
  tools already break openpyxl) and with our reader, and holds a formula in the target cell;
- LibreOffice headless converts it (``soffice --convert-to xlsx``, in batches) without error.

    python scripts/roundtrip_corpus.py ../shared/corpus --out /tmp/roundtrip --json

Prints one JSON summary (and writes OUT/summary.json, OUT/failures.jsonl).
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import openpyxl
from tqdm import tqdm

from spreadsheetcoder.data.extract import find_workbooks
from spreadsheetcoder.errors import SpreadsheetCoderError
from spreadsheetcoder.fill import fill_bytes
from spreadsheetcoder.references import column_letter, quote_sheet
from spreadsheetcoder.xlsx.writer import changed_outside, clear_cells, formula_cells, set_formulas


def pick_cell(data: bytes, workbook) -> tuple[str, int, int] | None:
    """A plain formula cell, else a cell that borrows a shared formula (never the master), else the
    top-left cell of an array formula; never a cell hidden inside a merged area (the writer refuses
    those)."""
    found = formula_cells(data)
    for wanted in ("normal", "shared", "array"):
        for sheet, cells in found.items():
            merged = workbook.sheet(sheet).merged_at
            for row, col, kind in cells:
                area = merged(row, col)
                if kind == wanted and (area is None or (row, col) == area[:2]):
                    return sheet, row, col
    return None


def roundtrip(path: Path, predictor, work: Path) -> dict:
    from spreadsheetcoder.xlsx.reader import read_workbook

    data = path.read_bytes()
    try:
        original = read_workbook(data)
    except SpreadsheetCoderError as exc:
        return {"file": str(path), "status": "not_accepted", "detail": str(exc)[:200]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            openpyxl.load_workbook(io.BytesIO(data)).close()
        input_opens = True
    except Exception:  # some real files (converted by other tools) already break openpyxl
        input_opens = False
    chosen = pick_cell(data, original)
    if chosen is None:
        return {"file": str(path), "status": "no_plain_formula"}
    sheet, row, col = chosen
    formula = original.sheet(sheet).get(row, col).formula
    blank = clear_cells(data, {sheet: [(row, col)]})
    ref = f"{quote_sheet(sheet)}!{column_letter(col)}{row}"
    filled, report = fill_bytes(blank, ref, predictor, k=1, min_confidence=0.0)
    written_by = "model"
    if report.cells[0].status != "filled":
        filled = set_formulas(blank, {sheet: {(row, col): formula}})
        written_by = "original"
    out = {"file": str(path), "cell": ref, "input_opens_in_openpyxl": input_opens, "written_by": written_by, "formula": formula,
           "predicted": report.cells[0].formula}
    problems = changed_outside(blank, filled, {sheet: [(row, col)]})
    if problems:
        return {**out, "status": "changed_outside", "detail": problems}
    try:
        if input_opens:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                openpyxl.load_workbook(io.BytesIO(filled)).close()
        again = read_workbook(filled).sheet(sheet).get(row, col)
    except Exception as exc:  # openpyxl raises anything on a broken package
        return {**out, "status": "unreadable", "detail": f"{type(exc).__name__}: {exc}"[:300]}
    if again is None or again.formula is None:
        return {**out, "status": "formula_missing"}
    target = work / f"{len(list(work.iterdir())):05d}.xlsx"
    target.write_bytes(filled)
    return {**out, "status": "ok", "written": target.name}


def libreoffice(files: list[Path], out: Path, batch: int, timeout: int) -> dict[str, str]:
    """Convert files with soffice in batches; return {file name: error} for those that failed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return {f.name: "soffice not installed" for f in files}
    failed: dict[str, str] = {}
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        def run(group: list[Path]) -> bool:
            cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
                   "--convert-to", "xlsx", "--outdir", str(out), *map(str, group)]
            try:
                subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
                return True
            except subprocess.TimeoutExpired:
                return False

        for start in tqdm(range(0, len(files), batch), desc="libreoffice", unit="batch"):
            group = files[start:start + batch]
            if not run(group):
                for f in group:
                    if not (out / f.name).exists() and not run([f]):
                        failed[f.name] = "timeout"
            for f in group:
                converted = out / f.name
                if f.name not in failed and (not converted.exists() or converted.stat().st_size == 0):
                    failed[f.name] = "no output"
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", help="folder of workbooks")
    parser.add_argument("--out", required=True, help="work folder (filled workbooks, LibreOffice output, summary)")
    parser.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    parser.add_argument("--limit", type=int, default=None, help="at most N workbooks")
    parser.add_argument("--batch", type=int, default=40, help="workbooks per soffice call")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per soffice call")
    parser.add_argument("--no-libreoffice", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from spreadsheetcoder.model.shipped import resolve_model_dir
    from spreadsheetcoder.suggest.predictor import FormulaPredictor

    predictor = FormulaPredictor(resolve_model_dir(args.model), beam=2)
    out = Path(args.out)
    filled_dir = out / "filled"
    shutil.rmtree(out, ignore_errors=True)
    filled_dir.mkdir(parents=True)
    started = time.perf_counter()
    results = []
    for path in tqdm(find_workbooks(Path(args.dir))[: args.limit], desc="round trip", unit="book"):
        try:
            results.append(roundtrip(path, predictor, filled_dir))
        except Exception as exc:  # report, never stop the sweep
            results.append({"file": str(path), "status": "error", "detail": f"{type(exc).__name__}: {exc}"[:300]})
    written = [filled_dir / r["written"] for r in results if r["status"] == "ok"]
    lo_failed = {} if args.no_libreoffice else libreoffice(written, out / "libreoffice", args.batch, args.timeout)
    for r in results:
        if r.get("written") in lo_failed:
            r["status"], r["detail"] = "libreoffice_failed", lo_failed[r["written"]]
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    summary = {"workbooks": len(results), "counts": counts,
               "written_by_model": sum(r.get("written_by") == "model" for r in results),
               "openpyxl_checked": sum(r.get("input_opens_in_openpyxl") is True and r["status"] == "ok"
                                       for r in results),
               "input_breaks_openpyxl": sum(r.get("input_opens_in_openpyxl") is False for r in results),
               "libreoffice_checked": 0 if args.no_libreoffice else len(written),
               "seconds": round(time.perf_counter() - started, 1)}
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    with open(out / "failures.jsonl", "w", encoding="utf-8") as fp:
        for r in results:
            if r["status"] not in ("ok", "not_accepted", "no_plain_formula"):
                fp.write(json.dumps(r, default=str) + "\n")
    print(json.dumps(summary) if args.json else json.dumps(summary, indent=2))
    bad = sum(n for s, n in counts.items() if s not in ("ok", "not_accepted", "no_plain_formula"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
