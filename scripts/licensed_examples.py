"""Keep the extract lines of workbooks whose repository states a licence (MANIFEST.tsv).

The shipped model is trained only on such workbooks (the corpus README: ship nothing derived from
files whose licence column says there is none). Streams the JSONL; prints what it kept as JSON.

    python scripts/licensed_examples.py corpus16.jsonl -o corpus16_licensed.jsonl --manifest ../shared/corpus
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from spreadsheetcoder.data.manifest import has_licence, read_manifest

WORKBOOK = re.compile(r'^\{"workbook": ("(?:[^"\\]|\\.)*")')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("examples", type=Path, help="extract's JSONL")
    parser.add_argument("-o", "--output", type=Path, required=True, help="JSONL to write")
    parser.add_argument("--manifest", type=Path, required=True, help="MANIFEST.tsv, or the corpus folder holding it")
    args = parser.parse_args()
    rows = read_manifest(args.manifest)
    counts: Counter[str] = Counter()
    books: dict[str, set[str]] = {"kept": set(), "dropped": set(), "unlisted": set()}
    tmp = args.output.with_name(args.output.name + ".tmp")
    with open(args.examples, encoding="utf-8") as source, open(tmp, "w", encoding="utf-8") as out:
        for line in tqdm(source, desc="filter", unit="ex"):
            head = WORKBOOK.match(line)  # extract writes "workbook" first: no need to parse the window
            workbook = json.loads(head.group(1)) if head else json.loads(line)["workbook"]
            row = rows.get(workbook)
            verdict = "unlisted" if row is None else "kept" if has_licence(row) else "dropped"
            counts[verdict] += 1
            books[verdict].add(workbook)
            if verdict == "kept":
                out.write(line)
    os.replace(tmp, args.output)
    print(json.dumps({"examples": dict(counts), "workbooks": {k: len(v) for k, v in books.items()}}))


if __name__ == "__main__":
    main()
