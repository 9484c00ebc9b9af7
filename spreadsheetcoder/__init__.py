"""SpreadsheetCoder: predict the formula of an empty spreadsheet cell from the table around it.

Entry points::

    from spreadsheetcoder import read_workbook, parse_formula, render_formula, extract_context

    book = read_workbook("budget.xlsx")
    formula = parse_formula("=SUM(B2:B9)", (10, 2))      # sketch + relative ranges
    render_formula(formula, (10, 3))                     # '=SUM(C2:C9)'
    window = extract_context(book.sheet("Budget"), 10, 2, context="values")
"""

from __future__ import annotations

from .context import ContextWindow, SheetContext, extract_context
from .errors import ConfigError, FormulaError, SpreadsheetCoderError, WorkbookError
from .formula import (
    Formula,
    canonical_formula,
    parse_formula,
    reference_kinds,
    relative_formula,
    render_formula,
)
from .references import Corner, Reference
from .sheet import Cell, CellType, Sheet, TableDef, Workbook
from .targets import Target, list_targets, named_cells
from .version import __version__
from .xlsx.reader import ReadLimits, read_workbook

__all__ = [
    "Cell",
    "CellType",
    "ConfigError",
    "ContextWindow",
    "Corner",
    "Formula",
    "FormulaError",
    "ReadLimits",
    "Reference",
    "Sheet",
    "SheetContext",
    "SpreadsheetCoderError",
    "TableDef",
    "Target",
    "Workbook",
    "WorkbookError",
    "__version__",
    "canonical_formula",
    "extract_context",
    "list_targets",
    "named_cells",
    "parse_formula",
    "read_workbook",
    "reference_kinds",
    "relative_formula",
    "render_formula",
]
