"""CPU cost of the suggestion pipeline next to the model alone, in one run; print one JSON object.

A sheet of 1,000 order rows (date, region, product, units, price, revenue formula filled down,
a tax rate on another sheet) is built in memory, with the revenue column's last 1,000 cells the
ones asked about.

- warm: one suggestion at a time for cells of an already-seen sheet (p50 and p90 over
  ``--warm`` cells after ``--warmup`` cells), both settings;
- fill: 1,000 cells of one column in calls of ``--batch`` cells (cells per second).

Both run for the shipped pipeline (``load_suggester``) and for the model alone
(``FormulaPredictor``, neighbour formulas off), on the same cells, one after the other.

    python benchmarks/suggest_cost.py [--threads 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence

import torch

from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook
from spreadsheetcoder.suggest import FormulaPredictor, load_suggester
from spreadsheetcoder.suggest.types import Candidate

ROWS = 1000

Predict = Callable[[Workbook, Sheet, Sequence[tuple[int, int]], str, int], list[list[Candidate]]]


def build_workbook() -> Workbook:
    sheet = Sheet("Orders")
    for col, title in enumerate(["Date", "Region", "Product", "Units", "Price", "Revenue", "Tax"], start=1):
        sheet.set(1, col, Cell(title, CellType.STRING))
    regions = ["North", "South", "East", "West"]
    for r in range(2, ROWS + 2):
        sheet.set(r, 1, Cell(dt.datetime(2024, 1, 1) + dt.timedelta(days=r), CellType.DATE))
        sheet.set(r, 2, Cell(regions[r % 4], CellType.STRING))
        sheet.set(r, 3, Cell(f"Item {r % 17}", CellType.STRING))
        sheet.set(r, 4, Cell(float(r % 23 + 1), CellType.NUMBER))
        sheet.set(r, 5, Cell(float(r % 7) + 0.99, CellType.NUMBER))
        sheet.set(r, 6, Cell((r % 23 + 1) * (r % 7 + 0.99), CellType.NUMBER, formula=f"=D{r}*E{r}"))
        sheet.set(r, 7, Cell((r % 23 + 1) * (r % 7 + 0.99) * 0.2, CellType.NUMBER, formula=f"=F{r}*Inputs!$B$1"))
    inputs = Sheet("Inputs")
    inputs.set(1, 1, Cell("Tax rate", CellType.STRING))
    inputs.set(1, 2, Cell(0.2, CellType.NUMBER))
    return Workbook("bench.xlsx", [sheet, inputs], {"TaxRate": "Inputs!$B$1"})


def measure(name: str, predict: Predict, args: argparse.Namespace) -> dict[str, object]:
    book = build_workbook()
    sheet = book.sheets[0]
    out: dict[str, object] = {}
    for setting in ("formulas", "values"):
        cells = [(r, 7) for r in range(2, 2 + args.warmup + args.warm)]
        for cell in cells[:args.warmup]:
            predict(book, sheet, [cell], setting, 5)
        times = []
        for cell in cells[args.warmup:]:
            started = time.perf_counter()
            predict(book, sheet, [cell], setting, 5)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out[f"warm_{setting}_p50_ms"] = round(statistics.median(times), 1)
        out[f"warm_{setting}_p90_ms"] = round(times[int(0.9 * (len(times) - 1))], 1)
    book = build_workbook()  # a fresh workbook: nothing cached
    sheet = book.sheets[0]
    cells = [(r, 6) for r in range(2, ROWS + 2)]
    started = time.perf_counter()
    for i in range(0, len(cells), args.batch):
        predict(book, sheet, cells[i:i + args.batch], "values", 1)
    seconds = time.perf_counter() - started
    out["fill_1000_values_seconds"] = round(seconds, 2)
    out["fill_1000_values_cells_per_s"] = round(len(cells) / seconds, 1)
    print(json.dumps({"system": name, **out}), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--warm", type=int, default=40)
    parser.add_argument("--batch", type=int, default=32, help="cells per call when filling")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    suggester = load_suggester()
    model = FormulaPredictor(suggester.predictor.model if suggester.predictor else "", neighbour_formulas=False)
    results = {
        "pipeline": measure("pipeline", lambda b, s, c, st, k: suggester.predict_targets(b, s, c, setting=st, k=k), args),
        "model_alone": measure("model_alone", lambda b, s, c, st, k: model.predict_targets(b, s, c, setting=st, k=k),
                               args),
    }
    print(json.dumps({
        "benchmark": "suggest_cost", "date": dt.date.today().isoformat(), "machine": platform.machine(),
        "processor": platform.processor() or platform.platform(), "cpus": os.cpu_count(), "threads": args.threads,
        "rows": ROWS, **results,
    }))


if __name__ == "__main__":
    main()
