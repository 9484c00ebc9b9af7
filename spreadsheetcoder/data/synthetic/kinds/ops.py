"""Operations kinds: inventory (with a DSUM criteria block), price list + invoice with lookups on
another sheet, and an Excel table of orders with structured references."""

from __future__ import annotations

from collections.abc import Callable

from ..book import TableDef
from ..ctx import Gen
from ..expr import Expr
from ..functions import call
from ..names import TITLES

__all__ = ["inventory", "orders_table", "price_lookup"]


def _codes(g: Gen, n: int) -> list[str]:
    prefix = g.pick(["SKU", "ITM", "P", "WID", "A", "PRD"])
    sep = g.pick(["-", "", "_"])
    width = g.pick([3, 4, 5])
    nums = sorted(g.rng.sample(range(1, 10**width), n))
    return [f"{prefix}{sep}{x:0{width}d}" for x in nums]


def inventory(g: Gen) -> None:
    """Stock list: value, reorder flag and quantity, summary by category, DSUM/DMAX with criteria."""
    w = g.words
    ws = g.sheet(g.pick(["Inventory", "Stock", "Warehouse", "Lager", "Inventario", "Stock List"]))
    r0, c0 = g.origin()
    r = g.title(ws, r0, c0, g.pick(TITLES["inventory"]), 9)
    n = g.size(6, 200)
    items = g.pool("product", n)
    cats = g.picks(["Office", "Electronics", "Tools", "Food", "Cleaning", "Apparel", "Garden", "Safety"], g.randint(2, 5))
    headers = w.unique(["code", "item", "category", "stock", "reorder", "cost", "amount", "status"])
    order_col = g.chance(0.6)
    if order_col:
        headers.append(g.pick(["Order Qty", "To order", "Reorder Qty"]))
    hr = r
    g.header(ws, hr, c0, headers)
    cc, ci, ccat, cq, cr, cu, cv, cs, co = (c0 + k for k in range(9))
    first, last = hr + 1, hr + n
    for i, (code, item) in enumerate(zip(_codes(g, n), items, strict=True)):
        rr = first + i
        ws.put(rr, cc, code)
        ws.put(rr, ci, item)
        ws.put(rr, ccat, g.pick(cats))
        ws.put(rr, cq, float(g.randint(0, 300)))
        ws.put(rr, cr, float(g.pick([10, 20, 25, 50, 100])))
        ws.put(rr, cu, g.amount(0.5, 250), g.money)
    g.fill_down(ws, cv, first, last, lambda rr: ws.ref(rr, cq) * ws.ref(rr, cu), g.money)
    status = g.pick(["simple", "nested", "or"])

    def flag(rr: int) -> Expr:
        q, lo = ws.ref(rr, cq), ws.ref(rr, cr)
        if status == "simple":
            return call("IF", q.le(lo), "Reorder", "OK")
        if status == "or":
            return call("IF", call("OR", q.eq(0), q.lt(lo)), "Reorder", "OK")
        return call("IF", q.eq(0), "Out of stock", call("IF", q.le(lo), "Low", "OK"))
    g.fill_down(ws, cs, first, last, flag)
    if order_col:
        style = g.pick(["max", "if"])
        g.fill_down(ws, co, first, last, lambda rr: call("MAX", 0, ws.ref(rr, cr) * 2 - ws.ref(rr, cq))
                    if style == "max" else call("IF", ws.ref(rr, cq).lt(ws.ref(rr, cr)), ws.ref(rr, cr) - ws.ref(rr, cq), 0))
    r = last + 2
    summary: list[tuple[str, Expr, str | None]] = [
        ("Total stock value", call("SUM", ws.rng(first, cv, last, cv)), g.money),
        ("Check (SUMPRODUCT)", call("SUMPRODUCT", ws.rng(first, cq, last, cq), ws.rng(first, cu, last, cu)), g.money),
        ("Items to reorder", call("COUNTIF", ws.rng(first, cs, last, cs), "Low" if status == "nested" else "Reorder"),
         None),
        ("Average unit cost", call("AVERAGE", ws.rng(first, cu, last, cu)), g.money),
        ("Most valuable item", call("INDEX", ws.rng(first, ci, last, ci), call(
            "MATCH", call("MAX", ws.rng(first, cv, last, cv)), ws.rng(first, cv, last, cv), 0)), None),
        ("Lines", call("COUNTA", ws.rng(first, cc, last, cc)), None),
        ("Highest code number", call("MAX", ws.rng(first, cq, last, cq)), None)]
    for label, e, f in g.picks(summary, g.randint(2, 5)):
        ws.put(r, c0, label)
        ws.formula(r, c0 + 1, e, f)
        r += 1
    if g.chance(0.6):
        r += 1
        g.header(ws, r, c0, [w.h("category"), w.h("amount"), w.h("count")])
        cat_rng = ws.rng(first, ccat, last, ccat, True, True)
        for i, cat in enumerate(cats):
            ws.put(r + 1 + i, c0, cat)
        g.fill_down(ws, c0 + 1, r + 1, r + len(cats),
                    lambda rr: call("SUMIF", cat_rng, ws.ref(rr, c0), ws.rng(first, cv, last, cv, True, True)), g.money)
        g.fill_down(ws, c0 + 2, r + 1, r + len(cats), lambda rr: call("COUNTIF", cat_rng, ws.ref(rr, c0)))
        r += len(cats) + 2
    if g.chance(0.35):
        # Database functions with a criteria block (header labels copied from the table).
        ws.put(r, c0, headers[2], bold=True)
        ws.put(r, c0 + 1, headers[3], bold=True)
        ws.put(r + 1, c0, g.pick(cats))
        ws.put(r + 1, c0 + 1, g.pick([">0", ">=10", ">50", "<100"]))
        crit = ws.rng(r, c0, r + 1, c0 + 1)
        db = ws.rng(hr, cc, last, cv)
        for k, fn in enumerate(g.picks(["DSUM", "DMAX", "DMIN"], g.randint(1, 3))):
            ws.put(r + 3 + k, c0, fn)
            field = headers[6] if g.chance(0.6) else float(7)
            ws.formula(r + 3 + k, c0 + 1, call(fn, db, field, crit), g.money)


def price_lookup(g: Gen) -> None:
    """A price list sheet and an invoice sheet fetching descriptions and prices with lookups."""
    w = g.words
    cat = g.sheet(g.pick(["Price List", "Products", "Catalog", "Prices", "Preisliste", "Lista de precios"]))
    n = g.randint(8, 60)
    codes, items = _codes(g, n), g.pool("product", n)
    pr = 1 if g.chance(0.6) else g.randint(2, 4)
    headers = [w.h("code"), w.h("item"), w.h("category"), w.h("price")]
    g.header(cat, pr, 1, headers)
    for i in range(n):
        cat.put(pr + 1 + i, 1, codes[i])
        cat.put(pr + 1 + i, 2, items[i])
        cat.put(pr + 1 + i, 3, g.pick(["A", "B", "C", "Standard", "Premium"]))
        cat.put(pr + 1 + i, 4, g.amount(1, 900), g.money)
    p1, p2 = pr + 1, pr + n
    whole = g.chance(0.2)
    table = cat.cols(1, 4, sheet=True) if whole else cat.rng(p1, 1, p2, 4, True, True, sheet=True)
    keys = cat.cols(1, sheet=True) if whole else cat.rng(p1, 1, p2, 1, True, True, sheet=True)
    names = cat.cols(2, sheet=True) if whole else cat.rng(p1, 2, p2, 2, True, True, sheet=True)
    prices = cat.cols(4, sheet=True) if whole else cat.rng(p1, 4, p2, 4, True, True, sheet=True)
    # Quantity-discount breakpoints (sorted, for approximate lookups).
    dr = p2 + 3 if g.chance(0.5) else pr
    dc = 1 if dr != pr else 7
    cat.put(dr, dc, g.pick(["Min qty", "Qty from", "Quantity"]), bold=True)
    cat.put(dr, dc + 1, w.h("discount"), bold=True)
    for k, (q, d) in enumerate([(0, 0.0), (10, 0.05), (50, 0.1), (100, 0.15)]):
        cat.put(dr + 1 + k, dc, float(q))
        cat.put(dr + 1 + k, dc + 1, d, "0%")
    tiers = cat.rng(dr + 1, dc, dr + 4, dc + 1, True, True, sheet=True)
    inv = g.sheet(g.pick(["Invoice", "Order Form", "Quote", "Orders", "Rechnung", "Factura"]))
    r0, c0 = g.origin()
    r = g.title(inv, r0, c0, g.pick(["INVOICE", "Sales Order", "Quotation", "Order Form"]), 7)
    m = g.randint(3, 25)
    style = g.pick(["vlookup", "vlookup", "index", "xlookup", "xmatch"])
    safe = g.chance(0.5)
    disc_style = g.pick(["none", "vlookup", "index_match"])
    heads = [w.h("code"), w.h("item"), w.h("qty"), w.h("price")]
    if disc_style != "none":
        heads.append(w.h("discount"))
    heads.append(w.h("amount"))
    g.header(inv, r, c0, heads)
    first, last = r + 1, r + m
    cc, cd, cq, cp = c0, c0 + 1, c0 + 2, c0 + 3
    cdisc = c0 + 4 if disc_style != "none" else None
    ca = c0 + (5 if cdisc else 4)
    for i in range(m):
        code = g.pick(codes) if not safe or g.chance(0.95) else "X-999"
        inv.put(first + i, cc, code)
        inv.put(first + i, cq, float(g.pick([1, 2, 3, 5, 10, 12, 20, 25, 50, 60, 100, 150])))

    def fetch(rr: int, result: Expr, col: int) -> Expr:
        key = inv.ref(rr, cc)
        if style == "vlookup":
            e = call("VLOOKUP", key, table, col, False)
        elif style == "index":
            e = call("INDEX", result, call("MATCH", key, keys, 0))
        elif style == "xmatch":
            e = call("INDEX", result, call("XMATCH", key, keys))
        else:
            e = call("XLOOKUP", key, keys, result)
        return call("IFERROR", e, "Not found" if col == 2 else 0) if safe else e
    g.fill_down(inv, cd, first, last, lambda rr: fetch(rr, names, 2))
    g.fill_down(inv, cp, first, last, lambda rr: fetch(rr, prices, 4), g.money)
    if cdisc:
        tq = cat.rng(dr + 1, dc, dr + 4, dc, True, True, sheet=True)
        td = cat.rng(dr + 1, dc + 1, dr + 4, dc + 1, True, True, sheet=True)
        g.fill_down(inv, cdisc, first, last, lambda rr: call("VLOOKUP", inv.ref(rr, cq), tiers, 2, True)
                    if disc_style == "vlookup" else call("INDEX", td, call("MATCH", inv.ref(rr, cq), tq, 1)), "0%")
        g.fill_down(inv, ca, first, last, lambda rr: inv.ref(rr, cq) * inv.ref(rr, cp) * (1 - inv.ref(rr, cdisc)),
                    g.money)
    else:
        g.fill_down(inv, ca, first, last, lambda rr: inv.ref(rr, cq) * inv.ref(rr, cp), g.money)
    r = last + 1 + (1 if g.chance(0.5) else 0)
    inv.put(r, ca - 1, w.h("subtotal"), bold=True)
    sub = inv.formula(r, ca, call("SUM", inv.rng(first, ca, last, ca)), g.money)
    inv.put(r + 1, ca - 1, w.h("tax"), bold=True)
    rate_cell = (r + 1, ca + 1)
    inv.put(*rate_cell, g.pick([0.05, 0.07, 0.0825, 0.1, 0.19, 0.2]), "0.00%")
    rate = g.named(0.3, ["VAT", "SalesTax", "TaxRate"], inv, *rate_cell)
    tax = inv.formula(r + 1, ca, call("ROUND", sub * rate, 2) if g.chance(0.5) else sub * rate, g.money)
    nxt = r + 2
    if g.chance(0.5):
        # Shipping by zone from a horizontal table: HLOOKUP.
        zones = [f"Zone {z}" for z in range(1, g.randint(3, 6) + 1)]
        zr = r + 6
        inv.put(zr, c0, g.pick(["Shipping zone", "Zone"]), bold=True)
        inv.put(zr + 1, c0, g.pick(["Rate", "Shipping cost"]), bold=True)
        for k, z in enumerate(zones):
            inv.put(zr, c0 + 1 + k, z)
            inv.put(zr + 1, c0 + 1 + k, float(5 + 5 * k), g.money)
        inv.put(nxt, ca + 1, g.pick(zones))
        inv.put(nxt, ca - 1, g.pick(["Shipping", "Freight"]), bold=True)
        ship = inv.formula(nxt, ca, call("HLOOKUP", inv.ref(nxt, ca + 1), inv.rng(zr, c0 + 1, zr + 1, c0 + len(zones),
                                                                              True, True), 2, False), g.money)
        total: Expr = sub + tax + ship
        nxt += 1
    else:
        total = sub + tax if g.chance(0.5) else call("SUM", inv.rng(r, ca, r + 1, ca))
    inv.put(nxt, ca - 1, g.total_label(), bold=True)
    inv.formula(nxt, ca, total, g.money)


def orders_table(g: Gen) -> None:
    """An Excel table with calculated columns in structured references, and a summary using them."""
    w = g.words
    ws = g.sheet(g.pick(["Orders", "Sales Table", "Data", "tblSales", "Registro"]))
    r0, c0 = g.origin()
    concepts = ["date", "customer", "item", "qty", "price", "amount"]
    extra = g.picks(["tax", "month", "status", "net"], g.randint(0, 3))
    heads = w.unique(concepts + extra, plain=True)
    n = g.size(5, 150)
    start = r0 + (2 if g.chance(0.4) else 0)
    if start > r0:
        ws.put(r0, c0, g.pick(["Order register", "Sales table", "Orders " + str(g.year)]), bold=True)
    customers = g.pool("customer", g.randint(3, 8))
    products = g.pool("product", g.randint(3, 10))
    price = {p: g.amount(3, 300) for p in products}
    name = g.pick(["Table1", "tblOrders", "Orders", "SalesData", "tblSales", "OrderTable"])
    table = g.book.add_table(ws, name, start, c0, start + n, heads)
    g.header(ws, start, c0, heads)
    days = sorted(g.day() for _ in range(n))
    for i in range(n):
        rr = start + 1 + i
        item = g.pick(products)
        ws.put(rr, c0, days[i], g.date)
        ws.put(rr, c0 + 1, g.pick(customers))
        ws.put(rr, c0 + 2, item)
        ws.put(rr, c0 + 3, float(g.randint(1, 40)))
        ws.put(rr, c0 + 4, price[item], g.money)
    h = dict(zip(concepts + extra, heads, strict=True))
    rate = None
    if "tax" in extra:
        ws.put(start + n + 3, c0, "Tax rate")
        ws.put(start + n + 3, c0 + 1, 0.08, "0%")
        rate = ws.absref(start + n + 3, c0 + 1)

    def calc(concept: str, make: object, fmt: str | None) -> None:
        col = table.col(h[concept])
        group = ws.new_group()
        for rr in range(start + 1, start + n + 1):
            e = make(rr)  # type: ignore[operator]
            ws.formula(rr, col, e, fmt, group)
        table.calculated[h[concept]] = e.text
    calc("amount", lambda rr: table.this_row(h["qty"], rr) * table.this_row(h["price"], rr), g.money)
    for concept in extra:
        if concept == "tax":
            assert rate is not None
            calc("tax", _times(table, h["amount"], rate), g.money)
        elif concept == "month":
            calc("month", lambda rr: call("TEXT", table.this_row(h["date"], rr), "mmm"), None)
        elif concept == "status":
            threshold = float(g.pick([100, 250, 500, 1000]))
            calc("status", lambda rr, t=threshold: call("IF", table.this_row(h["amount"], rr).gt(t), "Large", "Small"),
                 None)
        else:
            calc("net", lambda rr: table.this_row(h["amount"], rr) * 0.9, g.money)
    # Summary to the right of the table.
    sc = table.c2 + 2
    r = start
    summary: list[tuple[str, Expr, str | None]] = [
        (w.h("total"), call("SUM", table.column(h["amount"])), g.money),
        (w.h("average"), call("AVERAGE", table.column(h["amount"])), g.money),
        (w.h("count"), call("COUNTA", table.column(h["customer"])), None),
        ("Rows", call("ROWS", table.body()), None),
        ("Units", call("SUM", table.column(h["qty"])), None),
        ("Latest", call("MAX", table.column(h["date"])), g.date),
        (customers[0], call("SUMIF", table.column(h["customer"]), customers[0], table.column(h["amount"])), g.money)]
    for label, e, f in g.picks(summary, g.randint(2, 5)):
        ws.put(r, sc, label)
        ws.formula(r, sc + 1, e, f)
        r += 1
    r += 1
    g.header(ws, r, sc, [w.h("item"), w.h("amount")])
    for i, p in enumerate(products):
        ws.put(r + 1 + i, sc, p)
    g.fill_down(ws, sc + 1, r + 1, r + len(products), lambda rr: call(
        "SUMIFS", table.column(h["amount"]), table.column(h["item"]), ws.ref(rr, sc)), g.money)
    if g.chance(0.4):
        rr = r + len(products) + 2
        ws.put(rr, sc, g.pick(["Lookup customer of first order", "First customer"]))
        ws.formula(rr, sc + 1, call("VLOOKUP", call("MIN", table.column(h["date"])), table.body(), 2, False))


def _times(table: TableDef, column: str, factor: Expr) -> Callable[[int], Expr]:
    """``Table1[[#This Row],[Amount]]*$B$30``."""
    return lambda rr: table.this_row(column, rr) * factor
