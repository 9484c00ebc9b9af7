"""A corpus's MANIFEST.tsv: where each workbook came from and under which licence.

What is shipped (the model's weights, the retrieval index) is derived only from workbooks whose
repository states a licence: ``has_licence`` is that rule, written once.
"""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["has_licence", "read_manifest"]


def read_manifest(path: str | Path) -> dict[str, dict[str, str]]:
    """Rows of a MANIFEST.tsv (or of the one in a corpus folder), keyed by the ``file`` column."""
    file = Path(path)
    if file.is_dir():
        file = file / "MANIFEST.tsv"
    with open(file, encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


def has_licence(row: dict[str, str] | None) -> bool:
    """True when the workbook's repository states a licence (not empty, not "no LICENSE file ...")."""
    licence = (row or {}).get("license_of_repo", "").strip().lower()
    return bool(licence) and not licence.startswith("no ")
