"""``spreadsheetcoder stats``: formula distributions of corpora side by side (data/stats.py)."""

from __future__ import annotations

import argparse
import json

from .common import Subparsers, add_command, add_json_flag, add_workers_flag


def add_stats_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "stats",
        help="distribution of formulas (functions, lengths, reference kinds) of corpora, side by side",
        description=(
            "Measure each input (a JSONL file written by extract or synth, or a folder of workbooks, "
            "extracted on the fly): top functions, sketch and range lengths, share of absolute, "
            "other-sheet and beyond-window references, formulas per sheet. Several inputs are shown "
            "side by side as Markdown tables."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="DIR_OR_JSONL", help="JSONL examples or a folder of workbooks")
    p.add_argument("--names", default=None, help="comma-separated column names, one per input")
    add_workers_flag(p, "processes when extracting a folder")
    add_json_flag(p, "print one JSON list of reports instead of Markdown")
    p.set_defaults(func=cmd_stats)


def cmd_stats(args: argparse.Namespace) -> int:
    from ..data.stats import compare_stats, format_markdown

    names = args.names.split(",") if args.names else None
    reports = compare_stats(args.inputs, names, workers=args.workers)
    print(json.dumps(reports) if args.json else format_markdown(reports))
    return 0
