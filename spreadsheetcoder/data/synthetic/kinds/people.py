"""People-centred kinds: grade book, timesheet, survey tally."""

from __future__ import annotations

from collections.abc import Callable

from ..book import SheetData
from ..ctx import Gen
from ..expr import Expr, lift
from ..functions import call
from ..names import POOLS, TITLES

__all__ = ["grade_book", "survey", "timesheet"]

_SCALE = [(0.0, "F"), (60.0, "D"), (70.0, "C"), (80.0, "B"), (90.0, "A")]


def grade_book(g: Gen) -> None:
    """Students x assessments; average or weighted score, letter grade, pass flag, rank, class stats."""
    w = g.words
    ws = g.sheet(g.pick(["Grades", "Gradebook", "Class 10B", "Scores", "Results", "Noten", "Notas"]))
    r0, c0 = g.origin()
    k = g.randint(3, 8)
    tests = g.picks(POOLS["subject"], k)
    n = g.size(8, 120)
    split = g.chance(0.4)
    r = g.title(ws, r0, c0, g.pick(TITLES["grades"]), k + 4)
    name_cols = 2 if split else 1
    s1 = c0 + name_cols
    s2 = s1 + k - 1
    weights = None
    if g.chance(0.4):
        ws.put(r, c0, g.pick(["Weight", "Weights", "Gewicht"]), bold=True)
        raw = [g.randint(1, 4) for _ in range(k)]
        total = sum(raw)
        shares = [round(x / total, 2) for x in raw[:-1]]
        shares.append(round(1 - sum(shares), 2))
        for j, sh in enumerate(shares):
            ws.put(r, s1 + j, sh, "0%")
        weights = ws.rng(r, s1, r, s2, abs_rows=True, abs_cols=True)
        r += 1
    extras = ["score"] + [e for e in ("grade", "pass", "rank") if g.chance(0.6)]
    headers: list[str | None] = [w.h("first"), w.h("last")] if split else [w.h("name")]
    headers += [*tests, w.h("average") if weights is None else g.pick(["Weighted score", "Final %", "Score"])]
    headers += [{"grade": w.h("grade"), "pass": g.pick(["Pass/Fail", "Result", "Status"]), "rank": w.h("rank")}[e]
                for e in extras[1:]]
    g.header(ws, r, c0, headers)
    first, last = r + 1, r + n
    for i in range(n):
        rr = first + i
        if split:
            ws.put(rr, c0, g.pick(POOLS["first"]))
            ws.put(rr, c0 + 1, g.pick(POOLS["last"]))
        else:
            ws.put(rr, c0, f"{g.pick(POOLS['first'])} {g.pick(POOLS['last'])}")
        skill = g.rng.uniform(50, 98)
        missing = g.randint(0, k * 6)
        for j in range(k):
            if j != missing:
                ws.put(rr, s1 + j, float(max(0, min(100, round(g.rng.gauss(skill, 8))))))
    cs = s2 + 1
    rounded = g.chance(0.4)

    def score(rr: int) -> Expr:
        if weights is not None:
            # Rounded: engines add the products in different orders, and RANK must see equal ties.
            return call("ROUND", call("SUMPRODUCT", weights, ws.rng(rr, s1, rr, s2)), 1)
        avg = call("AVERAGE", ws.rng(rr, s1, rr, s2))
        return call("ROUND", avg, 1) if rounded else avg
    g.fill_down(ws, cs, first, last, score, "0.0")
    col = cs + 1
    if "grade" in extras:
        style = g.pick(["if", "if", "vlookup", "ifs"])
        if style == "vlookup":
            tr, tc = r, col + 3 + (1 if "pass" in extras else 0) + (1 if "rank" in extras else 0)
            g.header(ws, tr, tc, [g.pick(["Min score", "From", "Score"]), w.h("grade")])
            for j, (lo, letter) in enumerate(_SCALE):
                ws.put(tr + 1 + j, tc, lo)
                ws.put(tr + 1 + j, tc + 1, letter)
            scale = ws.rng(tr + 1, tc, tr + len(_SCALE), tc + 1, True, True)
            g.fill_down(ws, col, first, last, lambda rr: call("VLOOKUP", ws.ref(rr, cs), scale, 2, True))
        elif style == "ifs":
            g.fill_down(ws, col, first, last, lambda rr: call(
                "IFS", ws.ref(rr, cs).ge(90), "A", ws.ref(rr, cs).ge(80), "B", ws.ref(rr, cs).ge(70), "C",
                ws.ref(rr, cs).ge(60), "D", True, "F"))
        else:
            def nested(rr: int) -> Expr:
                e: Expr = lift("F")
                for lo, letter in _SCALE[1:]:
                    e = call("IF", ws.ref(rr, cs).ge(lo), letter, e)
                return e
            g.fill_down(ws, col, first, last, nested)
        grade_col = col
        col += 1
    if "pass" in extras:
        rule = g.pick(["plain", "plain", "and", "or"])

        def passed(rr: int) -> Expr:
            if rule == "and":
                return call("IF", call("AND", ws.ref(rr, cs).ge(60), ws.ref(rr, s2).ge(50)), "Pass", "Fail")
            if rule == "or":
                return call("IF", call("OR", ws.ref(rr, cs).lt(60), ws.ref(rr, s2).lt(50)), "Fail", "Pass")
            return call("IF", ws.ref(rr, cs).ge(60), "Pass", "Fail")
        g.fill_down(ws, col, first, last, passed)
        pass_col = col
        col += 1
    if "rank" in extras:
        block = ws.rng(first, cs, last, cs, True, True)
        g.fill_down(ws, col, first, last, lambda rr: call("RANK", ws.ref(rr, cs), block))
    # Class statistics under the table, one row per statistic, across all score columns.
    r = last + 2
    stats = g.picks([("AVERAGE", w.h("average")), ("MAX", "Highest"), ("MIN", "Lowest"), ("MEDIAN", "Median"),
                     ("STDEV", "Std dev"), ("COUNT", "Submitted")], g.randint(2, 5))
    for fn, label in stats:
        ws.put(r, c0, label, bold=True)
        g.fill_right(ws, r, s1, cs, _column_stat(ws, fn, first, last), "0.0")
        r += 1
    if "grade" in extras and g.chance(0.7):
        r += 1
        for letter in "ABCDF":
            ws.put(r, c0, f"# {letter}")
            ws.formula(r, c0 + 1, call("COUNTIF", ws.rng(first, grade_col, last, grade_col), letter))
            r += 1
    if "pass" in extras and g.chance(0.7):
        ws.put(r, c0, g.pick(["Pass rate", "% passed"]))
        ws.formula(r, c0 + 1, call("COUNTIF", ws.rng(first, pass_col, last, pass_col), "Pass")
                   / call("COUNTA", ws.rng(first, c0, last, c0)), g.percent)


def timesheet(g: Gen) -> None:
    """Days with time in/out and breaks; hours, regular and overtime hours, pay, weekly totals."""
    w = g.words
    ws = g.sheet(g.pick(["Timesheet", "Hours", "Week 1", "Time Log", "Stunden", "Horas"]))
    r0, c0 = g.origin()
    r = g.title(ws, r0, c0, g.pick(TITLES["timesheet"]), 8)
    ws.put(r, c0, g.pick(["Employee", "Name", "Mitarbeiter"]))
    ws.put(r, c0 + 1, f"{g.pick(POOLS['first'])} {g.pick(POOLS['last'])}")
    ws.put(r + 1, c0, w.h("rate"))
    ws.put(r + 1, c0 + 1, float(g.randint(15, 80)), g.money)
    rate = ws.absref(r + 1, c0 + 1)
    ws.put(r + 2, c0, g.pick(["OT multiplier", "Overtime rate", "OT factor"]))
    ws.put(r + 2, c0 + 1, g.pick([1.5, 1.5, 2.0, 1.25]))
    ot = ws.absref(r + 2, c0 + 1)
    ws.put(r + 3, c0, g.pick(["Week starting", "Period start", "Start date"]))
    monday = g.day()
    ws.put(r + 3, c0 + 1, monday, g.date)
    start = ws.absref(r + 3, c0 + 1)
    r += 5
    days = g.pick([5, 5, 7, 10, 14, 22])
    headers = [w.h("date"), g.pick(["Day", "Weekday", "Tag"]), w.h("start"), w.h("end"),
               g.pick(["Break (min)", "Lunch (min)", "Pause"]), w.h("hours"), g.pick(["Regular", "Reg. hrs"]),
               g.pick(["Overtime", "OT", "OT hrs"]), g.pick(["Pay", "Earnings", "Gross pay"])]
    g.header(ws, r, c0, headers)
    first, last = r + 1, r + days
    cd, cw, ci, co, cb, ch, crg, cot, cp = (c0 + k for k in range(9))
    ws.formula(first, cd, start, g.date)
    date_style = g.pick(["plus", "workday"])
    g.fill_down(ws, cd, first + 1, last, lambda rr: ws.ref(rr - 1, cd) + 1 if date_style == "plus"
                else call("WORKDAY", ws.ref(rr - 1, cd), 1), g.date)
    day_style = g.pick(["text", "text", "weekday", "choose"])
    code = g.pick(["ddd", "dddd"])
    names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    g.fill_down(ws, cw, first, last, lambda rr: call("TEXT", ws.ref(rr, cd), code) if day_style == "text" else (
        call("WEEKDAY", ws.ref(rr, cd), 2) if day_style == "weekday"
        else call("CHOOSE", call("WEEKDAY", ws.ref(rr, cd)), *names)))
    for rr in range(first, last + 1):
        tin = g.randint(28, 40) / 4  # 7:00 .. 10:00 in quarter hours
        ws.put(rr, ci, tin / 24, "h:mm")
        ws.put(rr, co, (tin + g.randint(24, 44) / 4) / 24, "h:mm")
        ws.put(rr, cb, float(g.pick([0, 30, 30, 45, 60])))
    hours_style = g.pick(["plain", "round", "mod"])
    g.fill_down(ws, ch, first, last, lambda rr: {
        "plain": (ws.ref(rr, co) - ws.ref(rr, ci)) * 24 - ws.ref(rr, cb) / 60,
        "round": call("ROUND", (ws.ref(rr, co) - ws.ref(rr, ci)) * 24 - ws.ref(rr, cb) / 60, 2),
        "mod": call("MOD", ws.ref(rr, co) - ws.ref(rr, ci), 1) * 24 - ws.ref(rr, cb) / 60}[hours_style], "0.00")
    g.fill_down(ws, crg, first, last, lambda rr: call("MIN", 8, ws.ref(rr, ch)), "0.00")
    ot_style = g.pick(["max", "if"])
    g.fill_down(ws, cot, first, last, lambda rr: call("MAX", 0, ws.ref(rr, ch) - 8) if ot_style == "max"
                else call("IF", ws.ref(rr, ch).gt(8), ws.ref(rr, ch) - 8, 0), "0.00")
    g.fill_down(ws, cp, first, last, lambda rr: ws.ref(rr, crg) * rate + ws.ref(rr, cot) * rate * ot, g.money)
    g.total_row(ws, last + 1, c0, ch, cp, first, last, "0.00")
    r = last + 3
    extras = [("Week number", call("WEEKNUM", start), None),
              ("Working days", call("NETWORKDAYS", ws.ref(first, cd), ws.ref(last, cd)), None),
              ("First clock-in (hour)", call("HOUR", call("MIN", ws.rng(first, ci, last, ci))), None),
              ("Latest clock-out (min)", call("MINUTE", call("MAX", ws.rng(first, co, last, co))), None),
              ("Average hours/day", call("AVERAGE", ws.rng(first, ch, last, ch)), "0.00"),
              ("Days with overtime", call("COUNTIF", ws.rng(first, cot, last, cot), ">0"), None)]
    for label, e, f in g.picks(extras, g.randint(1, 4)):
        ws.put(r, c0, label)
        ws.formula(r, c0 + 1, e, f)
        r += 1


_LIKERT = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]


def survey(g: Gen) -> None:
    """Survey responses on one sheet, a COUNTIF tally with percentages and averages on another."""
    w = g.words
    data = g.sheet(g.pick(["Responses", "Survey Data", "Raw Data", "Form Responses 1", "Antworten"]))
    k = g.randint(3, 10)
    n = g.size(15, 300)
    questions = [f"Q{j + 1}" for j in range(k)]
    groups = g.pick([["18-24", "25-34", "35-44", "45-54", "55+"], g.pool("department", 4), ["Yes", "No"]])
    g.header(data, 1, 1, ["ID", w.h("date"), g.pick(["Age group", "Group", "Segment"]), *questions])
    for i in range(n):
        data.put(2 + i, 1, float(1001 + i))
        data.put(2 + i, 2, g.day(), g.date)
        data.put(2 + i, 3, g.pick(groups))
        bias = g.rng.uniform(-1, 1)
        for j in range(k):
            if g.chance(0.97):
                data.put(2 + i, 4 + j, float(max(1, min(5, round(3 + bias + g.rng.gauss(0, 1))))))
    last = n + 1
    ws = g.sheet(g.pick(["Summary", "Results", "Tally", "Analysis", "Auswertung"]))
    r0, c0 = g.origin()
    r = g.title(ws, r0, c0, g.pick(["Survey Results", "Response Summary", "Employee Survey " + str(g.year)]), k + 1)
    labelled = g.chance(0.5)
    g.header(ws, r, c0, [g.pick(["Score", "Answer", "Rating"]), *questions])
    if labelled:
        ws.put(r, c0 - 1 if c0 > 1 else c0 + k + 1, g.pick(["Label", "Meaning"]), bold=True)
    t1 = r + 1
    for v in range(1, 6):
        ws.put(t1 + v - 1, c0, float(v))
        if labelled:
            ws.put(t1 + v - 1, c0 - 1 if c0 > 1 else c0 + k + 1, _LIKERT[v - 1])
    t2 = t1 + 4
    for j in range(k):
        col = c0 + 1 + j
        resp = data.rng(2, 4 + j, last, 4 + j, abs_rows=True, sheet=True)
        g.fill_down(ws, col, t1, t2, _keyed(ws, "COUNTIF", resp, c0))
    g.total_row(ws, t2 + 1, c0, c0 + 1, c0 + k, t1, t2)
    r = t2 + 3
    if g.chance(0.7):
        ws.put(r - 1, c0, "%", bold=True)
        for v in range(5):
            ws.formula(r + v, c0, ws.ref(t1 + v, c0))
        for j in range(k):
            col = c0 + 1 + j
            g.fill_down(ws, col, r, r + 4, _share_of(ws, col, t1 - r, t2 + 1), g.percent)
        r += 6
    def answers(c: int) -> Expr:
        return data.rng(2, c - c0 + 3, last, c - c0 + 3, sheet=True)  # question column of summary column c
    rows: list[tuple[str, Callable[[int], Expr], str | None]] = [
        ("Average", lambda c: call("AVERAGE", answers(c)), "0.00"),
        ("% agree", lambda c: call("COUNTIF", answers(c), ">=4") / call("COUNT", answers(c)), g.percent),
        ("Responses", lambda c: call("COUNT", answers(c)), None),
        ("Blank", lambda c: call("COUNTBLANK", answers(c)), None)]
    for label, make, f in g.picks(rows, g.randint(1, 4)):
        ws.put(r, c0, label, bold=True)
        g.fill_right(ws, r, c0 + 1, c0 + k, make, f)
        r += 1
    if g.chance(0.6):
        r += 1
        g.header(ws, r, c0, [g.pick(["Group", "Segment"]), *questions[:min(k, 4)]])
        grp = data.rng(2, 3, last, 3, abs_rows=True, abs_cols=True, sheet=True)
        for i, name in enumerate(groups):
            ws.put(r + 1 + i, c0, name)
        for j in range(min(k, 4)):
            resp = data.rng(2, 4 + j, last, 4 + j, abs_rows=True, sheet=True)
            g.fill_down(ws, c0 + 1 + j, r + 1, r + len(groups), _group_average(ws, resp, grp, c0), "0.00")


def _column_stat(ws: SheetData, fn: str, first: int, last: int) -> Callable[[int], Expr]:
    """``fn(col first:last)`` for the column a formula sits in (class statistics rows)."""
    return lambda c: call(fn, ws.rng(first, c, last, c))


def _keyed(ws: SheetData, fn: str, block: Expr, key_col: int) -> Callable[[int], Expr]:
    """``fn(block, $A5)``: a criteria function keyed on the row label (mixed anchor)."""
    return lambda rr: call(fn, block, ws.ref(rr, key_col, abs_col=True))


def _share_of(ws: SheetData, col: int, shift: int, total_row: int) -> Callable[[int], Expr]:
    """The count ``shift`` rows away over the column total (``=C5/C$10``)."""
    return lambda rr: ws.ref(rr + shift, col) / ws.ref(total_row, col, abs_row=True)


def _group_average(ws: SheetData, block: Expr, groups: Expr, key_col: int) -> Callable[[int], Expr]:
    return lambda rr: call("IFERROR", call("AVERAGEIFS", block, groups, ws.ref(rr, key_col, abs_col=True)), "")
