"""Calibration of a system's top-1 confidence, from `evaluate --predictions` files; prints JSON.

    python scripts/calibration_report.py runs/eval/dev_values.jsonl runs/eval/dev_formulas.jsonl --system full

For the top-1 suggestion of every target (confidence 0 when nothing was offered): the expected
calibration error over 10 equal-width bins (ECE, weighted by targets), the reliability bins, and
precision and coverage when only suggestions at or above a threshold are kept. ``threshold_90``
is the smallest threshold whose precision is at least 0.90 (what ``fill --min-confidence``
defaults to), with the coverage it keeps.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

THRESHOLDS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)


def top1(paths: list[Path], system: str) -> list[tuple[float, bool]]:
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                found = record.get(system)
                if found is None:
                    raise SystemExit(f"{path}: no {system!r} system in the predictions")
                confidence = found["candidates"][0]["confidence"] if found["candidates"] else 0.0
                rows.append((float(confidence), bool(found["hits"]["formula_top1"])))
    return rows


def report(rows: list[tuple[float, bool]], bins: int = 10) -> dict[str, object]:
    n = len(rows)
    table = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        members = [(c, y) for c, y in rows if lo <= c < hi or (b == bins - 1 and c == 1.0)]
        if not members:
            continue
        confidence = sum(c for c, _ in members) / len(members)
        accuracy = sum(y for _, y in members) / len(members)
        ece += len(members) / n * abs(confidence - accuracy)
        table.append({"bin": f"[{lo:.1f}, {hi:.1f})", "targets": len(members), "confidence": round(confidence, 4),
                      "accuracy": round(accuracy, 4)})
    curve = []
    for t in THRESHOLDS:
        kept = [y for c, y in rows if c >= t and c > 0]
        curve.append({"threshold": t, "coverage": round(len(kept) / n, 4),
                      "precision": round(sum(kept) / len(kept), 4) if kept else None})
    threshold_90 = None
    for t in sorted({round(c, 4) for c, _ in rows if c > 0}):
        kept = [y for c, y in rows if c >= t]
        if kept and sum(kept) / len(kept) >= 0.90:
            threshold_90 = {"threshold": t, "coverage": round(len(kept) / n, 4),
                            "precision": round(sum(kept) / len(kept), 4), "answered": len(kept)}
            break
    return {"targets": n, "top1": round(sum(y for _, y in rows) / n, 4) if n else None, "ece": round(ece, 4),
            "reliability": table, "precision_at_threshold": curve, "threshold_90": threshold_90}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("predictions", type=Path, nargs="+", help="evaluate --predictions JSONL files")
    parser.add_argument("--system", default="full", help="which system's candidates (full, model, rule, copy)")
    args = parser.parse_args(argv)
    out = {"system": args.system, "files": [str(p) for p in args.predictions]}
    for path in args.predictions:
        out[path.stem] = report(top1([path], args.system))
    if len(args.predictions) > 1:
        out["pooled"] = report(top1(args.predictions, args.system))
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
