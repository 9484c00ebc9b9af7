"""Evaluating formula checking (issue 15): injected mistakes found and repaired, false alarms.

Two runs, each over workbooks given by the caller (``scripts/evaluate_checker.py`` passes the dev
split of a corpus and held-out synthetic workbooks):

- **Injected**: every sheet with formulas gets one mistake of ``check.mutations`` (a fresh
  ``Mutator`` per workbook, drawn with ``random.Random(f"{seed}:{book}:{sheet}")``), and each
  detector looks at that sheet of the mutated workbook. A flag on the mutated cell is a true
  positive, any other flag on the sheet a false positive. Precision = true / flags, recall =
  true / mutations, F1 their harmonic mean; **repair accuracy** = mutations whose flag proposes
  the exact original formula (``canonical_formula`` with ``$`` kept) / mutations. By kind, a
  mutation's flags are those on its sheet.
- **Unmodified**: each detector looks at every sheet as it is; flags per 1,000 formula cells,
  by source folder. The checker's flags are kept for people to judge.

Detectors: ``checker`` (``check.Checker`` at its default threshold), ``excel`` (Excel's
error-checking rules, ``check.inconsistent_formula_flags``) and ``excelint``
(``check.excelint_flags``); the baselines flag every cell they report and propose no repair.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import signal
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..check import Checker, excelint_flags, inconsistent_formula_flags
from ..check.mutations import MUTATION_KINDS, Mutation, Mutator
from ..formula import canonical_formula
from ..sheet import Workbook

__all__ = [
    "DETECTORS",
    "Detected",
    "InjectedCase",
    "calibration_table",
    "detectors",
    "run_injected",
    "run_unmodified",
    "summarize_injected",
    "time_limit",
]

DETECTORS = ("checker", "excel", "excelint")


@dataclass(frozen=True)
class Detected:
    """One flagged cell: where, why, and the repair (None from the baselines)."""

    row: int
    col: int
    kind: str
    confidence: float
    repair: str | None = None
    formula: str | None = None


Detector = Callable[[Workbook, str], list[Detected]]


def detectors(checker: Checker, min_confidence: float | None = None) -> dict[str, Detector]:
    """The three detectors of the module doc, each ``(workbook, sheet name) -> flags``."""
    def run_checker(workbook: Workbook, sheet: str) -> list[Detected]:
        report = checker.check(workbook, sheets=[sheet], min_confidence=min_confidence)
        return [Detected(f.row, f.col, f.kind, f.confidence, f.repair, f.formula) for f in report.flags]

    def run_excel(workbook: Workbook, sheet: str) -> list[Detected]:
        return [Detected(f.row, f.col, f.reason, f.score) for f in inconsistent_formula_flags(workbook, [sheet])]

    def run_excelint(workbook: Workbook, sheet: str) -> list[Detected]:
        return [Detected(f.row, f.col, f.reason, f.score) for f in excelint_flags(workbook, [sheet])]

    return {"checker": run_checker, "excel": run_excel, "excelint": run_excelint}


@dataclass
class InjectedCase:
    """One sheet with one injected mistake and what each detector flagged there."""

    source: str
    book: str
    sheet: str
    mutation: Mutation
    flags: dict[str, list[Detected]] = field(default_factory=dict)

    def found(self, detector: str) -> Detected | None:
        m = self.mutation
        return next((f for f in self.flags[detector] if (f.row, f.col) == (m.row, m.col)), None)

    def repaired(self, detector: str) -> bool:
        hit = self.found(detector)
        return (hit is not None and hit.repair is not None
                and canonical_formula(hit.repair, keep_absolute=True) == canonical_formula(self.mutation.original, keep_absolute=True))


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Raise ``TimeoutError`` in the block after ``seconds`` (main thread, POSIX only)."""
    def stop(signum: int, frame: Any) -> None:
        raise _Timeout()
    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    except _Timeout:
        raise TimeoutError(f"over {seconds} s") from None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def run_injected(books: Iterable[tuple[str, str, Workbook]], found_by: dict[str, Detector], seed: int, *,
                 sample_timeout: int = 60, skipped: list[tuple[str, str, str]] | None = None) -> Iterator[InjectedCase]:
    """One ``InjectedCase`` per sheet of ``books`` (``(source, name, workbook)``) that takes a
    mistake; sheets where none applies, or whose drawing runs over ``sample_timeout`` seconds,
    are appended to ``skipped`` with the reason."""
    for source, name, workbook in books:
        mutator = Mutator(workbook)
        for sheet in workbook.sheets:
            if not any(True for _ in sheet.formula_cells()):
                continue
            try:
                with time_limit(sample_timeout):
                    mutated = mutator.sample(random.Random(f"{seed}:{name}:{sheet.name}"), sheet=sheet.name)
            except TimeoutError:
                mutated = None
                reason = "timeout"
            else:
                reason = "no mutation applies"
            if mutated is None:
                if skipped is not None:
                    skipped.append((name, sheet.name, reason))
                continue
            case = InjectedCase(source, name, sheet.name, mutated.mutation)
            for detector, run in found_by.items():
                case.flags[detector] = run(mutated.workbook, sheet.name)
            yield case


def _prf(true: int, flags: int, mutations: int) -> dict[str, float]:
    precision = true / flags if flags else 0.0
    recall = true / mutations if mutations else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def summarize_injected(cases: list[InjectedCase], detector_names: Iterable[str] = DETECTORS) -> dict[str, Any]:
    """Precision, recall, F1 and repair accuracy per detector, overall and by mutation kind."""
    out: dict[str, Any] = {}
    for detector in detector_names:
        groups: dict[str, list[InjectedCase]] = defaultdict(list)
        for case in cases:
            groups["all"].append(case)
            groups[case.mutation.kind].append(case)
        table = {}
        for key in ["all", *(k for k in MUTATION_KINDS if k in groups)]:
            group = groups[key]
            true = sum(case.found(detector) is not None for case in group)
            flags = sum(len(case.flags[detector]) for case in group)
            repaired = sum(case.repaired(detector) for case in group)
            kind_right = sum(1 for case in group if (hit := case.found(detector)) is not None and hit.kind == case.mutation.kind)
            table[key] = {"mutations": len(group), "flags": flags, "true": true, **_prf(true, flags, len(group)),
                          "repair_accuracy": round(repaired / len(group), 4) if group else 0.0,
                          "kind_accuracy": round(kind_right / true, 4) if true else 0.0}
        out[detector] = table
    return out


def calibration_table(cases: list[InjectedCase], edges: tuple[float, ...] = (0.0, 0.3, 0.5, 0.7, 0.9, 1.01)) -> list[dict[str, Any]]:
    """The checker's flags binned by confidence: how many, their mean confidence, and how many
    were the injected mistake (a confidence deserves trust when the two agree)."""
    rows = []
    flags = [(f.confidence, (f.row, f.col) == (c.mutation.row, c.mutation.col)) for c in cases for f in c.flags["checker"]]
    for low, high in itertools.pairwise(edges):
        inside = [(p, hit) for p, hit in flags if low <= p < high]
        if inside:
            rows.append({"confidence": f"[{low:.1f}, {min(high, 1.0):.1f}{']' if high > 1 else ')'}", "flags": len(inside),
                         "mean_confidence": round(sum(p for p, _ in inside) / len(inside), 4),
                         "precision": round(sum(hit for _, hit in inside) / len(inside), 4)})
    return rows


def run_unmodified(books: Iterable[tuple[str, str, Workbook]], found_by: dict[str, Detector]) -> dict[str, Any]:
    """Flags per 1,000 formula cells on unmodified workbooks, per detector and by source, and
    the checker's flags themselves (``listed``)."""
    cells: dict[str, int] = defaultdict(int)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    listed: list[dict[str, Any]] = []
    for source, name, workbook in books:
        for sheet in workbook.sheets:
            n = sum(1 for _ in sheet.formula_cells())
            if not n:
                continue
            cells[source] += n
            for detector, run in found_by.items():
                flags = run(workbook, sheet.name)
                counts[detector][source] += len(flags)
                if detector == "checker":
                    listed.extend({"book": name, "sheet": sheet.name, "row": f.row, "col": f.col, "formula": f.formula,
                                   "kind": f.kind, "confidence": round(f.confidence, 4), "repair": f.repair} for f in flags)
    total = sum(cells.values())
    rates = {detector: {"flags": sum(by.values()), "per_1000": round(1000 * sum(by.values()) / total, 3) if total else 0.0,
                        "by_source": {s: {"formula_cells": cells[s], "flags": by.get(s, 0),
                                          "per_1000": round(1000 * by.get(s, 0) / cells[s], 3)} for s in sorted(cells)}}
             for detector, by in counts.items()}
    return {"formula_cells": total, "rates": rates, "checker_flags": listed}
