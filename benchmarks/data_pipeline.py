"""Time the training-data pipeline end to end; print one JSON object.

synth (N workbooks) -> extract (JSONL examples, values setting) -> cache (tokenised, memory-mappable),
each step through the real command line, as a user runs it:

    python benchmarks/data_pipeline.py --workbooks 3200 --seed 7 --workers 2 [--keep DIR]

3,200 workbooks give about 107,000 examples (one per distinct relative formula per sheet).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(args: list[str]) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "spreadsheetcoder", *args, "--json", "--no-progress"],
                          check=True, capture_output=True, text=True)
    return time.perf_counter() - start, json.loads(done.stdout.strip().splitlines()[-1])


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workbooks", type=int, default=3200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="pipeline-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        books, jsonl, caches = work / "books", work / "examples.jsonl", work / "cache"
        t_synth, synth = run(["synth", "-n", str(args.workbooks), "-o", str(books), "--seed", str(args.seed),
                              "--workers", str(args.workers)])
        t_extract, extract = run(["extract", str(books), "-o", str(jsonl), "--workers", str(args.workers)])
        t_cache, cache = run(["cache", str(jsonl), "-o", str(caches)])
        print(json.dumps({
            "workbooks": synth["workbooks"], "examples": extract["targets"], "cached_examples": cache["examples"],
            "synth_s": round(t_synth, 1), "extract_s": round(t_extract, 1), "cache_s": round(t_cache, 1),
            "total_s": round(t_synth + t_extract + t_cache, 1),
            "workbooks_mb": round(folder_bytes(books) / 2**20, 1), "jsonl_mb": round(jsonl.stat().st_size / 2**20, 1),
            "cache_mb": round(folder_bytes(Path(cache["cache"])) / 2**20, 1), "covered": cache["covered"],
            "workers": args.workers, "seed": args.seed,
        }))
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
