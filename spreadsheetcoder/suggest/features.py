"""Features of one candidate for the ranker: where it came from, how it behaved on the sheet,
what it looks like, and what the target's labels say.

``FEATURES`` fixes the order of the vector; ``candidate_features`` fills it. Nothing here reads the
target's own value: the execution and the view already mask it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..values import ExcelError
from .check import Execution
from .siblings import DIRECTION_NAMES, Siblings
from .target import TargetView

__all__ = ["FEATURES", "SOURCES", "Proposal", "ViewFacts", "candidate_features", "sketch_key", "view_facts"]

SOURCES = ("model", "run", "copy", "aggregate", "arithmetic", "reference", "retrieval", "expansion")
# First function of a candidate, as a small categorical code (0: none, last: any other).
FUNCTIONS = ("SUM(", "AVERAGE(", "MIN(", "MAX(", "COUNT(", "SUBTOTAL(", "IF(", "ROUND(", "INDEX(", "VLOOKUP(",
             "IFERROR(", "SUMPRODUCT(", "COUNTA(", "SUMIF(", "ABS(")
_WORDS = {
    "total": re.compile(r"\b(total|sum|subtotal|gesamt|totals|grand)\b", re.I),
    "average": re.compile(r"\b(average|avg|mean)\b", re.I),
    "change": re.compile(r"(growth|change|increase|decrease|yoy|delta|diff|variance|%)", re.I),
    "share": re.compile(r"(share|percent|ratio|rate|margin|per\b|/)", re.I),
    "count": re.compile(r"\b(count|number of|no\.|#)", re.I),
    "extreme": re.compile(r"\b(min|max|minimum|maximum|highest|lowest|peak)\b", re.I),
}

_BASE = [f"src_{s}" for s in SOURCES] + [
    "n_sources", "model_logprob", "model_rank", "copy_rank", "retrieval_hits", "retrieval_books", "retrieval_kind",
    "parsed", "computed", "value_error", "value_zero", "value_number", "value_text", "reads_target", "empty_reads",
]
_PER_DIRECTION = [f"{name}_{d}" for d in DIRECTION_NAMES for name in ("siblings", "checked", "matched", "errors", "adjacent")]
_TOTALS = ["matched_total", "checked_total", "match_share", "best_run", "full_match_dirs"]
_SHAPE = ["n_refs", "n_tokens", "n_functions", "function", "other_sheet", "max_row_off", "max_col_off", "area_cells",
          "n_operators", "n_constants", "sketch_prior", "refs_left", "refs_above", "refs_right", "refs_below"]
_CONTEXT = [f"word_{w}" for w in _WORDS] + ["numbers_above", "numbers_left", "numbers_right", "numbers_below",
                                            "label_left", "header_above"]
FEATURES: tuple[str, ...] = tuple(_BASE + _PER_DIRECTION + _TOTALS + _SHAPE + _CONTEXT)


@dataclass
class Proposal:
    """One distinct candidate formula gathered from all sources."""

    text: str
    sources: set[str] = field(default_factory=set)
    model_logprob: float | None = None
    model_rank: int | None = None
    copy_rank: int | None = None
    retrieval_hits: int = 0
    retrieval_books: int = 0
    retrieval_kind: int = 9  # index into retrieval.KEY_KINDS; 9: not retrieved


@dataclass(frozen=True)
class ViewFacts:
    """Facts of the target shared by all its candidates."""

    words: tuple[float, ...]
    numbers: tuple[float, float, float, float]  # above, left, right, below
    label_left: float
    header_above: float


def view_facts(view: TargetView) -> ViewFacts:
    label = view.row_label() or ""
    header = view.column_header() or ""
    text = f"{label} {header}"
    words = tuple(float(bool(p.search(text))) for p in _WORDS.values())

    def run(d_row: int, d_col: int) -> float:
        n = 0
        r, c = view.row + d_row, view.col + d_col
        while n < 20 and r >= 1 and c >= 1 and view.number(r, c):
            n += 1
            r, c = r + d_row, c + d_col
        return float(n)
    return ViewFacts(words, (run(-1, 0), run(0, -1), run(0, 1), run(1, 0)), float(bool(label)), float(bool(header)))


def sketch_key(sketch: tuple[str, ...]) -> str:
    return " ".join(sketch)


def _shape(execution: Execution, view: TargetView, sketch_prior: Mapping[str, float]) -> list[float]:
    formula = execution.formula
    if formula is None:
        return [0.0] * len(_SHAPE)
    sketch = formula.sketch
    functions = [t for t in sketch if t.endswith("(") and t != "("]
    first = functions[0] if functions else None
    code = 0 if first is None else (FUNCTIONS.index(first) + 1 if first in FUNCTIONS else len(FUNCTIONS) + 1)
    other = max_row = max_col = 0
    cells = 0
    left = above = right = below = 0
    for ref in formula.ranges:
        if ref.sheet is not None and ref.sheet.casefold() != view.sheet.name.casefold():
            other = 1
        if ref.start is None:
            continue
        corners = [ref.start, ref.end] if ref.end is not None else [ref.start]
        positions = [c.position((view.row, view.col)) for c in corners]
        rows = [p[0] for p in positions if p[0] is not None]
        cols = [p[1] for p in positions if p[1] is not None]
        if rows:
            max_row = max(max_row, *(abs(r - view.row) for r in rows))
        if cols:
            max_col = max(max_col, *(abs(c - view.col) for c in cols))
        if len(rows) == len(corners) and len(cols) == len(corners):
            cells += (max(rows) - min(rows) + 1) * (max(cols) - min(cols) + 1)
            if ref.sheet is None:
                left += int(max(cols) < view.col)
                right += int(min(cols) > view.col)
                above += int(max(rows) < view.row)
                below += int(min(rows) > view.row)
    operators = sum(t in ("+", "-", "*", "/", "^", "&") for t in sketch)
    constants = sum(1 for t in sketch if t[:1].isdigit() or t.startswith('"'))
    prior = sketch_prior.get(sketch_key(sketch), 0.0)
    return [float(len(formula.ranges)), float(len(sketch)), float(len(functions)), float(code), float(other),
            float(max_row), float(max_col), math.log1p(cells), float(operators), float(constants), math.log1p(prior),
            float(left), float(above), float(right), float(below)]


def candidate_features(proposal: Proposal, execution: Execution, siblings: Siblings, view: TargetView,
                       facts: ViewFacts, sketch_prior: Mapping[str, float]) -> list[float]:
    value = execution.value
    base = [float(s in proposal.sources) for s in SOURCES] + [
        float(len(proposal.sources)),
        proposal.model_logprob if proposal.model_logprob is not None else -50.0,
        float(proposal.model_rank if proposal.model_rank is not None else 99),
        float(proposal.copy_rank if proposal.copy_rank is not None else 99),
        math.log1p(proposal.retrieval_hits), float(proposal.retrieval_books), float(proposal.retrieval_kind),
        float(execution.formula is not None),
        float(execution.formula is not None and not execution.reason),
        float(isinstance(value, ExcelError)),
        float(value == 0.0 and isinstance(value, float)),
        float(isinstance(value, float) and not isinstance(value, bool)),
        float(isinstance(value, str)),
        float(execution.reads_target),
        float(execution.empty_reads),
    ]
    per_direction: list[float] = []
    best_run = 0
    full = 0
    for d in range(4):
        available = len(siblings.by_direction[d])
        per_direction += [float(available), float(execution.checked[d]), float(execution.matched[d]),
                          float(execution.errors[d]), float(execution.adjacent[d])]
        if execution.adjacent[d]:
            best_run = max(best_run, execution.matched[d])
        if execution.checked[d] and execution.matched[d] == execution.checked[d]:
            full += 1
    matched, checked = sum(execution.matched), sum(execution.checked)
    totals = [float(matched), float(checked), matched / checked if checked else -1.0, float(best_run), float(full)]
    context = [*facts.words, *facts.numbers, facts.label_left, facts.header_above]
    return base + per_direction + totals + _shape(execution, view, sketch_prior) + context

