"""Staff list (text and date functions) and project tracker (dates, conditions, status logic)."""

from __future__ import annotations

from collections.abc import Callable

from ..book import SheetData
from ..ctx import Gen
from ..expr import Expr, lift
from ..functions import call
from ..names import POOLS
from ..refs import row_here

__all__ = ["project_tracker", "staff_list"]

Make = Callable[[int], Expr]


def _text_columns(g: Gen, ws: SheetData, cid: int, cf: int, cl: int, cdep: int, chire: int, csal: int,
                  asof: Expr, domain: str, sep: str) -> list[tuple[str, Make, str | None]]:
    """Candidate derived columns of a staff list: (header, formula of row, number format).

    Every random choice is made here, once, so a column's formula is the same in every row.
    """
    def r(c: int) -> Make:
        return lambda rr: ws.ref(rr, c)
    first, last_, dept, hired, salary, ident = r(cf), r(cl), r(cdep), r(chire), r(csal), r(cid)
    month_code = g.pick(["mmmm", "mmm", "mmm yyyy"])
    return [
        ("Full Name", g.pick([lambda rr: first(rr).cat(" ").cat(last_(rr)),
                              lambda rr: call("CONCATENATE", first(rr), " ", last_(rr)),
                              lambda rr: call("CONCATENATE", first(rr), " ", last_(rr)),
                              lambda rr: call("CONCATENATE", last_(rr), ", ", first(rr)),
                              lambda rr: call("TRIM", first(rr).cat(" ").cat(last_(rr))),
                              lambda rr: call("PROPER", first(rr).cat(" ").cat(last_(rr))),
                              lambda rr: call("CONCAT", first(rr), " ", last_(rr))]), None),
        ("Email", g.pick([lambda rr: call("LOWER", call("LEFT", first(rr), 1).cat(last_(rr))).cat("@" + domain),
                          lambda rr: call("LOWER", first(rr).cat(".").cat(last_(rr)).cat("@" + domain))]), None),
        ("Initials", lambda rr: call("LEFT", first(rr), 1).cat(call("LEFT", last_(rr), 1)), None),
        ("Dept Code", lambda rr: call("UPPER", call("LEFT", dept(rr), 3)), None),
        ("Username", lambda rr: call("LOWER", call("LEFT", first(rr), 3).cat(call("LEFT", last_(rr), 3))), None),
        ("ID No", g.pick([lambda rr: call("VALUE", call("RIGHT", ident(rr), 4)),
                          lambda rr: call("MID", ident(rr), call("FIND", sep, ident(rr)) + 1, 4)]), None),
        ("Name Length", lambda rr: call("LEN", first(rr).cat(last_(rr))), None),
        ("Hire Year", lambda rr: call("YEAR", hired(rr)), None),
        ("Review Date", lambda rr: call("DATE", call("YEAR", hired(rr)) + 1, call("MONTH", hired(rr)), 1), g.date),
        ("Year Start", lambda rr: call("DATE", call("YEAR", hired(rr)), 1, 1), g.date),
        ("Seniority", lambda rr: call("IF", (call("YEAR", asof) - call("YEAR", hired(rr))).ge(5), "Senior", "Junior"),
         None),
        ("Eligible", lambda rr: call("IF", call("OR", hired(rr).lt(asof - 365), salary(rr).ge(100000)),
                                     call("TRUE"), call("FALSE")), None),
        ("Display Name", lambda rr: call("IF", call("ISBLANK", last_(rr)), first(rr),
                                         call("CONCATENATE", first(rr), " ", last_(rr))), None),
        ("Hire Month", lambda rr: call("TEXT", hired(rr), month_code), None),
        ("Hire Quarter", lambda rr: lift("Q").cat(call("ROUNDUP", call("MONTH", hired(rr)) / 3, 0)), None),
        ("Years of Service", g.pick([lambda rr: call("DATEDIF", hired(rr), asof, "Y"),
                                     lambda rr: call("INT", call("YEARFRAC", hired(rr), asof, 3)),
                                     lambda rr: call("ROUNDDOWN", (asof - hired(rr)) / 365.25, 0)]), None),
        ("Anniversary", lambda rr: call("EDATE", hired(rr), 12), g.date),
        ("Probation End", lambda rr: call("EOMONTH", hired(rr), 3), g.date),
        ("Monthly Salary", lambda rr: call("ROUND", salary(rr) / 12, 2), g.money),
        ("Raise 3%", lambda rr: call("ROUND", salary(rr) * 1.03, -2), g.money),
        ("Masked ID", lambda rr: call("REPT", "*", call("LEN", ident(rr)) - 2).cat(call("RIGHT", ident(rr), 2)), None),
        ("Sales Team?", lambda rr: call("ISNUMBER", call("SEARCH", "sales", dept(rr))), None),
        ("Code", lambda rr: call("SUBSTITUTE", ident(rr), sep, ""), None),
        ("Short Dept", lambda rr: call("REPLACE", dept(rr), 4, 100, "."), None),
        ("Name List", lambda rr: call("TEXTJOIN", ", ", True, ws.rng(rr, cf, rr, cl)), None),
        ("First Letter Code", lambda rr: call("CODE", first(rr)), None),
        ("Same Initial", lambda rr: call("EXACT", call("LEFT", first(rr), 1), call("LEFT", last_(rr), 1)), None),
    ]


def staff_list(g: Gen) -> None:
    """Employees with IDs, names, department, hire date and salary, plus derived text/date columns."""
    w = g.words
    ws = g.sheet(g.pick(["Staff", "Employees", "HR Data", "Team", "Mitarbeiter", "Empleados", "Personnel"]))
    r0, c0 = g.origin()
    domain = g.pick(["acme.com", "company.org", "example.net", "firm.co.uk", "corp.de"])
    ws.put(r0, c0, g.pick(["As of", "Report date", "Stichtag"]))
    ws.put(r0, c0 + 1, g.day(g.year), g.date)
    asof = ws.absref(r0, c0 + 1)
    r = r0 + 2
    n = g.size(6, 150)
    depts = g.pool("department", g.randint(3, 7))
    prefix = g.pick(["E", "EMP", "ID", "S"])
    sep = g.pick(["-", "_", "/"])
    cols = ["id", "first", "last", "department", "date", "salary"]
    heads = [w.h(c) for c in cols]
    heads[4] = g.pick(["Hire Date", "Start Date", "Joined", "Eintritt", "Fecha alta"])
    cid, cf, cl, cdep, chire, csal = (c0 + k for k in range(6))
    derived = _text_columns(g, ws, cid, cf, cl, cdep, chire, csal, asof, domain, sep)
    chosen = g.picks(derived, g.randint(3, 8))
    g.header(ws, r, c0, heads + [w.label(h) for h, _, _ in chosen])
    first, last = r + 1, r + n
    for i in range(n):
        rr = first + i
        ws.put(rr, cid, f"{prefix}{sep}{1000 + g.randint(0, 8999)}")
        ws.put(rr, cf, g.pick(POOLS["first"]))
        ws.put(rr, cl, g.pick(POOLS["last"]))
        ws.put(rr, cdep, g.pick(depts))
        ws.put(rr, chire, g.day(g.year - g.randint(0, 15)), g.date)
        ws.put(rr, csal, float(g.randint(30, 180) * 1000), g.money)
    for k, (_, make, fmt) in enumerate(chosen):
        g.fill_down(ws, csal + 1 + k, first, last, make, fmt)
    if g.chance(0.7):
        r = last + 2
        g.header(ws, r, c0, [w.h("department"), g.pick(["Headcount", "Count", "Employees"]),
                             g.pick(["Avg salary", "Average Salary"]), g.pick(["Max salary", "Top salary"])])
        dep_rng = ws.rng(first, cdep, last, cdep, True, True)
        sal_rng = ws.rng(first, csal, last, csal, True, True)
        for i, d in enumerate(depts):
            ws.put(r + 1 + i, c0, d)
        end = r + len(depts)
        if g.chance(0.6):
            g.fill_down(ws, c0 + 1, r + 1, end, lambda rr: call("COUNTIF", dep_rng, ws.ref(rr, c0)))
        else:
            g.fill_down(ws, c0 + 1, r + 1, end, lambda rr: call("COUNTIFS", dep_rng, ws.ref(rr, c0), sal_rng, ">0"))
        g.fill_down(ws, c0 + 2, r + 1, end, lambda rr: call("AVERAGEIFS", sal_rng, dep_rng, ws.ref(rr, c0)), g.money)
        fn = g.pick(["MAXIFS", "MINIFS"])
        g.fill_down(ws, c0 + 3, r + 1, end, lambda rr: call(fn, sal_rng, dep_rng, ws.ref(rr, c0)), g.money)
        g.total_row(ws, end + 1, c0, c0 + 1, c0 + 1, r + 1, end)


def project_tracker(g: Gen) -> None:
    """Tasks with start, duration, end, progress and status; dates and logic around a status date."""
    w = g.words
    ws = g.sheet(g.pick(["Project Plan", "Tasks", "Tracker", "Gantt", "Projektplan", "Plan"]))
    r0, c0 = g.origin()
    ws.put(r0, c0, g.pick(["Status date", "Today", "As of"]))
    today = g.day()
    ws.put(r0, c0 + 1, today, g.date)
    asof = ws.absref(r0, c0 + 1)
    r = r0 + 2
    n = g.size(5, 60)
    tasks = g.pool("task", n)
    numbered = g.chance(0.4)
    heads = (["#"] if numbered else []) + [g.pick(["Task", "Activity", "Milestone", "Aufgabe"]), w.h("name"),
                                           w.h("start"), g.pick(["Duration", "Days", "Dur. (d)"]), w.h("end"),
                                           g.pick(["% Complete", "Progress", "% Done"]), w.h("status"), w.h("notes")]
    g.header(ws, r, c0, heads)
    base = c0 + (1 if numbered else 0)
    ct, co, cs, cd, ce, cp, cst, cn = (base + k for k in range(8))
    first, last = r + 1, r + n
    if numbered:
        style = g.pick(["row", "prev"])
        if style == "row":
            g.fill_down(ws, c0, first, last, lambda rr: row_here(rr) - (first - 1))
        else:
            ws.put(first, c0, 1.0)
            g.fill_down(ws, c0, first + 1, last, lambda rr: ws.ref(rr - 1, c0) + 1)
    owners = g.pool("first", g.randint(2, 6))
    day = today - g.randint(20, 90)
    for i in range(n):
        rr = first + i
        ws.put(rr, ct, tasks[i])
        ws.put(rr, co, g.pick(owners))
        ws.put(rr, cs, day, g.date)
        ws.put(rr, cd, float(g.randint(1, 20)))
        ws.put(rr, cp, g.pick([0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0]), "0%")
        if g.chance(0.4):
            ws.put(rr, cn, g.pick(["urgent", "waiting on vendor", "URGENT - client", "ok", "see email"]))
        day += g.randint(0, 10)
    end_style = g.pick(["plus", "workday"])
    g.fill_down(ws, ce, first, last, lambda rr: ws.ref(rr, cs) + ws.ref(rr, cd) if end_style == "plus"
                else call("WORKDAY", ws.ref(rr, cs), ws.ref(rr, cd)), g.date)
    status = g.pick(["nested", "ifs", "overdue"])

    def status_of(rr: int) -> Expr:
        p = ws.ref(rr, cp)
        if status == "nested":
            return call("IF", p.eq(1), "Done", call("IF", p.gt(0), "In progress", "Not started"))
        if status == "ifs":
            return call("IFS", p.eq(1), "Done", p.gt(0), "In progress", True, "Not started")
        return call("IF", call("AND", ws.ref(rr, ce).lt(asof), p.lt(1)), "Overdue",
                    call("IF", p.eq(1), "Done", "Open"))
    g.fill_down(ws, cst, first, last, status_of)
    extra: list[tuple[str, Make, str | None]] = [
        ("Days left", lambda rr: call("MAX", 0, ws.ref(rr, ce) - asof), None),
        ("Overdue?", lambda rr: call("AND", ws.ref(rr, ce).lt(asof), ws.ref(rr, cp).lt(1)), None),
        ("Week", lambda rr: call("WEEKNUM", ws.ref(rr, cs)), None),
        ("Days (30/360)", lambda rr: call("DAYS360", ws.ref(rr, cs), ws.ref(rr, ce)), None),
        ("Month end", lambda rr: call("EOMONTH", ws.ref(rr, cs), 0), g.date),
        ("Flag", lambda rr: call("IF", call("ISNUMBER", call("SEARCH", "urgent", ws.ref(rr, cn))), "!", ""), None),
        ("Note", lambda rr: call("IF", call("ISBLANK", ws.ref(rr, cn)), "-", ws.ref(rr, cn)), None),
        ("Workdays", lambda rr: call("NETWORKDAYS", ws.ref(rr, cs), ws.ref(rr, ce)), None),
        ("Start month", lambda rr: call("MONTH", ws.ref(rr, cs)), None),
        ("Weekday", lambda rr: call("WEEKDAY", ws.ref(rr, cs)), None),
        ("Phase", lambda rr: call("CHOOSE", call("MIN", 3, call("ROUNDUP", ws.ref(rr, cd) / 7, 0)), "Short", "Medium",
                                  "Long"), None),
        ("Code", lambda rr: call("SWITCH", ws.ref(rr, cp), 1, "C", 0, "N", "P"), None),
        ("Days", lambda rr: call("DAYS", ws.ref(rr, ce), ws.ref(rr, cs)), None),
        ("Open?", lambda rr: call("NOT", ws.ref(rr, cp).eq(1)), None),
        ("At risk", lambda rr: call("OR", call("AND", ws.ref(rr, ce).lt(asof), ws.ref(rr, cp).lt(1)),
                                    ws.ref(rr, cd).gt(15)), None),
        ("Needs owner", lambda rr: call("AND", call("NOT", call("ISBLANK", ws.ref(rr, ct))),
                                        call("ISBLANK", ws.ref(rr, cn))), None)]
    col = cn + 1
    for head, make, fmt in g.picks(extra, g.randint(2, 5)):
        ws.put(r, col, head, bold=True)
        g.fill_down(ws, col, first, last, make, fmt)
        col += 1
    r = last + 2
    summary: list[tuple[str, Expr, str | None]] = [
        ("Tasks", call("COUNTA", ws.rng(first, ct, last, ct)), None),
        ("Done", call("COUNTIF", ws.rng(first, cst, last, cst), "Done"), None),
        ("Average progress", call("AVERAGE", ws.rng(first, cp, last, cp)), "0%"),
        ("Project start", call("MIN", ws.rng(first, cs, last, cs)), g.date),
        ("Project end", call("MAX", ws.rng(first, ce, last, ce)), g.date),
        ("Working days", call("NETWORKDAYS", call("MIN", ws.rng(first, cs, last, cs)),
                              call("MAX", ws.rng(first, ce, last, ce))), None),
        ("With notes", call("COUNTA", ws.rng(first, cn, last, cn)), None),
        ("Without notes", call("COUNTBLANK", ws.rng(first, cn, last, cn)), None),
        ("Owner of last task", call("INDEX", ws.rng(first, co, last, co), call("ROWS", ws.rng(first, co, last, co))),
         None)]
    for label, e, f in g.picks(summary, g.randint(2, 6)):
        ws.put(r, c0, label)
        ws.formula(r, c0 + 1, e, f)
        r += 1
