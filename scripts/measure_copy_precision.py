"""Confidence of the copy baseline's candidates by rank: ``COPY_PRECISION``.

Reads the per-target predictions of a baselines-only evaluation of the train split in the formulas
setting and counts, for ranks 1..5, how many of the copy baseline's candidates at that rank are the
target's formula. At most ``--per-workbook`` targets of each workbook are counted (one workbook
holds most of the corpus's formula cells), picked with a fixed seed. The shares are made
non-increasing by rank (pool-adjacent-violators), so candidates keep the copy baseline's order
when the predictor ranks them by confidence.

    spreadsheetcoder evaluate ../shared/corpus --baselines-only --split train --context formulas \\
        --predictions train_copy.jsonl -o train_copy.json
    python scripts/measure_copy_precision.py train_copy.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict

from spreadsheetcoder.evaluation.metrics import target_hits
from spreadsheetcoder.references import parse_a1


def non_increasing(right: list[int], offered: list[int]) -> list[float]:
    """Pool-adjacent-violators: the closest non-increasing sequence of shares, weighted by counts."""
    blocks: list[list[float]] = []  # [right, offered, ranks]
    for r, n in zip(right, offered, strict=True):
        blocks.append([r, n, 1])
        while len(blocks) > 1 and blocks[-2][0] / max(1, blocks[-2][1]) < blocks[-1][0] / max(1, blocks[-1][1]):
            r2, n2, k2 = blocks.pop()
            blocks[-1][0] += r2
            blocks[-1][1] += n2
            blocks[-1][2] += k2
    out: list[float] = []
    for r, n, k in blocks:
        out += [round(r / max(1, n), 3)] * int(k)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("predictions", help="JSONL written by evaluate --predictions")
    parser.add_argument("--per-workbook", type=int, default=50, help="targets counted per workbook")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    by_workbook: dict[str, list[dict]] = defaultdict(list)
    with open(args.predictions, encoding="utf-8") as fp:
        for line in fp:
            record = json.loads(line)
            by_workbook[record["workbook"]].append(record)
    rng = random.Random(args.seed)
    offered, right = [0] * 5, [0] * 5
    for name in sorted(by_workbook):
        records = by_workbook[name]
        if len(records) > args.per_workbook:
            records = rng.sample(records, args.per_workbook)
        for record in records:
            origin = parse_a1(record["cell"])
            for rank, candidate in enumerate(record["copy"]["candidates"][:5]):
                offered[rank] += 1
                hit = target_hits([candidate["formula"]], record["formula"], origin, coverage=True, exec_top1=None)
                right[rank] += bool(hit["formula_top1"])
    print(json.dumps({"workbooks": len(by_workbook), "targets_counted": sum(min(len(r), args.per_workbook) for r in by_workbook.values()),
                      "offered": offered, "right": right,
                      "share": [round(r / max(1, n), 3) for r, n in zip(right, offered, strict=True)],
                      "copy_precision": non_increasing(right, offered)}))


if __name__ == "__main__":
    main()
