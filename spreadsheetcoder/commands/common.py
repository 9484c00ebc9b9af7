"""What the subcommands share: the help formatter, argument types, the flags several of them take
(each defined once here), the usage error and the predictor of ``predict`` and ``fill``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..constants import CONTEXT_SETTINGS, DEFAULT_CONTEXT
from ..errors import SpreadsheetCoderError

if TYPE_CHECKING:
    from ..suggest.predictor import FormulaPredictor
    from ..suggest.suggester import Suggester

Subparsers = Any  # argparse's private _SubParsersAction

# --model of predict, fill and serve: where the checkpoint comes from when it is not given.
MODEL_HELP = "checkpoint folder (default: $SPREADSHEETCODER_MODEL, else the model shipped in the package)"


class UsageError(SpreadsheetCoderError):
    """Options that do not go together, or one that is missing (found before anything loads)."""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with a default shown only where it says something: not None or False, and not when
    the help text already names the default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS \
                or "default" in text:
            return text
        return super()._get_help_string(action)


def add_command(subparsers: Subparsers, name: str, *, help: str, description: str) -> argparse.ArgumentParser:
    """A subcommand's parser, its help shown with ``HelpFormatter``."""
    return subparsers.add_parser(name, help=help, description=description,
                                 formatter_class=HelpFormatter)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (checked before any model loads)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def probability(text: str) -> float:
    """An argparse type: a number in [0, 1] (a confidence threshold; checked before anything loads)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def add_json_flag(p: argparse.ArgumentParser, help: str) -> None:
    """``--json``: print the result as JSON (``help`` says what and where) instead of text."""
    p.add_argument("--json", action="store_true", help=help)


def add_progress_flag(p: argparse.ArgumentParser) -> None:
    """``--no-progress`` (read it with ``progress``)."""
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def progress(args: argparse.Namespace) -> bool | None:
    """The library's ``progress``: off with --no-progress, else None (a bar when stderr is a terminal)."""
    return False if args.no_progress else None


def add_context_flag(p: argparse.ArgumentParser, help: str, default: str | None = DEFAULT_CONTEXT) -> None:
    """``--context`` (the context setting: ``values`` or ``formulas``)."""
    p.add_argument("--context", choices=CONTEXT_SETTINGS, default=default, help=help)


def add_workers_flag(p: argparse.ArgumentParser, help: str = "worker processes (default: all cores)") -> None:
    p.add_argument("--workers", type=int, default=None, metavar="N", help=help)


def add_decoding_flags(p: argparse.ArgumentParser, unit: str, *, beam_help: str = "beam width (at least k)",
                       device_help: str = "torch device (cpu, cuda)") -> None:
    """``-k``, ``--beam``, ``--batch-size`` and ``--device`` of a command that runs the model on
    ``unit``s (cells, targets)."""
    p.add_argument("-k", type=positive_int, default=5, help=f"candidates per {unit}")
    p.add_argument("--beam", type=positive_int, default=5, help=beam_help)
    p.add_argument("--batch-size", type=positive_int, default=32, help=f"{unit}s decoded together")
    p.add_argument("--device", default="cpu", help=device_help)


def add_model_flag(p: argparse.ArgumentParser, default: Any = None) -> None:
    """``--model DIR`` defaulting to $SPREADSHEETCODER_MODEL, else the shipped model."""
    p.add_argument("--model", default=default, metavar="DIR", help=MODEL_HELP)


def add_model_options(p: argparse.ArgumentParser) -> None:
    """The options of ``predict`` and ``fill``: the model, the context setting, decoding, output."""
    add_model_flag(p)
    add_context_flag(p, default=None,
                     help="formulas: the sheet as it is, its other formulas visible (the default); values: other "
                          "formula cells show only their values (the paper's setting; with --model-only the "
                          "default is the model's own setting)")
    add_decoding_flags(p, "cell")
    p.add_argument("--model-only", action="store_true",
                   help="the model's candidates alone, without the suggestion pipeline (neighbouring formulas, "
                        "the sheet's structure, links to other sheets, retrieval; every candidate run on the "
                        "sheet and ranked)")
    add_json_flag(p, "print the result as one JSON object")
    add_progress_flag(p)


def load_predictor(args: argparse.Namespace) -> FormulaPredictor | Suggester:
    """The predictor of ``add_model_options``' arguments: the suggestion pipeline of the model
    folder, or with --model-only the model alone, its beam at least k."""
    from ..suggest.loading import load_predictor as load

    return load(args.model, model_only=args.model_only, device=args.device, beam=max(args.beam, args.k),
                batch_size=args.batch_size)


def one_line(formula: str) -> str:
    """A formula for the table output: line breaks inside it (Alt+Enter in Excel) shown as spaces."""
    return " ".join(formula.splitlines()) if "\n" in formula or "\r" in formula else formula
