"""``spreadsheetcoder fill``: write predicted formulas into empty cells of a workbook (fill.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..constants import DEFAULT_MIN_CONFIDENCE
from .common import Subparsers, UsageError, add_command, add_model_options, load_predictor, one_line


def add_fill_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "fill",
        help="write predicted formulas into empty cells of a workbook (lossless)",
        description=(
            "Predict the named empty cells and write the top formula into each, into a copy of the workbook. "
            "The .xlsx is edited surgically: every part of the package other than the edited sheets is copied "
            "byte for byte (charts, images, pivot tables, macros survive), the edited sheet XML changes only "
            "in the target cells, and the workbook asks for a full recalculation on open. Cells that hold "
            "something, cells below --min-confidence and cells inside merged areas are left alone and "
            "reported. The output is written atomically; the input is never modified unless --in-place."
        ),
    )
    p.add_argument("book", metavar="BOOK", help="an .xlsx/.xlsm workbook")
    p.add_argument("-o", "--output", default=None, metavar="OUT", help="where to write the filled workbook")
    p.add_argument("--cells", default=None, metavar="CELLS",
                   help="cells and areas to fill, comma-separated: 'Sheet1!F2:F40,Summary!C9'")
    p.add_argument("--propose", action="store_true",
                   help="also fill the empty cells fill proposes: gaps at the end of a fill-down formula column "
                        "and empty cells of a totals row")
    p.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE, metavar="X",
                   help="leave a cell empty when its top formula's confidence (the calibrated probability that "
                        f"it is right) is below X; the default, {DEFAULT_MIN_CONFIDENCE:g}, keeps precision at 90%% "
                        "or more on the corpus's dev split; 0 fills every cell that has a suggestion")
    p.add_argument("--report", default=None, metavar="JSON", help="write the per-cell report here")
    p.add_argument("--in-place", action="store_true", help="allow OUT to be BOOK itself (overwrite the input)")
    add_model_options(p)
    p.set_defaults(func=cmd_fill)


def cmd_fill(args: argparse.Namespace) -> int:
    from ..fill import check_fill_paths, fill_file

    if args.cells is None and not args.propose:
        raise UsageError("name the cells to fill with --cells (e.g. 'Sheet1!F2:F40'), or pass --propose")
    if args.output is None and not args.in_place:
        raise UsageError("give -o OUT.xlsx (or --in-place to overwrite the input)")
    output = args.output if args.output is not None else args.book
    check_fill_paths(args.book, output, in_place=args.in_place)  # before the model loads
    predictor = load_predictor(args)
    report = fill_file(args.book, output, args.cells, predictor, in_place=args.in_place,
                       min_confidence=args.min_confidence, context=args.context, k=args.k, propose=args.propose,
                       progress=not args.no_progress)
    data = report.to_dict()
    if args.report:
        Path(args.report).write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    if args.json:
        print(json.dumps(data, default=str))
        return 0
    for cell in report.cells:
        shown = f"{one_line(cell.formula):<45} {cell.confidence:.3f}" if cell.formula is not None else f"{'':<51}"
        print(f"{cell.cell:<24} {shown}  {cell.status}{f' ({cell.detail})' if cell.detail else ''}")
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)
    print(f"wrote {output}: {counts or 'no cells'} in {report.seconds:.1f} s")
    return 0
