"""Command line: ``spreadsheetcoder <command> ...``.

Each subcommand lives in ``spreadsheetcoder/commands/<command>.py``: its arguments
(``add_<command>_parser``) beside its entry point (``cmd_<command>``), which calls the library and
prints the result; flags several commands take are defined once in ``commands/common.py``.

Errors: the library's deliberate errors (``SpreadsheetCoderError``) and the system's (``OSError``:
a missing file, a permission) become one readable line on stderr and exit status 2. Any other
exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from .commands.cache import add_cache_parser
from .commands.check import add_check_parser
from .commands.evaluate import add_evaluate_parser
from .commands.extract import add_extract_parser
from .commands.fill import add_fill_parser
from .commands.predict import add_predict_parser
from .commands.serve import add_serve_parser
from .commands.stats import add_stats_parser
from .commands.synth import add_synth_parser
from .commands.train import add_train_parser
from .errors import SpreadsheetCoderError
from .version import __version__

__all__ = ["build_parser", "main"]

EPILOG = """examples:
  spreadsheetcoder predict sample_sheets/fill/budget.xlsx --cell 'Budget!D5' -k 3
  spreadsheetcoder fill sample_sheets/fill/budget.xlsx -o budget_filled.xlsx --cells 'Budget!D5:F16' --report report.json
  spreadsheetcoder check sample_sheets/budget.xlsx --fix -o budget_checked.xlsx
  spreadsheetcoder extract sample_sheets -o examples.jsonl
  spreadsheetcoder extract ../shared/corpus -o corpus.jsonl --context formulas --workers 2 --json
  spreadsheetcoder synth -n 2000 -o synth/ --seed 1 && spreadsheetcoder extract synth -o synth.jsonl
  spreadsheetcoder stats corpus.jsonl synth.jsonl --names real,synthetic
  spreadsheetcoder cache corpus.jsonl -o cache/ --splits ../shared/corpus/SPLITS.tsv
  spreadsheetcoder train --config tiny --data cache/KEY --out runs/tiny --set max_steps=2000
  torchrun --nproc_per_node=8 -m spreadsheetcoder train --config real --data cache/KEY --out runs/real
"""


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spreadsheetcoder",
        description="Predict spreadsheet formulas from the table around a cell (SpreadsheetCoder).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in (add_extract_parser, add_synth_parser, add_stats_parser, add_cache_parser, add_train_parser,
                add_evaluate_parser, add_predict_parser, add_fill_parser, add_check_parser, add_serve_parser):
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (SpreadsheetCoderError, OSError) as err:
        print(f"spreadsheetcoder {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
