"""CPU cost of one suggestion: cold sheet, warm sheet, and filling a column; print one JSON object.

A sheet of 300 order rows (date, region, product, units, price, revenue formula) is built in memory.

- cold: a fresh predictor asked for one empty cell (every chunk of its window encoded, plus the
  workbook's sheet names and defined names for the pointers);
- warm: then asked for other cells of the same sheet one at a time (only the chunks holding the new
  target are encoded; the rest come from the cache of suggest/predictor.py);
- fill: a whole column of N empty cells in one call.

    python benchmarks/predict_cost.py --preset real [--threads 2]
    python benchmarks/predict_cost.py --model runs/cpu_tiny/model

With ``--preset`` the weights are untrained (the cost does not depend on them), so beam search is
capped at ``--max-steps`` decoder steps, about what a trained model spends on a typical formula
(``=ROUND(B5*Assumptions!$B$2,2)`` is 9 sketch + 8 range tokens). With ``--model`` decoding runs as
in production.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from spreadsheetcoder.anchors import ANCHOR_NAMES
from spreadsheetcoder.constants import RANGE_PLACEHOLDER
from spreadsheetcoder.model.configuration import SpreadsheetCoderConfig
from spreadsheetcoder.model.modeling import SpreadsheetCoder
from spreadsheetcoder.sheet import Cell, CellType, Sheet, Workbook
from spreadsheetcoder.suggest.predictor import FormulaPredictor
from spreadsheetcoder.vocab import AREA, CELL, NAME, NAME_PREFIX, OWN_SHEET, SHEET_PREFIX, SPECIALS, STRUCT

ROWS = 300


def build_workbook(rows: int = ROWS) -> Workbook:
    """Orders with a revenue formula filled down (column F); column G (Tax) is left empty."""
    sheet = Sheet("Orders")
    for col, title in enumerate(["Date", "Region", "Product", "Units", "Price", "Revenue", "Tax"], start=1):
        sheet.set(1, col, Cell(title, CellType.STRING))
    regions = ["North", "South", "East", "West"]
    for r in range(2, rows + 2):
        sheet.set(r, 1, Cell(dt.datetime(2024, 1, 1) + dt.timedelta(days=r), CellType.DATE))
        sheet.set(r, 2, Cell(regions[r % 4], CellType.STRING))
        sheet.set(r, 3, Cell(f"Item {r % 17}", CellType.STRING))
        sheet.set(r, 4, Cell(float(r % 23 + 1), CellType.NUMBER))
        sheet.set(r, 5, Cell(float(r % 7) + 0.99, CellType.NUMBER))
        sheet.set(r, 6, Cell((r % 23 + 1) * (r % 7 + 0.99), CellType.NUMBER, formula=f"=D{r}*E{r}"))
    inputs = Sheet("Inputs")
    inputs.set(1, 1, Cell("Tax rate", CellType.STRING))
    inputs.set(1, 2, Cell(0.2, CellType.NUMBER))
    return Workbook("bench.xlsx", [sheet, inputs], {"TaxRate": "Inputs!$B$1"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--preset", choices=("cpu", "tiny", "small", "real"), help="untrained model of this preset")
    group.add_argument("--model", type=Path, help="a trained checkpoint folder")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="torch CPU threads")
    parser.add_argument("--max-steps", type=int, default=18, help="decoder steps of an untrained model's beam")
    parser.add_argument("--warm", type=int, default=10, help="warm single-cell requests to average")
    parser.add_argument("--fill", type=int, default=100, help="cells of the column filled in one call")
    parser.add_argument("-k", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    if args.model is not None:
        model = SpreadsheetCoder.from_pretrained(args.model)
        label = str(args.model)
    else:
        # Vocabularies of a realistic size (the real corpus cache has 785 sketch and 1,877 range tokens).
        config = SpreadsheetCoderConfig.preset(args.preset)
        config.sketch_vocab = [*SPECIALS, RANGE_PLACEHOLDER, "*", "+", "-", "/", "(", ")", ",",
                               "SUM(", "ROUND(", "IF(", "2", "0", "1"] + [f"F{i}(" for i in range(770)]
        config.range_vocab = ([*SPECIALS, CELL, AREA, NAME, STRUCT, OWN_SHEET]
                              + [f"{SHEET_PREFIX}{k}" for k in range(64)] + [f"{NAME_PREFIX}{k}" for k in range(256)]
                              + list(ANCHOR_NAMES)
                              + [f"r{d:+d}" for d in range(-400, 401)] + [f"c{d:+d}" for d in range(-60, 61)]
                              + [f"R{d}" for d in range(1, 400)] + [f"C{d}" for d in range(1, 40)] + ["r*", "c*"])
        model = SpreadsheetCoder(config)
        label = f"preset {args.preset} (untrained, beam capped at {args.max_steps} steps)"
    model.eval()
    max_steps = args.max_steps if args.preset is not None else None
    predictor = FormulaPredictor(model, beam=args.k, batch_size=32, max_steps=max_steps)
    book = build_workbook()
    sheet = book.sheets[0]

    start = time.perf_counter()
    predictor.predict_targets(book, sheet, [(ROWS // 2, 7)], context="values", k=args.k)
    cold = time.perf_counter() - start
    cold_chunks = predictor.stats["chunks_encoded"]

    warm_times = []
    before = dict(predictor.stats)
    for i in range(args.warm):
        start = time.perf_counter()
        predictor.predict_targets(book, sheet, [(ROWS // 2 + 3 + 2 * i, 7)], context="values", k=args.k)
        warm_times.append(time.perf_counter() - start)
    warm_chunks = (predictor.stats["chunks_encoded"] - before["chunks_encoded"]) / args.warm

    fresh = FormulaPredictor(model, beam=args.k, batch_size=32, max_steps=max_steps)
    start = time.perf_counter()
    fresh.predict_targets(book, sheet, [(r, 7) for r in range(2, 2 + args.fill)], context="values", k=args.k)
    fill = time.perf_counter() - start
    print(json.dumps({
        "model": label,
        "parameters": model.num_parameters(),
        "threads": args.threads,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "cold_ms": round(cold * 1000, 1),
        "cold_chunks_encoded": cold_chunks,
        "warm_ms": round(statistics.median(warm_times) * 1000, 1),
        "warm_chunks_encoded": warm_chunks,
        "fill_cells": args.fill,
        "fill_ms_per_cell": round(fill * 1000 / args.fill, 1),
        "fill_chunks_encoded": fresh.stats["chunks_encoded"],
        "fill_chunks_requested": fresh.stats["chunks_requested"],
        # features encoder: distinct texts through MiniLM (the cold request loads it and embeds them)
        "texts_embedded": predictor.featurizer.computed if predictor.featurizer is not None else None,
        "date": dt.date.today().isoformat(),
    }))


if __name__ == "__main__":
    main()
