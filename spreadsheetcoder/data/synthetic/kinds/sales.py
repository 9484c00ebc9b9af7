"""Sales kinds: a region x month matrix, a transaction ledger with a SUMIF summary, and an Excel
table of orders with structured references."""

from __future__ import annotations

from collections.abc import Callable

from ..book import SheetData
from ..ctx import Gen
from ..expr import Expr, lift
from ..functions import call
from ..names import MONTHS, TITLES

__all__ = ["sales_ledger", "sales_matrix"]


def _periods(g: Gen) -> list[str | float]:
    kind = g.pick(["months", "months", "quarters", "years"])
    if kind == "months":
        names = MONTHS.get(g.words.lang, MONTHS["en"]) if g.chance(0.8) else MONTHS["en_long"]
        k = g.pick([3, 6, 6, 12, 12, 12])
        start = g.randint(0, 12 - k)
        return list(names[start:start + k])
    if kind == "quarters":
        return [f"Q{q}" + (f" {g.year}" if g.chance(0.3) else "") for q in range(1, 5)]
    first = g.randint(2010, 2022)
    return [float(y) for y in range(first, first + g.randint(3, 8))]


def sales_matrix(g: Gen) -> None:
    """Rows (regions, products...) x periods, with row and column totals, shares, ranks, flags."""
    ws = g.sheet(g.pick(["Sales", "Sales by Region", "Regional Sales", "Summary", f"Sales {g.year}",
                         "Umsatz", "Ventas", "Sheet1", "Data"]))
    r0, c0 = g.origin()
    row_kind = g.pick(["region", "product", "country", "department", "customer"])
    labels = g.pool(row_kind, g.size(4, 60))
    periods = _periods(g)
    money = g.chance(0.6)
    fmt = g.money if money else (g.pick([None, "#,##0"]))
    r = g.title(ws, r0, c0, g.pick(TITLES["sales"]), len(periods) + 2)
    target_cell = None
    if g.chance(0.35):
        ws.put(r, c0, g.words.h("target") + ":", bold=True)
        ws.put(r, c0 + 1, float(g.randint(5, 40) * 100 * len(periods)), fmt)
        target_cell = (r, c0 + 1)
        r += 2
    extras = [e for e in ("total", "average", "share", "rank", "status", "growth") if g.chance(0.55)]
    if "total" not in extras and g.chance(0.8):
        extras.insert(0, "total")
    concept = {"region": "region", "product": "item", "country": "region", "department": "department",
               "customer": "customer"}[row_kind]
    header = [g.words.h(concept), *periods, *(g.words.h(e) for e in extras)]
    hr = r
    g.header(ws, hr, c0, [h if isinstance(h, str) else None for h in header])
    for k, p in enumerate(periods):
        if not isinstance(p, str):
            ws.put(hr, c0 + 1 + k, p, bold=True)
    first, last = hr + 1, hr + len(labels)
    pc1, pc2 = c0 + 1, c0 + len(periods)
    for i, label in enumerate(labels):
        ws.put(first + i, c0, label)
        base = g.amount(50, 5000, 2 if money else 0)
        for k in range(len(periods)):
            ws.put(first + i, pc1 + k, round(base * g.rng.uniform(0.6, 1.5), 2 if money else 0), fmt)
    col = pc2 + 1
    cols: dict[str, int] = {}
    for e in extras:
        cols[e] = col
        col += 1
    total_row = last + 1 + (1 if g.chance(0.3) else 0)
    if "total" in cols:
        g.total_col(ws, cols["total"], first, last, pc1, pc2, fmt)
    if "average" in cols:
        g.total_col(ws, cols["average"], first, last, pc1, pc2, fmt, func="AVERAGE")
    # Column totals, then the columns that need the grand total.
    right = cols.get("total", pc2)
    g.total_row(ws, total_row, c0, pc1, right, first, last, fmt)
    tot = cols.get("total")
    if "share" in cols and tot:
        grand = ws.ref(total_row, tot, abs_row=True, abs_col=g.chance(0.7))
        share_div = g.divider()
        g.fill_down(ws, cols["share"], first, last, lambda rr: share_div(ws.ref(rr, tot), grand), g.percent)
    if "rank" in cols and tot:
        block = ws.rng(first, tot, last, tot, abs_rows=True, abs_cols=g.chance(0.5))
        fn = g.pick(["RANK", "RANK", "RANK.EQ"])
        g.fill_down(ws, cols["rank"], first, last, lambda rr: call(fn, ws.ref(rr, tot), block))
    if "status" in cols:
        basis = tot or pc2
        if target_cell:
            tgt = ws.absref(*target_cell)
            above, below = g.pick([("Above", "Below"), ("On target", "Below target"), ("✔", "✘"), ("OK", "Low")])
            g.fill_down(ws, cols["status"], first, last,
                        lambda rr: call("IF", ws.ref(rr, basis).ge(tgt), above, below))
        else:
            avg_cell = ws.rng(first, basis, last, basis, abs_rows=True)
            g.fill_down(ws, cols["status"], first, last,
                        lambda rr: call("IF", ws.ref(rr, basis).gt(call("AVERAGE", avg_cell)), "High", "Low"))
    if "growth" in cols:
        wrap = g.chance(0.5)

        def growth(rr: int) -> Expr:
            change = (ws.ref(rr, pc2) - ws.ref(rr, pc1)) / ws.ref(rr, pc1)
            return call("IFERROR", change, 0) if wrap else ws.ref(rr, pc2) / ws.ref(rr, pc1) - 1
        g.fill_down(ws, cols["growth"], first, last, growth, g.percent)
    nxt = total_row + 1
    if g.chance(0.4):
        ws.put(nxt, c0, g.words.h("average"), bold=True)
        g.fill_right(ws, nxt, pc1, pc2, lambda c: call("AVERAGE", ws.rng(first, c, last, c)), fmt)
        nxt += 1
    if g.chance(0.35) and len(periods) > 1:
        ws.put(nxt, c0, g.words.h("growth"), bold=True)
        g.fill_right(ws, nxt, pc1 + 1, pc2,
                     lambda c: (ws.ref(total_row, c) - ws.ref(total_row, c - 1)) / ws.ref(total_row, c - 1),
                     g.percent)
        nxt += 1
    if g.chance(0.6) and tot:
        _highlights(g, ws, nxt + 1, c0, labels, first, last, tot, hr, pc1, pc2, total_row, target_cell)


def _highlights(g: Gen, ws: SheetData, r: int, c0: int, labels: list[str], first: int, last: int,
                tot: int, hr: int, pc1: int, pc2: int, total_row: int, target: tuple[int, int] | None) -> None:
    """A small summary block under the matrix: best row, best period, counts above target."""
    names = ws.rng(first, c0, last, c0, True, True)
    totals = ws.rng(first, tot, last, tot, True, True)
    items = [("Top performer", lambda: call("INDEX", names, call("MATCH", call("MAX", totals), totals, 0))),
             ("Lowest", lambda: call("INDEX", names, call("MATCH", call("MIN", totals), totals, 0))),
             ("Best period", lambda: call("INDEX", ws.rng(hr, pc1, hr, pc2, True, True),
                                          call("MATCH", call("MAX", ws.rng(total_row, pc1, total_row, pc2)),
                                               ws.rng(total_row, pc1, total_row, pc2), 0))),
             ("Largest", lambda: call("LARGE", totals, 1)),
             ("2nd largest", lambda: call("LARGE", totals, 2)),
             ("Median", lambda: call("MEDIAN", totals)),
             ("Rows", lambda: call("COUNTA", names)),
             ("Top performer (XLOOKUP)", lambda: call("XLOOKUP", call("MAX", totals), totals, names))]
    if target:
        tgt = ws.absref(*target)
        items.append(("Above target", lambda: call("COUNTIF", totals, lift_text(">=", tgt))))
    for label, make in g.picks(items, g.randint(2, 5)):
        ws.put(r, c0, label)
        ws.formula(r, c0 + 1, make())
        r += 1


def lift_text(op: str, cell: Expr) -> Expr:
    """``">="&B3`` criteria text built from an operator and a cell."""
    return lift(op).cat(cell)


def sales_ledger(g: Gen) -> None:
    """A long transaction list (date, region, product, qty, price, amount...) and a summary by region."""
    ws = g.sheet(g.pick(["Transactions", "Orders", "Sales Data", "Ledger", "Data", "Bestellungen", "Pedidos"]))
    r0, c0 = g.origin()
    n = g.size(10, 300)
    regions = g.pool("region", g.randint(3, 6))
    products = g.pool("product", g.randint(4, 12))
    prices = {p: g.amount(2, 400) for p in products}
    cols = ["date", "region", "item", "qty", "price", "amount"]
    extras = [e for e in ("discount", "net", "month", "quarter") if g.chance(0.4)]
    headers = [g.words.h(c) for c in cols + extras]
    r = g.title(ws, r0, c0, g.pick(["Sales Transactions", "Order Log", "Sales Journal", "Transaktionen"]),
                len(headers)) if g.chance(0.5) else r0
    rate = None
    if "discount" in extras:
        ws.put(r, c0, g.words.h("discount", unit=False) + " %", bold=True)
        ws.put(r, c0 + 1, 0.05 * g.randint(1, 4), g.percent)
        rate = ws.absref(r, c0 + 1)
        r += 2
    g.header(ws, r, c0, headers)
    first, last = r + 1, r + n
    cd, cr, ci, cq, cp, ca = (c0 + k for k in range(6))
    days = sorted(g.day() for _ in range(n))
    for i in range(n):
        rr = first + i
        prod = g.pick(products)
        ws.put(rr, cd, days[i], g.date)
        ws.put(rr, cr, g.pick(regions))
        ws.put(rr, ci, prod)
        ws.put(rr, cq, float(g.randint(1, 50)))
        ws.put(rr, cp, prices[prod], g.money)
    g.fill_down(ws, ca, first, last, lambda rr: ws.ref(rr, cq) * ws.ref(rr, cp), g.money)
    col = ca + 1
    for e in extras:
        g.fill_down(ws, col, first, last, _ledger_column(g, ws, e, col, rate, cd, cq, ca, "discount" in extras),
                    g.money if e in ("discount", "net") else None)
        col += 1
    if g.chance(0.5):
        ws.put(last + 1, cq - 1, g.total_label(), bold=True)
        ws.formula(last + 1, cq, call("SUM", ws.rng(first, cq, last, cq)))
        ws.formula(last + 1, ca, call("SUM", ws.rng(first, ca, last, ca)), g.money)
    # Summary by region: beside the list or on its own sheet.
    own = g.chance(0.5)
    sm = g.sheet(g.pick(["Summary", "By Region", "Report", "Pivot", "Resumen"])) if own else ws
    sr, sc = (g.origin() if own else (r, col + 1 + g.randint(0, 2)))
    qual = own
    reg = ws.rng(first, cr, last, cr, True, True, sheet=qual)
    amt = ws.rng(first, ca, last, ca, True, True, sheet=qual)
    qty = ws.rng(first, cq, last, cq, True, True, sheet=qual)
    measures = g.picks(["sum", "count", "avg", "qty", "max"], g.randint(2, 4))
    g.header(ws if not own else sm, sr, sc, [g.words.h("region")] + [
        {"sum": g.words.h("amount"), "count": g.words.h("count"), "avg": g.words.h("average"),
         "qty": g.words.h("qty"), "max": "Max"}[m] for m in measures])
    for i, region in enumerate(regions):
        sm.put(sr + 1 + i, sc, region)
    for k, m in enumerate(measures):
        c = sc + 1 + k

        anchored = g.chance(0.5)

        def make(rr: int, m: str = m, anchored: bool = anchored) -> Expr:
            key = sm.ref(rr, sc, abs_col=anchored)
            if m == "sum":
                return call("SUMIF", reg, key, amt)
            if m == "count":
                return call("COUNTIF", reg, key)
            if m == "avg":
                return call("IFERROR", call("AVERAGEIF", reg, key, amt), 0)
            if m == "qty":
                return call("SUMIFS", qty, reg, key)
            return call("MAXIFS", amt, reg, key)
        g.fill_down(sm, c, sr + 1, sr + len(regions), make,
                    g.money if m in ("sum", "avg", "max") else None)
    g.total_row(sm, sr + len(regions) + 1, sc, sc + 1, sc + len(measures), sr + 1, sr + len(regions))
    free = sr + len(regions) + 3
    if g.chance(0.5):
        # Region x product cross-tab with SUMIFS and mixed anchors.
        xr = sr + len(regions) + 3
        prods = products[: g.randint(2, min(5, len(products)))]
        g.header(sm, xr, sc, [None, *prods])
        prod_rng = ws.rng(first, ci, last, ci, True, True, sheet=qual)
        for i, region in enumerate(regions):
            sm.put(xr + 1 + i, sc, region)
        for k in range(len(prods)):
            g.fill_down(sm, sc + 1 + k, xr + 1, xr + len(regions),
                        _crosstab(sm, amt, reg, prod_rng, sc, xr, sc + 1 + k), g.money)
        free = xr + len(regions) + 2
    if g.chance(0.3):
        fr = free
        sm.put(fr, sc, "First order")
        sm.formula(fr, sc + 1, call("MIN", ws.rng(first, cd, last, cd, sheet=qual)), g.date)
        sm.put(fr + 1, sc, "Last order")
        sm.formula(fr + 1, sc + 1, call("MAX", ws.rng(first, cd, last, cd, sheet=qual)), g.date)
        sm.put(fr + 2, sc, "Orders in " + str(g.year) + " H1")
        sm.formula(fr + 2, sc + 1, call("COUNTIFS", ws.rng(first, cd, last, cd, sheet=qual),
                                        lift_text(">=", call("DATE", g.year, 1, 1)),
                                        ws.rng(first, cd, last, cd, sheet=qual),
                                        lift_text("<", call("DATE", g.year, 7, 1))))


def _crosstab(ws: SheetData, values: Expr, rows: Expr, cols: Expr, key_col: int, key_row: int,
              col: int) -> Callable[[int], Expr]:
    """``SUMIFS(values, rows, $A5, cols, C$4)``: a cross-tab cell keyed on its row and column labels."""
    return lambda rr: call("SUMIFS", values, rows, ws.ref(rr, key_col, abs_col=True), cols,
                           ws.ref(key_row, col, abs_row=True))


def _ledger_column(g: Gen, ws: SheetData, extra: str, col: int, rate: Expr | None, cd: int, cq: int, ca: int,
                   has_discount: bool) -> Callable[[int], Expr]:
    """The formula of an optional ledger column (every choice made once, for the whole column)."""
    if extra == "discount":
        assert rate is not None
        threshold = float(g.pick([10, 20, 25]))
        return lambda rr: call("IF", ws.ref(rr, cq).ge(threshold), ws.ref(rr, ca) * rate, 0)
    if extra == "net":
        if has_discount and col > ca + 1:
            return lambda rr: ws.ref(rr, ca) - ws.ref(rr, col - 1)
        return lambda rr: ws.ref(rr, ca) * 0.9
    if extra == "month":
        code = g.pick(["mmm", "mmmm", "mmm yyyy"])
        if g.chance(0.5):
            return lambda rr: call("MONTH", ws.ref(rr, cd))
        return lambda rr: call("TEXT", ws.ref(rr, cd), code)
    return lambda rr: call("ROUNDUP", call("MONTH", ws.ref(rr, cd)) / 3, 0)
