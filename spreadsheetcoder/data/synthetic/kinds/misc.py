"""Utility sheets: dates and times, rounding, financial calculators, data-type audits, dynamic
lists (UNIQUE/FILTER/SEQUENCE/TEXTSPLIT as array formulas), self-documenting formula sheets and a
"live values" panel (TODAY, RAND, LAMBDA, ANCHORARRAY, DDE links, a what-if data table) whose cached
values no other engine can reproduce: TODAY is a generation date drawn from the workbook's random
stream, RAND a draw from it, a dead DDE link caches ``#REF!``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..book import CellData, SheetData, a1
from ..ctx import Gen
from ..expr import Expr, lift
from ..functions import call
from ..names import POOLS
from ..refs import index_ref, indirect, range_to, row_here
from ..values import NA, REF, Scalar, serial
from .panels import array_formula, column_panel, rows_panel

__all__ = ["MISC_PANELS", "utility_sheet"]


def _dates(g: Gen, ws: SheetData, r: int, c: int) -> int:
    m = g.randint(4, 12)
    days = sorted(g.day(g.year - g.randint(0, 3)) for _ in range(m))
    ws.put(r, c + 3, g.pick(["Reference date", "Report date"]))
    ref_day = g.day(g.year + 1)
    ws.put(r, c + 4, ref_day, g.date)
    end = ws.absref(r, c + 4)
    d = lambda rr: ws.ref(rr, c)  # noqa: E731
    outputs = [("Year", lambda rr: call("YEAR", d(rr)), None), ("Month", lambda rr: call("MONTH", d(rr)), None),
               ("Day", lambda rr: call("DAY", d(rr)), None), ("Weekday", lambda rr: call("WEEKDAY", d(rr), 2), None),
               ("ISO week", lambda rr: call("WEEKNUM", d(rr), 21), None), ("Week", lambda rr: call("WEEKNUM", d(rr)), None),
               ("Month end", lambda rr: call("EOMONTH", d(rr), 0), g.date),
               ("+3 months", lambda rr: call("EDATE", d(rr), 3), g.date),
               ("First of next month", lambda rr: call("DATE", call("YEAR", d(rr)), call("MONTH", d(rr)) + 1, 1), g.date),
               ("Days to ref", lambda rr: call("DAYS", end, d(rr)), None),
               ("Days (30/360)", lambda rr: call("DAYS360", d(rr), end), None),
               ("Months", lambda rr: call("DATEDIF", d(rr), end, "M"), None),
               ("Year fraction", lambda rr: call("YEARFRAC", d(rr), end, 3), "0.000"),
               ("Day name", lambda rr: call("TEXT", d(rr), "dddd"), None),
               ("Workdays", lambda rr: call("NETWORKDAYS", d(rr), end), None),
               ("+10 workdays", lambda rr: call("WORKDAY", d(rr), 10), g.date),
               ("Age (years)", lambda rr: call("DATEDIF", d(rr), end, "Y"), None)]
    nxt = column_panel(g, ws, r, c, g.pick(["Dates", "Date calculations"]), [(g.words.h("date"), days, g.date)],
                       outputs, g.randint(2, 6))[0]
    text_day = dt.date(g.year, g.randint(1, 12), g.randint(1, 28))
    ws.put(nxt, c, text_day.isoformat())
    ws.put(nxt + 1, c, g.pick(["6:30", "18:45", "9:05:30", "23:59"]))
    hh, mm, ss = g.randint(0, 23), g.randint(0, 59), g.randint(0, 59)
    rows = [("DATEVALUE", lambda: call("DATEVALUE", ws.ref(nxt, c)), g.date),
            ("TIMEVALUE", lambda: call("TIMEVALUE", ws.ref(nxt + 1, c)), "h:mm:ss"),
            ("Hour", lambda: call("HOUR", call("TIMEVALUE", ws.ref(nxt + 1, c))), None),
            ("Minute", lambda: call("MINUTE", call("TIMEVALUE", ws.ref(nxt + 1, c))), None),
            ("Second", lambda: call("SECOND", call("TIME", hh, mm, ss)), None),
            ("Time", lambda: call("TIME", hh, mm, ss), "h:mm:ss"),
            ("Date", lambda: call("DATE", g.year, 2, 29), g.date)]
    return rows_panel(g, ws, nxt + 3, c, "Conversions", rows, g.randint(2, 4))


def _rounding(g: Gen, ws: SheetData, r: int, c: int) -> int:
    # Six decimals ending in a non-zero digit: no value sits exactly halfway at the digits rounded to.
    xs = [round(g.rng.uniform(-50, 500), 5) + 0.000003 for _ in range(g.randint(4, 10))]
    x = lambda rr: ws.ref(rr, c)  # noqa: E731
    outputs = [("ROUND 2", lambda rr: call("ROUND", x(rr), 2), None), ("ROUNDUP 0", lambda rr: call("ROUNDUP", x(rr), 0), None),
               ("ROUNDDOWN 1", lambda rr: call("ROUNDDOWN", x(rr), 1), None), ("TRUNC", lambda rr: call("TRUNC", x(rr)), None),
               ("INT", lambda rr: call("INT", x(rr)), None), ("FLOOR 5", lambda rr: call("FLOOR", call("ABS", x(rr)), 5), None),
               ("CEILING 10", lambda rr: call("CEILING", call("ABS", x(rr)), 10), None),
               ("ABS", lambda rr: call("ABS", x(rr)), None), ("SIGN", lambda rr: call("SIGN", x(rr)), None),
               ("FIXED 1", lambda rr: call("FIXED", x(rr), 1), None), ("TEXT", lambda rr: call("TEXT", x(rr), "#,##0.00"), None),
               ("Nearest 100", lambda rr: call("ROUND", x(rr), -2), None)]
    return column_panel(g, ws, r, c, g.pick(["Rounding", "Rounding rules"]), [("Value", xs, "0.000000")],
                        outputs, g.randint(2, 6))[0]


def _finance(g: Gen, ws: SheetData, r: int, c: int) -> int:
    ws.put(r, c, g.pick(["Financial calculator", "TVM", "Bond & rates"]), bold=True)
    vals = [("Rate (annual)", round(g.rng.uniform(0.02, 0.09), 4), "0.00%"), ("Years", float(g.randint(2, 30)), None),
            ("Payment", -float(g.randint(1, 30) * 100), g.money), ("Present value", float(g.randint(10, 300) * 1000), g.money),
            ("Future value", float(g.randint(300, 900) * 1000), g.money), ("Par", 1000.0, g.money),
            ("Price", float(g.randint(90, 99)), None)]
    for i, (label, v, f) in enumerate(vals):
        ws.put(r + 1 + i, c, label)
        ws.put(r + 1 + i, c + 1, v, f)
    rate, years, pmt, pv, fv, par, price = (ws.absref(r + 1 + i, c + 1) for i in range(len(vals)))
    d0 = dt.date(g.year, g.randint(1, 6), g.randint(1, 28))
    issue, first_coupon = serial(d0), serial(dt.date(g.year + 1, d0.month, d0.day))
    settle = serial(d0 + dt.timedelta(days=g.randint(20, 300)))
    dr = r + 2 + len(vals)
    for i, (label, v) in enumerate([("Issue", issue), ("First coupon", first_coupon), ("Settlement", settle)]):
        ws.put(dr + i, c, label)
        ws.put(dr + i, c + 1, v, g.date)
    iss, fc, st = (ws.absref(dr + i, c + 1) for i in range(3))
    rows = [("PV", lambda: call("PV", rate / 12, years * 12, pmt), g.money),
            ("FV", lambda: call("FV", rate, years, pmt, -pv), g.money),
            ("NPER", lambda: call("NPER", rate / 12, pmt, pv), "0.0"),
            ("RATE", lambda: call("RATE", years, pmt * 12, pv) , "0.00%"),
            ("Nominal (monthly)", lambda: call("NOMINAL", rate, 12), "0.000%"),
            ("Effective", lambda: call("EFFECT", rate, 12), "0.000%"),
            ("Years to target", lambda: call("PDURATION", rate, pv, fv), "0.00"),
            ("Required growth", lambda: call("RRI", years, pv, fv), "0.00%"),
            ("Interest in period 1", lambda: call("ISPMT", rate / 12, 1, years * 12, pv), g.money),
            ("Accrued interest", lambda: call("ACCRINT", iss, fc, st, rate, par, 2, 0), g.money),
            ("Accrued at maturity", lambda: call("ACCRINTM", iss, st, rate, par, 0), g.money),
            ("Discount rate", lambda: call("DISC", iss, st, price, 100, 0), "0.000%"),
            ("Price 101-16 as decimal", lambda: call("DOLLARDE", 101.16, 32), "0.0000"),
            ("Price as fraction", lambda: call("DOLLARFR", 101.5, 32), "0.00"),
            ("Year fraction", lambda: call("YEARFRAC", iss, st, 3), "0.0000"),
            ("SYD year 2", lambda: call("SYD", pv, 0, years, 2), g.money),
            ("DDB year 1", lambda: call("DDB", pv, pv / 10, years, 1), g.money),
            ("DB year 2", lambda: call("DB", pv, pv / 10, years, 2), g.money),
            ("Interest, first year", lambda: call("CUMIPMT", rate / 12, years * 12, pv, 1, 12, 0), g.money),
            ("Principal, first year", lambda: call("CUMPRINC", rate / 12, years * 12, pv, 1, 12, 0), g.money)]
    return rows_panel(g, ws, dr + 4, c, g.pick(["Results", "Outputs"]), rows, g.randint(3, 8))


def _audit(g: Gen, ws: SheetData, r: int, c: int) -> int:
    pool: list[Scalar] = [g.amount(1, 999), "text", True, None, NA, "42", g.day(), False, 0.0, "Total"]
    vals = [g.pick(pool) for _ in range(g.randint(5, 10))]
    v = lambda rr: ws.ref(rr, c)  # noqa: E731
    outputs = [("TYPE", lambda rr: call("TYPE", v(rr)), None), ("ISTEXT", lambda rr: call("ISTEXT", v(rr)), None),
               ("ISNUMBER", lambda rr: call("ISNUMBER", v(rr)), None),
               ("ISLOGICAL", lambda rr: call("ISLOGICAL", v(rr)), None),
               ("ISNONTEXT", lambda rr: call("ISNONTEXT", v(rr)), None),
               ("ISBLANK", lambda rr: call("ISBLANK", v(rr)), None), ("ISERR", lambda rr: call("ISERR", v(rr)), None),
               ("ISERROR", lambda rr: call("ISERROR", v(rr)), None), ("ISNA", lambda rr: call("ISNA", v(rr)), None),
               ("ISREF", lambda rr: call("ISREF", v(rr)), None),
               ("N", lambda rr: call("IFERROR", call("N", v(rr)), -1), None),
               ("T", lambda rr: call("IFERROR", call("T", v(rr)), "?"), None),
               ("Error type", lambda rr: call("IFERROR", call("ERROR.TYPE", v(rr)), 0), None),
               ("As text", lambda rr: call("IFERROR", call("VALUETOTEXT", v(rr)), "#"), None),
               ("Clean", lambda rr: call("IFNA", v(rr), "missing"), None),
               ("Chart value", lambda rr: call("IF", call("ISNUMBER", v(rr)), v(rr), call("NA")), None)]
    return column_panel(g, ws, r, c, g.pick(["Data checks", "Type audit", "Validation"]), [("Value", vals, None)],
                        outputs, g.randint(2, 6))[0]


def _lists(g: Gen, ws: SheetData, r: int, c: int) -> int:
    names = g.pool(g.pick(["region", "department", "city"]), g.randint(3, 6))
    n = g.randint(6, 15)
    items = [g.pick(names) for _ in range(n)]
    amounts = [float(g.randint(1, 100) * 10) for _ in range(n)]
    ws.put(r, c, g.pick(["Lists", "Dynamic ranges"]), bold=True)
    g.header(ws, r + 1, c, [g.words.h("region"), g.words.h("amount"), g.pick(["Unique", "Distinct"]),
                            g.pick(["Large items", "Filtered"]), "Seq"])
    first, last = r + 2, r + 1 + n
    for i in range(n):
        ws.put(first + i, c, items[i])
        ws.put(first + i, c + 1, amounts[i])
    lst, amt = ws.rng(first, c, last, c), ws.rng(first, c + 1, last, c + 1)
    nxt = last + 2
    array_formula(ws, first, c + 2, call("UNIQUE", lst))
    threshold = float(sorted(amounts)[n // 2])
    array_formula(ws, first, c + 3, call("FILTER", amt, amt.ge(threshold), 0))
    array_formula(ws, first, c + 4, call("SEQUENCE", g.randint(3, n)))
    rows = [("Distinct count", lambda: call("COUNTA", call("UNIQUE", lst)), None),
            ("Sum of large", lambda: call("SUM", call("FILTER", amt, amt.ge(threshold), 0)), None),
            ("Running total to row 3", lambda: call("SUM", range_to(ws.ref(first, c + 1), index_ref(amt, 3))), None),
            ("Rows", lambda: call("ROWS", lst), None), ("Columns", lambda: call("COLUMNS", ws.rng(first, c, last, c + 1)),
                                                        None)]
    nxt = rows_panel(g, ws, nxt, c, "Counts", rows, g.randint(1, 4))
    if g.chance(0.6):
        people = [f"{g.pick(POOLS['first'])} {g.pick(POOLS['last'])}" for _ in range(g.randint(2, 5))]
        g.header(ws, nxt, c, ["Full name", "First", "Last"])
        for i, p in enumerate(people):
            ws.put(nxt + 1 + i, c, p)
            array_formula(ws, nxt + 1 + i, c + 1, call("TEXTSPLIT", ws.ref(nxt + 1 + i, c), " "))
        nxt += len(people) + 2
    return nxt


def _docs(g: Gen, ws: SheetData, r: int, c: int) -> int:
    ws.put(r, c, g.pick(["How it works", "Formula reference", "Notes"]), bold=True)
    a, b = g.amount(1, 100), g.amount(1, 100)
    ws.put(r + 1, c, "a")
    ws.put(r + 1, c + 1, a)
    ws.put(r + 2, c, "b")
    ws.put(r + 2, c + 1, b)
    ra, rb = ws.ref(r + 1, c + 1), ws.ref(r + 2, c + 1)
    exprs: list[tuple[str, Callable[[], Expr]]] = [("Sum", lambda: ra + rb), ("Product", lambda: ra * rb),
                                                   ("Larger", lambda: call("MAX", ra, rb)),
                                                   ("Ratio", lambda: call("ROUND", ra / rb, 3))]
    row = r + 3
    for label, make in g.picks(exprs, g.randint(2, 4)):
        ws.put(row, c, label)
        ws.formula(row, c + 1, make())
        ws.formula(row, c + 2, call("FORMULATEXT", ws.ref(row, c + 1)))
        row += 1
    other = g.book.sheets[0]
    refs: list[tuple[str, Callable[[int], Expr], str | None]] = [
        ("Row of this cell", row_here, None),
        ("Address of a", lambda _: call("ADDRESS", call("ROW", ra), call("COLUMN", ra)), None),
        ("Address (relative)", lambda _: call("ADDRESS", r + 1, c + 1, 4), None),
        ("Sheet number", lambda _: call("SHEET", other.ref(1, 1, sheet=other is not ws)), None),
        ("Link", lambda _: call("HYPERLINK", lift("#").cat(call("ADDRESS", r + 1, c + 1)), "Go to input"), None),
        ("Cell via text", lambda _: indirect(g.book, ws, call("ADDRESS", r + 1, c + 1)), None),
        ("Text of a", lambda _: call("T", ws.ref(r + 1, c)), None),
        ("CELL address", lambda _: call("CELL", "address", ra), None),
        ("CELL row", lambda _: call("CELL", "row", rb), None),
        ("CELL col", lambda _: call("CELL", "col", ra), None),
        ("Always true", lambda _: call("TRUE"), None), ("Always false", lambda _: call("FALSE"), None)]
    ws.put(row + 1, c, "Reference functions", bold=True)
    row += 2
    for label, at, fmt in g.picks(refs, g.randint(2, 5)):
        ws.put(row, c, label)
        ws.formula(row, c + 1, at(row), fmt)
        row += 1
    return row + 1


def _live(g: Gen, ws: SheetData, r: int, c: int) -> int:
    """Volatile and Excel-only formulas: as-of date, random draws, a LAMBDA, a spill reference, a
    DDE link and a one-variable data table, each written at a low rate."""
    ws.put(r, c, g.pick(["Live values", "Scenario", "Sensitivity", "Snapshot"]), bold=True)
    row = r + 1
    today = g.day(g.year + 1)  # the generation date: fixed by the workbook's random stream
    if g.chance(0.7):
        ws.put(row, c, g.pick(["As of", "Today", "Report date"]))
        ws.formula(row, c + 1, Expr("TODAY()", today), g.date)
        opened = g.day()
        ws.put(row + 1, c, g.pick(["Opened", "Start date", "Logged"]))
        ws.put(row + 1, c + 1, opened, g.date)
        ws.put(row + 2, c, g.pick(["Days open", "Age (days)", "Days elapsed"]))
        ws.formula(row + 2, c + 1, Expr(f"TODAY()-{ws.ref(row + 1, c + 1).text}", today - opened, home=ws))
        row += 4
    if g.chance(0.6):
        n = g.randint(3, 6)
        items = g.pool(g.pick(["region", "department", "city"]), n)
        g.header(ws, row, c, [g.pick(["Item", "Name", "Entry"]), g.pick(["Random", "Tie-breaker", "Sample key"])])
        for i, item in enumerate(items):
            ws.put(row + 1 + i, c, item)
        g.fill_down(ws, c + 1, row + 1, row + n, lambda _: Expr("RAND()", g.rng.random()), "0.0000")
        row += n + 2
    if g.chance(0.6):
        price = g.amount(10, 500)
        k = g.pick([1.1, 1.2, 1.25, 1.5])
        ws.put(row, c, g.pick(["Price", "Net", "Cost"]))
        ws.put(row + 1, c, g.pick(["With markup", "Gross", "Marked up"]))
        x = ws.ref(row, c + 1)
        ws.put(row, c + 1, price, g.money)
        ws.formula(row + 1, c + 1, Expr(f"_xlfn.LAMBDA(_xlpm.x,_xlpm.x*{k})({x.text})", price * k, home=ws),
                   g.money)
        row += 3
    if g.chance(0.6):
        n = g.randint(3, 8)
        ws.put(row, c, g.pick(["Spill total", "Sum of list", "Total of spill"]))
        h = array_formula(ws, row, c + 2, call("SEQUENCE", n))
        anchor = ws.ref(row, c + 2).text
        ws.formula(row, c + 1, Expr(f"SUM(_xlfn.ANCHORARRAY({anchor}))", float(n * (n + 1) // 2), home=ws))
        row += h + 1
    if g.chance(0.5):
        app, topic = g.pick([("Excel", "[Book1]Sheet1"), ("Excel", "[Prices.xls]Feed"), ("REUTER", "IBM"),
                             ("MT4", "BID")])
        item = g.pick(["R1C1", "R2C3", "LAST", "EURUSD"])
        ws.put(row, c, g.pick(["Linked value", "Live feed", "DDE link"]))
        ws.formula(row, c + 1, Expr(f'DDE("{app}","{topic}","{item}")', REF))
        row += 2
    if g.chance(0.6):
        base, rate = g.amount(100, 5000), g.pick([0.02, 0.03, 0.05])
        ws.put(row, c, g.pick(["Base", "Amount", "Principal"]))
        ws.put(row, c + 1, base, g.money)
        ws.put(row + 1, c, g.pick(["Rate", "Growth", "Uplift"]))
        ws.put(row + 1, c + 1, rate, g.percent)
        b, x = ws.ref(row, c + 1), ws.ref(row + 1, c + 1)
        ws.formula(row + 2, c + 1, Expr(f"{b.text}*(1+{x.text})", base * (1 + rate), home=ws), g.money)
        rates = [rate + 0.01 * i for i in range(g.randint(3, 6))]
        first = row + 3
        ref = f"{a1(first, c + 1)}:{a1(first + len(rates) - 1, c + 1)}"
        for i, v in enumerate(rates):
            ws.put(first + i, c, v, g.percent)
            value = base * (1 + v)
            if i == 0:
                ws.cells[(first, c + 1)] = CellData(value, f"TABLE(,{x.text})", (g.money, False),
                                                    data_table=(ref, x.text))
            else:
                ws.put(first + i, c + 1, value, g.money)
        row = first + len(rates) + 1
    return row


MISC_PANELS: dict[str, Callable[[Gen, SheetData, int, int], int]] = {
    "dates": _dates, "rounding": _rounding, "finance": _finance, "audit": _audit, "lists": _lists, "docs": _docs,
    "live": _live}


def utility_sheet(g: Gen) -> None:
    """A utility sheet of 2-3 panels (dates, rounding, finance, audits, dynamic lists, docs, live values)."""
    ws = g.sheet(g.pick(["Tools", "Utilities", "Helpers", "Checks", "Reference", "Notes", "Scratch"]))
    r0, c0 = g.origin()
    r = r0
    for name in g.picks(list(MISC_PANELS), g.randint(2, 3)):
        r = MISC_PANELS[name](g, ws, r, c0)
