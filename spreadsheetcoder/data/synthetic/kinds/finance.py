"""Financial statements: income statement (P&L), balance sheet, budget vs actual."""

from __future__ import annotations

from collections.abc import Callable

from ..book import SheetData
from ..ctx import Gen
from ..expr import Expr
from ..functions import call
from ..names import MONTHS, TITLES

__all__ = ["balance_sheet", "budget_vs_actual", "income_statement"]


def _period_labels(g: Gen) -> tuple[list[str | float], bool]:
    """Column headers of a statement and whether they are years (growth columns make sense)."""
    kind = g.pick(["years", "years", "quarters", "months"])
    if kind == "years":
        first = g.year - g.randint(2, 5)
        style = g.pick(["plain", "FY", "A/E"])
        years = list(range(first, g.year + 1))
        if style == "plain":
            return [float(y) for y in years], True
        if style == "FY":
            return [f"FY{y}" if g.chance(0.5) else f"FY{y % 100:02d}" for y in years], True
        return [f"{y}{'A' if y < g.year else 'E'}" for y in years], True
    if kind == "quarters":
        return [f"Q{q} {g.year}" for q in range(1, 5)], False
    months = MONTHS["en"]
    return [f"{m}-{g.year % 100:02d}" for m in months[: g.pick([3, 6, 12])]], False


def _row_total(g: Gen, ws: SheetData, rows: list[int], col: int, c1: int, c2: int, fmt: str | None) -> None:
    """``SUM(row)`` in ``col`` for each listed row; contiguous runs share one fill group."""
    group = None
    prev = -2
    for r in rows:
        if r != prev + 1:
            group = ws.new_group()
        ws.formula(r, col, call("SUM", ws.rng(r, c1, r, c2)), fmt, group)
        prev = r


def income_statement(g: Gen) -> None:
    """Revenue lines, COGS, gross profit and margin, opex, EBITDA, EBIT, tax, net income."""
    w = g.words
    ws = g.sheet(g.pick(["P&L", "Income Statement", "PnL", "IS", "Profit and Loss", "GuV", "Resultados"]))
    periods, yearly = _period_labels(g)
    r0, c0 = g.origin()
    fmt = g.pick([g.money, "#,##0;(#,##0)", "#,##0"])
    r = g.title(ws, r0, c0, g.pick(TITLES["pnl"]), len(periods) + 1)
    # Assumptions block (tax rate, COGS %) above or beside the statement.
    tax_rate = round(g.rng.uniform(0.15, 0.35), 2)
    ws.put(r, c0, g.pick(["Tax rate", "Income tax rate", "Tax %", "Steuersatz", "Tasa impositiva"]))
    ws.put(r, c0 + 1, tax_rate, g.percent)
    tax = g.named(0.35, g.picks(["TaxRate", "Tax_Rate", "tax_rate", "TaxPct"], 4), ws, r, c0 + 1)
    cogs_pct = None
    if g.chance(0.5):
        ws.put(r + 1, c0, g.pick(["COGS % of revenue", "Cost ratio", "COGS %"]))
        ws.put(r + 1, c0 + 1, round(g.rng.uniform(0.35, 0.7), 2), g.percent)
        cogs_pct = ws.absref(r + 1, c0 + 1)
        r += 1
    r += 2
    hr = r
    g.header(ws, hr, c0, [g.pick([None, "USD", "(in $000s)", w.h("item")])] + [p if isinstance(p, str) else None
                                                                                for p in periods])
    for k, p in enumerate(periods):
        if not isinstance(p, str):
            ws.put(hr, c0 + 1 + k, p, bold=True)
    c1, c2 = c0 + 1, c0 + len(periods)
    r = hr + 1
    numeric_rows: list[int] = []

    def inputs(labels: list[str], lo: float, hi: float) -> tuple[int, int]:
        nonlocal r
        start = r
        for label in labels:
            ws.put(r, c0, label)
            base = g.amount(lo, hi, 0)
            for k in range(len(periods)):
                ws.put(r, c1 + k, round(base * (1 + 0.06 * k) * g.rng.uniform(0.9, 1.1), 0), fmt)
            numeric_rows.append(r)
            r += 1
        return start, r - 1

    def line(label: str, make: object, f: str | None = fmt, bold: bool = True) -> int:
        nonlocal r
        ws.put(r, c0, label, bold=bold)
        g.fill_right(ws, r, c1, c2, make, f)  # type: ignore[arg-type]
        row = r
        r += 1
        return row

    if g.chance(0.5):
        ws.put(r, c0, w.label(g.pick(["Revenue", "Sales", "Income"])), bold=True)
        r += 1
    a, b = inputs(g.pick([["Product sales", "Service revenue"], ["Product A", "Product B", "Product C"],
                          ["Subscriptions", "Licenses", "Consulting", "Other"]]), 20_000, 400_000)
    rev = line(g.pick(["Total Revenue", "Net Sales", "Total revenue", "Revenue, total"]),
               lambda c: call("SUM", ws.rng(a, c, b, c)))
    numeric_rows.append(rev)
    if cogs_pct is not None:
        cogs = line(g.pick(["Cost of goods sold", "COGS", "Cost of sales"]), lambda c: ws.ref(rev, c) * cogs_pct,
                    bold=False)
    else:
        ca, cb = inputs(g.pick([["Materials", "Direct labour"], ["Cost of sales"], ["Hosting", "Support staff"]]),
                        5_000, 90_000)
        cogs = line("Total COGS", lambda c: call("SUM", ws.rng(ca, c, cb, c)))
    numeric_rows.append(cogs)
    gp = line(g.pick(["Gross Profit", "Gross profit", "Gross Margin"]), lambda c: ws.ref(rev, c) - ws.ref(cogs, c))
    numeric_rows.append(gp)
    if g.chance(0.7):
        wrap = g.chance(0.5)
        line(g.pick(["Gross margin %", "GM %", "Gross Margin (%)"]),
             lambda c: call("IFERROR", ws.ref(gp, c) / ws.ref(rev, c), 0) if wrap else ws.ref(gp, c) / ws.ref(rev, c),
             g.percent, bold=False)
    r += 1 if g.chance(0.5) else 0
    oa, ob = inputs(g.picks(["Salaries", "Rent", "Marketing", "R&D", "G&A", "Travel", "Utilities", "IT"],
                            g.randint(2, 6)), 2_000, 60_000)
    opex = line(g.pick(["Total Operating Expenses", "Total OpEx", "Operating expenses"]),
                lambda c: call("SUM", ws.rng(oa, c, ob, c)))
    numeric_rows.append(opex)
    ebitda = line("EBITDA", lambda c: ws.ref(gp, c) - ws.ref(opex, c))
    numeric_rows.append(ebitda)
    da, _ = inputs(["Depreciation & amortization"], 1_000, 15_000)
    ebit = line(g.pick(["EBIT", "Operating Income", "Operating profit"]), lambda c: ws.ref(ebitda, c) - ws.ref(da, c))
    numeric_rows.append(ebit)
    ia, _ = inputs(["Interest expense"], 200, 8_000)
    ebt = line(g.pick(["Pre-tax income", "EBT", "Income before taxes"]), lambda c: ws.ref(ebit, c) - ws.ref(ia, c))
    numeric_rows.append(ebt)
    tax_style = g.pick(["max", "plain", "if"])
    taxes = line(g.pick(["Income tax", "Taxes", "Tax expense"]),
                 lambda c: call("MAX", 0, ws.ref(ebt, c) * tax) if tax_style == "max"
                 else (ws.ref(ebt, c) * tax if tax_style == "plain"
                       else call("IF", ws.ref(ebt, c).gt(0), ws.ref(ebt, c) * tax, 0)), bold=False)
    numeric_rows.append(taxes)
    ni = line(g.pick(["Net Income", "Net profit", "Net income"]), lambda c: ws.ref(ebt, c) - ws.ref(taxes, c))
    numeric_rows.append(ni)
    if g.chance(0.6):
        nm_div = g.divider()
        line(g.pick(["Net margin", "Net margin %"]), lambda c: nm_div(ws.ref(ni, c), ws.ref(rev, c)), g.percent,
             bold=False)
    extra = c2 + 1
    if not yearly and g.chance(0.7):
        ws.put(hr, extra, w.h("total"), bold=True)
        _row_total(g, ws, sorted(numeric_rows), extra, c1, c2, fmt)
        extra += 1
    if yearly and len(periods) > 1 and g.chance(0.6):
        # Growth block: one column per year after the first.
        extra += 1
        g.group_header(ws, hr - 1, extra, w.h("growth"), len(periods) - 1)
        for k in range(1, len(periods)):
            ws.put(hr, extra + k - 1, ws.get(hr, c1 + k) if ws.get(hr, c1 + k) is not None else periods[k], bold=True)
        shift = c1 - extra
        for row in (rev, gp, ebitda, ni):
            g.fill_right(ws, row, extra, extra + len(periods) - 2, _yoy(ws, row, shift), g.percent)
    if g.chance(0.4):
        ws.put(hr, extra, g.pick(["% of revenue", "% of sales", "Share"]), bold=True)
        pct_div = g.divider()
        g.fill_down(ws, extra, oa, ob, lambda rr: pct_div(ws.ref(rr, c2), ws.ref(rev, c2, abs_row=True)), g.percent)


def balance_sheet(g: Gen) -> None:
    """Assets, liabilities and equity with subtotals, a balance check and ratios."""
    ws = g.sheet(g.pick(["Balance Sheet", "BS", "Bilanz", "Balance", "Bilan"]))
    r0, c0 = g.origin()
    n = g.randint(2, 3)
    years = [g.year - n + 1 + k for k in range(n)]
    fmt = g.pick([g.money, "#,##0", "#,##0;(#,##0)"])
    r = g.title(ws, r0, c0, g.pick(["Balance Sheet", "Statement of Financial Position", "Bilanz",
                                    "Balance general"]), n + 1)
    style = g.pick(["Dec 31, {y}", "FY{y}", "{y}", "31/12/{y}"])
    hr = r
    g.header(ws, hr, c0, [None] + [style.format(y=y) for y in years])
    c1, c2 = c0 + 1, c0 + n
    r += 1

    def block(title: str, items: list[str], lo: float, hi: float) -> tuple[int, int]:
        nonlocal r
        ws.put(r, c0, title, bold=True)
        r += 1
        start = r
        for it in items:
            ws.put(r, c0, ("  " if g.chance(0.3) else "") + it)
            base = g.amount(lo, hi, 0)
            for k in range(n):
                ws.put(r, c1 + k, round(base * g.rng.uniform(0.85, 1.2), 0), fmt)
            r += 1
        return start, r - 1

    def total(label: str, make: object) -> int:
        nonlocal r
        ws.put(r, c0, label, bold=True)
        g.fill_right(ws, r, c1, c2, make, fmt)  # type: ignore[arg-type]
        r += 1
        return r - 1

    a1, a2 = block("Current assets", g.picks(["Cash", "Accounts receivable", "Inventory", "Prepaid expenses",
                                               "Short-term investments"], g.randint(2, 5)), 5_000, 200_000)
    tca = total("Total current assets", lambda c: call("SUM", ws.rng(a1, c, a2, c)))
    b1, b2 = block("Non-current assets", ["Property, plant & equipment", "Intangible assets"], 20_000, 500_000)
    tnca = total("Total non-current assets", lambda c: call("SUM", ws.rng(b1, c, b2, c)))
    ta = total(g.pick(["TOTAL ASSETS", "Total assets"]), lambda c: ws.ref(tca, c) + ws.ref(tnca, c))
    r += 1
    l1, l2 = block("Current liabilities", g.picks(["Accounts payable", "Accrued expenses", "Short-term debt",
                                                    "Deferred revenue"], g.randint(2, 4)), 3_000, 120_000)
    tcl = total("Total current liabilities", lambda c: call("SUM", ws.rng(l1, c, l2, c)))
    m1, m2 = block("Long-term liabilities", ["Long-term debt"], 10_000, 300_000)
    tl = total("Total liabilities", lambda c: ws.ref(tcl, c) + call("SUM", ws.rng(m1, c, m2, c)))
    ws.put(r, c0, "Equity", bold=True)
    r += 1
    e1 = r
    ws.put(r, c0, "Share capital")
    for k in range(n):
        ws.put(r, c1 + k, 50_000.0, fmt)
    r += 1
    # Retained earnings balance the sheet, so the check row below comes out at zero.
    ws.put(r, c0, "Retained earnings")
    g.fill_right(ws, r, c1, c2, lambda c: ws.ref(ta, c) - ws.ref(tl, c) - ws.ref(e1, c), fmt)
    r += 1
    te = total("Total equity", lambda c: call("SUM", ws.rng(e1, c, r - 1, c)))
    tle = total(g.pick(["TOTAL LIABILITIES & EQUITY", "Total liabilities and equity"]),
                lambda c: ws.ref(tl, c) + ws.ref(te, c))
    check = g.pick(["diff", "if", "round"])
    ws.put(r, c0, g.pick(["Check", "Balance check", "Difference"]))
    g.fill_right(ws, r, c1, c2, lambda c: ws.ref(ta, c) - ws.ref(tle, c) if check == "diff" else (
        call("IF", call("ROUND", ws.ref(ta, c) - ws.ref(tle, c), 2).eq(0), "OK", "ERROR") if check == "if"
        else call("ROUND", ws.ref(ta, c) - ws.ref(tle, c), 0)))
    r += 2
    ws.put(r, c0, "Ratios", bold=True)
    r += 1
    d1, d2, d3 = g.divider(), g.divider(), g.divider()
    ratios: list[tuple[str, object, str | None]] = [
        ("Current ratio", lambda c: d1(ws.ref(tca, c), ws.ref(tcl, c)), "0.00"),
        ("Debt to equity", lambda c: d2(ws.ref(tl, c), ws.ref(te, c)), "0.00"),
        ("Equity ratio", lambda c: d3(ws.ref(te, c), ws.ref(ta, c)), g.percent),
        ("Working capital", lambda c: ws.ref(tca, c) - ws.ref(tcl, c), fmt),
    ]
    for label, make, f in g.picks(ratios, g.randint(1, 4)):
        ws.put(r, c0, label)
        g.fill_right(ws, r, c1, c2, make, f)  # type: ignore[arg-type]
        r += 1
    if n > 1 and g.chance(0.6):
        cc = c2 + 1
        ws.put(hr, cc, g.words.h("variance"), bold=True)
        ws.put(hr, cc + 1, g.words.h("variance_pct"), bold=True)
        rows = [tca, tnca, ta, tcl, tl, te, tle]
        grp1, grp2 = ws.new_group(), ws.new_group()
        for row in rows:
            ws.formula(row, cc, ws.ref(row, c2) - ws.ref(row, c2 - 1), fmt, grp1)
            ws.formula(row, cc + 1, call("IFERROR", ws.ref(row, cc) / ws.ref(row, c2 - 1), 0), g.percent, grp2)


def budget_vs_actual(g: Gen) -> None:
    """Expense categories in sections with subtotals; budget, actual, variance, variance %, status."""
    w = g.words
    ws = g.sheet(g.pick(["Budget", "Budget vs Actual", "BvA", "Expenses", "Budget " + str(g.year), "Presupuesto"]))
    r0, c0 = g.origin()
    r = g.title(ws, r0, c0, g.pick(TITLES["budget"]), 6)
    cols = ["budget", "actual", "variance"]
    if g.chance(0.8):
        cols.append("variance_pct")
    if g.chance(0.6):
        cols.append("status")
    g.header(ws, r, c0, [w.h("category")] + [w.h(c) for c in cols])
    cb, ca, cv = c0 + 1, c0 + 2, c0 + 3
    sign = g.pick(["actual-budget", "budget-actual"])
    use_subtotal = g.chance(0.4)
    r += 1
    sections = g.randint(1, 4)
    expenses = g.pool("expense", sections * 6)
    sub_rows: list[int] = []
    first_row = r
    groups = {c: ws.new_group() for c in cols}
    for s in range(sections):
        if sections > 1:
            ws.put(r, c0, g.pick(["Personnel", "Facilities", "Operations", "Marketing", "Technology",
                                  "Admin", "Travel"]) + (f" {s + 1}" if g.chance(0.2) else ""), bold=True)
            r += 1
        items = expenses[s * 6: s * 6 + g.randint(2, 6)]
        start = r
        for it in items:
            ws.put(r, c0, it)
            budget = float(g.randint(5, 200) * 100)
            ws.put(r, cb, budget, g.money)
            ws.put(r, ca, round(budget * g.rng.uniform(0.7, 1.3), 2), g.money)
            r += 1
        end = r - 1
        _variance_cells(g, ws, range(start, end + 1), cols, cb, ca, cv, sign, groups)
        if sections > 1:
            ws.put(r, c0, g.words.h("subtotal"), bold=True)
            for c in (cb, ca):
                fn = call("SUBTOTAL", 9, ws.rng(start, c, end, c)) if use_subtotal else call("SUM", ws.rng(start, c, end, c))
                ws.formula(r, c, fn, g.money)
            _variance_cells(g, ws, [r], cols, cb, ca, cv, sign, None)
            sub_rows.append(r)
            r += 1 + (1 if g.chance(0.5) else 0)
    last_row = r - 1
    ws.put(r, c0, g.total_label(), bold=True)
    for c in (cb, ca):
        if use_subtotal:
            e = call("SUBTOTAL", 9, ws.rng(first_row, c, last_row, c))
        elif sub_rows:
            e = sum((ws.ref(x, c) for x in sub_rows[1:]), ws.ref(sub_rows[0], c)) if g.chance(0.5) \
                else call("SUM", *[ws.ref(x, c) for x in sub_rows])
        else:
            e = call("SUM", ws.rng(first_row, c, last_row, c))
        ws.formula(r, c, e, g.money)
    _variance_cells(g, ws, [r], cols, cb, ca, cv, sign, None)
    total_row = r
    if g.chance(0.5):
        r += 2
        ws.put(r, c0, g.pick(["Items over budget", "# over budget", "Over budget count"]))
        ws.formula(r, c0 + 1, call("COUNTIF", ws.rng(first_row, cv, last_row, cv), ">0" if sign == "actual-budget" else "<0"))
        ws.put(r + 1, c0, g.pick(["% of budget spent", "Budget used", "Utilisation"]))
        ws.formula(r + 1, c0 + 1, g.divider()(ws.ref(total_row, ca), ws.ref(total_row, cb)), g.percent)


def _variance_cells(g: Gen, ws: SheetData, rows: object, cols: list[str], cb: int, ca: int, cv: int, sign: str,
                    groups: dict[str, int] | None) -> None:
    for r in rows:  # type: ignore[attr-defined]
        diff: Expr = ws.ref(r, ca) - ws.ref(r, cb) if sign == "actual-budget" else ws.ref(r, cb) - ws.ref(r, ca)
        ws.formula(r, cv, diff, g.money, groups["variance"] if groups else None)
        c = cv + 1
        if "variance_pct" in cols:
            ws.formula(r, c, call("IFERROR", ws.ref(r, cv) / ws.ref(r, cb), 0), g.percent,
                       groups["variance_pct"] if groups else None)
            c += 1
        if "status" in cols:
            over = ws.ref(r, ca).gt(ws.ref(r, cb))
            ws.formula(r, c, call("IF", over, "Over budget", "OK"), None, groups["status"] if groups else None)


def _yoy(ws: SheetData, row: int, shift: int) -> Callable[[int], Expr]:
    """Growth of the period ``shift + 1`` columns away over the one before it (``=D8/C8-1``)."""
    return lambda c: ws.ref(row, c + shift + 1) / ws.ref(row, c + shift) - 1
