"""Train the formula checker (issue 15): LightGBM over repair candidates, calibrated, with its threshold.

    python scripts/train_checker.py ../shared/corpus --synthetic 400 --out spreadsheetcoder/model/shipped --seed 0

1. Rows. For each train-split workbook of the corpus whose licence allows it (MANIFEST.tsv) and
   that has at most ``--max-formula-cells`` formula cells, and for ``--synthetic`` generated
   workbooks (``data.synthetic.generate_workbook(seed + 1000, i)``): up to ``--sheets-per-book``
   sheets get one mistake each (``check.mutations.Mutator.sample``, seeded). On the mutated
   sheet, the mutated cell, every checked cell one or two cells from it, and ``--others``
   random checked cells are described (``check.candidates`` + ``check.features``); a candidate
   is a positive when it restores the original formula exactly (``canonical_formula`` with
   ``$`` kept) at the mutated cell.
2. LightGBM (binary) on 80% of the books; on the other 20% (by book), an isotonic map from a
   cell's best candidate score to "this cell is the mistake", and the default threshold: the
   lowest whose estimated false alarms on the unmutated cells (the random ones, weighted by how
   many cells they stand for) stay at or under ``--max-false-alarms`` per 1,000 formula cells.
3. The final model is refitted on all books; ``checker.txt``/``checker.json`` go to ``--out``.

Dev and test workbooks are never read. ``--cache`` keeps the gathered rows (``.npz``).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from spreadsheetcoder.check.candidates import CANDIDATE_KINDS, NEIGHBOUR_OFFSETS, SheetForms, cell_candidates
from spreadsheetcoder.check.checker import Checker
from spreadsheetcoder.check.features import FEATURES, feature_rows
from spreadsheetcoder.check.mutations import Mutator
from spreadsheetcoder.data.manifest import has_licence, read_manifest
from spreadsheetcoder.data.synthetic import generate_workbook, xlsx_bytes
from spreadsheetcoder.evaluation.checking import time_limit
from spreadsheetcoder.formula import canonical_formula
from spreadsheetcoder.sheet import Workbook
from spreadsheetcoder.suggest.engine import SheetEngine
from spreadsheetcoder.xlsx.reader import read_workbook

log = logging.getLogger("train_checker")

LGBM_PARAMS: dict[str, Any] = {
    "objective": "binary", "learning_rate": 0.05, "num_leaves": 63, "min_data_in_leaf": 40,
    "feature_fraction": 0.9, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "verbose": -1, "num_threads": 2, "seed": 0,
}
NUM_ROUNDS = 400


def corpus_books(corpus: Path, max_formula_cells: int) -> list[str]:
    manifest = read_manifest(corpus / "MANIFEST.tsv")
    with open(corpus / "SPLITS.tsv", encoding="utf-8") as fh:
        splits = {row["file"]: row["split"] for row in csv.DictReader(fh, delimiter="\t")}
    return [f for f, split in sorted(splits.items())
            if split == "train" and has_licence(manifest.get(f)) and int(manifest[f]["formula_cells"] or 0) <= max_formula_cells]


def gather_book(workbook: Workbook, rng: random.Random, sheets_per_book: int, others: int,
                book_id: int) -> list[tuple[list[list[float]], list[int], dict[str, Any]]]:
    """``[(feature rows, labels, cell info), ...]`` for the cells described in this book."""
    mutator = Mutator(workbook)
    names = [s.name for s in workbook.sheets if any(True for _ in s.formula_cells())]
    rng.shuffle(names)
    out = []
    for name in names[:sheets_per_book]:
        mutated = mutator.sample(rng, sheet=name)
        if mutated is None:
            continue
        mutation, book = mutated.mutation, mutated.workbook
        forms = SheetForms(book.sheet(mutation.sheet))
        engine = SheetEngine(book)
        checked = forms.checked_cells()
        target = (mutation.row, mutation.col)
        near = {(mutation.row + dr, mutation.col + dc) for dr, dc in NEIGHBOUR_OFFSETS} & set(checked)
        rest = [c for c in checked if c != target and c not in near]
        sample = rng.sample(rest, min(others, len(rest)))
        weight = len(rest) / len(sample) if sample else 0.0
        original = canonical_formula(mutation.original, keep_absolute=True)
        formula_cells = len(forms.formulas) + (0 if mutation.kind != "hardcoded" else 1)
        for cell, role in [(target, "mutated"), *((c, "near") for c in sorted(near)), *((c, "other") for c in sample)]:
            candidates = cell_candidates(forms, book, *cell)
            if not candidates:
                continue
            rows = feature_rows(forms, engine, book, *cell, candidates)
            labels = [int(role == "mutated" and canonical_formula(c.text, keep_absolute=True) == original) for c in candidates]
            info = {"book": book_id, "role": role, "kind": mutation.kind, "weight": weight if role == "other" else 1.0,
                    "sheet_formulas": formula_cells, "sheet_key": f"{book_id}:{name}"}
            out.append((rows, labels, info))
    return out


def _gather_source(job: tuple[int, str, Any, argparse.Namespace]) -> tuple[int, str, list[Any] | None]:
    """One source's cells (None when skipped: too slow, or a file the reader refuses)."""
    book_id, source, key, args = job
    try:
        with time_limit(args.book_timeout):
            if source == "corpus":
                workbook = read_workbook(args.corpus / key)
            else:
                workbook = read_workbook(xlsx_bytes(generate_workbook(args.seed + 1000, key)[0]))
            found = gather_book(workbook, random.Random(f"{args.seed}:{source}:{key}"), args.sheets_per_book,
                                args.others, book_id)
    except TimeoutError:
        return book_id, source, None
    except Exception as exc:  # a corpus file the reader refuses is skipped, and said
        log.warning("skipped %s %s: %s", source, key, exc)
        return book_id, source, None
    return book_id, source, found


def gather(args: argparse.Namespace) -> dict[str, np.ndarray]:
    rng = random.Random(args.seed)
    sources: list[tuple[str, Any]] = [("corpus", f) for f in corpus_books(args.corpus, args.max_formula_cells)]
    sources += [("synthetic", i) for i in range(args.synthetic)]
    if args.limit:
        rng.shuffle(sources)
        sources = sources[:args.limit]
    rows: list[list[float]] = []
    labels: list[int] = []
    cell_of_row: list[int] = []
    cells: list[dict[str, Any]] = []
    skipped = 0
    jobs = [(book_id, source, key, args) for book_id, (source, key) in enumerate(sources)]
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        results = pool.imap(_gather_source, jobs, chunksize=1)  # in order: the same rows for any --workers
        for _book_id, source, found in tqdm(results, total=len(jobs), desc="gathering", unit="book"):
            if found is None:
                skipped += 1
                continue
            for cell_rows, cell_labels, info in found:
                info["source"] = source
                cells.append(info)
                rows.extend(cell_rows)
                labels.extend(cell_labels)
                cell_of_row.extend([len(cells) - 1] * len(cell_rows))
    log.info("gathered %d rows, %d cells from %d sources (%d skipped)", len(rows), len(cells), len(sources), skipped)
    return {
        "x": np.asarray(rows, np.float32), "y": np.asarray(labels, np.int8), "cell": np.asarray(cell_of_row, np.int64),
        "cell_book": np.asarray([c["book"] for c in cells], np.int64),
        "cell_role": np.asarray([c["role"] for c in cells]), "cell_kind": np.asarray([c["kind"] for c in cells]),
        "cell_weight": np.asarray([c["weight"] for c in cells], np.float64),
        "cell_source": np.asarray([c["source"] for c in cells]),
        "sheet_key": np.asarray([c["sheet_key"] for c in cells]),
        "sheet_formulas": np.asarray([c["sheet_formulas"] for c in cells], np.int64),
    }


def fit(x: np.ndarray, y: np.ndarray) -> Any:
    import lightgbm

    data = lightgbm.Dataset(x, y.astype(np.float32), feature_name=list(FEATURES), categorical_feature=["kind"],
                            free_raw_data=False)
    return lightgbm.train(LGBM_PARAMS, data, num_boost_round=NUM_ROUNDS)


def cell_scores(booster: Any, data: dict[str, np.ndarray], rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell (of ``rows``): best score, whether it is the mutated cell, whether its best
    candidate restores the original."""
    p = booster.predict(data["x"][rows], num_threads=2)
    cell = data["cell"][rows]
    y = data["y"][rows]
    n = len(data["cell_role"])
    best = np.full(n, -1.0)
    right = np.zeros(n, bool)
    order = np.lexsort((p, cell))  # by cell, then score: the last of each cell is its best
    last = np.r_[cell[order][1:] != cell[order][:-1], True]
    best[cell[order][last]] = p[order][last]
    right[cell[order][last]] = y[order][last] == 1
    return best, data["cell_role"] == "mutated", right


def isotonic(scores: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> tuple[list[float], list[float]]:
    from sklearn.isotonic import IsotonicRegression

    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(scores, targets.astype(float), sample_weight=weights)
    grid = np.unique(np.r_[0.0, np.quantile(scores, np.linspace(0, 1, 201)), 1.0])
    return [float(v) for v in grid], [float(v) for v in model.predict(grid)]


def calibrate(booster: Any, data: dict[str, np.ndarray], held: np.ndarray, max_false_alarms: float) -> dict[str, Any]:
    """The calibration map and the default threshold, on the held-out books' cells."""
    rows = np.flatnonzero(held[data["cell"]])
    best, mutated, right = cell_scores(booster, data, rows)
    cells = np.flatnonzero(held & (best >= 0))
    weights = data["cell_weight"][cells]
    x, y = isotonic(best[cells], mutated[cells], weights)
    confidence = np.interp(best[cells], x, y)
    sheets = {k: f for k, f in zip(data["sheet_key"][cells], data["sheet_formulas"][cells], strict=True)}
    formula_cells = float(sum(sheets.values()))
    n_mutated = float(mutated[cells].sum())
    table = []
    chosen = None
    for threshold in np.round(np.arange(0.05, 1.0, 0.01), 2):
        flagged = confidence >= threshold
        unmutated = flagged & (data["cell_role"][cells] == "other")
        false_alarms = float((weights * unmutated).sum()) / formula_cells * 1000
        caught = float((flagged & mutated[cells]).sum())
        repaired = float((flagged & mutated[cells] & right[cells]).sum())
        near_flags = float((flagged & (data["cell_role"][cells] == "near")).sum())
        precision = caught / max(caught + near_flags + float((weights * unmutated).sum()), 1e-9)
        recall = caught / n_mutated
        table.append({"threshold": float(threshold), "false_alarms_per_1000": round(false_alarms, 3),
                      "recall": round(recall, 4), "precision": round(precision, 4), "repaired": round(repaired / n_mutated, 4)})
        if chosen is None and false_alarms <= max_false_alarms:
            chosen = float(threshold)
    return {"calibration": {"x": x, "y": y}, "default_min_confidence": chosen if chosen is not None else 0.99,
            "threshold_table": table, "held_out_cells": len(cells), "held_out_mutations": int(n_mutated)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path, help="corpus folder (MANIFEST.tsv, SPLITS.tsv, workbooks)")
    parser.add_argument("--out", type=Path, required=True, help="folder for checker.txt and checker.json")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--synthetic", type=int, default=400, help="generated workbooks added to the train books")
    parser.add_argument("--sheets-per-book", type=int, default=4)
    parser.add_argument("--others", type=int, default=40, help="random unmutated cells described per mutated sheet")
    parser.add_argument("--max-formula-cells", type=int, default=20000, help="corpus books with more are skipped")
    parser.add_argument("--book-timeout", type=int, default=60, help="seconds per book before it is skipped")
    parser.add_argument("--max-false-alarms", type=float, default=1.0, help="per 1,000 formula cells, on held-out books")
    parser.add_argument("--workers", type=int, default=2, help="processes gathering books")
    parser.add_argument("--limit", type=int, default=0, help="use this many random books only (a quick run)")
    parser.add_argument("--cache", type=Path, help=".npz of gathered rows: read when present, else written")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    started = time.time()
    if args.cache and args.cache.is_file():
        data = dict(np.load(args.cache, allow_pickle=False))
    else:
        data = gather(args)
        if args.cache:
            np.savez_compressed(args.cache, **data)
    books = np.unique(data["cell_book"])
    held_books = {int(b) for b in books if int(hashlib.sha256(f"{args.seed}:{b}".encode()).hexdigest(), 16) % 5 == 0}
    held = np.isin(data["cell_book"], list(held_books))
    train_rows = np.flatnonzero(~held[data["cell"]])
    log.info("fitting on %d rows (%d positives)", len(train_rows), int(data["y"][train_rows].sum()))
    booster = fit(data["x"][train_rows], data["y"][train_rows])
    found = calibrate(booster, data, held, args.max_false_alarms)
    log.info("default threshold %.2f", found["default_min_confidence"])
    final = fit(data["x"], data["y"])
    meta = {
        "features": list(FEATURES), "kinds": list(CANDIDATE_KINDS), **found,
        "trained": {"date": dt.date.today().isoformat(), "seed": args.seed, "rows": len(data["y"]),
                    "positives": int(data["y"].sum()), "cells": len(data["cell_role"]),
                    "books": len(books), "synthetic": args.synthetic, "sheets_per_book": args.sheets_per_book,
                    "others": args.others, "max_formula_cells": args.max_formula_cells, "limit": args.limit,
                    "book_timeout": args.book_timeout,
                    "lgbm": LGBM_PARAMS, "rounds": NUM_ROUNDS, "command": " ".join(sys.argv),
                    "seconds": round(time.time() - started, 1)},
    }
    Checker(final, meta).save(args.out)
    print(json.dumps({k: meta[k] for k in ("default_min_confidence", "held_out_cells", "held_out_mutations")}
                     | {"trained": meta["trained"]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
