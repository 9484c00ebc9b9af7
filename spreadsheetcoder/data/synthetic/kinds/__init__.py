"""Workbook kinds: each builds one or more sheets into the generation context's book."""

from __future__ import annotations

from collections.abc import Callable

from ..ctx import Gen
from .calc import science_sheet
from .dashboard import kpi_dashboard
from .finance import balance_sheet, budget_vs_actual, income_statement
from .hr import project_tracker, staff_list
from .misc import utility_sheet
from .model import energy_model
from .ops import inventory, orders_table, price_lookup
from .people import grade_book, survey, timesheet
from .sales import sales_ledger, sales_matrix
from .schedules import cash_flows, depreciation, loan_schedule

__all__ = ["KINDS", "KIND_WEIGHTS"]

KINDS: dict[str, Callable[[Gen], None]] = {
    "energy_model": energy_model,
    "income_statement": income_statement,
    "balance_sheet": balance_sheet,
    "budget_vs_actual": budget_vs_actual,
    "sales_matrix": sales_matrix,
    "sales_ledger": sales_ledger,
    "price_lookup": price_lookup,
    "orders_table": orders_table,
    "inventory": inventory,
    "grade_book": grade_book,
    "timesheet": timesheet,
    "survey": survey,
    "staff_list": staff_list,
    "project_tracker": project_tracker,
    "loan_schedule": loan_schedule,
    "depreciation": depreciation,
    "cash_flows": cash_flows,
    "kpi_dashboard": kpi_dashboard,
    "science_sheet": science_sheet,
    "utility_sheet": utility_sheet,
}
# Relative frequency of each kind in a workbook. Model-style sheets dominate the real corpus, so
# they get the largest weight; calculator sheets carry the long tail of rare functions.
KIND_WEIGHTS: dict[str, float] = {name: 1.0 for name in KINDS}
KIND_WEIGHTS["energy_model"] = 4.0
KIND_WEIGHTS["science_sheet"] = 0.8
KIND_WEIGHTS["utility_sheet"] = 0.8
