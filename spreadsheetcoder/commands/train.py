"""``spreadsheetcoder train``: train a model on a training cache (model/train.py)."""

from __future__ import annotations

import argparse
import json

from .common import Subparsers, UsageError, add_command, add_json_flag, add_progress_flag, progress


def add_train_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "train",
        help="train a SpreadsheetCoder model on a training cache",
        description=(
            "Train on the train split of a cache folder (spreadsheetcoder cache), evaluating on its dev split. "
            "Runs on one CPU or GPU, or under torchrun --nproc_per_node=N (DistributedDataParallel). The run "
            "folder OUT gets train_config.json, config.json, metrics.jsonl (one JSON object per logged step), "
            "checkpoint/ (latest, resumable with --resume) and model/ (best dev loss: what evaluate loads)."
        ),
    )
    p.add_argument("--config", default="tiny", metavar="PRESET_OR_JSON",
                   help="a model preset (tiny, small, real) or a JSON file of training options")
    p.add_argument("--data", default=None, metavar="CACHE_DIR", help="training cache folder")
    p.add_argument("--out", default=None, metavar="RUN_DIR", help="run folder (default runs/run)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a training option (lr=3e-4, max_steps=5000) or a model field (model.d_model=128)")
    p.add_argument("--resume", action="store_true", help="continue from RUN_DIR/checkpoint")
    add_json_flag(p, "print the last metrics as one JSON line")
    add_progress_flag(p)
    p.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    from ..training import load_options, train

    overrides = list(args.set or [])
    for key in ("data", "out"):
        if getattr(args, key) is not None:
            overrides.append(f"{key}={getattr(args, key)}")
    if args.resume:
        overrides.append("resume=true")
    options = load_options(args.config, overrides)  # every --set checked against its field's type
    if not options.data:
        raise UsageError("no training data: give --data CACHE_DIR (built by `spreadsheetcoder cache`)")
    last = train(options, progress=progress(args))
    if args.json:
        print(json.dumps(last))
    else:
        print(f"trained to step {last.get('step')}: {last} -> {options.out}/model")
    return 0
