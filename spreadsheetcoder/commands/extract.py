"""``spreadsheetcoder extract``: a folder of workbooks to JSONL examples (data/extract.py)."""

from __future__ import annotations

import argparse
import json

from ..constants import WINDOW_RADIUS
from .common import (
    Subparsers,
    add_command,
    add_context_flag,
    add_json_flag,
    add_progress_flag,
    add_workers_flag,
    progress,
)


def add_extract_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "extract",
        help="turn a folder of workbooks into JSONL examples with statistics",
        description=(
            "Walk DIR recursively, read every workbook (in parallel processes) and write one JSON line "
            "per evaluation target: the first occurrence of each distinct relative formula per sheet "
            "(--all-cells: every formula cell), with its formula as sketch + relative ranges and its "
            "21x21 context window. Unreadable workbooks are reported with their reason and skipped."
        ),
    )
    p.add_argument("dir", metavar="DIR", help="folder of .xlsx/.xlsm workbooks (or one workbook)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="JSONL file to write")
    add_context_flag(p, "values: neighbouring formula cells show cached values only; formulas: their relative "
                        "formulas too")
    p.add_argument("--all-cells", action="store_true", help="one example per formula cell, not per distinct formula")
    p.add_argument("--radius", type=int, default=WINDOW_RADIUS, metavar="R",
                   help=f"context window half-size written per example (default: {WINDOW_RADIUS}; training data "
                        "for a model with window W and tile T needs W + T - 1; the default model config needs 16)")
    add_workers_flag(p)
    add_json_flag(p, "print the statistics as one JSON object on the last line")
    add_progress_flag(p)
    p.set_defaults(func=cmd_extract)


def cmd_extract(args: argparse.Namespace) -> int:
    from ..data.extract import extract

    summary = extract(args.dir, args.output, context=args.context, all_cells=args.all_cells, workers=args.workers,
                      progress=progress(args), radius=args.radius)
    stats = summary.to_json()
    if args.json:
        print(json.dumps(stats))
        return 0
    failed = sum(summary.workbooks_failed.values())
    print(
        f"{stats['targets']} examples from {summary.workbooks_ok} workbooks "
        f"({failed} skipped: {dict(summary.workbooks_failed) or 'none'}) -> {args.output}\n"
        f"formula cells {stats['formula_cells']}, distinct formulas {stats['distinct_formulas']}, "
        f"representable {stats['representable']:.2%}, round trip exact {stats['roundtrip_exact']:.2%}, "
        f"{stats['seconds']} s"
    )
    for source, shares in stats["by_source"].items():
        kinds = ", ".join(f"{k} {v:.0%}" for k, v in shares.items() if k != "targets" and v)
        print(f"  {source}: {shares['targets']} targets; {kinds}")
    return 0
