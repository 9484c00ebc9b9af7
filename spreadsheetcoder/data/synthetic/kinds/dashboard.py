"""KPI dashboard: monthly KPI data, per-month sheets, and a dashboard sheet summarising both with
cross-sheet references (quoted names), OFFSET (last three months) and INDIRECT (sheet by name)."""

from __future__ import annotations

from ....references import quote_sheet
from ..ctx import Gen
from ..expr import Expr, lift
from ..functions import call
from ..names import MONTHS
from ..refs import indirect, offset

__all__ = ["kpi_dashboard"]


def kpi_dashboard(g: Gen) -> None:
    w = g.words
    data = g.sheet(g.pick(["Monthly KPIs", "KPI Data", "Data", "Metrics", "Monthly Data", "Kennzahlen"]))
    kpis = g.picks(["Revenue", "Orders", "Website Visits", "Conversions", "New Customers", "Costs",
                    "Support Tickets"], g.randint(3, 6))
    months = MONTHS["en"]
    filled = g.randint(4, 12)
    g.header(data, 1, 1, [w.h("month")] + kpis + ([w.h("target")] if g.chance(0.5) else []))
    has_target = data.get(1, len(kpis) + 2) is not None
    for m in range(12):
        data.put(2 + m, 1, months[m])
        if m < filled:
            for k, _ in enumerate(kpis):
                data.put(2 + m, 2 + k, float(g.randint(50, 5000) * (10 if k == 0 else 1)))
        if has_target:
            data.put(2 + m, len(kpis) + 2, float(g.randint(100, 400) * 100))
    col = {name: 2 + k for k, name in enumerate(kpis)}
    months_rng = data.rng(2, 1, 13, 1, sheet=True)

    def series(name: str, absolute: bool = False) -> Expr:
        return data.rng(2, col[name], 13, col[name], absolute, absolute, sheet=True)

    # Optional per-month sheets with a total in a fixed cell, read back with INDIRECT.
    month_sheets: list[str] = []
    if g.chance(0.45):
        for m in range(g.randint(2, 4)):
            ms = g.sheet(g.pick([months[m], MONTHS["en_long"][m], f"{months[m]} {g.year}"]))
            items = g.pool("expense", g.randint(3, 8))
            g.header(ms, 1, 1, [w.h("category"), w.h("amount")])
            for i, it in enumerate(items):
                ms.put(2 + i, 1, it)
                ms.put(2 + i, 2, g.amount(100, 9000), g.money)
            ms.put(12, 1, g.total_label(), bold=True)
            ms.formula(12, 2, call("SUM", ms.rng(2, 2, 11, 2)), g.money)
            month_sheets.append(ms.name)
    ws = g.sheet(g.pick(["Dashboard", "Overview", "KPIs", "Summary", "Übersicht", "Resumen"]))
    r0, c0 = g.origin()
    r = g.title(ws, r0, c0, g.pick(["KPI Dashboard", "Performance Overview " + str(g.year), "Monthly Scorecard"]), 4)
    g.header(ws, r, c0, [g.pick(["KPI", "Metric", "Indicator"]), g.pick(["YTD", "Total", "Value"]),
                         w.h("average"), g.pick(["Last 3 months", "Last 3M", "Rolling 3M"]),
                         g.pick(["Best month", "Peak"])])
    trailing = g.pick(["offset", "offset", "sum_index"])
    for i, name in enumerate(kpis):
        rr = r + 1 + i
        ws.put(rr, c0, name)
    first, last = r + 1, r + len(kpis)
    # One KPI per row; each row reads its own column of the data sheet (not a fill-down).
    for i, name in enumerate(kpis):
        rr = first + i
        s = series(name)
        ws.formula(rr, c0 + 1, call("SUM", s), g.money if name in ("Revenue", "Costs") else "#,##0")
        ws.formula(rr, c0 + 2, call("AVERAGE", s), "#,##0.0")
        start = data.ref(2, col[name], sheet=True)
        if trailing == "offset":
            e = call("SUM", offset(start, call("COUNT", s) - 3, 0, 3, 1))
        else:
            e = call("SUM", call("LARGE", s, 1), call("LARGE", s, 2), call("LARGE", s, 3))
        ws.formula(rr, c0 + 3, e, "#,##0")
        ws.formula(rr, c0 + 4, call("INDEX", months_rng, call("MATCH", call("MAX", s), s, 0)))
    r = last + 2
    rows: list[tuple[str, Expr, str | None]] = [
        ("Months reported", call("COUNT", series(kpis[0])), None),
        ("Months missing", call("COUNTBLANK", series(kpis[0])), None),
        ("Latest month", call("INDEX", months_rng, call("COUNT", series(kpis[0]))), None),
        ("Growth vs previous month", call("IFERROR", call("INDEX", series(kpis[0]), call("COUNT", series(kpis[0])))
                                          / call("INDEX", series(kpis[0]), call("COUNT", series(kpis[0])) - 1) - 1, 0),
         g.percent),
        ("Months above average", call("COUNTIF", series(kpis[0]), lift(">").cat(call("AVERAGE", series(kpis[0])))),
         None)]
    if "Conversions" in col and "Website Visits" in col:
        rows.append(("Conversion rate", g.divider()(call("SUM", series("Conversions")), call("SUM", series("Website Visits"))),
                     g.percent))
    if has_target:
        tgt = data.rng(2, len(kpis) + 2, 13, len(kpis) + 2, sheet=True)
        rows.append(("% of target (YTD)", call("SUM", series(kpis[0])) / call("SUMIF", series(kpis[0]), "<>", tgt),
                     g.percent))
        rows.append(("Months on target", call("SUMPRODUCT", (series(kpis[0]).ge(tgt)) * 1), None))
    for label, e, f in g.picks(rows, g.randint(2, len(rows))):
        ws.put(r, c0, label)
        ws.formula(r, c0 + 1, e, f)
        r += 1
    if month_sheets:
        r += 1
        g.header(ws, r, c0, [g.pick(["Sheet", "Month"]), g.pick(["Expenses", "Total"]), g.pick(["Check", "Direct"])])
        for i, name in enumerate(month_sheets):
            ws.put(r + 1 + i, c0, name)
        # Names with spaces must be quoted inside INDIRECT's text, or Excel answers #REF!.
        quoted = g.chance(0.5) or any(quote_sheet(n) != n for n in month_sheets)

        def via_indirect(rr: int) -> Expr:
            key = ws.ref(rr, c0)
            text = lift("'").cat(key).cat("'!B12") if quoted else key.cat("!B12")
            return indirect(g.book, ws, text)
        g.fill_down(ws, c0 + 1, r + 1, r + len(month_sheets), via_indirect, g.money)
        for i, name in enumerate(month_sheets):
            sheet = next(s for s in g.book.sheets if s.name == name)
            ws.formula(r + 1 + i, c0 + 2, sheet.ref(12, 2, sheet=True), g.money)
