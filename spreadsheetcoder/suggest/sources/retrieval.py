"""Retrieval: formulas that cells with the same labels hold in other workbooks (after Auto-Formula).

A ``RetrievalIndex`` maps the context of a formula cell of the training corpus (its sheet's name,
its row label, its column header, its position) to the formula, kept as A1 text with the cell it
came from. For a target, ``retrieval_candidates`` looks up the same keys, moves each formula found
to the target as copy-paste would (relative references shift, absolute ones stay), and keeps it
when every sheet and defined name it names exists in the target's workbook.

The index is built from train-split workbooks whose licence allows it
(``scripts/build_retrieval_index.py``) and shipped beside the model as ``retrieval.json.gz``.
Where formulas are visible, ``workbook_candidates`` does the same within the target's own workbook:
the formulas other sheets hold in the target's cell or under its row label.
"""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ...constants import CONTEXT_VALUES
from ...errors import FormulaError
from ...formula import parse_formula, render_formula
from ...sheet import Workbook
from ...targets import list_targets
from ..features import sketch_key
from ..target import TargetView
from ..types import Candidate

__all__ = ["KEY_KINDS", "RetrievalIndex", "Retrieved", "context_keys", "retrieval_candidates"]

# Key kinds, most specific first; a candidate's feature is the most specific kind that found it.
KEY_KINDS = ("label_header", "sheet_label", "sheet_cell", "label", "header")
# Formulas kept per key (the most frequent), and candidates offered per target.
MAX_PER_KEY = 12
MAX_CANDIDATES = 16
_SPACES = re.compile(r"\s+")


def _norm(text: str | None) -> str | None:
    if not text:
        return None
    text = _SPACES.sub(" ", text).strip().strip(":").strip().casefold()
    return text[:80] or None


def context_keys(view: TargetView) -> dict[str, str]:
    """The lookup keys of a cell, by kind (kinds whose parts are missing are left out)."""
    label, header = _norm(view.row_label()), _norm(view.column_header())
    sheet = _norm(view.sheet.name) or ""
    keys = {"sheet_cell": f"{sheet}|{view.row}|{view.col}"}
    if label and header:
        keys["label_header"] = f"{label}|{header}"
    if label:
        keys["sheet_label"] = f"{sheet}|{label}"
        keys["label"] = label
    if header:
        keys["header"] = header
    return keys


@dataclass
class Retrieved:
    """What the index says about one candidate: how often and how specifically it was found."""

    hits: int = 0
    books: int = 0
    best_kind: int = len(KEY_KINDS)


class RetrievalIndex:
    """``{kind: {key: [[a1_text, row, col, cells, workbooks, relative_key], ...]}}`` (see the module doc)."""

    def __init__(self, entries: dict[str, dict[str, list[list[object]]]], meta: dict[str, object] | None = None,
                 sketch_prior: dict[str, float] | None = None) -> None:
        self.entries = entries
        self.meta = meta or {}
        # In how many training workbooks each sketch occurs (a feature of the ranker).
        self.sketch_prior = sketch_prior or {}

    @classmethod
    def build(cls, items: Iterable[tuple[dict[str, str], str, int, int, int, str]],
              meta: dict[str, object] | None = None) -> RetrievalIndex:
        """From ``(keys, a1_text, row, col, book, relative_key)`` of training formula cells.
        Each entry is ``[a1_text, row, col, cells, workbooks, relative_key]``."""
        counts: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        books: dict[str, dict[str, dict[str, set[int]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
        example: dict[str, tuple[str, int, int]] = {}
        for keys, text, row, col, book, relative in items:
            example.setdefault(relative, (text, row, col))
            for kind, key in keys.items():
                counts[kind][key][relative] += 1
                books[kind][key][relative].add(book)
        entries: dict[str, dict[str, list[list[object]]]] = {}
        for kind, by_key in counts.items():
            entries[kind] = {}
            for key, found in by_key.items():
                entries[kind][key] = [[*example[rel], n, len(books[kind][key][rel]), rel]
                                      for rel, n in found.most_common(MAX_PER_KEY)]
        return cls(entries, meta)

    def save(self, path: str | Path) -> None:
        with gzip.open(path, "wt", encoding="utf-8") as f:
            json.dump({"meta": self.meta, "sketch_prior": self.sketch_prior, "entries": self.entries}, f,
                      ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def load(cls, path: str | Path) -> RetrievalIndex:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            data = json.load(f)
        return cls(data["entries"], data.get("meta"), data.get("sketch_prior"))

    def lookup(self, keys: dict[str, str], leave_out: Counter[tuple[str, str, str]] | None = None,
               ) -> Iterable[tuple[int, str, int, int, int, int]]:
        """``(kind index, a1_text, row, col, cells, workbooks)`` found under ``keys``.

        ``leave_out`` counts the formula cells of one workbook by ``(kind, key, relative_key)``:
        what they contributed is taken out, as if the index had been built without that workbook
        (the ranker is trained on workbooks the index was built from; see scripts/train_ranker.py).
        """
        for k, kind in enumerate(KEY_KINDS):
            key = keys.get(kind)
            if key is None:
                continue
            for text, row, col, cells, books, relative in self.entries.get(kind, {}).get(key, ()):
                if leave_out is not None:
                    own = leave_out.get((kind, key, relative), 0)  # type: ignore[arg-type]
                    cells, books = cells - own, books - (own > 0)  # type: ignore[operator]
                    if cells <= 0:
                        continue
                yield k, text, row, col, cells, books  # type: ignore[misc]


def _names_exist(text: str, workbook: Workbook, origin: tuple[int, int]) -> bool:
    try:
        formula = parse_formula(text, origin)
    except (FormulaError, ValueError):
        return False
    sheets = {name.casefold() for name in workbook.sheet_names}
    names = {name.casefold() for name in workbook.defined_names}
    for sheet in workbook.sheets:
        names.update(name.casefold() for name in sheet.defined_names)
    for ref in formula.ranges:
        if ref.sheet is not None and ref.sheet.casefold() not in sheets:
            return False
        if ref.name and ref.spec is None and ref.name.casefold() not in names:
            return False
    return True


def retrieval_candidates(view: TargetView, index: RetrievalIndex,
                         leave_out: Counter[tuple[str, str, str]] | None = None,
                         ) -> tuple[list[Candidate], dict[str, Retrieved]]:
    """Candidates from the index, and per candidate text what retrieval knows of it."""
    found: dict[str, Retrieved] = {}
    for kind, text, row, col, count, books in index.lookup(context_keys(view), leave_out):
        try:
            moved = render_formula(parse_formula(text, (row, col)), (view.row, view.col))
        except (FormulaError, ValueError):
            continue
        info = found.get(moved)
        if info is None:
            if len(found) >= MAX_CANDIDATES * 2:
                continue
            info = found[moved] = Retrieved()
        info.hits += count
        info.books = max(info.books, books)
        info.best_kind = min(info.best_kind, kind)
    ranked = sorted(found.items(), key=lambda item: (item[1].best_kind, -item[1].hits))
    out, kept = [], {}
    for text, info in ranked:
        if not _names_exist(text, view.workbook, (view.row, view.col)):
            continue
        out.append(Candidate(text, 0.0, 0.0, "retrieval"))
        kept[text] = info
        if len(out) == MAX_CANDIDATES:
            break
    return out, kept


def workbook_items(book: Workbook, book_id: int = 0) -> list[tuple[dict[str, str], str, int, int, int, str]]:
    """What one workbook puts into the index: each distinct relative formula of each sheet."""
    out = []
    for sheet in book.sheets:
        for target in list_targets(sheet):
            if target.formula is None:
                continue
            view = TargetView(book, sheet, target.row, target.col, CONTEXT_VALUES)
            out.append((context_keys(view), target.text, target.row, target.col, book_id, target.key))
    return out


def workbook_sketches(book: Workbook) -> set[str]:
    """The sketches of a workbook's formulas (what it adds to the sketch prior)."""
    return {sketch_key(t.formula.sketch) for sheet in book.sheets for t in list_targets(sheet) if t.formula is not None}


# The retrieval kind of formulas found in the target's own workbook (after the index's KEY_KINDS).
WORKBOOK_KIND = len(KEY_KINDS)
# Other sheets looked at for formulas in the same place or under the same row label.
MAX_WORKBOOK_SHEETS = 40


def workbook_candidates(view: TargetView, labels: list[dict[str, int]]) -> tuple[list[Candidate], dict[str, Retrieved]]:
    """``formulas`` setting: the formulas that other sheets of the workbook hold in the target's
    cell, or in the row with the target's row label (``labels``: per sheet, label -> first row),
    moved to the target. Parallel sheets of one model (one per fuel, region or year) repeat them."""
    found: dict[str, Retrieved] = {}
    label = _norm(view.row_label())
    for s, sheet in enumerate(view.workbook.sheets[:MAX_WORKBOOK_SHEETS + 1]):
        if sheet is view.sheet:
            continue
        rows = [view.row]
        if label is not None and labels[s].get(label) not in (None, view.row):
            rows.append(labels[s][label])
        for row in rows:
            text = view.formula(row, view.col, sheet)
            cell = sheet.get(row, view.col)
            if text is None or cell is None or cell.formula_kind is not None:
                continue
            try:
                moved = render_formula(parse_formula(text, (row, view.col)), (view.row, view.col))
            except (FormulaError, ValueError):
                continue
            info = found.setdefault(moved, Retrieved(books=1, best_kind=WORKBOOK_KIND))
            info.hits += 1
    return [Candidate(text, 0.0, 0.0, "retrieval") for text in found], found
