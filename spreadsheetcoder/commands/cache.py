"""``spreadsheetcoder cache``: extracted examples to a training cache (data/cache.py)."""

from __future__ import annotations

import argparse
import json

from .common import Subparsers, add_command, add_context_flag, add_json_flag, add_progress_flag, progress


def add_cache_parser(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers, "cache",
        help="tokenise extracted examples once into a compact training cache",
        description=(
            "Build the training cache of JSONL examples (written by extract): every distinct cell text "
            "tokenised once, every sheet's cells stored once, targets as decoder ids, split by workbook. "
            "The cache folder OUT/<key> is keyed by config, tokenizer and inputs and reused when it exists."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="JSONL", help="examples written by extract")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder that holds caches")
    add_context_flag(p, "setting the examples were extracted with")
    p.add_argument("--splits", default=None, metavar="TSV",
                   help="fixed split by workbook (file<TAB>split), e.g. ../shared/corpus/SPLITS.tsv; others are hashed")
    p.add_argument("--max-cell-tokens", type=int, default=12, metavar="N", help="WordPiece tokens kept per cell")
    p.add_argument("--radius", type=int, default=None, metavar="R",
                   help="window half-size the examples were extracted with (default: read from the first example)")
    p.add_argument("--force", action="store_true", help="rebuild even if a cache with the same key exists")
    add_json_flag(p, "print the cache's meta.json as one JSON line")
    add_progress_flag(p)
    p.set_defaults(func=cmd_cache)


def cmd_cache(args: argparse.Namespace) -> int:
    from ..data.cache import CacheConfig, build_cache, examples_radius
    from ..data.split import WorkbookSplitter

    radius = args.radius if args.radius is not None else examples_radius(args.inputs[0])
    config = CacheConfig(context=args.context, max_cell_tokens=args.max_cell_tokens, radius=radius)
    splitter = WorkbookSplitter(args.splits)
    folder = build_cache(args.inputs, args.output, config=config, splitter=splitter, progress=progress(args),
                         force=args.force)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    if args.json:
        print(json.dumps({"cache": str(folder), **meta}))
    else:
        print(f"{meta['examples']} examples ({meta['by_split']}), {meta['cells']} cells, {meta['texts']} distinct "
              f"texts, vocabularies {meta['sketch_vocab']} + {meta['range_vocab']}, covered {meta['covered']:.1%} "
              f"-> {folder}")
    return 0
