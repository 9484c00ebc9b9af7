"""Check generated cached values against independent formula engines.

``check_workbook(path)`` recomputes every formula cell with the ``formulas`` package; for cells
it cannot handle (unsupported function, or an error where the file has a value) it asks
``pycel``, and for what is still unresolved LibreOffice (headless, recalculating on load) when
``soffice`` is installed. Each cell's cached value in the file is compared with the engines'.
Excel tables' structured references (``Table1[[#This Row],[Qty]]``), which the Python engines do
not parse, are first rewritten to the A1 ranges they denote, and whole columns to the used rows.
Cells no engine can reproduce (volatile TODAY/RAND, DDE links, what-if data tables, LAMBDA and
ANCHORARRAY) are counted as unverifiable without asking the engines; the engines' copy holds their
cached values instead. The engines are test dependencies, imported lazily.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from ...references import quote_sheet, unquote_sheet

logger = logging.getLogger(__name__)

__all__ = ["CheckReport", "check_workbook", "values_agree"]

REL_TOL = 1e-9
# Results that cancel to ~0 (a loan's final balance) differ by rounding noise only; compare those absolutely.
ABS_TOL = 1e-9
# Functions whose cached value no engine reproduces: volatile, external links, data tables, and
# LAMBDA / ANCHORARRAY, which the engines do not implement.
UNCHECKABLE = frozenset({"TODAY", "NOW", "RAND", "RANDBETWEEN", "DDE", "TABLE", "LAMBDA", "ANCHORARRAY"})
_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A")


@dataclass
class CheckReport:
    """Agreement of one or more workbooks' cached values with the engines.

    Attributes:
        cells: formula cells compared; agree: cells whose cached value an engine reproduced.
        by_formulas / by_pycel / by_libreoffice: of those, how many each engine confirmed.
        unverifiable: cells no engine could evaluate (each answered #NAME? or "unknown function",
            or the formula calls an ``UNCHECKABLE`` function or is a data table, or only
            LibreOffice could settle it and it is not installed); they are left out of ``rate``.
        without_libreoffice: of those, the cells the Python engines did not reproduce while
            LibreOffice was not available (0 when it is).
        mismatches: (workbook, cell, formula, cached, engine values) for the others.
    """

    cells: int = 0
    agree: int = 0
    by_formulas: int = 0
    by_pycel: int = 0
    by_libreoffice: int = 0
    without_libreoffice: int = 0
    unverifiable: int = 0
    mismatches: list[tuple[str, str, str, Any, Any]] = field(default_factory=list)

    def merge(self, other: CheckReport) -> None:
        self.cells += other.cells
        self.agree += other.agree
        self.by_formulas += other.by_formulas
        self.by_pycel += other.by_pycel
        self.by_libreoffice += other.by_libreoffice
        self.without_libreoffice += other.without_libreoffice
        self.unverifiable += other.unverifiable
        self.mismatches += other.mismatches

    @property
    def rate(self) -> float:
        """Share of verifiable formula cells whose cached value an engine reproduced."""
        checked = self.cells - self.unverifiable
        return self.agree / checked if checked else 1.0


def _normal(v: Any) -> Any:
    """Engine or file value -> float / str / bool / error text ('' for empty)."""
    if hasattr(v, "value") and not isinstance(v, (str, bytes)):
        v = v.value
    while hasattr(v, "tolist") and not isinstance(v, (str, bytes)):
        v = v.tolist()
    while isinstance(v, list):
        v = v[0] if v else None
    if v is None or type(v).__name__ in ("_Empty", "Empty", "EmptyCell") or str(v) == "empty":
        return ""
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return float(to_excel(v))
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)) or type(v).__module__ == "numpy":
        try:
            return float(v)
        except (TypeError, ValueError):
            return str(v)
    return str(v)


def values_agree(cached: Any, engine: Any) -> bool:
    """Equal values: numbers within 1e-9 relative, text exactly, booleans and errors by value."""
    a, b = _normal(cached), _normal(engine)
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b and isinstance(a, bool) and isinstance(b, bool)
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if (isinstance(a, float) and b == "") or (a == "" and isinstance(b, float)):
        return (a or 0.0) == (b or 0.0)
    return str(a) == str(b)


def _bounded_columns(value: str, max_rows: dict[str, int], host: str) -> str:
    """``'Data'!$K:$K`` -> ``'Data'!$K$1:$K$<last used row>`` (same values, far cheaper for engines)."""
    sheet, _, ref = value.rpartition("!")
    left, _, right = ref.partition(":")
    if not right or not left.replace("$", "").isalpha() or not right.replace("$", "").isalpha():
        return value
    name = unquote_sheet(sheet) if sheet else host
    last = max_rows.get(name.lower(), 1)
    return f"{sheet}{'!' if sheet else ''}{left}$1:{right}${last}"


def _engine_formula(formula: str, row: int, host: str, tables: dict[str, tuple[str, str, list[str]]],
                    max_rows: dict[str, int]) -> str:
    """Rewrite structured references (``T[[#This Row],[c]]``, ``T[c]``, ``T[]``) to A1 references and
    whole columns to the used rows, which neither changes a value nor needs table support."""
    if "[" not in formula and ":" not in formula:
        return formula
    tok = Tokenizer(formula)
    for item in tok.items:
        if item.type != Token.OPERAND or item.subtype != Token.RANGE:
            continue
        if "[" not in item.value:
            item.value = _bounded_columns(item.value, max_rows, host)
            continue
        name, _, rest = item.value.partition("[")
        sheet, ref, columns = tables[name.lower()]
        c1, r1, c2, r2 = range_boundaries(ref)
        assert c1 is not None and r1 is not None and c2 is not None and r2 is not None
        spec = "[" + rest
        prefix = "" if sheet == host else quote_sheet(sheet) + "!"
        if spec.startswith("[[#This Row],["):
            col = c1 + columns.index(spec[len("[[#This Row],["):-2])
            item.value = f"{prefix}{get_column_letter(col)}{row}"
        elif spec == "[]":
            item.value = f"{prefix}{get_column_letter(c1)}{r1 + 1}:{get_column_letter(c2)}{r2}"
        else:
            col = c1 + columns.index(spec[1:-1])
            item.value = f"{prefix}{get_column_letter(col)}{r1 + 1}:{get_column_letter(col)}{r2}"
    return tok.render()


def _uncheckable(formula: str) -> bool:
    """Whether the formula calls a function whose value no engine can reproduce."""
    for tok in Tokenizer(formula).items:
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            name = tok.value[:-1].upper()
            if name.rpartition(".")[2] in UNCHECKABLE or name in UNCHECKABLE:
                return True
    return False


def _table_text(table: DataTableFormula) -> str:
    if table.dt2D in (True, "1", "true"):
        return f"=TABLE({table.r1 or ''},{table.r2 or ''})"
    if table.dtr in (True, "1", "true"):
        return f"=TABLE({table.r1 or ''},)"
    return f"=TABLE(,{table.r1 or ''})"


def _engine_copy(path: Path, tmp: Path, cached_wb: Any = None
                 ) -> tuple[Path, dict[tuple[str, str], str], set[tuple[str, str]]]:
    """A copy of the workbook for the engines (structured refs rewritten), its formulas, and the
    formula cells no engine can reproduce (their cached values stand in for them in the copy)."""
    wb = load_workbook(path)
    if cached_wb is None:
        cached_wb = load_workbook(path, data_only=True)
    skipped: set[tuple[str, str]] = set()
    max_rows = {ws.title.lower(): ws.max_row for ws in wb.worksheets}
    tables = {}
    for ws in wb.worksheets:
        for t in ws.tables.values():
            tables[t.displayName.lower()] = (ws.title, t.ref, [c.name for c in t.tableColumns])
    formulas: dict[tuple[str, str], str] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                v = cell.value
                text = v.text if isinstance(v, ArrayFormula) else v
                if isinstance(v, DataTableFormula):
                    text = _table_text(v)
                if isinstance(text, str) and text.startswith("="):
                    formulas[(ws.title, cell.coordinate)] = text
                    if isinstance(v, DataTableFormula) or _uncheckable(text):
                        skipped.add((ws.title, cell.coordinate))
                        cell.value = cached_wb[ws.title][cell.coordinate].value
                        continue
                    new = _engine_formula(text, cell.row, ws.title, tables, max_rows)
                    if new != text:
                        cell.value = ArrayFormula(v.ref, new) if isinstance(v, ArrayFormula) else new
        for name in list(ws.tables):
            del ws.tables[name]
    out = tmp / path.name
    wb.save(out)
    return out, formulas, skipped


def _formulas_values(path: Path) -> dict[tuple[str, str], Any]:
    import formulas

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    out: dict[tuple[str, str], Any] = {}
    blocks = []
    for key, value in solution.items():
        sheet_part, _, ref = str(key).rpartition("!")
        if "]" not in sheet_part:
            continue
        sheet = unquote_sheet(sheet_part).split("]", 1)[1].upper()
        if ":" in ref:
            blocks.append((sheet, ref, value))
        else:
            out[(sheet, ref.upper())] = value
    # Array formulas come back keyed by their whole range: spread them over the cells.
    for sheet, ref, value in blocks:
        grid = getattr(value, "value", None)
        c1, r1, c2, r2 = range_boundaries(ref)
        if grid is None or c1 is None or r1 is None or c2 is None or r2 is None:
            continue
        for i in range(min(r2 - r1 + 1, len(grid))):
            for j in range(min(c2 - c1 + 1, len(grid[i]))):
                out.setdefault((sheet, f"{get_column_letter(c1 + j)}{r1 + i}"), grid[i][j])
    return out


def _pycel_value(compiler: Any, sheet: str, ref: str) -> Any:
    try:
        return compiler.evaluate(f"{quote_sheet(sheet)}!{ref}")
    except Exception as exc:
        return f"<pycel: {type(exc).__name__}>"


_LO_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item></oor:items>
"""


def libreoffice_values(path: Path, timeout: float = 120.0) -> dict[tuple[str, str], Any] | None:
    """Every cell value after LibreOffice recalculates the workbook on load (None without soffice)."""
    soffice = shutil.which("soffice")
    if soffice is None:
        return None
    profile = Path(tempfile.gettempdir()) / "spreadsheetcoder-lo-profile"
    settings = profile / "user" / "registrymodifications.xcu"
    if not settings.exists():
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(_LO_PROFILE)
    with tempfile.TemporaryDirectory() as out:
        try:
            subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--convert-to",
                            "xlsx", "--outdir", out, str(path)], capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            return None
        result = Path(out) / (Path(path).stem + ".xlsx")
        if not result.exists():
            return None
        wb = load_workbook(result, data_only=True)
        return {(ws.title.upper(), c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows()
                for c in row if c.value is not None}


def check_workbook(path: Path, use_libreoffice: bool = True) -> CheckReport:
    """Compare every formula cell's cached value in ``path`` with the engines' values."""
    report = CheckReport()
    cached_wb = load_workbook(path, data_only=True)
    with tempfile.TemporaryDirectory() as tmp:
        copy, formulas, skipped = _engine_copy(Path(path), Path(tmp), cached_wb)
        try:
            engine = _formulas_values(copy)
        except Exception as exc:
            logger.warning("formulas failed on %s: %s", path, exc)
            engine = {}
        compiler = None
        unresolved: list[tuple[str, str, str, Any, tuple[Any, ...]]] = []
        for (sheet, ref), text in formulas.items():
            report.cells += 1
            if (sheet, ref) in skipped:
                report.unverifiable += 1
                continue
            cached = cached_wb[sheet][ref].value
            value = engine.get((sheet.upper(), ref))
            if value is not None and values_agree(cached, value):
                report.agree += 1
                report.by_formulas += 1
                continue
            if value is not None and not (isinstance(_normal(value), str) and _normal(value) in _ERRORS):
                # pycel only stands in where `formulas` lacks a function: it evaluates precedents
                # recursively, so asking it about every mismatch in a long chain costs quadratic time.
                unresolved.append((sheet, ref, text, cached, (_normal(value), None)))
                continue
            if compiler is None:
                from pycel import ExcelCompiler
                compiler = ExcelCompiler(filename=str(copy))
            alt = _pycel_value(compiler, sheet, ref)
            if values_agree(cached, alt):
                report.agree += 1
                report.by_pycel += 1
                continue
            unresolved.append((sheet, ref, text, cached, (_normal(value), _normal(alt))))
    lo = libreoffice_values(Path(path)) if unresolved and use_libreoffice else None
    for sheet, ref, text, cached, seen in unresolved:
        if lo is not None and values_agree(cached, lo.get((sheet.upper(), ref), "")):
            report.agree += 1
            report.by_libreoffice += 1
        elif lo is None:
            # Only LibreOffice could settle it (INDIRECT, OFFSET across sheets, WORKDAY, ... and what
            # depends on them: the Python engines get those wrong) and it is not available here.
            report.unverifiable += 1
            report.without_libreoffice += 1
        else:
            lo_value = None if lo is None else _normal(lo.get((sheet.upper(), ref)))
            verdicts = (*seen, lo_value)
            if all(v is None or v == "#NAME?" or (isinstance(v, str) and v.startswith("<pycel: Unknown"))
                   for v in verdicts):
                report.unverifiable += 1
            else:
                report.mismatches.append((Path(path).name, f"{sheet}!{ref}", text, cached, verdicts))
    return report
