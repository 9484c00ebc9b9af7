"""Schedules: loan amortization, asset depreciation, project cash flows (NPV/IRR)."""

from __future__ import annotations

from ..book import SheetData, a1
from ..ctx import Gen
from ..expr import Expr
from ..functions import call
from ..names import POOLS, TITLES

__all__ = ["cash_flows", "depreciation", "loan_schedule"]


def _inputs(g: Gen, ws: SheetData, r: int, c: int, rows: list[tuple[str, float, str | None, str | None]]
            ) -> list[Expr]:
    """A label/value block; each value is referenced absolutely, or through a defined name."""
    use_names = g.chance(0.35)
    refs = []
    for k, (label, value, fmt, name) in enumerate(rows):
        ws.put(r + k, c, label)
        ws.put(r + k, c + 1, value, fmt)
        refs.append(g.named(1.0 if use_names and name else 0.0, [name] if name else [], ws, r + k, c + 1))
    return refs


def loan_schedule(g: Gen) -> None:
    """Loan inputs, PMT, and a payment-by-payment schedule with running balances and totals."""
    w = g.words
    ws = g.sheet(g.pick(["Loan", "Amortization", "Mortgage", "Loan Schedule", "Tilgungsplan", "Prestamo"]))
    r0, c0 = g.origin()
    r = g.title(ws, r0, c0, g.pick(TITLES["loan"]), 7)
    ppy = g.pick([12, 12, 12, 4, 1])
    years = g.pick([1, 2, 3, 5, 10, 15, 20, 30]) if ppy != 12 else g.pick([1, 2, 3, 4, 5, 7, 10, 15, 30])
    principal = float(g.randint(5, 500) * 1000)
    rate = round(g.rng.uniform(0.02, 0.11), 4)
    start = g.day()
    amount, annual, term, per_year, first_date = _inputs(g, ws, r, c0, [
        (g.pick(["Loan amount", "Principal", "Amount borrowed", "Darlehensbetrag"]), principal, g.money, "LoanAmount"),
        (g.pick(["Annual interest rate", "Interest rate", "APR", "Zinssatz"]), rate, "0.00%", "AnnualRate"),
        (g.pick(["Term (years)", "Years", "Loan term"]), float(years), None, "TermYears"),
        (g.pick(["Payments per year", "Periods/year"]), float(ppy), None, None),
        (g.pick(["Start date", "First payment", "Loan date"]), start, g.date, "StartDate")])
    r += 6
    ws.put(r, c0, "Periodic rate")
    ws.formula(r, c0 + 1, annual / per_year, "0.000%")
    per_rate = ws.absref(r, c0 + 1)
    ws.put(r + 1, c0, g.pick(["Number of payments", "Total periods", "NPER"]))
    ws.formula(r + 1, c0 + 1, term * per_year)
    nper = ws.absref(r + 1, c0 + 1)
    ws.put(r + 2, c0, w.h("payment"))
    pmt_style = g.pick(["neg", "minus", "round"])
    pmt_expr = {"neg": call("PMT", per_rate, nper, -amount), "minus": -call("PMT", per_rate, nper, amount),
                "round": call("ROUND", call("PMT", per_rate, nper, -amount), 2)}[pmt_style]
    ws.formula(r + 2, c0 + 1, pmt_expr, g.money)
    pmt = ws.absref(r + 2, c0 + 1)
    ws.put(r + 3, c0, g.pick(["Total interest", "Total cost of interest"]))
    ws.formula(r + 3, c0 + 1, pmt * nper - amount, g.money)
    r += 5
    n = int(years * ppy)
    headers = ["No.", w.h("date"), g.pick(["Beginning balance", "Opening balance", "Start balance"]),
               w.h("payment"), w.h("interest"), w.h("principal"), w.h("balance")]
    running = g.chance(0.6)
    if running:
        headers.append(g.pick(["Cumulative interest", "Interest to date", "Cum. interest"]))
    g.header(ws, r, c0, headers)
    first, last = r + 1, r + n
    cn, cd, cb, cp, ci, cpr, ce, cc = (c0 + k for k in range(8))
    for k in range(n):
        ws.put(first + k, cn, float(k + 1))
    date_style = g.pick(["edate_start", "edate_prev", "date_prev"])
    months = 12 // ppy
    ws.formula(first, cd, call("EDATE", first_date, 0) if date_style == "edate_start" else first_date, g.date)
    g.fill_down(ws, cd, first + 1, last, lambda rr: call("EDATE", first_date, ws.ref(rr, cn) * months - months)
                if date_style == "edate_start" else call("EDATE", ws.ref(rr - 1, cd), months) if date_style == "edate_prev"
                else call("DATE", call("YEAR", ws.ref(rr - 1, cd)), call("MONTH", ws.ref(rr - 1, cd)) + months, 1), g.date)
    int_style = g.pick(["mul", "mul", "round", "ipmt"])
    prin_style = g.pick(["diff", "ppmt"]) if int_style == "ipmt" else "diff"
    last_fix = g.chance(0.3)
    groups = {key: ws.new_group() for key in ("beg", "pmt", "int", "prin", "end", "cum")}
    for rr in range(first, last + 1):
        # Row by row: each row reads the previous row's ending balance.
        if rr == first:
            ws.formula(rr, cb, amount, g.money)
        else:
            ws.formula(rr, cb, ws.ref(rr - 1, ce), g.money, groups["beg"])
        ws.formula(rr, cp, call("MIN", pmt, ws.ref(rr, cb) + ws.ref(rr, cb) * per_rate) if last_fix else pmt,
                   g.money, groups["pmt"])
        interest = {"mul": ws.ref(rr, cb) * per_rate, "round": call("ROUND", ws.ref(rr, cb) * per_rate, 2),
                    "ipmt": -call("IPMT", per_rate, ws.ref(rr, cn), nper, amount)}[int_style]
        ws.formula(rr, ci, interest, g.money, groups["int"])
        princ = ws.ref(rr, cp) - ws.ref(rr, ci) if prin_style == "diff" else \
            -call("PPMT", per_rate, ws.ref(rr, cn), nper, amount)
        ws.formula(rr, cpr, princ, g.money, groups["prin"])
        ws.formula(rr, ce, ws.ref(rr, cb) - ws.ref(rr, cpr), g.money, groups["end"])
        if running:
            if rr == first:
                ws.formula(rr, cc, ws.ref(rr, ci), g.money)
            else:
                ws.formula(rr, cc, ws.ref(rr - 1, cc) + ws.ref(rr, ci), g.money, groups["cum"])
    ws.put(last + 1, cn, g.total_label(), bold=True)
    for c in (cp, ci, cpr):
        ws.formula(last + 1, c, call("SUM", ws.rng(first, c, last, c)), g.money)
    if g.chance(0.5) and ppy == 12 and n >= 12:
        r2 = last + 3
        ws.put(r2, c0, "Interest in year 1")
        ws.formula(r2, c0 + 1, -call("CUMIPMT", per_rate, nper, amount, 1, 12, 0), g.money)
        ws.put(r2 + 1, c0, "Principal in year 1")
        ws.formula(r2 + 1, c0 + 1, -call("CUMPRINC", per_rate, nper, amount, 1, 12, 0), g.money)
        ws.put(r2 + 2, c0, "Check NPER")
        ws.formula(r2 + 2, c0 + 1, call("NPER", per_rate, -pmt, amount), "0.0")
        ws.put(r2 + 3, c0, "Check rate")
        ws.formula(r2 + 3, c0 + 1, call("RATE", nper, -pmt, amount) * per_year, "0.00%")


def depreciation(g: Gen) -> None:
    """An asset register (SLN) and a year-by-year schedule with accumulated depreciation."""
    ws = g.sheet(g.pick(["Depreciation", "Fixed Assets", "Asset Register", "Abschreibung", "Amortización"]))
    r0, c0 = g.origin()
    r = g.title(ws, r0, c0, g.pick(["Depreciation Schedule", "Fixed Asset Register", "Asset Depreciation"]), 6)
    assets = g.picks(POOLS["asset"], g.randint(2, 8))
    g.header(ws, r, c0, [g.words.h("item"), g.words.h("cost"), g.pick(["Salvage", "Residual value", "Salvage value"]),
                         g.pick(["Life (yrs)", "Useful life", "Years"]), g.pick(["Annual depreciation", "SLN", "Per year"]),
                         g.pick(["Monthly", "Per month"])])
    first = r + 1
    for k, a in enumerate(assets):
        cost = float(g.randint(2, 200) * 500)
        ws.put(first + k, c0, a)
        ws.put(first + k, c0 + 1, cost, g.money)
        ws.put(first + k, c0 + 2, round(cost * g.pick([0, 0.05, 0.1, 0.2]), 0), g.money)
        ws.put(first + k, c0 + 3, float(g.pick([3, 4, 5, 7, 10])))
    last = first + len(assets) - 1
    sln = g.chance(0.6)
    g.fill_down(ws, c0 + 4, first, last, lambda rr: call("SLN", ws.ref(rr, c0 + 1), ws.ref(rr, c0 + 2), ws.ref(rr, c0 + 3))
                if sln else (ws.ref(rr, c0 + 1) - ws.ref(rr, c0 + 2)) / ws.ref(rr, c0 + 3), g.money)
    g.fill_down(ws, c0 + 5, first, last, lambda rr: ws.ref(rr, c0 + 4) / 12, g.money)
    g.total_row(ws, last + 1, c0, c0 + 1, c0 + 1, first, last, g.money)
    # Schedule for one asset, year by year.
    r = last + 3
    k = g.randint(0, len(assets) - 1)
    cost_ref, salvage, life = (ws.absref(first + k, c0 + j) for j in (1, 2, 3))
    years = int(ws.get(first + k, c0 + 3))  # type: ignore[arg-type]
    method = g.pick(["DDB", "SYD", "DB", "SLN"])
    ws.put(r, c0, f"{assets[k]} – {method}", bold=True)
    g.header(ws, r + 1, c0, [g.words.h("year"), g.pick(["Depreciation", "Expense"]),
                             g.pick(["Accumulated", "Accum. depreciation"]), g.pick(["Book value", "Net book value"])])
    s1 = r + 2
    for j in range(years):
        ws.put(s1 + j, c0, float(j + 1))
    s2 = s1 + years - 1
    fn: dict[str, object] = {
        "DDB": lambda rr: call("DDB", cost_ref, salvage, life, ws.ref(rr, c0)),
        "SYD": lambda rr: call("SYD", cost_ref, salvage, life, ws.ref(rr, c0)),
        "DB": lambda rr: call("DB", cost_ref, salvage, life, ws.ref(rr, c0)),
        "SLN": lambda rr: call("SLN", cost_ref, salvage, life)}
    g.fill_down(ws, c0 + 1, s1, s2, fn[method], g.money)  # type: ignore[arg-type]
    ws.formula(s1, c0 + 2, ws.ref(s1, c0 + 1), g.money)
    expanding = g.chance(0.5)
    g.fill_down(ws, c0 + 2, s1 + 1, s2, lambda rr: call("SUM", _expanding(ws, s1, rr, c0 + 1)) if expanding
                else ws.ref(rr - 1, c0 + 2) + ws.ref(rr, c0 + 1), g.money)
    g.fill_down(ws, c0 + 3, s1, s2, lambda rr: cost_ref - ws.ref(rr, c0 + 2), g.money)


def _expanding(ws: SheetData, top: int, row: int, col: int) -> Expr:
    """``$C$10:C14``: an expanding range anchored at the top (running totals)."""
    return ws.block_expr(f"{a1(top, col, True, True)}:{a1(row, col)}", top, col, row, col, local=True)


def cash_flows(g: Gen) -> None:
    """Project cash flows by year: discount factors, PV, cumulative, NPV, IRR, XNPV/XIRR, payback."""
    ws = g.sheet(g.pick(["Cash Flows", "NPV", "Investment", "Project Appraisal", "DCF", "Inversión"]))
    r0, c0 = g.origin()
    r = g.title(ws, r0, c0, g.pick(["Investment Appraisal", "Project NPV", "Discounted Cash Flow"]), 5)
    ws.put(r, c0, g.pick(["Discount rate", "WACC", "Hurdle rate"]))
    ws.put(r, c0 + 1, round(g.rng.uniform(0.05, 0.15), 3), g.percent)
    rate = g.named(0.3, ["DiscountRate", "WACC", "Hurdle"], ws, r, c0 + 1)
    r += 2
    n = g.randint(3, 12)
    g.header(ws, r, c0, [g.words.h("year"), g.words.h("date"), g.pick(["Cash flow", "Net cash flow", "CF"]),
                         g.pick(["Discount factor", "DF"]), "PV", g.pick(["Cumulative", "Cumulative CF"])])
    first, last = r + 1, r + 1 + n
    start = g.day()
    invest = -float(g.randint(10, 500) * 1000)
    for k in range(n + 1):
        ws.put(first + k, c0, float(k))
        ws.put(first + k, c0 + 2, invest if k == 0 else round(-invest * g.rng.uniform(0.12, 0.45), 0), g.money)
    ws.put(first, c0 + 1, start, g.date)
    if g.chance(0.5):
        g.fill_down(ws, c0 + 1, first + 1, last, lambda rr: call("EDATE", ws.ref(rr - 1, c0 + 1), 12), g.date)
    else:
        g.fill_down(ws, c0 + 1, first + 1, last, lambda rr: call(
            "DATE", call("YEAR", ws.ref(rr - 1, c0 + 1)) + 1, call("MONTH", ws.ref(rr - 1, c0 + 1)), 1), g.date)
    g.fill_down(ws, c0 + 3, first, last, lambda rr: 1 / (1 + rate) ** ws.ref(rr, c0), "0.0000")
    g.fill_down(ws, c0 + 4, first, last, lambda rr: ws.ref(rr, c0 + 2) * ws.ref(rr, c0 + 3), g.money)
    ws.formula(first, c0 + 5, ws.ref(first, c0 + 2), g.money)
    g.fill_down(ws, c0 + 5, first + 1, last, lambda rr: ws.ref(rr - 1, c0 + 5) + ws.ref(rr, c0 + 2), g.money)
    r = last + 2
    cf = ws.rng(first, c0 + 2, last, c0 + 2)
    outputs: list[tuple[str, Expr, str | None]] = [
        ("NPV", call("NPV", rate, ws.rng(first + 1, c0 + 2, last, c0 + 2)) + ws.ref(first, c0 + 2), g.money),
        ("NPV (sum of PV)", call("SUM", ws.rng(first, c0 + 4, last, c0 + 4)), g.money),
        ("IRR", call("IRR", cf), g.percent),
        ("XNPV", call("XNPV", rate, cf, ws.rng(first, c0 + 1, last, c0 + 1)), g.money),
        ("XIRR", call("XIRR", cf, ws.rng(first, c0 + 1, last, c0 + 1)), g.percent),
        ("Payback (years)", call("COUNTIF", ws.rng(first, c0 + 5, last, c0 + 5), "<0"), None),
        ("Decision", call("IF", (call("NPV", rate, ws.rng(first + 1, c0 + 2, last, c0 + 2))
                                 + ws.ref(first, c0 + 2)).gt(0), "Accept", "Reject"), None)]
    for label, e, f in g.picks(outputs, g.randint(3, 7)):
        ws.put(r, c0, label)
        ws.formula(r, c0 + 1, e, f)
        r += 1
