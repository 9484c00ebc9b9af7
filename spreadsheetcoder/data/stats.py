"""Distribution of formulas in a set of examples, to put a synthetic corpus next to a real one.

``formula_stats`` reads extract's JSONL (or extracts a folder first) and measures what matters for
realism: which functions appear, how long sketches and ranges are, how often references are
absolute, point to another sheet or leave the 21 x 21 window, and how many formulas a sheet holds.
``format_markdown`` lays several such reports side by side.
"""

from __future__ import annotations

import statistics
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..constants import (
    KIND_BEYOND_WINDOW,
    KIND_DEFINED_NAME,
    KIND_OTHER_SHEET,
    KIND_STRUCTURED,
    RANGE_PLACEHOLDER,
)
from ..errors import ConfigError
from .jsonl import iter_jsonl

__all__ = ["FormulaStats", "compare_stats", "format_markdown", "formula_stats", "iter_examples"]

TOP_FUNCTIONS = 30
# Range lengths (cells covered) are reported in these buckets; whole rows/columns count as "whole".
RANGE_BUCKETS = ((1, "1"), (2, "2"), (5, "3-5"), (10, "6-10"), (20, "11-20"), (100, "21-100"), (10**9, ">100"))


def iter_examples(path: str | Path, workers: int | None = None) -> Iterator[dict[str, Any]]:
    """Examples of a JSONL file, or of a folder of workbooks (extracted to a temporary file)."""
    path = Path(path)
    if path.is_dir():
        from .extract import extract

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "examples.jsonl"
            extract(path, out, workers=workers)
            yield from iter_examples(out)
        return
    for _, example in iter_jsonl(path):
        yield example


def _range_cells(ref: dict[str, Any], origin: tuple[int, int]) -> int | None:
    """Cells covered by a cell/area reference, ``None`` for whole rows/columns, names, tables."""
    start, end = ref.get("start"), ref.get("end")
    if start is None:
        return None
    end = end or start
    size = 1
    for axis, origin_value in (("row", origin[0]), ("col", origin[1])):
        a, b = start[axis], end[axis]
        if a is None or b is None:
            return None
        a = a if start[f"{axis}_abs"] else a + origin_value
        b = b if end[f"{axis}_abs"] else b + origin_value
        size *= abs(b - a) + 1
    return size


def _bucket(cells: int | None) -> str:
    if cells is None:
        return "whole row/col"
    return next(label for limit, label in RANGE_BUCKETS if cells <= limit)


@dataclass
class FormulaStats:
    """Counts over the examples (targets) of one corpus; ``to_json`` turns them into shares."""

    name: str
    targets: int = 0
    formula_cells: int = 0
    representable: int = 0
    functions: Counter[str] = field(default_factory=Counter)
    sketch_lengths: list[int] = field(default_factory=list)
    ranges_per_formula: list[int] = field(default_factory=list)
    range_buckets: Counter[str] = field(default_factory=Counter)
    references: int = 0
    absolute_references: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    per_sheet: Counter[tuple[str, str]] = field(default_factory=Counter)
    distinct_per_sheet: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, example: dict[str, Any]) -> None:
        self.targets += 1
        sheet = (example["workbook"], example["sheet"])
        self.per_sheet[sheet] += int(example.get("occurrences", 1))
        self.distinct_per_sheet[sheet] += 1
        self.formula_cells += int(example.get("occurrences", 1))
        if not example.get("representable"):
            return
        self.representable += 1
        self.functions.update(set(example.get("functions", [])))
        sketch = example["sketch"]
        self.sketch_lengths.append(len(sketch))
        ranges = example["ranges"]
        self.ranges_per_formula.append(sketch.count(RANGE_PLACEHOLDER))
        origin = (int(example["row"]), int(example["col"]))
        for ref in ranges:
            self.references += 1
            corners = [c for c in (ref.get("start"), ref.get("end")) if c]
            if any(c["row_abs"] or c["col_abs"] for c in corners):
                self.absolute_references += 1
            if ref.get("name") is None:
                self.range_buckets[_bucket(_range_cells(ref, origin))] += 1
        kinds = set(example.get("reference_kinds", []))
        self.kinds.update(kinds)
        if kinds - {"in_window"}:
            self.kinds["leaves_window"] += 1

    def to_json(self) -> dict[str, Any]:
        n = max(self.representable, 1)

        def pct(values: list[int], q: float) -> float:
            if not values:
                return 0.0
            ordered = sorted(values)
            return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])

        range_total = max(sum(self.range_buckets.values()), 1)
        return {
            "name": self.name,
            "targets": self.targets,
            "formula_cells": self.formula_cells,
            "representable": round(self.representable / max(self.targets, 1), 4),
            "top_functions": {f: round(c / n, 4) for f, c in self.functions.most_common(TOP_FUNCTIONS)},
            "functions_seen": len(self.functions),
            "sketch_length": {"mean": round(statistics.fmean(self.sketch_lengths), 2) if self.sketch_lengths else 0.0,
                              "p50": pct(self.sketch_lengths, 0.5), "p90": pct(self.sketch_lengths, 0.9)},
            "ranges_per_formula": round(statistics.fmean(self.ranges_per_formula), 2) if self.ranges_per_formula else 0.0,
            "range_length": {label: round(self.range_buckets[label] / range_total, 4)
                             for label in [b for _, b in RANGE_BUCKETS] + ["whole row/col"]},
            "absolute_reference_share": round(self.absolute_references / max(self.references, 1), 4),
            "other_sheet_share": round(self.kinds[KIND_OTHER_SHEET] / n, 4),
            "beyond_window_share": round(self.kinds[KIND_BEYOND_WINDOW] / n, 4),
            "defined_name_share": round(self.kinds[KIND_DEFINED_NAME] / n, 4),
            "structured_share": round(self.kinds[KIND_STRUCTURED] / n, 4),
            "leaves_window_share": round(self.kinds["leaves_window"] / n, 4),
            "formula_cells_per_sheet": round(statistics.fmean(self.per_sheet.values()), 1) if self.per_sheet else 0.0,
            "distinct_formulas_per_sheet": round(statistics.fmean(self.distinct_per_sheet.values()), 1)
            if self.distinct_per_sheet else 0.0,
            "sheets": len(self.per_sheet),
        }


def formula_stats(examples: Iterable[dict[str, Any]], name: str = "corpus") -> FormulaStats:
    """Measure a corpus from its examples (see ``iter_examples``)."""
    stats = FormulaStats(name)
    for example in examples:
        stats.add(example)
    return stats


def compare_stats(inputs: Sequence[str | Path], names: Sequence[str] | None = None, *,
                  workers: int | None = None) -> list[dict[str, Any]]:
    """``FormulaStats.to_json()`` of each input (JSONL examples or a folder of workbooks), named by
    ``names`` (default: the paths); ``ConfigError`` unless there is one name per input."""
    names = list(names) if names is not None else [str(p) for p in inputs]
    if len(names) != len(inputs):
        raise ConfigError(f"--names gives {len(names)} names for {len(inputs)} inputs")
    return [formula_stats(iter_examples(p, workers=workers), name).to_json()
            for p, name in zip(inputs, names, strict=True)]


def format_markdown(reports: list[dict[str, Any]]) -> str:
    """Side-by-side Markdown tables of several ``FormulaStats.to_json()`` reports."""
    names = [r["name"] for r in reports]
    head = "| measure | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    rows = []
    scalar_keys = ["targets", "formula_cells", "sheets", "representable", "functions_seen", "ranges_per_formula",
                   "absolute_reference_share", "other_sheet_share", "beyond_window_share", "defined_name_share",
                   "structured_share", "leaves_window_share", "formula_cells_per_sheet", "distinct_formulas_per_sheet"]
    for key in scalar_keys:
        rows.append(f"| {key} | " + " | ".join(str(r[key]) for r in reports) + " |")
    for key in ("mean", "p50", "p90"):
        rows.append(f"| sketch length {key} | " + " | ".join(str(r["sketch_length"][key]) for r in reports) + " |")
    for label in reports[0]["range_length"]:
        rows.append(f"| range cells {label} | " + " | ".join(f"{r['range_length'][label]:.1%}" for r in reports) + " |")
    table = head + "\n".join(rows) + "\n"

    functions: list[str] = []
    for r in reports:
        functions += [f for f in r["top_functions"] if f not in functions]
    fhead = "\n| function (share of formulas) | " + " | ".join(names) + " |\n|---|" + "---|" * len(names) + "\n"
    frows = [f"| {f} | " + " | ".join(f"{r['top_functions'].get(f, 0.0):.1%}" if f in r["top_functions"] else "-"
                                      for r in reports) + " |" for f in functions]
    return table + fhead + "\n".join(frows) + "\n"
