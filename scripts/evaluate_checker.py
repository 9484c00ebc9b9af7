"""Evaluate formula checking (issue 15) on the dev split and on held-out synthetic workbooks.

    python scripts/evaluate_checker.py ../shared/corpus --synthetic 120 --out runs/eval/check_dev.json

Injected run (``evaluation/checking.py``): one mistake per sheet, drawn with ``--seed`` (the
checker was trained with seed 0 on train-split books and on synthetic workbooks of generator seed
1000; the synthetic workbooks here come from generator seed ``--synthetic-seed``). Unmodified run:
the dev workbooks as they are. Prints one JSON object (the tables) and writes it, with every flag
the checker raised on the unmodified workbooks, to ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from spreadsheetcoder.check import load_checker
from spreadsheetcoder.data.synthetic import generate_workbook, xlsx_bytes
from spreadsheetcoder.evaluation.checking import (
    calibration_table,
    detectors,
    run_injected,
    run_unmodified,
    summarize_injected,
)
from spreadsheetcoder.sheet import Workbook
from spreadsheetcoder.xlsx.reader import read_workbook

log = logging.getLogger("evaluate_checker")


def dev_books(corpus: Path, split: str, limit: int = 0) -> Iterator[tuple[str, str, Workbook]]:
    with open(corpus / "SPLITS.tsv", encoding="utf-8") as fh:
        files = sorted(row["file"] for row in csv.DictReader(fh, delimiter="\t") if row["split"] == split)
    for name in tqdm(files[:limit] if limit else files, desc=f"{split} books", unit="book"):
        try:
            workbook = read_workbook(corpus / name)
        except Exception as exc:  # said, and counted as not evaluated
            log.warning("unreadable %s: %s", name, exc)
            continue
        yield name.split("/", 1)[0], name, workbook


def synthetic_books(n: int, seed: int) -> Iterator[tuple[str, str, Workbook]]:
    for i in tqdm(range(n), desc="synthetic books", unit="book"):
        yield "synthetic", f"synth_{seed}_{i:06d}", read_workbook(xlsx_bytes(generate_workbook(seed, i)[0]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--synthetic", type=int, default=120, help="held-out synthetic workbooks")
    parser.add_argument("--synthetic-seed", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2026, help="seed of the injected mistakes")
    parser.add_argument("--checker", type=Path, default=None, help="checker folder (default: the shipped one)")
    parser.add_argument("--min-confidence", type=float, default=None)
    parser.add_argument("--limit", type=int, default=0, help="the first N books of the split only (a smoke run)")
    parser.add_argument("--parts", default="dev,synthetic,unmodified",
                        help="what to run, comma-separated: dev and synthetic (injected mistakes), unmodified "
                             "(false alarms on the split as it is); two processes with different parts use two cores")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    parts = {part.strip() for part in args.parts.split(",") if part.strip()}
    if not parts or parts - {"dev", "synthetic", "unmodified"}:
        parser.error(f"--parts takes dev, synthetic and unmodified, got {args.parts!r}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    started = time.time()
    checker = load_checker(args.checker)
    found_by = detectors(checker, args.min_confidence)
    results: dict[str, Any] = {}
    for label, books in (("dev", lambda: dev_books(args.corpus, args.split, args.limit)),
                         ("synthetic", lambda: synthetic_books(args.synthetic, args.synthetic_seed))):
        if label not in parts:
            continue
        skipped: list[tuple[str, str, str]] = []
        cases = list(run_injected(books(), found_by, args.seed, skipped=skipped))
        results[label] = {"sheets": len(cases), "skipped_sheets": len(skipped),
                          "skipped_timeout": sum(r == "timeout" for *_, r in skipped),
                          "tables": summarize_injected(cases), "calibration": calibration_table(cases)}
        results[label]["missed"] = [
            {"book": c.book, "sheet": c.sheet, "cell": [c.mutation.row, c.mutation.col], "kind": c.mutation.kind,
             "original": c.mutation.original, "mutated": c.mutation.mutated,
             "flagged": [[f.row, f.col, f.kind, f.confidence, f.repair] for f in c.flags["checker"]][:5]}
            for c in cases if c.found("checker") is None]
    if "unmodified" in parts:
        results["unmodified"] = run_unmodified(dev_books(args.corpus, args.split, args.limit), found_by)
    results["min_confidence"] = checker.default_min_confidence if args.min_confidence is None else args.min_confidence
    results["checker_trained"] = checker.meta.get("trained", {})
    results["seconds"] = round(time.time() - started, 1)
    results["command"] = " ".join(sys.argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    brief: dict[str, Any] = {label: {d: t["all"] for d, t in results[label]["tables"].items()}
                             for label in ("dev", "synthetic") if label in results}
    if "unmodified" in results:
        brief["unmodified"] = {d: r["per_1000"] for d, r in results["unmodified"]["rates"].items()}
    print(json.dumps(brief, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
