"""Benchmark the synthetic workbook generator; prints one JSON object.

Measures generation throughput (workbooks/s and distinct relative formulas/s) with N workers,
the exact number of distinct relative formulas per workbook (the examples ``extract`` makes:
one per distinct relative formula per sheet, fill-downs counted once), file sizes, and
optionally the agreement of cached values with independent engines (``--check K``).

    python benchmarks/synth.py --n 400 --workers 2 --check 200
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from openpyxl.formula.translate import Translator

from spreadsheetcoder.data.synthetic import generate_workbook, synthesize
from spreadsheetcoder.data.synthetic.book import BookData, a1

# Far enough from A1 that no relative reference of a generated formula leaves the sheet.
_KEY_ORIGIN = "ZZ5000"


def distinct_formulas(book: BookData) -> int:
    """Distinct relative formulas per sheet, summed over sheets (fill groups translate once)."""
    total = 0
    for sheet in book.sheets:
        keys: set[str] = set()
        seen_groups: set[int] = set()
        for (r, c), cell in sheet.cells.items():
            if cell.formula is None or (cell.group is not None and cell.group in seen_groups):
                continue
            if cell.group is not None:
                seen_groups.add(cell.group)
            keys.add(Translator("=" + cell.formula, a1(r, c)).translate_formula(_KEY_ORIGIN))
        total += len(keys)
    return total


def _distinct_of(index: int, seed: int) -> int:
    return distinct_formulas(generate_workbook(seed, index)[0])


def _check_one(path: str) -> tuple[int, int, int, int, int, int, list[tuple[str, str, str, str, str]]]:
    from spreadsheetcoder.data.synthetic.check import check_workbook

    warnings.simplefilter("ignore")
    r = check_workbook(Path(path))
    shown = [tuple(str(x)[:120] for x in m) for m in r.mismatches[:3]]
    return r.cells, r.agree, r.by_formulas, r.by_pycel, r.by_libreoffice, r.unverifiable, shown  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=400, help="workbooks to generate for the throughput figure")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--distinct-sample", type=int, default=200, help="workbooks whose formulas are counted exactly")
    parser.add_argument("--check", type=int, default=0, help="workbooks to check against the formula engines")
    parser.add_argument("--out", type=Path, default=None, help="keep the generated files here")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        t0 = time.perf_counter()
        summary = synthesize(args.n, out, seed=args.seed, workers=args.workers, progress=False)
        seconds = time.perf_counter() - t0
        sample = min(args.distinct_sample, args.n)
        with multiprocessing.Pool(args.workers) as pool:
            distinct = pool.starmap(_distinct_of, [(i, args.seed) for i in range(sample)])
        files = sorted(out.glob(f"synth_{args.seed}_*.xlsx"))
        sizes = [p.stat().st_size for p in files]
        per_wb = statistics.mean(distinct)
        result: dict[str, object] = {
            "workbooks": summary.workbooks,
            "workers": args.workers,
            "cpu_count": os.cpu_count(),
            "seconds": round(seconds, 2),
            "workbooks_per_s": round(summary.workbooks / seconds, 1),
            "distinct_formulas_per_workbook": round(per_wb, 1),
            "distinct_formulas_per_workbook_p10_p90": [sorted(distinct)[len(distinct) // 10],
                                                       sorted(distinct)[len(distinct) * 9 // 10]],
            "distinct_formulas_per_s": round(per_wb * summary.workbooks / seconds, 1),
            "formula_cells_per_workbook": round(summary.formula_cells / summary.workbooks, 1),
            "sheets_per_workbook": round(summary.sheets / summary.workbooks, 2),
            "file_kb_mean": round(statistics.mean(sizes) / 1024, 1),
            "file_kb_max": round(max(sizes) / 1024, 1),
            "minutes_for_100k_examples": round(100_000 / (per_wb * summary.workbooks / seconds) / 60, 2),
            "kinds": dict(Counter(summary.kinds).most_common()),
        }
        if args.check:
            paths = [str(p) for p in files[: args.check]]
            with multiprocessing.Pool(args.workers, maxtasksperchild=10) as pool:
                rows = pool.map(_check_one, paths)
            cells = sum(r[0] for r in rows)
            agree = sum(r[1] for r in rows)
            unverifiable = sum(r[5] for r in rows)
            result["agreement"] = {
                "workbooks": len(paths), "formula_cells": cells, "agree": agree, "unverifiable": unverifiable,
                "rate": round(agree / max(1, cells - unverifiable), 6),
                "by_formulas": sum(r[2] for r in rows), "by_pycel": sum(r[3] for r in rows),
                "by_libreoffice": sum(r[4] for r in rows),
                "mismatch_examples": [m for r in rows for m in r[6]][:10],
            }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
