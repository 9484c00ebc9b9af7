"""``spreadsheetcoder synth``: synthetic workbooks with formulas and cached values (data/synthetic/)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from .common import Subparsers, add_command, add_json_flag, add_progress_flag, add_workers_flag, progress


def add_synth_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "synth",
        help="write realistic synthetic .xlsx workbooks with formulas and correct cached values",
        description=(
            "Write N synthetic workbooks DIR/synth_SEED_IIIIII.xlsx of the kinds people build (budgets, sales, "
            "grade books, inventories, schedules, dashboards, model-style sheets, ...), each with formulas and "
            "their cached values. A file depends only on (SEED, index): the same command writes the same "
            "bytes on any machine and with any number of workers. Turn them into examples with extract."
        ),
    )
    p.add_argument("-n", type=int, required=True, metavar="N", help="number of workbooks")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="folder to write into")
    p.add_argument("--seed", type=int, default=0, help="random seed of the run")
    p.add_argument("--start", type=int, default=0, metavar="I", help="first index (extend an earlier run)")
    add_workers_flag(p)
    add_json_flag(p, "print the summary as one JSON object")
    add_progress_flag(p)
    p.set_defaults(func=cmd_synth)


def cmd_synth(args: argparse.Namespace) -> int:
    from ..data.synthetic import synthesize

    summary = synthesize(args.n, args.output, seed=args.seed, workers=args.workers or os.cpu_count() or 1,
                         progress=progress(args), start=args.start)
    stats = {**vars(summary), "kinds": dict(summary.kinds), "seconds": round(summary.seconds, 1)}
    if args.json:
        print(json.dumps(stats))
    else:
        print(f"{summary.workbooks} workbooks ({summary.bytes / 2**20:.1f} MB, {summary.formula_cells} formula cells, "
              f"about {summary.distinct_estimate} distinct formulas) -> {args.output} in {summary.seconds:.1f} s")
    return 0
