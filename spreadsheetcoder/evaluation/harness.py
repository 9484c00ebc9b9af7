"""Evaluate a predictor and the baselines on a folder of workbooks, by the fixed protocol.

``evaluate_folder(root, predictor=model, split="dev")`` walks the workbooks of one split, takes
one target per distinct relative formula per sheet (``targets.list_targets``), empties it, and
scores the model's top-k, the rule baseline and the copy baseline on it (``metrics``): overall,
by function, by source folder, by reference kind, by sketch length, and averaged per workbook.
Unrepresentable targets stay in every denominator. With ``predictor=None`` only the baselines run.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

from openpyxl.formula.tokenizer import Token, Tokenizer
from tqdm import tqdm

from ..constants import CONTEXT_FORMULAS, DEFAULT_CONTEXT, REFERENCE_KINDS, ContextSetting
from ..context import check_context
from ..data.extract import find_workbooks, source_of
from ..data.split import SPLITS, WorkbookSplitter
from ..errors import ConfigError, WorkbookError
from ..formula import formula_functions, reference_kinds
from ..references import format_a1
from ..sheet import Sheet, Workbook
from ..targets import Target, list_targets
from ..xlsx.reader import read_workbook
from .baselines import FormulaIndex, copy_candidates, rule_candidates
from .execution import cached_value
from .metrics import Metrics, exec_match, macro_summarize, target_hits
from .types import Candidate, Predictor

logger = logging.getLogger(__name__)

__all__ = ["BASELINES", "SPLIT_CHOICES", "Candidate", "Predictor", "evaluate_folder", "evaluate_sheet"]

SPLIT_CHOICES = (*SPLITS, "all")
BASELINES = ("rule", "copy")
# Breakdown keys of targets that have no reference kind.
NO_REFERENCE = "no_reference"
UNREPRESENTABLE = "unrepresentable"
NO_FUNCTION = "(none)"
_PREFIXES = ("_XLFN.", "_XLWS.")
_BREAKDOWNS = ("by_function", "by_source", "by_reference_kind", "by_sketch_length")


def _baseline_candidates(texts: Sequence[str], source: str) -> list[Candidate]:
    """Rule baselines have no probabilities: logprob 0, confidence 1/(rank+1)."""
    return [Candidate(text, 0.0, 1.0 / (rank + 1), source) for rank, text in enumerate(texts)]


@contextmanager
def _emptied(sheet: Sheet, cell: tuple[int, int]) -> Iterator[Sheet]:
    """``sheet`` with ``cell`` removed, put back on exit: the protocol's emptied target, without
    copying the sheet (a copy per target costs O(cells) each)."""
    removed = sheet.cells.pop(cell, None)
    try:
        yield sheet
    finally:
        if removed is not None:
            sheet.cells[cell] = removed


def _functions(target: Target) -> list[str]:
    """Distinct functions the target calls, in order (read from the tokens when unrepresentable)."""
    if target.formula is not None:
        names = formula_functions(target.formula)
    else:
        try:
            items = Tokenizer(target.text).items
        except Exception:  # the tokenizer raises several types on broken text
            items = []
        names = []
        for token in items:
            if token.type == Token.FUNC and token.subtype == Token.OPEN:
                name = token.value[:-1].rsplit(":", 1)[-1].lstrip("@").upper()
                while name.startswith(_PREFIXES):
                    name = name[6:]
                names.append(name)
    return list(dict.fromkeys(names))


def _kinds(target: Target) -> list[str]:
    """Reference kinds the target uses, in ``REFERENCE_KINDS`` order (none when unrepresentable)."""
    if target.formula is None:
        return []
    kinds = reference_kinds(target.formula, own_sheet=target.sheet, origin=(target.row, target.col))
    return [kind for kind in REFERENCE_KINDS if kind in kinds]


def evaluate_sheet(
    workbook: Workbook, sheet: Sheet, targets: Sequence[Target], *, predictor: Predictor | None,
    context: ContextSetting, k: int, systems: Mapping[str, Predictor] | None = None,
) -> list[dict[str, Any]]:
    """Score every system on ``targets`` of ``sheet``: one record per target.

    Each record holds ``cell``, ``formula``, ``relative``, ``functions``, ``reference_kinds``,
    ``sketch_length``, ``representable``, ``reason``, ``covered`` and, per system (``"model"``
    when ``predictor`` is given, ``"rule"``, ``"copy"``), ``{"candidates": [...], "hits": {...}}``
    with the hit booleans of ``metrics.target_hits``. ``systems`` adds more predictors by name
    (the full suggestion pipeline as ``"full"``, its ablations). Predictors get the original
    sheet, in one call for all targets, and mask each target themselves; the baselines and
    execution match see each target's cell emptied.
    """
    cells = [(t.row, t.col) for t in targets]
    # The pipeline first: it asks the model for more candidates than k, which the model alone reuses.
    extra = {name: _predict(system, workbook, sheet, cells, context, k) for name, system in (systems or {}).items()}
    predicted: list[list[Candidate]] | None = None
    if predictor is not None:
        predicted = _predict(predictor, workbook, sheet, cells, context, k)
    index = FormulaIndex.from_sheet(sheet) if context == CONTEXT_FORMULAS else None
    records = []
    for i, target in enumerate(targets):
        origin = (target.row, target.col)
        covered = gap = None
        if predictor is not None:
            gap_of = getattr(predictor, "coverage_gap", None)
            if gap_of is not None:
                gap = gap_of(workbook, sheet, target)
                covered = gap is None
            else:
                covered = target.formula is not None and bool(predictor.covers(workbook, sheet, target))
        record: dict[str, Any] = {
            "sheet": sheet.name,
            "cell": format_a1(*origin),
            "formula": target.text,
            "relative": target.key,
            "functions": _functions(target),
            "reference_kinds": _kinds(target),
            "sketch_length": None if target.formula is None else len(target.formula.sketch),
            "representable": target.formula is not None,
            "reason": target.reason,
            "covered": covered,
            "coverage_gap": gap,
        }
        with _emptied(sheet, origin):
            offered: dict[str, list[Candidate]] = {}
            if predicted is not None:
                offered["model"] = list(predicted[i])[:k]
            for name, found in extra.items():
                offered[name] = list(found[i])[:k]
            offered["rule"] = _baseline_candidates(rule_candidates(sheet, *origin, context=context, k=k), "rule")
            offered["copy"] = _baseline_candidates(
                copy_candidates(sheet, *origin, context=context, k=k, index=index), "copy"
            )
            executed: dict[str, bool | None] = {}  # top-1 texts shared by systems run once
            checkable = cached_value(target.cell) is not None
            for system, candidates in offered.items():
                texts = [c.formula for c in candidates]
                if not texts:
                    exec_top1 = False if checkable else None  # nothing offered: a miss
                elif texts[0] in executed:
                    exec_top1 = executed[texts[0]]
                else:
                    exec_top1 = executed[texts[0]] = exec_match(texts[0], target.cell, sheet, workbook, origin)
                coverage = bool(covered) if system == "model" or system in extra else bool(texts)
                record[system] = {
                    "candidates": [asdict(c) for c in candidates],
                    "hits": target_hits(texts, target.text, origin, coverage=coverage, exec_top1=exec_top1),
                }
        records.append(record)
    return records


def _predict(predictor: Predictor, workbook: Workbook, sheet: Sheet, cells: list[tuple[int, int]], context: ContextSetting,
             k: int) -> list[list[Candidate]]:
    found = predictor.predict_targets(workbook, sheet, cells, context=context, k=k)
    if len(found) != len(cells):
        raise ValueError(f"predictor returned {len(found)} candidate lists for {len(cells)} cells")
    return found


class _Breakdown:
    """Metrics per key (a function, a source, ...) and system."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, Metrics]] = {}

    def add(self, keys: Sequence[str], record: dict[str, Any], systems: Sequence[str]) -> None:
        for key in keys:
            group = self.groups.setdefault(key, {s: Metrics() for s in systems})
            for system in systems:
                group[system].add(record[system]["hits"])

    def size(self, key: str) -> int:
        return len(next(iter(self.groups[key].values())))

    def to_json(self, order: str | Sequence[str] = "name") -> dict[str, Any]:
        """``{key: {"targets": n, system: metrics}}``; keys by ``order``: ``"name"``, ``"count"``
        (most targets first), ``"number"`` (numeric keys ascending, others last) or a list."""
        if order == "name":
            keys = sorted(self.groups)
        elif order == "count":
            keys = sorted(self.groups, key=lambda key: (-self.size(key), key))
        elif order == "number":
            keys = sorted(self.groups, key=lambda key: (not key.isdigit(), int(key) if key.isdigit() else 0, key))
        else:
            keys = [key for key in order if key in self.groups]
        return {
            key: {"targets": self.size(key), **{s: m.summarize() for s, m in self.groups[key].items()}}
            for key in keys
        }


def evaluate_folder(
    root: str | Path,
    *,
    predictor: Predictor | None,
    split: str = "dev",
    context: ContextSetting = DEFAULT_CONTEXT,
    k: int = 5,
    splitter: WorkbookSplitter | None = None,
    predictions: str | Path | None = None,
    progress: bool | None = None,
    limit_workbooks: int | None = None,
    systems: Mapping[str, Predictor] | None = None,
) -> dict[str, Any]:
    """Evaluate ``predictor`` (or only the baselines, when None) on the workbooks under ``root``.

    Args:
        root: a folder of workbooks (or one workbook file).
        predictor: the system under test; None scores the baselines alone.
        split: ``"train"``, ``"dev"``, ``"test"`` or ``"all"``; a workbook's split comes from
            ``splitter`` given its path relative to ``root`` (posix).
        context: ``"values"`` or ``"formulas"`` (are neighbouring formulas visible?).
        k: candidates per target and system.
        splitter: defaults to ``root/SPLITS.tsv`` when it exists, else the hash split.
        predictions: a JSONL file to write, one line per target (see ``evaluate_sheet``, plus
            ``workbook`` and ``source``).
        progress: show a progress bar over workbooks (None: only on a terminal).
        limit_workbooks: evaluate at most this many workbooks of the split (in path order).
        systems: more systems by name, scored beside the model and the baselines: ``"full"``
            (the suggestion pipeline, ``suggest.Suggester``) and its ablations.

    Returns:
        ``{"targets", "workbooks", "failed", "split", "context", "k", "model" and "coverage_gaps"
        (with a predictor),
        "baselines": {"rule", "copy"}, "by_function", "by_source", "by_reference_kind",
        "by_sketch_length", "macro_by_workbook"}``; metric dicts as ``metrics.summarize``.
        Workbooks that cannot be read are skipped with a warning and counted in ``failed``.

    Raises:
        ConfigError (a ValueError): an unknown split or context setting, or k < 1.
        ValueError: a predictor returning the wrong number of candidate lists.
    """
    _check_options(split, context, k)
    files = _split_files(Path(root), split, splitter, limit_workbooks)
    extra = dict(systems or {})
    totals = _Totals((("model",) if predictor is not None else ()) + tuple(extra) + BASELINES, list(extra))
    started = time.perf_counter()
    with ExitStack() as stack:
        out: IO[str] | None = None
        if predictions is not None:
            Path(predictions).parent.mkdir(parents=True, exist_ok=True)
            out = stack.enter_context(open(predictions, "w", encoding="utf-8"))
        bar = tqdm(files, desc=f"evaluate {split}", unit="workbook", disable=None if progress is None else not progress)
        for path, rel in bar:
            try:
                book = read_workbook(path)
            except WorkbookError as exc:
                logger.warning("skipping %s: %s", rel, exc)
                totals.failed += 1
                continue
            totals.workbooks += 1
            _evaluate_workbook(book, rel, totals, out, predictor=predictor, context=context, k=k, systems=extra)
    elapsed = time.perf_counter() - started
    logger.info("evaluated %d targets of %d workbooks (%d failed) in %.1f s", totals.targets, totals.workbooks,
                totals.failed, elapsed)
    return totals.summarize(split=split, context=context, k=k, with_model=predictor is not None)


def _check_options(split: str, context: ContextSetting, k: int) -> None:
    if split not in SPLIT_CHOICES:
        raise ConfigError(f"unknown split {split!r}; expected one of {SPLIT_CHOICES}")
    check_context(context)
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")


def _split_files(root: Path, split: str, splitter: WorkbookSplitter | None,
                 limit_workbooks: int | None) -> list[tuple[Path, str]]:
    """``(path, path relative to root)`` of the workbooks of ``split`` under ``root``, in path order."""
    if splitter is None:
        splits_file = root / "SPLITS.tsv"
        splitter = WorkbookSplitter(splits_file if splits_file.is_file() else None)
    base = root.parent if root.is_file() else root
    files = [(p, p.relative_to(base).as_posix()) for p in find_workbooks(root)]
    if split != "all":
        files = [(p, rel) for p, rel in files if splitter(rel) == split]
    if limit_workbooks is not None:
        files = files[:limit_workbooks]
    return files


class _Totals:
    """What ``evaluate_folder`` adds up over the records of its workbooks, per system: overall, by
    breakdown, per workbook, the sources of the extra systems' top-1 and the model's coverage gaps."""

    def __init__(self, systems: tuple[str, ...], extra: list[str]) -> None:
        self.systems = systems  # the first one scores every target
        self.extra = extra
        self.overall = {s: Metrics() for s in systems}
        self.breakdowns = {name: _Breakdown() for name in _BREAKDOWNS}
        self.per_workbook: list[dict[str, Metrics]] = []
        self.source_counts: dict[str, dict[str, Counter[str]]] = {name: {"top1": Counter(), "right_top1": Counter()}
                                                                  for name in extra}
        self.gaps: Counter[str] = Counter()
        self.workbooks = self.failed = 0

    @property
    def targets(self) -> int:
        return len(self.overall[self.systems[0]])

    def add(self, record: dict[str, Any], workbook: dict[str, Metrics]) -> None:
        """Count one target's record, into the totals and into its ``workbook``'s metrics."""
        if record["coverage_gap"] is not None:
            self.gaps[record["coverage_gap"]] += 1
        for system in self.systems:
            self.overall[system].add(record[system]["hits"])
            workbook[system].add(record[system]["hits"])
        _add_breakdowns(self.breakdowns, record, self.systems)
        for name in self.extra:
            _count_sources(self.source_counts[name], record[name])

    def summarize(self, *, split: str, context: ContextSetting, k: int, with_model: bool) -> dict[str, Any]:
        """The result of ``evaluate_folder`` (see there)."""
        n = self.targets
        overall, breakdowns = self.overall, self.breakdowns
        result: dict[str, Any] = {
            "targets": n, "workbooks": self.workbooks, "failed": self.failed, "split": split, "context": context,
            "k": k,
        }
        if with_model:
            result["model"] = overall["model"].summarize()
            # Why the model cannot express the targets it does not cover: share of all targets by cause.
            result["coverage_gaps"] = {cause: round(c / n, 4) if n else 0.0 for cause, c in self.gaps.most_common()}
        for name in self.extra:
            result[name] = overall[name].summarize()
        if self.extra:
            result["sources"] = {
                name: {kind: {src: round(c / n, 4) if n else 0.0 for src, c in counts.most_common()}
                       for kind, counts in self.source_counts[name].items()}
                for name in self.extra
            }
        result["baselines"] = {s: overall[s].summarize() for s in BASELINES}
        result["by_function"] = breakdowns["by_function"].to_json("count")
        result["by_source"] = breakdowns["by_source"].to_json("name")
        result["by_reference_kind"] = breakdowns["by_reference_kind"].to_json(
            (*REFERENCE_KINDS, NO_REFERENCE, UNREPRESENTABLE))
        result["by_sketch_length"] = breakdowns["by_sketch_length"].to_json("number")
        result["macro_by_workbook"] = {
            "workbooks": len(self.per_workbook),
            **{s: macro_summarize([m[s].rows for m in self.per_workbook]) for s in self.systems},
        }
        return result


def _evaluate_workbook(book: Workbook, rel: str, totals: _Totals, out: IO[str] | None, *,
                       predictor: Predictor | None, context: ContextSetting, k: int, systems: Mapping[str, Predictor]) -> None:
    """Score every sheet of ``book`` (``rel`` under the root) into ``totals``; one JSONL line per
    target to ``out``."""
    source = source_of(rel)
    mine = {s: Metrics() for s in totals.systems}
    for sheet in book.sheets:
        targets = list_targets(sheet)
        if not targets:
            continue
        for record in evaluate_sheet(book, sheet, targets, predictor=predictor, context=context, k=k,
                                     systems=systems):
            record = {"workbook": rel, "source": source, **record}
            totals.add(record, mine)
            if out is not None:
                out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    if len(mine[totals.systems[0]]):
        totals.per_workbook.append(mine)


def _count_sources(counts: dict[str, Counter[str]], system: dict[str, Any]) -> None:
    """Which source supplied the top-1 of one target (and whether it was right)."""
    if system["candidates"]:
        source = system["candidates"][0].get("source", "model")
        counts["top1"][source] += 1
        if system["hits"]["formula_top1"]:
            counts["right_top1"][source] += 1


def _add_breakdowns(breakdowns: dict[str, _Breakdown], record: dict[str, Any], systems: Sequence[str]) -> None:
    length = record["sketch_length"]
    kinds = [UNREPRESENTABLE] if not record["representable"] else record["reference_kinds"] or [NO_REFERENCE]
    breakdowns["by_function"].add(record["functions"] or [NO_FUNCTION], record, systems)
    breakdowns["by_source"].add([record["source"]], record, systems)
    breakdowns["by_reference_kind"].add(kinds, record, systems)
    breakdowns["by_sketch_length"].add([UNREPRESENTABLE if length is None else str(length)], record, systems)
