"""Build the retrieval index of the suggestion pipeline from training workbooks.

    python scripts/build_retrieval_index.py ../shared/corpus -o spreadsheetcoder/model/shipped/retrieval.json.gz \
        --skip-folders eps_canada,nces2020,jrc_eu_times,nrel_eii,times_nz,otai,fin_model_course,tasi

Every train-split workbook of the corpus whose repository states a licence (MANIFEST.tsv) gives
its distinct relative formulas per sheet (the evaluation protocol's targets), each under its
context keys (``sources/retrieval.context_keys``: row label and column header, sheet name and
label, sheet name and cell, label, header). It also holds the sketch prior: in how many of those
workbooks each formula sketch occurs. Dev and test workbooks are never read. The index records the
repositories and licences of the workbooks it was built from.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from spreadsheetcoder.data.extract import find_workbooks
from spreadsheetcoder.data.manifest import has_licence, read_manifest
from spreadsheetcoder.data.split import WorkbookSplitter
from spreadsheetcoder.errors import WorkbookError
from spreadsheetcoder.formula import parse_formula
from spreadsheetcoder.suggest.features import sketch_key
from spreadsheetcoder.suggest.sources.retrieval import RetrievalIndex, workbook_items
from spreadsheetcoder.xlsx.reader import read_workbook

# Sketches kept in the prior (the most widespread, each in at least two workbooks).
MAX_SKETCHES = 5000


def items(files: list[tuple[Path, str]], stats: Counter[str],
          sketches: Counter[str]) -> Iterator[tuple[dict[str, str], str, int, int, int, str]]:
    for book_id, (path, _rel) in enumerate(tqdm(files, desc="index", unit="workbook")):
        try:
            book = read_workbook(path)
        except WorkbookError:
            stats["unreadable"] += 1
            continue
        found = workbook_items(book, book_id)
        stats["formulas"] += len(found)
        sketches.update({sketch_key(parse_formula(text, (row, col)).sketch) for _, text, row, col, _, _ in found})
        yield from found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--skip-folders", default="", metavar="A,B",
                        help="corpus folders to leave out (the shipped index leaves out the train-only additions, "
                             "whose very large energy models would take an hour to index on two cores)")
    args = parser.parse_args(argv)
    root = args.corpus
    rows = read_manifest(root)
    splitter = WorkbookSplitter(root / "SPLITS.tsv")
    files = [(p, p.relative_to(root).as_posix()) for p in find_workbooks(root)]
    skip = set(filter(None, args.skip_folders.split(",")))
    files = [(p, rel) for p, rel in files
             if splitter(rel) == "train" and has_licence(rows.get(rel)) and rel.split("/")[0] not in skip]
    stats: Counter[str] = Counter()
    sources = Counter(f"{rows[rel]['source_repo']} ({rows[rel]['license_of_repo']})" for _, rel in files)
    meta = {"built": dt.date.today().isoformat(), "workbooks": len(files), "split": "train",
            "sources": dict(sorted(sources.items())),
            "recipe": " ".join(["python scripts/build_retrieval_index.py", *(argv if argv is not None else sys.argv[1:])])}
    sketches: Counter[str] = Counter()
    index = RetrievalIndex.build(items(files, stats, sketches), meta)
    index.sketch_prior = {k: float(v) for k, v in sketches.most_common(MAX_SKETCHES) if v >= 2}
    index.meta["formulas"] = stats["formulas"]
    index.meta["unreadable"] = stats["unreadable"]
    index.meta["keys"] = {kind: len(v) for kind, v in index.entries.items()}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    index.save(args.output)
    print(json.dumps({k: index.meta[k] for k in ("workbooks", "formulas", "keys")}))
    print(f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
