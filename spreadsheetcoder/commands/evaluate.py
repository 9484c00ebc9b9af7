"""``spreadsheetcoder evaluate``: the fixed protocol on a folder of workbooks (evaluation/harness.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .common import (
    Subparsers,
    UsageError,
    add_command,
    add_context_flag,
    add_decoding_flags,
    add_json_flag,
    add_progress_flag,
    progress,
)

# The metrics of the table, one column each.
TABLE_METRICS = ("formula_top1", "formula_top5", "sketch_top1", "range_top1", "exec_top1", "coverage")


def add_evaluate_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "evaluate",
        help="score the suggestion pipeline, the model alone and the rule/copy baselines on a folder of workbooks",
        description=(
            "The fixed protocol of DESIGN.md: workbooks of the chosen split (DIR/SPLITS.tsv when present, else a "
            "hash of the path), one target per distinct relative formula per sheet, the target emptied. Reports "
            "formula/sketch/range top-1 and top-5, execution match and coverage for the full suggestion pipeline "
            "('full'), the model alone ('model') and two baselines "
            "(rule: AutoSum of the block above or left, else the neighbour's formula shifted; copy: the nearest "
            "formula in the row or column shifted), broken down by function, source folder, reference kind and "
            "sketch length, and macro-averaged by workbook."
        ),
    )
    p.add_argument("dir", metavar="DIR", help="folder of workbooks (or one workbook)")
    p.add_argument("--model", default=None, metavar="CHECKPOINT_DIR", help="a model folder (a run's model/)")
    p.add_argument("--baselines-only", action="store_true", help="score the baselines without a model")
    p.add_argument("--split", default="dev", choices=("dev", "test", "train", "all"), help="which workbooks")
    p.add_argument("--splits", default=None, metavar="TSV", help="split file (default: DIR/SPLITS.tsv if present)")
    add_context_flag(p, "values: neighbouring formulas hidden (the paper's setting); formulas: visible")
    add_decoding_flags(p, "target", beam_help="beam width of the model",
                       device_help="torch device of the model (cpu, cuda)")
    p.add_argument("--model-only", action="store_true",
                   help="score the model alone, without the suggestion pipeline (the 'full' system: candidates "
                        "from the model, the neighbouring formulas, the sheet's structure and links to other "
                        "sheets, run on the sheet and ranked)")
    p.add_argument("--ranker", default=None, metavar="DIR",
                   help="folder with ranker.txt and ranker.json (default: the model folder's; without one the "
                        "pipeline ranks by an uncalibrated heuristic)")
    p.add_argument("--ablation", action="store_true",
                   help="also score the pipeline without running candidates on the sheet ('full_no_exec')")
    p.add_argument("--limit-workbooks", type=int, default=None, metavar="N", help="at most N workbooks")
    p.add_argument("--predictions", default=None, metavar="JSONL", help="write every target's candidates here")
    p.add_argument("-o", "--output", default=None, metavar="JSON", help="write the result here too")
    add_json_flag(p, "print the result as one JSON object on the last line")
    add_progress_flag(p)
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..data.split import WorkbookSplitter
    from ..evaluation import evaluate_folder

    if not Path(args.dir).exists():
        raise FileNotFoundError(f"no such file or folder: {args.dir}")
    predictor = None
    systems: dict[str, Any] = {}
    if args.model is not None:
        from ..suggest.loading import load_evaluation_systems

        predictor, systems = load_evaluation_systems(
            args.model, ranker=args.ranker, device=args.device, beam=args.beam, batch_size=args.batch_size,
            model_only=args.model_only, ablation=args.ablation)
    elif not args.baselines_only:
        raise UsageError("give --model CHECKPOINT_DIR (a run's model/ folder), or --baselines-only")
    splitter = WorkbookSplitter(args.splits) if args.splits else None
    result = evaluate_folder(args.dir, predictor=predictor, split=args.split, context=args.context, k=args.k,
                             splitter=splitter, predictions=args.predictions, progress=progress(args),
                             limit_workbooks=args.limit_workbooks, systems=systems)
    if args.model is not None:
        result["model_path"] = str(args.model)
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result, args.dir)
    return 0


def print_table(result: dict[str, Any], folder: str) -> None:
    """The result as text: one row of ``TABLE_METRICS`` per system, the pipeline's sources, a hint
    when the split holds no target."""
    shown = [name for name in ("full", "full_no_exec", "model") if name in result]
    rows = [(name, result[name]) for name in shown] + list(result["baselines"].items())
    print(f"{result['targets']} targets in {result['workbooks']} workbooks ({result['split']} split, "
          f"{result['context']} context, {result['failed']} unreadable)")
    print(f"{'system':<13}" + "".join(f"{k:>14}" for k in TABLE_METRICS))
    for name, metrics in rows:
        cells = (f"{metrics[k]:>14.3f}" if metrics.get(k) is not None else f"{'-':>14}" for k in TABLE_METRICS)
        print(f"{name:<13}" + "".join(cells))
    for name, shares in result.get("sources", {}).items():
        parts = ", ".join(f"{src} {share:.1%}" for src, share in shares["right_top1"].items())
        print(f"{name}: right top-1 by source: {parts or 'none'}")
    if not result["targets"]:
        print(f"no targets: no workbook of {folder} is in the {result['split']} split (try --split all)")
