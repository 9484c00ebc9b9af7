"""Command line: ``spreadsheetcoder <command> ...``.

Entry points are thin: each subcommand parses its arguments, calls one library function and formats
the result. Library errors become one readable line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .constants import CONTEXT_SETTINGS, DEFAULT_CONTEXT, DEFAULT_MIN_CONFIDENCE, WINDOW_RADIUS
from .errors import SpreadsheetCoderError
from .version import __version__

if TYPE_CHECKING:
    from .suggest.predictor import FormulaPredictor
    from .suggest.suggester import Suggester


EPILOG = """examples:
  spreadsheetcoder predict sample_sheets/fill/budget.xlsx --cell 'Budget!D5' -k 3
  spreadsheetcoder fill sample_sheets/fill/budget.xlsx -o budget_filled.xlsx --cells 'Budget!D5:F16' --report report.json
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


def cmd_extract(args: argparse.Namespace) -> int:
    from .data.extract import extract

    summary = extract(
        args.dir, args.output, context=args.context, all_cells=args.all_cells,
        workers=args.workers, progress=False if args.no_progress else None, radius=args.radius,
    )
    stats = summary.to_json()
    if args.json:
        print(json.dumps(stats))
    else:
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


def cmd_synth(args: argparse.Namespace) -> int:
    from .data.synthetic import synthesize

    summary = synthesize(args.n, args.output, seed=args.seed, workers=args.workers or os.cpu_count() or 1,
                         progress=False if args.no_progress else None, start=args.start)
    stats = {**vars(summary), "kinds": dict(summary.kinds), "seconds": round(summary.seconds, 1)}
    if args.json:
        print(json.dumps(stats))
    else:
        print(f"{summary.workbooks} workbooks ({summary.bytes / 2**20:.1f} MB, {summary.formula_cells} formula cells, "
              f"about {summary.distinct_estimate} distinct formulas) -> {args.output} in {summary.seconds:.1f} s")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from .data.stats import format_markdown, formula_stats, iter_examples

    names = args.names.split(",") if args.names else [str(p) for p in args.inputs]
    if len(names) != len(args.inputs):
        raise ValueError(f"--names gives {len(names)} names for {len(args.inputs)} inputs")
    reports = [formula_stats(iter_examples(p, workers=args.workers), name).to_json()
               for p, name in zip(args.inputs, names, strict=True)]
    if args.json:
        print(json.dumps(reports))
    else:
        print(format_markdown(reports))
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from .data.cache import META_NAME, CacheConfig, build_cache
    from .data.split import WorkbookSplitter

    radius = args.radius
    if radius is None:
        with open(args.inputs[0], encoding="utf-8") as handle:
            first = handle.readline()
        radius = json.loads(first)["context"]["radius"] if first.strip() else WINDOW_RADIUS
    config = CacheConfig(context=args.context, max_cell_tokens=args.max_cell_tokens, radius=int(radius))
    splitter = WorkbookSplitter(args.splits)
    folder = build_cache(args.inputs, args.output, config=config, splitter=splitter,
                         progress=False if args.no_progress else None, force=args.force)
    meta = json.loads((folder / META_NAME).read_text(encoding="utf-8"))
    if args.json:
        print(json.dumps({"cache": str(folder), **meta}))
    else:
        print(f"{meta['examples']} examples ({meta['by_split']}), {meta['cells']} cells, {meta['texts']} distinct "
              f"texts, vocabularies {meta['sketch_vocab']} + {meta['range_vocab']}, covered {meta['covered']:.1%} "
              f"-> {folder}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .training import load_options, train

    overrides = list(args.set or [])
    for key in ("data", "out"):
        if getattr(args, key) is not None:
            overrides.append(f"{key}={getattr(args, key)}")
    if args.resume:
        overrides.append("resume=true")
    options = load_options(args.config, overrides)
    if not options.data:
        raise ValueError("no training data: give --data CACHE_DIR (built by `spreadsheetcoder cache`)")
    last = train(options, progress=False if args.no_progress else None)
    if args.json:
        print(json.dumps(last))
    else:
        print(f"trained to step {last.get('step')}: {last} -> {options.out}/model")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .data.split import WorkbookSplitter
    from .evaluation import evaluate_folder

    if not Path(args.dir).exists():
        raise FileNotFoundError(f"no such file or folder: {args.dir}")
    predictor = None
    systems: dict[str, Any] = {}
    if args.model is not None:
        from .suggest.predictor import FormulaPredictor
        from .suggest.ranker import load_ranker
        from .suggest.suggester import Suggester

        predictor = FormulaPredictor(args.model, device=args.device, beam=args.beam, batch_size=args.batch_size,
                                     neighbour_formulas=False)
        if not args.model_only:
            ranker = load_ranker(args.ranker or args.model)
            systems["full"] = Suggester(predictor, ranker)
            if args.ablation:
                systems["full_no_exec"] = Suggester(predictor, ranker, execute=False)
    elif not args.baselines_only:
        raise ValueError("give --model CHECKPOINT_DIR (a run's model/ folder), or --baselines-only")
    splitter = WorkbookSplitter(args.splits) if args.splits else None
    result = evaluate_folder(args.dir, predictor=predictor, split=args.split, context=args.context, k=args.k,
                             splitter=splitter, predictions=args.predictions,
                             progress=False if args.no_progress else None, limit_workbooks=args.limit_workbooks,
                             systems=systems)
    if args.model is not None:
        result["model_path"] = str(args.model)
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(result))
        return 0
    shown = [name for name in ("full", "full_no_exec", "model") if name in result]
    rows = [(name, result[name]) for name in shown] + list(result["baselines"].items())
    print(f"{result['targets']} targets in {result['workbooks']} workbooks ({result['split']} split, "
          f"{result['context']} context, {result['failed']} unreadable)")
    keys = ("formula_top1", "formula_top5", "sketch_top1", "range_top1", "exec_top1", "coverage")
    print(f"{'system':<13}" + "".join(f"{k:>14}" for k in keys))
    for name, metrics in rows:
        cells = (f"{metrics[k]:>14.3f}" if metrics.get(k) is not None else f"{'-':>14}" for k in keys)
        print(f"{name:<13}" + "".join(cells))
    for name, shares in result.get("sources", {}).items():
        parts = ", ".join(f"{src} {share:.1%}" for src, share in shares["right_top1"].items())
        print(f"{name}: right top-1 by source: {parts or 'none'}")
    if not result["targets"]:
        print(f"no targets: no workbook of {args.dir} is in the {args.split} split (try --split all)")
    return 0


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with a default shown only where it says something: not None or False, and not when
    the help text already names the default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False, argparse.SUPPRESS) or "default" in text:
            return text
        return super()._get_help_string(action)


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (checked before any model loads)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _one_line(formula: str) -> str:
    """A formula for the table output: line breaks inside it (Alt+Enter in Excel) shown as spaces."""
    return " ".join(formula.splitlines()) if "\n" in formula or "\r" in formula else formula


def _predictor(args: argparse.Namespace) -> FormulaPredictor | Suggester:
    """The suggestion pipeline of the model folder, or with --model-only the model alone."""
    from .model.shipped import resolve_model_dir
    from .suggest import FormulaPredictor, load_suggester

    if args.model_only:
        return FormulaPredictor(resolve_model_dir(args.model), device=args.device, beam=max(args.beam, args.k),
                                batch_size=args.batch_size, neighbour_formulas=False)
    return load_suggester(args.model, device=args.device, beam=max(args.beam, args.k), batch_size=args.batch_size)


def cmd_predict(args: argparse.Namespace) -> int:
    from .fill import cell_name, display_formula, predict_cells, resolve_cells
    from .xlsx.reader import read_workbook

    workbook = read_workbook(args.book)
    cells = resolve_cells(workbook, args.cell)
    predictor = _predictor(args)
    context = args.context or predictor.default_context
    found = predict_cells(predictor, workbook, cells, k=args.k, context=context,
                          progress=len(cells) > 50 and not args.no_progress)
    out: list[dict[str, Any]] = []
    for (sheet, row, col), candidates in zip(cells, found, strict=True):
        cell = sheet.get(row, col)
        holds = None if cell is None or cell.is_empty else (cell.formula or cell.value)
        out.append({"cell": cell_name(sheet, row, col), "holds": holds,
                    "candidates": [{"formula": display_formula(c.formula), "confidence": round(c.confidence, 6),
                                    "logprob": round(c.logprob, 6), "source": c.source} for c in candidates]})
    if args.json:
        print(json.dumps({"workbook": str(args.book), "context": context, "model": predictor.model_path,
                          "cells": out}, default=str))
        return 0
    for item in out:
        note = f"  (holds {item['holds']!r}; predicted as if empty)" if item["holds"] is not None else ""
        print(f"{item['cell']}{note}")
        if not item["candidates"]:
            print("   no formula renders at this cell")
        for rank, c in enumerate(item["candidates"], 1):
            print(f"  {rank}. {_one_line(c['formula']):<50} {c['confidence']:.3f}  {c['source']}")
    return 0


def cmd_fill(args: argparse.Namespace) -> int:
    from .fill import fill_file

    if args.cells is None and not args.propose:
        raise ValueError("name the cells to fill with --cells (e.g. 'Sheet1!F2:F40'), or pass --propose")
    if args.output is None and not args.in_place:
        raise ValueError("give -o OUT.xlsx (or --in-place to overwrite the input)")
    output = args.output if args.output is not None else args.book
    folder = Path(output).parent
    if not folder.is_dir():
        raise ValueError(f"output folder {str(folder)!r} does not exist")
    if not Path(args.book).is_file():
        raise FileNotFoundError(f"no such workbook: {args.book}")
    predictor = _predictor(args)
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
        shown = f"{_one_line(cell.formula):<45} {cell.confidence:.3f}" if cell.formula is not None else f"{'':<51}"
        print(f"{cell.cell:<24} {shown}  {cell.status}{f' ({cell.detail})' if cell.detail else ''}")
    counts = ", ".join(f"{n} {status}" for status, n in report.counts.items() if n)
    print(f"wrote {output}: {counts or 'no cells'} in {report.seconds:.1f} s")
    return 0


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from service.config import Settings
    except ModuleNotFoundError as exc:
        print(f"spreadsheetcoder serve: needs the 'service' extra ({exc.name} is not installed): "
              "pip install 'spreadsheetcoder[service]' (from a clone: pip install -e '.[service]')", file=sys.stderr)
        return 2

    model = getattr(args, "model", None)  # suppressed default: the help names the real one
    if model is not None:  # every worker process reads it (service/config.py)
        os.environ["SPREADSHEETCODER_MODEL"] = str(model)
    if not Settings().api_keys and not _is_loopback(args.host):
        print(f"spreadsheetcoder serve: warning: {args.host}:{args.port} is reachable from the network without "
              "authentication; set SPREADSHEETCODER_API_KEYS (e.g. '[\"a-long-random-key\"]') to require "
              "'Authorization: Bearer <key>'", file=sys.stderr)
    # GuardedProtocol: deadlines for slow clients and a per-client connection cap (service/protocol.py)
    uvicorn.run("service.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, http="service.protocol:GuardedProtocol")
    return 0


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", default=None, metavar="DIR",
                   help="checkpoint folder (default: $SPREADSHEETCODER_MODEL, else the model shipped in the package)")
    p.add_argument("--context", choices=CONTEXT_SETTINGS, default=None,
                   help="formulas: the sheet as it is, its other formulas visible (the default); values: other "
                        "formula cells show only their values (the paper's setting; with --model-only the "
                        "default is the model's own setting)")
    p.add_argument("-k", type=_positive_int, default=5, help="candidates per cell")
    p.add_argument("--beam", type=_positive_int, default=5, help="beam width (at least k)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="cells decoded together")
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda)")
    p.add_argument("--model-only", action="store_true",
                   help="the model's candidates alone, without the suggestion pipeline (neighbouring formulas, "
                        "the sheet's structure, links to other sheets, retrieval; every candidate run on the "
                        "sheet and ranked)")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


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

    p = sub.add_parser(
        "extract",
        help="turn a folder of workbooks into JSONL examples with statistics",
        description=(
            "Walk DIR recursively, read every workbook (in parallel processes) and write one JSON line "
            "per evaluation target: the first occurrence of each distinct relative formula per sheet "
            "(--all-cells: every formula cell), with its formula as sketch + relative ranges and its "
            "21x21 context window. Unreadable workbooks are reported with their reason and skipped."
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="folder of .xlsx/.xlsm workbooks (or one workbook)")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="JSONL file to write")
    p.add_argument("--context", choices=CONTEXT_SETTINGS, default=DEFAULT_CONTEXT,
                   help="values: neighbouring formula cells show cached values only; formulas: their relative formulas too")
    p.add_argument("--all-cells", action="store_true", help="one example per formula cell, not per distinct formula")
    p.add_argument("--radius", type=int, default=WINDOW_RADIUS, metavar="R",
                   help="context window half-size written per example (training data for a model with "
                        "window W and tile T needs W + T - 1; the default model config needs 16)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--json", action="store_true", help="print the statistics as one JSON object on the last line")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser(
        "synth",
        help="write realistic synthetic .xlsx workbooks with formulas and correct cached values",
        description=(
            "Write N synthetic workbooks DIR/synth_SEED_IIIIII.xlsx of the kinds people build (budgets, sales, "
            "grade books, inventories, schedules, dashboards, model-style sheets, ...), each with formulas and "
            "their cached values. A file depends only on (SEED, index): the same command writes the same "
            "bytes on any machine and with any number of workers. Turn them into examples with extract."
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("-n", type=int, required=True, metavar="N", help="number of workbooks")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="DIR", help="folder to write into")
    p.add_argument("--seed", type=int, default=0, help="random seed of the run")
    p.add_argument("--start", type=int, default=0, metavar="I", help="first index (extend an earlier run)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="worker processes (default: all cores)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_synth)

    p = sub.add_parser(
        "stats",
        help="distribution of formulas (functions, lengths, reference kinds) of corpora, side by side",
        description=(
            "Measure each input (a JSONL file written by extract or synth, or a folder of workbooks, "
            "extracted on the fly): top functions, sketch and range lengths, share of absolute, "
            "other-sheet and beyond-window references, formulas per sheet. Several inputs are shown "
            "side by side as Markdown tables."
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="DIR_OR_JSONL", help="JSONL examples or a folder of workbooks")
    p.add_argument("--names", default=None, help="comma-separated column names, one per input")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="processes when extracting a folder")
    p.add_argument("--json", action="store_true", help="print one JSON list of reports instead of Markdown")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "cache",
        help="tokenise extracted examples once into a compact training cache",
        description=(
            "Build the training cache of JSONL examples (written by extract): every distinct cell text "
            "tokenised once, every sheet's cells stored once, targets as decoder ids, split by workbook. "
            "The cache folder OUT/<key> is keyed by config, tokenizer and inputs and reused when it exists."
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("inputs", nargs="+", metavar="JSONL", help="examples written by extract")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder that holds caches")
    p.add_argument("--context", choices=CONTEXT_SETTINGS, default=DEFAULT_CONTEXT, help="setting the examples were extracted with")
    p.add_argument("--splits", default=None, metavar="TSV",
                   help="fixed split by workbook (file<TAB>split), e.g. ../shared/corpus/SPLITS.tsv; others are hashed")
    p.add_argument("--max-cell-tokens", type=int, default=12, metavar="N", help="WordPiece tokens kept per cell")
    p.add_argument("--radius", type=int, default=None, metavar="R",
                   help="window half-size the examples were extracted with (default: read from the first example)")
    p.add_argument("--force", action="store_true", help="rebuild even if a cache with the same key exists")
    p.add_argument("--json", action="store_true", help="print the cache's meta.json as one JSON line")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_cache)

    p = sub.add_parser(
        "train",
        help="train a SpreadsheetCoder model on a training cache",
        description=(
            "Train on the train split of a cache folder (spreadsheetcoder cache), evaluating on its dev split. "
            "Runs on one CPU or GPU, or under torchrun --nproc_per_node=N (DistributedDataParallel). The run "
            "folder OUT gets train_config.json, config.json, metrics.jsonl (one JSON object per logged step), "
            "checkpoint/ (latest, resumable with --resume) and model/ (best dev loss: what evaluate loads)."
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--config", default="tiny", metavar="PRESET_OR_JSON",
                   help="a model preset (tiny, small, real) or a JSON file of training options")
    p.add_argument("--data", default=None, metavar="CACHE_DIR", help="training cache folder")
    p.add_argument("--out", default=None, metavar="RUN_DIR", help="run folder (default runs/run)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a training option (lr=3e-4, max_steps=5000) or a model field (model.d_model=128)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint")
    p.add_argument("--json", action="store_true", help="print the last metrics as one JSON line")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "evaluate",
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
        formatter_class=_HelpFormatter,
    )
    p.add_argument("dir", metavar="DIR", help="folder of workbooks (or one workbook)")
    p.add_argument("--model", default=None, metavar="CHECKPOINT_DIR", help="a model folder (a run's model/)")
    p.add_argument("--baselines-only", action="store_true", help="score the baselines without a model")
    p.add_argument("--split", default="dev", choices=("dev", "test", "train", "all"), help="which workbooks")
    p.add_argument("--splits", default=None, metavar="TSV", help="split file (default: DIR/SPLITS.tsv if present)")
    p.add_argument("--context", choices=CONTEXT_SETTINGS, default=DEFAULT_CONTEXT,
                   help="values: neighbouring formulas hidden (the paper's setting); formulas: visible")
    p.add_argument("-k", type=_positive_int, default=5, help="candidates per target")
    p.add_argument("--beam", type=_positive_int, default=5, help="beam width of the model")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="targets decoded together")
    p.add_argument("--device", default="cpu", help="torch device of the model (cpu, cuda)")
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
    p.add_argument("--json", action="store_true", help="print the result as one JSON object on the last line")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "predict",
        help="top-k formulas for cells of a workbook",
        description=(
            "Predict the formula of each named cell from the table around it, with the model shipped in the "
            "package (or --model). Formulas are in A1 notation as Excel shows them, best first, with a "
            "confidence in [0, 1] (the model's probability of the whole formula). A cell that already holds "
            "something is predicted as if it were empty. Cells without a sheet name are on the first worksheet."
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("book", metavar="BOOK", help="an .xlsx/.xlsm workbook")
    p.add_argument("--cell", required=True, metavar="CELLS",
                   help="cells and areas, comma-separated: 'Sheet1!F12', \"'My Sheet'!B3:B5,C9\"")
    _add_model_options(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "fill",
        help="write predicted formulas into empty cells of a workbook (lossless)",
        description=(
            "Predict the named empty cells and write the top formula into each, into a copy of the workbook. "
            "The .xlsx is edited surgically: every part of the package other than the edited sheets is copied "
            "byte for byte (charts, images, pivot tables, macros survive), the edited sheet XML changes only "
            "in the target cells, and the workbook asks for a full recalculation on open. Cells that hold "
            "something, cells below --min-confidence and cells inside merged areas are left alone and "
            "reported. The output is written atomically; the input is never modified unless --in-place."
        ),
        formatter_class=_HelpFormatter,
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
                        "it is right) is below X; the default keeps precision at 90%% or more on the corpus's dev "
                        "split; 0 fills every cell that has a suggestion")
    p.add_argument("--report", default=None, metavar="JSON", help="write the per-cell report here")
    p.add_argument("--in-place", action="store_true", help="allow OUT to be BOOK itself (overwrite the input)")
    _add_model_options(p)
    p.set_defaults(func=cmd_fill)

    p = sub.add_parser(
        "serve",
        help="run the REST service and the task pane (FastAPI on uvicorn)",
        description=(
            "Serve POST /v1/suggest, /v1/suggest/xlsx and /v1/fill, GET /healthz and /v1/info, the task pane at / "
            "and the Office add-in manifest at /addin/manifest.xml. Each worker loads the model once. Settings "
            "come from SPREADSHEETCODER_* environment variables (API_KEYS, CORS_ORIGINS, MAX_UPLOAD_BYTES, "
            "MAX_GRID_CELLS, MAX_K, REQUEST_TIMEOUT_S, ...; see service/config.py). Needs the 'service' extra. "
            "Slow clients are cut off: a request's line and headers must arrive within HEADER_TIMEOUT_S (5), "
            "its body may pause at most BODY_IDLE_TIMEOUT_S (5) and must arrive within BODY_TIMEOUT_S (60), "
            "else 408 and the connection is closed; one client address may hold MAX_CONNECTIONS_PER_CLIENT "
            "(128) connections per worker, more are refused with 429 (behind a reverse proxy every client has "
            "the proxy's address: raise it). Without API_KEYS on a non-loopback --host, a warning is printed."
        ),
        formatter_class=_HelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="interface to listen on (0.0.0.0: all; set SPREADSHEETCODER_API_KEYS before opening it "
                        "to the network)")
    p.add_argument("--port", type=int, default=8000, help="TCP port")
    p.add_argument("--workers", type=int, default=1, help="worker processes, each with its own model")
    p.add_argument("--model", default=argparse.SUPPRESS, metavar="DIR",
                   help="checkpoint folder (default: $SPREADSHEETCODER_MODEL, else the model shipped in the package)")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"],
                   help="uvicorn's log level")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (SpreadsheetCoderError, FileNotFoundError, KeyError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"spreadsheetcoder {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
