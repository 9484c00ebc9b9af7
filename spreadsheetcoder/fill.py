"""Predict and fill: the library behind ``spreadsheetcoder predict``/``fill`` and the service's ``/v1/fill``.

``predict_cells`` asks a ``FormulaPredictor`` for the top-k formulas of cells named in A1 notation.
``fill_bytes`` predicts the named empty cells of an .xlsx package and writes the top formula of each
into it with the lossless writer (writer.py); ``fill_file`` does the same from a file to a file,
atomically. Cells of one sheet are predicted together, so their shared rows and columns are
encoded once (model/chunks.py). ``propose_cells`` finds cells worth filling when none are named:
empty cells at the end of (or inside) a fill-down formula column, and empty cells of a totals row.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .constants import DEFAULT_MIN_CONFIDENCE, ContextSetting
from .context import check_context
from .errors import ConfigError, SpreadsheetCoderError
from .references import column_letter, parse_cell_list, quote_sheet
from .sheet import CellType, Sheet, Workbook
from .suggest.types import Candidate
from .xlsx.reader import read_workbook
from .xlsx.writer import CellNotEmpty, WriteError, set_formulas, write_atomic

if TYPE_CHECKING:
    from .suggest.predictor import FormulaPredictor
    from .suggest.suggester import Suggester

__all__ = ["DEFAULT_MIN_CONFIDENCE", "STATUSES", "CellResult", "CellSpecError", "FillPlan", "FillReport",
           "check_fill_paths", "display_formula", "fill_bytes", "fill_file", "plan_fill", "predict_cells",
           "prediction_records", "propose_cells", "resolve_cells", "write_fill"]

# What happened to each requested cell.
STATUSES = (
    "filled",  # the top formula was written
    "not_empty",  # the cell holds a value or a formula: left alone
    "low_confidence",  # the top formula scored below --min-confidence: left empty
    "no_prediction",  # the model produced no formula that renders at this cell
    "merged",  # inside a merged area (not its top-left cell): nothing can be written there
)
_PREFIX_RE = re.compile(r"_xl(?:fn|ws)\.", re.IGNORECASE)
_TOTAL_RE = re.compile(r"\b(?:grand\s+)?(?:sub)?totals?\b|\bsum\b", re.IGNORECASE)


class CellSpecError(SpreadsheetCoderError, ValueError):
    """A cell list that names no cell of the workbook (bad syntax, unknown sheet)."""


def display_formula(formula: str) -> str:
    """A formula as Excel shows it and Office.js ``range.formulas`` takes it: without the
    ``_xlfn.``/``_xlws.`` prefixes files store for newer functions (string literals untouched)."""
    parts = formula.split('"')
    return '"'.join(_PREFIX_RE.sub("", p) if i % 2 == 0 else p for i, p in enumerate(parts))


def resolve_cells(workbook: Workbook, spec: str | Sequence[str]) -> list[tuple[Sheet, int, int]]:
    """``"Sheet1!F2:F4,C9"`` -> ``[(sheet, row, col), ...]`` in the order given, duplicates dropped.

    Cells without a sheet name are on the first worksheet. Sheet names match case-insensitively.
    Raises ``CellSpecError`` for bad syntax or a sheet the workbook does not have.
    """
    text = spec if isinstance(spec, str) else ",".join(spec)
    try:
        cells = parse_cell_list(text)
    except ValueError as exc:
        raise CellSpecError(str(exc)) from None
    if not cells:
        raise CellSpecError("no cells given")
    out: dict[tuple[int, int, int], tuple[Sheet, int, int]] = {}
    for name, row, col in cells:
        try:
            sheet = workbook.sheet_or_first(name)
        except KeyError as exc:
            raise CellSpecError(exc.args[0]) from None
        out.setdefault((workbook.sheets.index(sheet), row, col), (sheet, row, col))
    return list(out.values())


def cell_name(sheet: Sheet, row: int, col: int) -> str:
    return f"{quote_sheet(sheet.name)}!{column_letter(col)}{row}"


def predict_cells(predictor: FormulaPredictor | Suggester, workbook: Workbook, cells: Sequence[tuple[Sheet, int, int]], *,
                  k: int = 5, context: ContextSetting | None = None, progress: bool = False) -> list[list[Candidate]]:
    """Top-k candidates for each cell (best first), the cells of each sheet predicted together.

    A cell that holds something is predicted as if it were empty (the model never sees a target's
    own content)."""
    if context is not None:
        check_context(context)
    if k < 1:
        raise ConfigError(f"k must be at least 1, got {k}")
    results: list[list[Candidate]] = [[] for _ in cells]
    by_sheet: dict[int, list[int]] = {}
    for i, (sheet, _, _) in enumerate(cells):
        by_sheet.setdefault(workbook.sheets.index(sheet), []).append(i)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cells), desc="predicting", unit="cell", disable=None if len(cells) >= 20 else True)
    step = max(1, predictor.batch_size)
    for sheet_index, members in by_sheet.items():
        sheet = workbook.sheets[sheet_index]
        for start in range(0, len(members), step):
            part = members[start:start + step]
            found = predictor.predict_targets(workbook, sheet, [(cells[i][1], cells[i][2]) for i in part],
                                              context=context, k=k)
            for i, candidates in zip(part, found, strict=True):
                results[i] = candidates
            if bar is not None:
                bar.update(len(part))
    if bar is not None:
        bar.close()
    return results


def prediction_records(cells: Sequence[tuple[Sheet, int, int]],
                       found: Sequence[Sequence[Candidate]]) -> list[dict[str, Any]]:
    """``predict``'s result, one record per cell: ``cell`` ('Sheet'!A1), ``holds`` (its formula or
    value, None when empty) and ``candidates`` (best first: ``formula`` as Excel shows it,
    ``confidence`` and ``logprob`` rounded to 6 places, ``source``)."""
    out: list[dict[str, Any]] = []
    for (sheet, row, col), candidates in zip(cells, found, strict=True):
        cell = sheet.get(row, col)
        holds = None if cell is None or cell.is_empty else (cell.formula or cell.value)
        out.append({"cell": cell_name(sheet, row, col), "holds": holds,
                    "candidates": [{"formula": display_formula(c.formula), "confidence": round(c.confidence, 6),
                                    "logprob": round(c.logprob, 6), "source": c.source} for c in candidates]})
    return out


def _is_number(sheet: Sheet, row: int, col: int) -> bool:
    cell = sheet.get(row, col)
    return cell is not None and cell.type is CellType.NUMBER


def _data_columns(sheet: Sheet, row: int, col: int) -> set[int]:
    """Columns of the block of ``row`` around ``col`` (the run of non-empty cells on either side)
    that hold data rather than formulas."""
    out: set[int] = set()
    for step in (-1, 1):
        c = col + step
        while c >= 1 and (cell := sheet.get(row, c)) is not None and not cell.is_empty:
            if cell.formula is None:
                out.add(c)
            c += step
    return out


def propose_cells(workbook: Workbook) -> list[tuple[Sheet, int, int]]:
    """Empty cells that likely want a formula, sheet by sheet in reading order:

    - fill-down gaps: empty cells below a run of at least two formulas in a column, for as long as
      the rows below carry data in (at least half of) the data columns of the run's last row (its
      block: the cells left and right of the formula up to an empty one), and holes with a formula
      directly above and below;
    - totals rows: empty cells of a row labelled "Total"/"Subtotal"/"Sum" under two numbers.
    """
    found: dict[tuple[int, int, int], tuple[Sheet, int, int]] = {}
    for s, sheet in enumerate(workbook.sheets):
        def has_formula(r: int, c: int, sheet: Sheet = sheet) -> bool:
            cell = sheet.get(r, c)
            return cell is not None and cell.formula is not None

        def is_empty(r: int, c: int, sheet: Sheet = sheet) -> bool:
            cell = sheet.get(r, c)
            return cell is None or cell.is_empty

        for r, c, _ in sheet.formula_cells():
            if not (has_formula(r - 1, c) and is_empty(r + 1, c)):
                continue
            pattern = _data_columns(sheet, r, c)
            below = r + 1
            while pattern and below <= sheet.max_row and is_empty(below, c):
                shared = {x for x in pattern if not is_empty(below, x)}
                if len(shared) * 2 < len(pattern) and not has_formula(below + 1, c):
                    break
                found.setdefault((s, below, c), (sheet, below, c))
                below += 1
        rows: dict[int, list[tuple[int, Any]]] = {}
        for (r, c), cell in sheet.cells.items():
            if cell.type is CellType.STRING:
                rows.setdefault(r, []).append((c, cell.value))
        for r, labels in rows.items():
            if not any(_TOTAL_RE.search(str(text)) for _, text in labels):
                continue
            for c in range(1, sheet.max_col + 1):
                if is_empty(r, c) and _is_number(sheet, r - 1, c) and _is_number(sheet, r - 2, c):
                    found.setdefault((s, r, c), (sheet, r, c))
    return sorted(found.values(), key=lambda x: (workbook.sheets.index(x[0]), x[1], x[2]))


@dataclass
class CellResult:
    """The outcome for one requested cell (``status`` is one of ``STATUSES``)."""

    cell: str  # 'Sheet'!A1
    status: str
    formula: str | None = None  # the formula written (or that would have been), as Excel shows it
    confidence: float | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)  # top-k: formula, confidence
    detail: str | None = None


@dataclass
class FillReport:
    """What ``fill`` did: one ``CellResult`` per requested cell, in the order asked."""

    input: str | None
    output: str | None
    model: str
    context: ContextSetting
    min_confidence: float
    cells: list[CellResult]
    seconds: float = 0.0
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {status: sum(c.status == status for c in self.cells) for status in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["counts"] = self.counts
        return data


@dataclass
class FillPlan:
    """The cells one fill asked for: ``targets`` in the order asked, the ``results`` already known
    (cells that hold something or lie inside merged areas) and the indices of the cells to predict."""

    workbook: Workbook
    targets: list[tuple[Sheet, int, int]]
    results: dict[int, CellResult]
    wanted: list[int]

    def cells_to_predict(self) -> list[tuple[Sheet, int, int]]:
        return [self.targets[i] for i in self.wanted]

    def report_cells(self) -> list[CellResult]:
        """One result per target, in the order asked (after ``write_fill``)."""
        return [self.results[i] for i in range(len(self.targets))]


def plan_fill(workbook: Workbook, cells: str | Sequence[str] | None, *, propose: bool = False) -> FillPlan:
    """Which of ``cells`` (and, with ``propose``, of ``propose_cells``) can be filled.

    Raises:
        CellSpecError: no cells named and none to propose; bad syntax; an unknown sheet.
    """
    if not cells and not propose:
        raise CellSpecError("name the cells to fill (e.g. 'Sheet1!F2:F40'), or ask fill to propose them")
    targets = resolve_cells(workbook, cells) if cells else []
    if propose:
        seen = {(workbook.sheets.index(s), r, c) for s, r, c in targets}
        targets += [t for t in propose_cells(workbook) if (workbook.sheets.index(t[0]), t[1], t[2]) not in seen]
    results: dict[int, CellResult] = {}
    wanted: list[int] = []
    for i, (sheet, row, col) in enumerate(targets):
        name = cell_name(sheet, row, col)
        cell = sheet.get(row, col)
        merged = sheet.merged_at(row, col)
        if cell is not None and not cell.is_empty:
            content = "a formula" if cell.formula else f"the value {cell.value!r}"
            results[i] = CellResult(name, "not_empty", detail=f"holds {content}")
        elif merged is not None and (row, col) != (merged[0], merged[1]):
            results[i] = CellResult(name, "merged", detail="inside a merged area")
        else:
            wanted.append(i)
    return FillPlan(workbook, targets, results, wanted)


def _decide(plan: FillPlan, found: Sequence[Sequence[Candidate]],
            min_confidence: float) -> tuple[dict[str, dict[tuple[int, int], str]], dict[int, str]]:
    """Each predicted cell's result; the formulas to write (sheet -> cell -> formula) and their cells."""
    edits: dict[str, dict[tuple[int, int], str]] = {}
    stored: dict[int, str] = {}
    for i, candidates in zip(plan.wanted, found, strict=True):
        sheet, row, col = plan.targets[i]
        shown = [{"formula": display_formula(c.formula), "confidence": round(c.confidence, 6)} for c in candidates]
        result = plan.results[i] = CellResult(cell_name(sheet, row, col), "filled", candidates=shown)
        if not candidates:
            result.status, result.detail = "no_prediction", "no formula renders at this cell"
            continue
        top = candidates[0]
        result.formula, result.confidence = display_formula(top.formula), round(top.confidence, 6)
        if top.confidence < min_confidence:
            result.status = "low_confidence"
            result.detail = f"confidence {top.confidence:.3f} < {min_confidence}"
            continue
        edits.setdefault(sheet.name, {})[(row, col)] = top.formula
        stored[i] = sheet.name
    return edits, stored


def write_fill(data: bytes, plan: FillPlan, found: Sequence[Sequence[Candidate]], *, min_confidence: float) -> bytes:
    """The package ``data`` with the top formula of each confident prediction written in; fills in
    ``plan.results`` for every predicted cell (``found`` is in the order of ``plan.wanted``)."""
    edits, stored = _decide(plan, found, min_confidence)
    output = data
    while edits:
        try:
            output = set_formulas(data, edits)
            break
        except CellNotEmpty as exc:  # the XML holds something the reader shows as empty (e.g. an empty string)
            for i, name in list(stored.items()):
                sheet, row, col = plan.targets[i]
                if name.casefold() == exc.sheet.casefold() and cell_name(sheet, row, col).endswith(f"!{exc.cell}"):
                    edits[name].pop((row, col), None)
                    plan.results[i].status, plan.results[i].detail = "not_empty", f"holds {exc.content}"
                    del stored[i]
            edits = {name: cells for name, cells in edits.items() if cells}
    return output


def fill_bytes(data: bytes, cells: str | Sequence[str] | None, predictor: FormulaPredictor | Suggester, *,
               min_confidence: float = DEFAULT_MIN_CONFIDENCE, context: ContextSetting | None = None, k: int = 5, propose: bool = False,
               progress: bool = False, label: str | None = None,
               workbook: Workbook | None = None) -> tuple[bytes, FillReport]:
    """Fill cells of an .xlsx package given as bytes; return the new package and the report.

    ``read_workbook`` → ``plan_fill`` → ``predict_cells`` → ``write_fill`` (the service runs the same
    steps, with its own read limits and the predictions in slices).

    Args:
        data: the workbook's bytes (never modified).
        cells: A1 cells and areas (``"Sheet1!F2:F40,Summary!C9"``); None with ``propose=True`` lets
            ``propose_cells`` choose them.
        predictor: the suggestion pipeline (``suggest.load_suggester``), or the model alone.
        min_confidence: cells whose top formula's confidence is below this are left empty
            (``low_confidence``); the default keeps precision at 90% or more on the dev split.
        context: ``formulas`` or ``values`` (default: ``predictor.default_context``, ``formulas``
            for the suggestion pipeline).
        k: candidates kept in the report per cell.
        propose: add the cells ``propose_cells`` finds.
        workbook: ``data`` already read (with the caller's own limits), so it is not parsed again.

    Raises:
        WorkbookError: unreadable input. CellSpecError: bad cells. ConfigError: bad options.
    """
    if not 0.0 <= min_confidence <= 1.0:
        raise ConfigError(f"min_confidence must be in [0, 1], got {min_confidence}")
    started = time.perf_counter()
    context = context or predictor.default_context
    plan = plan_fill(workbook if workbook is not None else read_workbook(data), cells, propose=propose)
    before = dict(predictor.stats)
    found = predict_cells(predictor, plan.workbook, plan.cells_to_predict(), k=k, context=context, progress=progress)
    output = write_fill(data, plan, found, min_confidence=min_confidence)
    stats = {key: predictor.stats[key] - before.get(key, 0) for key in predictor.stats}
    report = FillReport(input=label, output=None, model=predictor.model_path, context=context,
                        min_confidence=min_confidence, cells=plan.report_cells(),
                        seconds=round(time.perf_counter() - started, 3), stats=stats)
    return output, report


def check_fill_paths(source: str | os.PathLike[str], output: str | os.PathLike[str] | None, *,
                     in_place: bool = False) -> None:
    """What ``fill_file`` refuses, checked without reading anything (before a model loads): an
    output folder that does not exist, a missing input, and ``output`` equal to ``source`` without
    ``in_place`` (``WriteError``, ``FileNotFoundError``, ``WriteError``). With ``output`` None
    (``check`` without ``--fix``), only the input is checked."""
    src = Path(source)
    dst = Path(output) if output is not None else None
    folder = None if dst is None else dst.parent if str(dst.parent) else Path(".")
    if folder is not None and not folder.is_dir():
        raise WriteError(f"output folder {str(folder)!r} does not exist")
    if not src.is_file():
        raise FileNotFoundError(f"no such workbook: {src}")
    if dst is not None and not in_place and dst.exists() and os.path.samefile(src, dst):
        raise WriteError(f"output {str(dst)!r} is the input workbook; choose another -o, or pass --in-place "
                         "to overwrite it")


def fill_file(source: str | os.PathLike[str], output: str | os.PathLike[str], cells: str | Sequence[str] | None,
              predictor: FormulaPredictor | Suggester, *, in_place: bool = False, **options: Any) -> FillReport:
    """``fill_bytes`` from the file ``source`` to the file ``output`` (written atomically, with the
    input's permission bits).

    ``output`` equal to ``source`` is refused unless ``in_place``; the input is otherwise never written
    (``check_fill_paths``).
    """
    check_fill_paths(source, output, in_place=in_place)
    src, dst = Path(source), Path(output)
    data = src.read_bytes()
    filled, report = fill_bytes(data, cells, predictor, label=str(src), **options)
    write_atomic(dst, filled, mode=stat.S_IMODE(src.stat().st_mode))  # the input's permission bits
    report.output = str(dst)
    return report
