"""Train the suggestion ranker (LightGBM LambdaRank) and its calibration on training workbooks.

    python scripts/build_retrieval_index.py ../shared/corpus -o spreadsheetcoder/model/shipped/retrieval.json.gz
    python scripts/train_ranker.py ../shared/corpus --out spreadsheetcoder/model/shipped \
        --retrieval spreadsheetcoder/model/shipped/retrieval.json.gz --seed 0

1. Candidates: for up to ``--per-workbook`` targets (the protocol's first occurrences) and
   ``--copies-per-workbook`` cells that copy an earlier formula (what a user filling down a column
   asks about) of train-split workbooks whose licence allows it (MANIFEST.tsv), in both settings, the ``Suggester`` gathers, runs and featurises
   every candidate; a candidate is a positive when it equals the target's formula
   (``evaluation.metrics.match``). Workbooks of the folders added after the shipped model was
   trained (``--unseen-folders``) are gathered with the model source; the others without it, as
   the model has seen them and its probabilities there would teach the ranker to over-trust it.
   Each workbook's own contribution to the retrieval index and the sketch prior is taken out
   while its candidates are gathered (``suggester.LeaveOut``); the unseen folders must be left
   out of the index (``build_retrieval_index.py --skip-folders``), so they have none.
2. LambdaRank on 80% of those workbooks; isotonic calibration of the within-target softmax, one
   map per context setting, on the protocol targets of the other 20% (by workbook); then
   ``ranker.txt`` and ``ranker.json`` in ``--out``.

Dev and test workbooks are never read. ``--cache`` keeps the gathered rows (``.npz``) so that a
second run can retrain without gathering again.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import logging
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from spreadsheetcoder.constants import CONTEXT_SETTINGS, CONTEXT_VALUES
from spreadsheetcoder.data.extract import find_workbooks
from spreadsheetcoder.data.split import WorkbookSplitter
from spreadsheetcoder.errors import WorkbookError
from spreadsheetcoder.evaluation.metrics import match
from spreadsheetcoder.model.shipped import resolve_model_dir
from spreadsheetcoder.sheet import Sheet, Workbook
from spreadsheetcoder.suggest.features import FEATURES, sketch_key
from spreadsheetcoder.suggest.predictor import FormulaPredictor
from spreadsheetcoder.suggest.ranker import Ranker
from spreadsheetcoder.suggest.sources.retrieval import RetrievalIndex, context_keys
from spreadsheetcoder.suggest.suggester import ALL_SOURCES, LeaveOut, Suggester
from spreadsheetcoder.suggest.target import TargetView
from spreadsheetcoder.targets import Target, distinct_targets, list_targets
from spreadsheetcoder.xlsx.reader import read_workbook

# Folders added to the corpus after the shipped model was trained (it never saw them).
UNSEEN_FOLDERS = ("eps_canada", "nces2020", "jrc_eu_times", "nrel_eii", "times_nz", "otai", "fin_model_course")


def licensed(root: Path) -> dict[str, bool]:
    """Workbook path -> whether its repository states a licence (MANIFEST.tsv)."""
    out = {}
    with open(root / "MANIFEST.tsv", encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            licence = (row.get("license_of_repo") or "").strip().lower()
            out[row["file"]] = bool(licence) and not licence.startswith("no ")
    return out


def leave_out(book: Workbook, targets: list[tuple[Sheet, Target]]) -> LeaveOut:
    """What ``book`` put into the retrieval index and the sketch prior (see build_retrieval_index.py)."""
    counts: Counter[tuple[str, str, str]] = Counter()
    sketches = set()
    for sheet, t in targets:
        if t.formula is None:
            continue
        sketches.add(sketch_key(t.formula.sketch))
        for kind, key in context_keys(TargetView(book, sheet, t.row, t.col, CONTEXT_VALUES)).items():
            counts[(kind, key, t.key)] += 1
    return LeaveOut(counts, sketches)


def gather(files: list[tuple[Path, str, bool]], with_model: Suggester, without_model: Suggester,
           per_workbook: int, copies_per_workbook: int, seed: int) -> dict[str, np.ndarray]:
    rows: list[list[float]] = []
    labels: list[int] = []
    groups: list[int] = []
    books: list[int] = []
    kinds: list[int] = []  # 0: a protocol target (first occurrence), 1: a copy
    group = 0
    for b, (path, rel, unseen) in enumerate(tqdm(files, desc="gather", unit="workbook")):
        try:
            book = read_workbook(path)
        except WorkbookError:
            continue
        every = {sheet.name: list_targets(sheet, all_cells=True) for sheet in book.sheets}
        targets = [(sheet, t) for sheet in book.sheets for t in distinct_targets(every[sheet.name])]
        # The unseen folders are not in the index (build_retrieval_index.py --skip-folders): nothing to take out.
        held_out = None if unseen else leave_out(book, targets)
        rng = random.Random(f"{seed}:{rel}")
        rng.shuffle(targets)
        # Copies too: cells inside or at the end of a fill-down run, what a user filling a column
        # asks about (the protocol's targets are first occurrences only).
        firsts = {(sheet.name, t.row, t.col) for sheet, t in targets}
        copies = [(sheet, t) for sheet in book.sheets for t in every[sheet.name]
                  if (sheet.name, t.row, t.col) not in firsts]
        rng.shuffle(copies)
        by_sheet: dict[str, list[tuple[Sheet, Target, int]]] = defaultdict(list)
        for kind, (sheet, t) in [*((0, x) for x in targets[:per_workbook]),
                                  *((1, x) for x in copies[:copies_per_workbook])]:
            by_sheet[sheet.name].append((sheet, t, kind))
        suggester = with_model if unseen else without_model
        for context in CONTEXT_SETTINGS:
            for items in by_sheet.values():
                sheet = items[0][0]
                cells = [(t.row, t.col) for _, t, _ in items]
                gathered = suggester.gather(book, sheet, cells, context=context, leave_out=held_out)
                for (_, t, kind), scored in zip(items, gathered, strict=True):
                    if not scored:
                        continue
                    for s in scored:
                        rows.append([*s.features, float(context == "formulas"), float(unseen)])
                        labels.append(int(match(s.proposal.text, t.text, (t.row, t.col)).formula))
                        groups.append(group)
                        books.append(b)
                        kinds.append(kind)
                    group += 1
    return {"x": np.asarray(rows, np.float32), "y": np.asarray(labels, np.int8),
            "group": np.asarray(groups, np.int64), "book": np.asarray(books, np.int64),
            "kind": np.asarray(kinds, np.int8)}


def merge(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Rows of several gather runs as one set (group and workbook ids kept apart)."""
    out: dict[str, list[np.ndarray]] = {"x": [], "y": [], "group": [], "book": [], "kind": []}
    groups = books = 0
    for part in parts:
        out["x"].append(part["x"])
        out["y"].append(part["y"])
        out["group"].append(part["group"] + groups)
        out["book"].append(part["book"] + books)
        out["kind"].append(part["kind"])
        groups += int(part["group"].max()) + 1 if len(part["group"]) else 0
        books += int(part["book"].max()) + 1 if len(part["book"]) else 0
    merged: dict[str, np.ndarray] = {key: np.concatenate(values) for key, values in out.items()}
    metas = [json.loads(str(part["meta"])) for part in parts if "meta" in part]
    merged["meta"] = np.array(json.dumps({
        "workbooks": sum(m["workbooks"] for m in metas), "unseen_workbooks": sum(m["unseen_workbooks"] for m in metas),
        "per_workbook": sorted({m["per_workbook"] for m in metas}),
        "copies_per_workbook": sorted({m.get("copies_per_workbook", 0) for m in metas}),
        "folders": sorted({f for m in metas for f in m["folders"]})}))
    return merged


def isotonic(p: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
    xs = np.linspace(0, 1, 101)
    return xs.tolist(), [round(float(v), 5) for v in iso.predict(xs)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="folder for ranker.txt and ranker.json")
    parser.add_argument("--model", default=None, help="model checkpoint for the model source (default: shipped)")
    parser.add_argument("--retrieval", type=Path, required=True, help="the retrieval index (build_retrieval_index.py)")
    parser.add_argument("--per-workbook", type=int, default=10, help="protocol targets (first occurrences) per workbook")
    parser.add_argument("--copies-per-workbook", type=int, default=6,
                        help="formula cells that copy an earlier one (inside or at the end of a run) per workbook")
    parser.add_argument("--unseen-workbooks", type=int, default=150,
                        help="workbooks of the unseen folders to gather (with the model source)")
    parser.add_argument("--seen-workbooks", type=int, default=300,
                        help="workbooks of the other folders to gather (without the model source)")
    parser.add_argument("--unseen-folders", default=",".join(UNSEEN_FOLDERS))
    parser.add_argument("--cache", type=Path, default=None, help="an .npz of gathered rows to reuse or write")
    parser.add_argument("--only", choices=("unseen", "seen"), default=None,
                        help="gather only these workbooks into --cache and stop (two processes, one per core)")
    parser.add_argument("--from-caches", type=Path, nargs="+", default=None, metavar="NPZ",
                        help="train on rows gathered earlier (by --only runs) instead of gathering")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    started = time.perf_counter()

    root = args.corpus
    splitter = WorkbookSplitter(root / "SPLITS.tsv")
    ok = licensed(root)
    unseen_folders = set(filter(None, args.unseen_folders.split(",")))
    files = [(p, p.relative_to(root).as_posix()) for p in find_workbooks(root)]
    files = [(p, rel) for p, rel in files if splitter(rel) == "train" and ok.get(rel, False)]
    rng = random.Random(args.seed)
    unseen = [(p, rel, True) for p, rel in files if rel.split("/")[0] in unseen_folders]
    seen = [(p, rel, False) for p, rel in files if rel.split("/")[0] not in unseen_folders]
    rng.shuffle(unseen)
    rng.shuffle(seen)
    chosen = unseen[:args.unseen_workbooks] + seen[:args.seen_workbooks]
    if args.only is not None:
        chosen = [f for f in chosen if f[2] == (args.only == "unseen")]

    if args.from_caches:
        data = merge([dict(np.load(path)) for path in args.from_caches])
    elif args.cache is not None and args.cache.is_file():
        data = dict(np.load(args.cache))
    else:
        retrieval = RetrievalIndex.load(args.retrieval)
        predictor = FormulaPredictor(resolve_model_dir(args.model), neighbour_formulas=False)
        with_model = Suggester(predictor, None, retrieval=retrieval)
        without_model = Suggester(None, None, retrieval=retrieval, sources=[s for s in ALL_SOURCES if s != "model"])
        data = gather(chosen, with_model, without_model, args.per_workbook, args.copies_per_workbook, args.seed)
        data["meta"] = np.array(json.dumps({
            "workbooks": len(chosen), "unseen_workbooks": sum(u for _, _, u in chosen), "per_workbook": args.per_workbook,
            "copies_per_workbook": args.copies_per_workbook,
            "folders": sorted({rel.split("/")[0] for _, rel, _ in chosen})}))
        if args.cache is not None:
            np.savez_compressed(args.cache, **data)
    if args.only is not None:
        print(json.dumps({"gathered": len(chosen), "candidates": len(data["y"]), "positives": int(data["y"].sum()),
                          "seconds": round(time.perf_counter() - started, 1)}))
        return 0
    import lightgbm

    x, y, group, book = data["x"], data["y"], data["group"], data["book"]
    x = x[:, :len(FEATURES)]  # the setting column is kept for analysis, not as a feature
    holdout = np.array([int(hashlib.sha1(str(b).encode()).hexdigest(), 16) % 5 == 0 for b in book])
    fit, cal = ~holdout, holdout

    def sizes(mask: np.ndarray) -> list[int]:
        return list(Counter(group[mask].tolist()).values()) if mask.any() else []

    params = {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [1, 5], "learning_rate": 0.05,
              "num_leaves": 31, "min_data_in_leaf": 20, "feature_fraction": 0.9, "bagging_fraction": 0.9,
              "bagging_freq": 1, "lambdarank_truncation_level": 10, "verbose": -1, "seed": args.seed,
              "num_threads": 2}
    train_set = lightgbm.Dataset(x[fit], y[fit], group=sizes(fit), feature_name=list(FEATURES))
    booster = lightgbm.train(params, train_set, num_boost_round=400)

    # Calibration per context setting, on the held-out workbooks' protocol targets (first
    # occurrences: what the dev split measures; copies are easier and would make it overconfident).
    setting_column = data["x"][:, len(FEATURES)]
    calibration: dict[str, dict[str, list[float]]] = {}
    top_labels: list[int] = []
    for flag, context in enumerate(CONTEXT_SETTINGS):
        mask = cal & (data["kind"] == 0) & (setting_column == flag)
        scores = booster.predict(x[mask])
        probs = np.zeros(len(scores))
        mask_groups, mask_y = group[mask], y[mask]
        for g in np.unique(mask_groups):
            idx = np.where(mask_groups == g)[0]
            z = np.exp(scores[idx] - scores[idx].max())
            probs[idx] = z / z.sum()
            top_labels.append(int(mask_y[idx[np.argmax(scores[idx])]]))
        xs, ys = isotonic(probs, mask_y.astype(float))
        calibration[context] = {"x": xs, "y": ys}
    cal_groups = group[cal]
    n_fit, n_cal = len(np.unique(group[fit])), len(np.unique(cal_groups))
    positives = {name: int(sum(y[mask].tolist())) for name, mask in (("fit", fit), ("calibration", cal))}
    meta = {
        "features": list(FEATURES),
        "calibration": calibration,
        "trained": dt.date.today().isoformat(),
        "recipe": " ".join(["python", "scripts/train_ranker.py", *(argv if argv is not None else sys.argv[1:])]),
        "data": {**json.loads(str(data["meta"])), "targets_fit": n_fit, "targets_calibration": n_cal,
                 "candidates": len(y), "positives": positives, "settings": list(CONTEXT_SETTINGS)},
        "calibration_top1_accuracy": round(float(np.mean(top_labels)), 4) if top_labels else None,
        "params": params, "rounds": 400,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    ranker = Ranker(booster, meta)
    ranker.save(args.out)
    print(json.dumps({k: meta[k] for k in ("data", "calibration_top1_accuracy", "wall_seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
