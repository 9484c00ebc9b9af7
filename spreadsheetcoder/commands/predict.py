"""``spreadsheetcoder predict``: top-k formulas for cells of a workbook (fill.py's ``predict_cells``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import Subparsers, add_command, add_model_options, load_predictor, one_line


def add_predict_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "predict",
        help="top-k formulas for cells of a workbook",
        description=(
            "Predict the formula of each named cell from the table around it, with the model shipped in the "
            "package (or --model). Formulas are in A1 notation as Excel shows them, best first, with a "
            "confidence in [0, 1] (the model's probability of the whole formula). A cell that already holds "
            "something is predicted as if it were empty. Cells without a sheet name are on the first worksheet."
        ),
    )
    p.add_argument("book", metavar="BOOK", help="an .xlsx/.xlsm workbook")
    p.add_argument("--cell", required=True, metavar="CELLS",
                   help="cells and areas, comma-separated: 'Sheet1!F12', \"'My Sheet'!B3:B5,C9\"")
    add_model_options(p)
    p.set_defaults(func=cmd_predict)


def cmd_predict(args: argparse.Namespace) -> int:
    from ..fill import predict_cells, prediction_records, resolve_cells
    from ..xlsx.reader import read_workbook

    workbook = read_workbook(args.book)
    cells = resolve_cells(workbook, args.cell)
    predictor = load_predictor(args)
    context = args.context or predictor.default_context
    found = predict_cells(predictor, workbook, cells, k=args.k, context=context,
                          progress=len(cells) > 50 and not args.no_progress)
    records = prediction_records(cells, found)
    if args.json:
        print(json.dumps({"workbook": str(args.book), "context": context, "model": predictor.model_path,
                          "cells": records}, default=str))
    else:
        print_predictions(records)
    return 0


def print_predictions(records: list[dict[str, Any]]) -> None:
    """``prediction_records`` as text: each cell, then its candidates ranked, one a line."""
    for item in records:
        note = f"  (holds {item['holds']!r}; predicted as if empty)" if item["holds"] is not None else ""
        print(f"{item['cell']}{note}")
        if not item["candidates"]:
            print("   no formula renders at this cell")
        for rank, c in enumerate(item["candidates"], 1):
            print(f"  {rank}. {one_line(c['formula']):<50} {c['confidence']:.3f}  {c['source']}")
