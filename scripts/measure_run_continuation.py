"""How often a formula cell next to a run of one relative formula holds its continuation.

For every formula cell of the workbooks of one split whose two neighbours above (else left) hold
copies of one relative formula (``run_continuation``'s test), count the cells whose own formula is
that continuation. The share is ``RUN_CONTINUATION_PRECISION``, the confidence the predictor gives
a continuation (at most 3,000 formula cells per sheet are looked at).

    python scripts/measure_run_continuation.py ../shared/corpus --split dev
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from tqdm import tqdm

from spreadsheetcoder.errors import SpreadsheetCoderError
from spreadsheetcoder.evaluation.baselines import shift_formula
from spreadsheetcoder.formula import canonical_formula
from spreadsheetcoder.xlsx.reader import read_workbook


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", help="corpus folder with SPLITS.tsv")
    parser.add_argument("--split", default="dev")
    args = parser.parse_args()
    root = Path(args.dir)
    with open(root / "SPLITS.tsv", encoding="utf-8") as fp:
        names = [row[0] for row in csv.reader(fp, delimiter="\t") if len(row) > 1 and row[1] == args.split]
    fired = hit = 0
    for name in tqdm(names, unit="book"):
        try:
            book = read_workbook(root / name)
        except SpreadsheetCoderError:
            continue
        for sheet in book.sheets:
            for n, (r, c, cell) in enumerate(sheet.formula_cells()):
                if n >= 3000:
                    break
                if cell.formula_kind is not None or cell.formula is None:
                    continue
                for dr, dc in ((-1, 0), (0, -1)):
                    a, b = sheet.get(r + dr, c + dc), sheet.get(r + 2 * dr, c + 2 * dc)
                    if not (a and b and a.formula and b.formula) or a.formula_kind or b.formula_kind:
                        continue
                    shifted = shift_formula(a.formula, (r + dr, c + dc), (r, c))
                    if shifted and shifted == shift_formula(b.formula, (r + 2 * dr, c + 2 * dc), (r, c)):
                        fired += 1
                        hit += canonical_formula(shifted) == canonical_formula(cell.formula)
                        break
    print(json.dumps({"split": args.split, "workbooks": len(names), "runs": fired, "continued": hit,
                      "precision": round(hit / max(1, fired), 4)}))


if __name__ == "__main__":
    main()
