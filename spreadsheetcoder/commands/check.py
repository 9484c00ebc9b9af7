"""``spreadsheetcoder check``: flag formulas that look like mistakes, and with ``--fix`` write the
proposed repairs into a copy of the workbook (check/checker.py, check/repair.py)."""

from __future__ import annotations

import argparse
import json
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .common import (
    Subparsers,
    UsageError,
    add_command,
    add_json_flag,
    add_progress_flag,
    one_line,
    probability,
)

if TYPE_CHECKING:
    from ..check import CheckFlag, CheckReport, RepairResult


def add_check_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "check",
        help="flag formulas that look like mistakes and propose repairs (--fix writes them into a copy)",
        description=(
            "Look for formula cells that disagree with their neighbours and the rest of their sheet: a range "
            "one row short (=SUM(C2:C10) where the other totals reach row 11), a reference shifted by a row or "
            "a column, SUM where the neighbours use AVERAGE (or the other way round), a lost or an extra $, "
            "swapped operands, a reference to the wrong sheet, a number typed over a formula, a formula unlike "
            "its neighbours'. For each formula cell (and each number typed among formulas) the checker lists "
            "the formulas it may have been meant to hold and a trained model scores them on the sheet. A cell "
            "is flagged when its confidence, the calibrated probability that the cell is a mistake, reaches "
            "--min-confidence; its best candidate is the proposed repair. The input is never modified: --fix "
            "writes every flagged cell's repair into a copy (-o OUT.xlsx), losslessly and atomically as fill "
            "does, and reports the repairs the writer refused; only --in-place overwrites the input."
        ),
    )
    p.add_argument("book", metavar="BOOK", help="an .xlsx/.xlsm workbook")
    p.add_argument("--min-confidence", type=probability, default=None, metavar="X",
                   help="flag a cell when the calibrated probability that it is a mistake is at least X, in [0, 1] "
                        "(default: the checker's default, chosen on held-out workbooks to keep false alarms under "
                        "2 per 1,000 formula cells; the summary line shows it)")
    p.add_argument("--sheets", default=None, metavar="NAME[,NAME...]",
                   help="check only these worksheets, comma-separated (default: all)")
    p.add_argument("--fix", action="store_true",
                   help="write the repair of every flagged cell into -o OUT (or the input with --in-place)")
    p.add_argument("-o", "--output", default=None, metavar="OUT", help="with --fix: where to write the repaired workbook")
    p.add_argument("--in-place", action="store_true", help="with --fix: allow OUT to be BOOK itself (overwrite the input)")
    p.add_argument("--checker", default=None, metavar="DIR",
                   help="folder of a trained checker (checker.txt, checker.json; default: the one shipped in the "
                        "package)")
    add_json_flag(p, "print the result as one JSON object: cells_checked, flags (cell, formula, value, kind, "
                     "confidence, repair) and, with --fix, output, applied and refused")
    add_progress_flag(p)
    p.set_defaults(func=cmd_check)


def _sheet_names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UsageError("--sheets names no worksheet")
    return names


def _output(args: argparse.Namespace) -> str | None:
    """Where --fix writes (None without --fix), after the options are checked together."""
    if not args.fix:
        if args.output is not None or args.in_place:
            raise UsageError("-o and --in-place go with --fix (check alone never writes)")
        return None
    if args.output is None and not args.in_place:
        raise UsageError("--fix needs -o OUT.xlsx (or --in-place to overwrite the input)")
    return args.output if args.output is not None else args.book


def _shown(flag: CheckFlag) -> str:
    return one_line(flag.formula) if flag.formula is not None else f"{flag.value!r} (typed)"


def _print_text(report: CheckReport, repaired: RepairResult | None, output: str | None) -> None:
    for flag in report.flags:
        print(f"{flag.cell:<24} {flag.kind:<20} {flag.confidence:.3f}  {_shown(flag)}  ->  {one_line(flag.repair)}")
    print(f"checked {report.cells_checked} cells: {len(report.flags)} flagged "
          f"(min confidence {report.min_confidence:g}) in {report.seconds:.1f} s")
    if repaired is not None:
        for flag, reason in repaired.refused:
            print(f"not repaired: {flag.cell}: {reason}")
        print(f"wrote {output}: {len(repaired.applied)} repaired, {len(repaired.refused)} refused")


def cmd_check(args: argparse.Namespace) -> int:
    from ..check import load_checker, repair_bytes
    from ..fill import check_fill_paths
    from ..xlsx.reader import read_workbook
    from ..xlsx.writer import write_atomic

    output = _output(args)
    sheets = _sheet_names(args.sheets)
    check_fill_paths(args.book, output, in_place=args.in_place)  # fill's refusals, before anything is read
    source = Path(args.book)
    data = source.read_bytes()
    workbook = read_workbook(data)  # as fill reads it: the same errors for the same input
    checker = load_checker(args.checker)
    report = checker.check(workbook, sheets=sheets, min_confidence=args.min_confidence,
                           progress=not args.no_progress and sys.stderr.isatty())
    result: dict[str, Any] = report.to_dict()
    repaired = None
    if output is not None:
        repaired = repair_bytes(data, report.flags)
        if repaired.applied or not args.in_place:  # the input is rewritten only to change it
            write_atomic(output, repaired.data, mode=stat.S_IMODE(source.stat().st_mode))
        result.update(output=output, applied=[flag.cell for flag in repaired.applied],
                      refused=[{"cell": flag.cell, "reason": reason} for flag, reason in repaired.refused])
    if args.json:
        print(json.dumps(result, default=str))
    else:
        _print_text(report, repaired, output)
    return 0
