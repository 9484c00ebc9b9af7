"""Folder of workbooks -> JSONL examples (one per evaluation target) + statistics.

Each workbook is read once, in a worker process; every formula cell is parsed, the targets of
each sheet are chosen by the evaluation protocol (targets.py), and each target becomes one JSON
line holding its formula representation and its context window. Workbooks that cannot be read are
counted by reason and skipped. Unrepresentable formulas are kept as examples too (with
``representable: false`` and the reason), so nothing is silently dropped.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

from ..anchors import AnchorIndex, sheet_head, visible_names, workbook_tables
from ..constants import (
    DEFAULT_CONTEXT,
    KIND_BEYOND_WINDOW,
    KIND_DEFINED_NAME,
    KIND_IN_WINDOW,
    KIND_OTHER_SHEET,
    KIND_STRUCTURED,
    WINDOW_RADIUS,
    ContextSetting,
)
from ..context import SheetContext, check_context, format_value
from ..errors import FormulaError, WorkbookError
from ..formula import canonical_formula, formula_functions, reference_kinds, render_formula
from ..references import format_a1
from ..targets import Target, distinct_targets, iter_formula_cells
from ..xlsx.reader import ReadLimits, read_workbook

logger = logging.getLogger(__name__)

__all__ = ["WORKBOOK_SUFFIXES", "ExtractSummary", "extract", "extract_workbook", "find_workbooks"]

# Files picked up by the walk. Formats other than xlsx/xlsm are picked up too, so that they are
# reported (with how to convert them) instead of silently ignored.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods")
# Shares reported per source folder: a target counts once in each kind its references have.
SHARE_KEYS = ("all_in_window", "beyond_window", "other_sheet", "defined_name", "structured",
              "no_reference", "unrepresentable")


@dataclass
class WorkbookResult:
    """What one worker returns for one workbook.

    The examples, serialised as JSON lines, are in ``lines`` or, when the worker spooled them to
    disk (one workbook can hold 30,000 targets), in the file ``spool``.
    """

    workbook: str
    lines: list[str] = field(default_factory=list)
    spool: str | None = None
    error_reason: str | None = None
    error_message: str | None = None
    sheets: int = 0
    formula_cells: int = 0
    targets: int = 0
    distinct: int = 0
    representable: int = 0
    roundtrip_ok: int = 0
    not_representable: Counter[str] = field(default_factory=Counter)
    shares: Counter[str] = field(default_factory=Counter)
    roundtrip_failures: list[tuple[str, str]] = field(default_factory=list)


def source_of(workbook: str) -> str:
    """Top-level folder of a workbook path relative to the extract root ('.' at the root)."""
    parts = Path(workbook).parts
    return parts[0] if len(parts) > 1 else "."


def _share_keys(target: Target) -> list[str]:
    if target.formula is None:
        return ["unrepresentable"]
    kinds = reference_kinds(target.formula, own_sheet=target.sheet, origin=(target.row, target.col))
    keys = []
    if kinds <= {KIND_IN_WINDOW}:
        keys.append("all_in_window")
    if not kinds:
        keys.append("no_reference")
    for kind, key in ((KIND_BEYOND_WINDOW, "beyond_window"), (KIND_OTHER_SHEET, "other_sheet"),
                      (KIND_DEFINED_NAME, "defined_name"), (KIND_STRUCTURED, "structured")):
        if kind in kinds:
            keys.append(key)
    return keys


def _roundtrips(target: Target) -> bool:
    assert target.formula is not None
    try:
        rendered = render_formula(target.formula, (target.row, target.col))
        return canonical_formula(rendered) == canonical_formula(target.text)
    except FormulaError:
        return False


def example_record(
    workbook: str, target: Target, sheet_context: SheetContext, sheets: list[str], names: list[str],
    anchors: AnchorIndex | None = None, heads: list[str] | None = None,
    tables: list[tuple[str, int, list[str]]] | None = None,
) -> dict[str, Any]:
    """One JSONL example: where the target is, its formula representation and its context.

    ``sheets`` (the workbook's sheet names in tab order) and ``names`` (the defined names the
    target's sheet can see) are what pointers of the range head point into; ``heads`` gives a
    compact view of each sheet (``anchors.sheet_head``), and ``anchors`` the target's structural
    anchors (anchors.py).
    """
    window = sheet_context.window(target.row, target.col)
    formula = target.formula
    record: dict[str, Any] = {
        "workbook": workbook,
        "sheet": target.sheet,
        "sheets": sheets,
        "names": names,
        "cell": format_a1(target.row, target.col),
        "row": target.row,
        "col": target.col,
        "formula": target.text,
        "relative": target.key,
        "occurrences": target.occurrences,
        "representable": formula is not None,
        "reason": target.reason,
        "value": format_value(target.cell),
    }
    if formula is not None:
        record["sketch"] = list(formula.sketch)
        record["ranges"] = [asdict(ref) for ref in formula.ranges]
        record["functions"] = formula_functions(formula)
        record["reference_kinds"] = sorted(
            reference_kinds(formula, own_sheet=target.sheet, origin=(target.row, target.col))
        )
    if heads is not None:
        record["sheet_heads"] = heads
    if tables:
        own = sheet_context.sheet.table_at(target.row, target.col)
        record["tables"] = tables
        record["own_table"] = own.name if own is not None else None
    if anchors is not None:
        record["anchors"] = anchors.anchors(sheet_context.sheet, target.row, target.col, window.header_rows)
    record["context"] = window.to_dict()
    return record


def extract_workbook(
    path: Path, root: Path, *, context: ContextSetting = DEFAULT_CONTEXT, all_cells: bool = False,
    limits: ReadLimits | None = None, sink: TextIO | None = None, radius: int = WINDOW_RADIUS,
) -> WorkbookResult:
    """Read one workbook and build its examples and counts. Never raises for a bad workbook.

    Examples go to ``sink`` (one JSON line each) when given, else to ``result.lines``.
    """
    rel = path.relative_to(root).as_posix()
    result = WorkbookResult(workbook=rel)
    try:
        book = read_workbook(path, limits)
    except WorkbookError as err:
        result.error_reason, result.error_message = err.reason, str(err)
        return result
    result.sheets = len(book.sheets)
    anchors = AnchorIndex(book)
    heads = [sheet_head(s) for s in book.sheets]
    tables = workbook_tables(book)
    for sheet in book.sheets:
        all_targets = list(iter_formula_cells(sheet))
        result.formula_cells += len(all_targets)
        distinct = distinct_targets(all_targets)
        result.distinct += len(distinct)
        for target in distinct:
            if target.formula is None:
                assert target.reason is not None
                result.not_representable[target.reason] += 1
                continue
            result.representable += 1
            if _roundtrips(target):
                result.roundtrip_ok += 1
            elif len(result.roundtrip_failures) < 5:
                result.roundtrip_failures.append((target.text, render_formula(target.formula, (target.row, target.col))))
        chosen = all_targets if all_cells else distinct
        if not chosen:
            continue
        sheet_context = SheetContext(sheet, context, radius)
        names = visible_names(book, sheet.name)
        for target in chosen:
            result.targets += 1
            result.shares.update(_share_keys(target))
            record = example_record(rel, target, sheet_context, book.sheet_names, names, anchors, heads, tables)
            line = json.dumps(record, ensure_ascii=False, default=str)
            if sink is None:
                result.lines.append(line)
            else:
                sink.write(line + "\n")
    return result


def find_workbooks(root: Path) -> list[Path]:
    """Workbook files under ``root`` (recursively, sorted), skipping Office lock files (``~$x.xlsx``)."""
    if root.is_file():
        return [root]
    files = [
        p for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in WORKBOOK_SUFFIXES and not p.name.startswith("~$")
    ]
    return sorted(files)


@dataclass
class ExtractSummary:
    """Statistics of an extract run (printed as JSON with ``--json``)."""

    workbooks: int = 0
    workbooks_ok: int = 0
    workbooks_failed: Counter[str] = field(default_factory=Counter)
    sheets: int = 0
    formula_cells: int = 0
    targets: int = 0
    distinct_formulas: int = 0
    representable_formulas: int = 0
    roundtrip_ok: int = 0
    not_representable: Counter[str] = field(default_factory=Counter)
    by_source: dict[str, Counter[str]] = field(default_factory=dict)
    roundtrip_failures: list[tuple[str, str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    context: ContextSetting = DEFAULT_CONTEXT
    output: str = ""

    def add(self, result: WorkbookResult) -> None:
        self.workbooks += 1
        if result.error_reason is not None:
            self.workbooks_failed[result.error_reason] += 1
            self.failures.append((result.workbook, result.error_message or result.error_reason))
            return
        self.workbooks_ok += 1
        self.sheets += result.sheets
        self.formula_cells += result.formula_cells
        self.targets += result.targets
        self.distinct_formulas += result.distinct
        self.representable_formulas += result.representable
        self.roundtrip_ok += result.roundtrip_ok
        self.not_representable.update(result.not_representable)
        source = self.by_source.setdefault(source_of(result.workbook), Counter())
        source["targets"] += result.targets
        source.update(result.shares)
        self.roundtrip_failures.extend((result.workbook, a, b) for a, b in result.roundtrip_failures)

    def to_json(self) -> dict[str, Any]:
        def shares(counts: Counter[str]) -> dict[str, Any]:
            n = counts["targets"]
            return {"targets": n, **{k: round(counts[k] / n, 4) if n else 0.0 for k in SHARE_KEYS}}

        total: Counter[str] = Counter()
        for counts in self.by_source.values():
            total.update(counts)
        return {
            "workbooks": self.workbooks,
            "workbooks_ok": self.workbooks_ok,
            "workbooks_failed": dict(self.workbooks_failed),
            "sheets": self.sheets,
            "formula_cells": self.formula_cells,
            "targets": self.targets,
            "distinct_formulas": self.distinct_formulas,
            "representable": round(self.representable_formulas / self.distinct_formulas, 4)
            if self.distinct_formulas else 1.0,
            "roundtrip_exact": round(self.roundtrip_ok / self.representable_formulas, 6)
            if self.representable_formulas else 1.0,
            "not_representable": dict(self.not_representable.most_common()),
            "reference_kinds": shares(total),
            "by_source": {src: shares(c) for src, c in sorted(self.by_source.items())},
            "roundtrip_failures": [list(x) for x in self.roundtrip_failures[:20]],
            "context": self.context,
            "output": self.output,
            "seconds": round(self.seconds, 1),
        }


def _work(args: tuple[Path, Path, ContextSetting, bool, Path, int, int]) -> WorkbookResult:
    path, root, context, all_cells, spool_dir, number, radius = args
    spool = spool_dir / f"{number}.jsonl"
    try:
        with open(spool, "w", encoding="utf-8") as sink:
            result = extract_workbook(path, root, context=context, all_cells=all_cells, sink=sink, radius=radius)
        result.spool = str(spool)
        return result
    except Exception as err:  # a bug must not kill a 20-minute run: report it with the workbook
        logger.exception("internal error on %s", path)
        rel = path.relative_to(root).as_posix() if path != root else path.name
        return WorkbookResult(workbook=rel, error_reason="internal_error", error_message=f"{type(err).__name__}: {err}")


def extract(
    root: str | os.PathLike[str], output: str | os.PathLike[str], *, context: ContextSetting = DEFAULT_CONTEXT,
    all_cells: bool = False, workers: int | None = None, progress: bool | None = None,
    radius: int = WINDOW_RADIUS,
) -> ExtractSummary:
    """Extract examples from every workbook under ``root`` into the JSONL file ``output``.

    Args:
        root: a folder (walked recursively) or a single workbook.
        output: JSONL path; written atomically (``output.tmp`` then renamed).
        context: the context setting, ``values`` or ``formulas``.
        all_cells: one example per formula cell instead of per distinct relative formula.
        workers: processes (default: CPU count); 1 runs in this process.
        progress: show a progress bar (default: when stderr is a terminal).
        radius: half-size of the context window written with each example (a model whose
            encoder tiles the sheet needs a wider one than its own window: see model/chunks.py).
    """
    check_context(context)
    root_path = Path(root)
    if not root_path.exists():
        raise FileNotFoundError(f"no such file or folder: {root_path}")
    base = root_path if root_path.is_dir() else root_path.parent
    files = find_workbooks(root_path)
    workers = max(1, workers or os.cpu_count() or 1)
    summary = ExtractSummary(context=context, output=str(output))
    start = time.perf_counter()
    out_path = Path(output)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_name(out_path.name + ".tmp")
    spool_dir = Path(tempfile.mkdtemp(prefix="extract-", dir=out_path.parent))
    jobs = [(p, base, context, all_cells, spool_dir, i, radius) for i, p in enumerate(files)]
    with open(tmp_path, "w", encoding="utf-8") as out:
        results: Iterable[WorkbookResult]
        pool = None
        if workers > 1 and len(jobs) > 1:
            pool = multiprocessing.get_context("fork").Pool(min(workers, len(jobs)), maxtasksperchild=50)
            results = pool.imap(_work, jobs, chunksize=1)
        else:
            results = map(_work, jobs)
        try:
            bar = tqdm(results, total=len(jobs), unit="wb", desc="extract", disable=not progress if progress is not None else None)
            for result in bar:
                if result.error_reason:
                    logger.warning("skipped %s: %s", result.workbook, result.error_message)
                if result.spool is not None:
                    with open(result.spool, encoding="utf-8") as spooled:
                        shutil.copyfileobj(spooled, out)
                    os.unlink(result.spool)
                summary.add(result)
                bar.set_postfix(targets=summary.targets, failed=sum(summary.workbooks_failed.values()))
        finally:
            if pool is not None:
                pool.close()
                pool.join()
            shutil.rmtree(spool_dir, ignore_errors=True)
    os.replace(tmp_path, out_path)
    summary.seconds = time.perf_counter() - start
    return summary
