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
from predict_cost import build_workbook as order_book  # benchmarks/ is on sys.path when run as a script

from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook
from spreadsheetcoder.suggest import FormulaPredictor, load_suggester
from spreadsheetcoder.suggest.types import Candidate

ROWS = 1000

Predict = Callable[[Workbook, Sheet, Sequence[tuple[int, int]], str, int], list[list[Candidate]]]


def build_workbook() -> Workbook:
    """predict_cost.py's order sheet, 1,000 rows, with the tax column filled down."""
    book = order_book(ROWS)
    sheet = book.sheets[0]
    for r in range(2, ROWS + 2):
        revenue = sheet.get(r, 6)
        assert revenue is not None and isinstance(revenue.value, float)
        sheet.set(r, 7, Cell(revenue.value * 0.2, CellType.NUMBER, formula=f"=F{r}*Inputs!$B$1"))
    return book


def measure(name: str, predict: Predict, args: argparse.Namespace) -> dict[str, object]:
    book = build_workbook()
    sheet = book.sheets[0]
    out: dict[str, object] = {}
    for context in ("formulas", "values"):
        cells = [(r, 7) for r in range(2, 2 + args.warmup + args.warm)]
        for cell in cells[:args.warmup]:
            predict(book, sheet, [cell], context, 5)
        times = []
        for cell in cells[args.warmup:]:
            started = time.perf_counter()
            predict(book, sheet, [cell], context, 5)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        out[f"warm_{context}_p50_ms"] = round(statistics.median(times), 1)
        out[f"warm_{context}_p90_ms"] = round(times[int(0.9 * (len(times) - 1))], 1)
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
        "pipeline": measure("pipeline", lambda b, s, c, st, k: suggester.predict_targets(b, s, c, context=st, k=k), args),
        "model_alone": measure("model_alone", lambda b, s, c, st, k: model.predict_targets(b, s, c, context=st, k=k),
                               args),
    }
    print(json.dumps({
        "benchmark": "suggest_cost", "date": dt.date.today().isoformat(), "machine": platform.machine(),
        "processor": platform.processor() or platform.platform(), "cpus": os.cpu_count(), "threads": args.threads,
        "rows": ROWS, **results,
    }))


if __name__ == "__main__":
    main()
