"""Model-style workbooks like the energy-policy models that dominate the real corpus.

An input sheet holds a row per sector (or fuel) with years as column headers (2020..2050 and
similar) plus scalar parameters; calculation sheets hold blocks of the same rows computed from
other sheets: scaled copies (``='Input Sheet'!C12*$B$3``), growth (``=C5*(1+$B$2)``), shares of a
total, sums, TREND/FORECAST extrapolation, 2-D INDEX/MATCH and VLOOKUP/COLUMN lookups, SUMIFS
over whole columns of a long-format data sheet, and policy switches on the year.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

from ..book import SheetData
from ..ctx import Gen
from ..expr import Expr
from ..functions import call

__all__ = ["energy_model"]

Cell = Callable[[int, int], Expr]  # (row, col) -> formula


class _Inputs:
    """The input sheet: labels in column A, optional units in B, years from ``c1`` in header row ``hr``."""

    def __init__(self, g: Gen, years: list[int], labels: list[str]) -> None:
        self.ws = g.sheet(g.pick(["Input Sheet", "BAU Data", "Inputs", "Assumptions", "India Data", "Data",
                                  "BAU Input", "Input Data", "Historical Data"]))
        ws = self.ws
        self.years, self.labels = years, labels
        ws.put(1, 1, g.pick(["Growth rate", "Annual growth", "BAU growth rate"]))
        ws.put(1, 2, round(g.rng.uniform(0.005, 0.04), 3), "0.0%")
        ws.put(2, 1, g.pick(["Conversion factor", "Unit conversion (PJ/TWh)", "Scaling factor", "BTU per TJ"]))
        ws.put(2, 2, g.pick([3.6, 0.0036, 1000.0, 0.001, 947.817, 1.05]))
        ws.put(3, 1, g.pick(["Policy start year", "Start year", "Implementation year"]))
        ws.put(3, 2, float(g.pick(years[1:-1]) if len(years) > 2 else years[0]))
        ws.put(4, 1, g.pick(["Policy reduction", "Efficiency gain", "Reduction %"]))
        ws.put(4, 2, round(g.rng.uniform(0.05, 0.3), 2), "0%")
        self.growth, self.factor, self.start, self.cut = (ws.absref(r, 2, sheet=True) for r in (1, 2, 3, 4))
        if g.chance(0.3):
            self.growth = g.named(1.0, ["GrowthRate", "BAU_growth", "g_rate"], ws, 1, 2)
            self.factor = g.named(1.0, ["ConvFactor", "PJ_per_TWh", "Factor"], ws, 2, 2)
        self.hr = g.pick([6, 6, 7, 10])
        self.c1 = g.pick([2, 3, 3])
        ws.put(self.hr, 1, g.words.h("sector"), bold=True)
        if self.c1 == 3:
            ws.put(self.hr, 2, g.words.h("unit"), bold=True)
        for k, y in enumerate(years):
            ws.put(self.hr, self.c1 + k, float(y), bold=True)
        unit = g.pick(["PJ", "TWh", "Mt CO2e", "kt", "million USD", "TJ", "GWh"])
        for i, label in enumerate(labels):
            r = self.hr + 1 + i
            ws.put(r, 1, label)
            if self.c1 == 3:
                ws.put(r, 2, unit)
            base = g.amount(5, 5000)
            growth = g.rng.uniform(-0.02, 0.05)
            for k in range(len(years)):
                ws.put(r, self.c1 + k, round(base * (1 + growth) ** k * g.rng.uniform(0.97, 1.03), 3))

        self.rounding: Expr | None = None
        self.conv: Expr | None = None

    def row(self, i: int) -> int:
        return self.hr + 1 + i

    def col(self, k: int) -> int:
        return self.c1 + k


def _long_data(g: Gen, years: list[int], labels: list[str]) -> tuple[SheetData, int, int, int]:
    """A long-format data sheet (one row per label x year) for SUMIFS over whole columns.

    Returns the sheet and the columns of label, year and value.
    """
    ws = g.sheet(g.pick(["EPA Data", "Raw Data", "Data Long", "Source Data", "IEA Data"]))
    heads = [g.pick(["Country", "Region"]), g.words.h("sector"), g.words.h("year"), g.pick(["Value", "Amount"])]
    g.header(ws, 1, 1, heads)
    country = g.pick(["India", "USA", "China", "EU", "Mexico", "Indonesia"])
    r = 2
    for label in labels:
        for y in years:
            for _ in range(g.pick([1, 1, 2])):
                ws.put(r, 1, country if g.chance(0.9) else "Other")
                ws.put(r, 2, label)
                ws.put(r, 3, float(y))
                ws.put(r, 4, g.amount(1, 900, 3))
                r += 1
    return ws, 2, 3, 4


def energy_model(g: Gen) -> None:
    """Input sheet, optional long data sheet, and 1-2 calculation sheets of year-by-sector blocks."""
    step = g.pick([1, 1, 1, 5])
    first = g.pick([2015, 2017, 2018, 2019, 2020, 2020, 2021])
    end = g.pick([2030, 2040, 2050, 2050, 2050])
    years = list(range(first, end + 1, step))
    labels = g.pool(g.pick(["sector", "fuel"]), g.randint(4, 14))
    inp = _Inputs(g, years, labels)
    if g.chance(0.75):
        _settings(g, inp)
    data = _long_data(g, years[: min(len(years), 12)], labels) if g.chance(0.3) else None
    for _ in range(g.pick([1, 1, 2])):
        _calc_sheet(g, inp, data)


def _settings(g: Gen, inp: _Inputs) -> None:
    """A settings sheet with the rounding digits (and often the conversion factor) as defined names,
    as in ``ROUND('Input Sheet'!C12*conv_factor,rounding_decimal_places)``."""
    ws = inp.ws if g.chance(0.3) else g.sheet(g.pick(["Settings", "Parameters", "Constants", "About", "Control"]))
    row = 1 if ws is not inp.ws else 5
    col = 1 if ws is not inp.ws else 4
    ws.put(row, col, g.pick(["Rounding (decimal places)", "Decimal places", "Rounding"]))
    ws.put(row, col + 1, float(g.pick([4, 4, 4, 2, 3, 6])))
    inp.rounding = _name_or_ref(g, ["rounding_decimal_places", "decimal_places", "round_digits"], ws, row, col + 1)
    if g.chance(0.6):
        ws.put(row + 1, col, g.pick(["Conversion factor", "Unit conversion", "conv_factor"]))
        ws.put(row + 1, col + 1, g.pick([1.0, 0.001, 3.6, 1000.0, 0.0036, 1e-6]))
        inp.conv = _name_or_ref(g, ["conv_factor", "unit_conversion", "ConversionFactor"], ws, row + 1, col + 1)


def _name_or_ref(g: Gen, names: list[str], ws: SheetData, row: int, col: int) -> Expr:
    """A defined name for the cell mostly, else a sheet-qualified absolute reference."""
    taken = {n.lower() for n in g.book.names} | g.book.table_names()
    free = [n for n in names if n.lower() not in taken]
    if free and g.chance(0.9):
        return g.book.define(free[0], ws, row, col)
    return ws.absref(row, col, sheet=True)


def _calc_sheet(g: Gen, inp: _Inputs, data: tuple[SheetData, int, int, int] | None) -> None:
    ws = g.sheet(g.pick(["Calculations", "Output", "BAU Results", "Emissions", "Energy Use", "Policy Case",
                         "Results", "Calc", "Model"]))
    c1 = g.pick([2, 3])
    r = 1
    if g.chance(0.5):
        ws.put(1, 1, g.pick(["Scenario results", "BAU projections", "All values in PJ", "Model outputs"]), bold=True)
        r = 3
    if g.chance(0.5):
        # Parameters linked into the sheet's own header cells, then used as local anchors ($B$2).
        params = _LocalParams(g, ws, inp)
        r = max(r, params.next_row)
        inp = params.inputs
    # With data from column C, column B holds a per-row parameter used with a mixed anchor ($B5).
    local = c1 == 3
    prev: tuple[int, int] | None = None  # (first row, last row) of the previous block
    for _ in range(g.randint(2, 5)):
        r, prev = _block(g, ws, inp, data, r, c1, prev, local)
        r += g.pick([1, 1, 2])


class _LocalParams:
    """Copies of the input parameters at the top of a calculation sheet (``='Input Sheet'!$B$2``)."""

    def __init__(self, g: Gen, ws: SheetData, inp: _Inputs) -> None:
        col = g.pick([4, 5, 6]) if ws.get(1, 1) is not None else 2
        refs = []
        for k, (label, ref) in enumerate([("Factor", inp.factor), ("Growth", inp.growth), ("Start year", inp.start),
                                          ("Reduction", inp.cut)]):
            ws.put(1 + k, col - 1, label)
            ws.formula(1 + k, col, ref)
            refs.append(ws.absref(1 + k, col))
        self.next_row = 6
        self.inputs = copy.copy(inp)
        self.inputs.factor, self.inputs.growth, self.inputs.start, self.inputs.cut = refs


def _year_header(g: Gen, ws: SheetData, inp: _Inputs, r: int, c1: int, years: list[int]) -> None:
    style = g.pick(["const", "const", "link", "plus1"])
    ws.put(r, 1, g.words.h("sector") if g.chance(0.6) else g.words.h("year"), bold=True)
    if style == "const":
        for k, y in enumerate(years):
            ws.put(r, c1 + k, float(y), bold=True)
        return
    if style == "link":
        g.fill_right(ws, r, c1, c1 + len(years) - 1,
                     lambda c: inp.ws.ref(inp.hr, c - c1 + inp.c1, abs_row=True, sheet=True))
        return
    ws.put(r, c1, float(years[0]), bold=True)
    step = years[1] - years[0] if len(years) > 1 else 1
    g.fill_right(ws, r, c1 + 1, c1 + len(years) - 1, lambda c: ws.ref(r, c - 1) + step)


def _block(g: Gen, ws: SheetData, inp: _Inputs, data: tuple[SheetData, int, int, int] | None, r: int, c1: int,
           prev: tuple[int, int] | None, local: bool) -> tuple[int, tuple[int, int] | None]:
    """One titled block of rows x years; returns the next free row and the block's row span."""
    years = inp.years
    n, ny = len(inp.labels), len(years)
    c2 = c1 + ny - 1
    kinds = ["scaled", "growth", "index_match", "vlookup_col", "policy", "trend", "copy_prev", "round_sum"]
    if prev:
        kinds += ["share", "diff", "ratio", "cum"]
    if data:
        kinds += ["sumifs", "sumifs"]
    if inp.rounding is not None:
        kinds += ["blank_round"] * 8
    else:
        kinds += ["blank_round", "blank_round"]
    kinds += ["guarded", "guarded", "flag"]
    kind = g.pick(kinds)
    ws.put(r, 1, g.pick({"scaled": ["Energy use (converted)", "Converted values", "Demand (PJ)"],
                         "growth": ["BAU projection", "Projected demand", "Growth case"],
                         "share": ["Share of total", "Fuel shares", "Mix (%)"],
                         "sumifs": ["From data sheet", "Reported values", "Emissions by sector"],
                         }.get(kind, ["Block", "Results", "Values", "Scenario"])), bold=True)
    hr = r + 1
    _year_header(g, ws, inp, hr, c1, years)
    f, last = hr + 1, hr + n
    # Lookup blocks key on the row label, so there the labels are constants equal to the input's.
    linked = kind not in ("index_match", "vlookup_col", "sumifs") and g.chance(0.3)
    for i, label in enumerate(inp.labels):
        if linked:
            ws.formula(f + i, 1, inp.ws.ref(inp.row(i), 1, abs_col=True, sheet=True))
        else:
            ws.put(f + i, 1, label)
    if local:
        for i in range(n):
            ws.put(f + i, 2, round(g.rng.uniform(0.0, 0.04), 3), "0.0%")
    src = inp.ws

    def inp_ref(rr: int, c: int, abs_col: bool = False) -> Expr:
        return src.ref(inp.row(rr - f), inp.col(c - c1), abs_col=abs_col, sheet=True)
    if kind == "scaled":
        make: Cell = lambda rr, c: inp_ref(rr, c) * inp.factor  # noqa: E731
    elif kind == "growth":
        _copy_inputs(ws, f, n, c1, 1, inp_ref)
        rate_of = (lambda rr: ws.ref(rr, 2, abs_col=True)) if local else (lambda rr: inp.growth)
        group = ws.new_group()
        for rr in range(f, last + 1):
            for c in range(c1 + 1, c2 + 1):
                ws.formula(rr, c, ws.ref(rr, c - 1) * (1 + rate_of(rr)), None, group)
        return last + 1, (f, last)
    elif kind == "index_match":
        table = src.rng(inp.row(0), inp.c1, inp.row(n - 1), inp.col(ny - 1), True, True, sheet=True)
        keys = src.rng(inp.row(0), 1, inp.row(n - 1), 1, True, True, sheet=True)
        heads = src.rng(inp.hr, inp.c1, inp.hr, inp.col(ny - 1), True, True, sheet=True)
        make = lambda rr, c: call("INDEX", table, call("MATCH", ws.ref(rr, 1, abs_col=True), keys, 0),  # noqa: E731
                                  call("MATCH", ws.ref(hr, c, abs_row=True), heads, 0))
    elif kind == "vlookup_col":
        table = src.rng(inp.row(0), 1, inp.row(n - 1), inp.col(ny - 1), True, True, sheet=True)
        shift = inp.c1 - c1
        make = lambda rr, c: call("VLOOKUP", ws.ref(rr, 1, abs_col=True), table,  # noqa: E731
                                  call("COLUMN", ws.ref(hr, c, abs_row=True)) + shift if shift else
                                  call("COLUMN", ws.ref(hr, c, abs_row=True)), False)
    elif kind == "policy":
        make = lambda rr, c: call("IF", ws.ref(hr, c, abs_row=True).ge(inp.start),  # noqa: E731
                                  inp_ref(rr, c) * (1 - inp.cut), inp_ref(rr, c))
    elif kind == "trend":
        # Known data in the first few years; later years extrapolated with TREND or FORECAST.
        known = min(ny - 1, g.randint(3, 6))
        _copy_inputs(ws, f, n, c1, known, inp_ref)
        fn = g.pick(["TREND", "FORECAST", "FORECAST.LINEAR"])
        group = ws.new_group()
        kx = (c1, c1 + known - 1)
        for rr in range(f, last + 1):
            ys = ws.rng(rr, kx[0], rr, kx[1], abs_cols=True)
            xs = ws.rng(hr, kx[0], hr, kx[1], abs_rows=True, abs_cols=True)
            for c in range(c1 + known, c2 + 1):
                x = ws.ref(hr, c, abs_row=True)
                e = call("TREND", ys, xs, x) if fn == "TREND" else call(fn, x, ys, xs)
                ws.formula(rr, c, e, None, group)
        return last + 1, (f, last)
    elif kind == "copy_prev":
        _copy_inputs(ws, f, n, c1, 1, lambda rr, c: inp_ref(rr, c) / 1000)
        group = ws.new_group()
        for rr in range(f, last + 1):
            for c in range(c1 + 1, c2 + 1):
                ws.formula(rr, c, ws.ref(rr, c - 1), None, group)
        return last + 1, (f, last)
    elif kind == "blank_round":
        # IF(ISBLANK('Input Sheet'!C12),"",ROUND('Input Sheet'!C12*conv_factor,rounding_decimal_places))
        digits: Expr | int = inp.rounding if inp.rounding is not None else g.pick([2, 3, 4])
        factor = inp.conv if inp.conv is not None and g.chance(0.7) else inp.factor
        on_prev = prev is not None and g.chance(0.25)
        form = g.pick(["mul", "mul", "mul", "div", "plain", "mul1000"])
        p0 = prev[0] if prev is not None else f

        def base(rr: int, c: int) -> Expr:
            return ws.ref(p0 + rr - f, c) if on_prev else inp_ref(rr, c)

        def body(x: Expr) -> Expr:
            if form == "mul":
                return x * factor
            if form == "div":
                return x / factor
            if form == "mul1000":
                return x * factor / 1000
            return x
        blank = g.pick([lambda x: call("ISBLANK", x), lambda x: call("ISBLANK", x),
                        lambda x: x.eq("")])
        make = lambda rr, c: call("IF", blank(base(rr, c)), "",  # noqa: E731
                                  call("ROUND", body(base(rr, c)), digits))
    elif kind == "guarded":
        # Division guarded against zero: IF(x=0,0,y/x), IF(x<>0,ROUND(y/x,2),"")
        style = g.pick(["eq0", "ne0", "round"])

        def guarded(rr: int, c: int) -> Expr:
            x, y = inp_ref(rr, c), ws.ref(hr, c, abs_row=True)
            if style == "eq0":
                return call("IF", x.eq(0), 0, x * inp.factor / y)
            if style == "ne0":
                return call("IF", x.ne(0), x / inp.factor, "")
            return call("IF", x.gt(0), call("ROUND", x * inp.factor / (1 + inp.growth), 2), 0)
        make = guarded
    elif kind == "flag":
        # Policy flags with OR/AND and chart gaps with NA().
        style = g.pick(["or", "and", "na", "bool"])

        def flag(rr: int, c: int) -> Expr:
            x, y = inp_ref(rr, c), ws.ref(hr, c, abs_row=True)
            if style == "or":
                return call("IF", call("OR", y.lt(inp.start), x.le(0)), x, x * (1 - inp.cut))
            if style == "and":
                return call("IF", call("AND", y.ge(inp.start), x.gt(0)), x * (1 - inp.cut), x)
            if style == "na":
                return call("IF", x.gt(0), x * inp.factor, call("NA"))
            return call("IF", y.ge(inp.start), call("TRUE"), call("FALSE"))
        make = flag
    elif kind == "round_sum":
        make = lambda rr, c: call("ROUND", inp_ref(rr, c) * inp.factor, 2)  # noqa: E731
    elif kind == "sumifs":
        assert data is not None
        dws, cl, cy, cv = data
        vals, labs, yrs = dws.cols(cv, sheet=True), dws.cols(cl, sheet=True), dws.cols(cy, sheet=True)
        make = lambda rr, c: call("SUMIFS", vals, labs, ws.ref(rr, 1, abs_col=True),  # noqa: E731
                                  yrs, ws.ref(hr, c, abs_row=True))
    else:
        assert prev is not None
        p1, p2 = prev
        if kind == "share":
            tr = p2 + 1 if ws.get(p2 + 1, c1) is not None else None
            denom = (lambda c: ws.ref(tr, c, abs_row=True)) if tr else \
                (lambda c: call("SUM", ws.rng(p1, c, p2, c, abs_rows=True)))
            make = lambda rr, c: call("IFERROR", ws.ref(p1 + rr - f, c) / denom(c), 0)  # noqa: E731
        elif kind == "diff":
            make = lambda rr, c: ws.ref(p1 + rr - f, c) - inp_ref(rr, c)  # noqa: E731
        elif kind == "ratio":
            make = lambda rr, c: call("IFERROR", ws.ref(p1 + rr - f, c) / inp_ref(rr, c) - 1, 0)  # noqa: E731
        else:
            _copy_inputs(ws, f, n, c1, 1, lambda rr, c: ws.ref(p1 + rr - f, c))
            group = ws.new_group()
            for rr in range(f, last + 1):
                for c in range(c1 + 1, c2 + 1):
                    ws.formula(rr, c, ws.ref(rr, c - 1) + ws.ref(p1 + rr - f, c), None, group)
            return last + 1, (f, last)
    group = ws.new_group()
    for rr in range(f, last + 1):
        for c in range(c1, c2 + 1):
            ws.formula(rr, c, make(rr, c), None, group)
    end = last + 1
    if g.chance(0.3) and kind not in ("blank_round", "flag"):
        ws.put(end, 1, g.total_label(), bold=True)
        g.fill_right(ws, end, c1, c2, lambda c: call("SUM", ws.rng(f, c, last, c)))
        end += 1
    # A block of flags (TRUE/FALSE) is no base for shares or differences.
    return end, (prev if kind == "flag" else (f, last))


def _copy_inputs(ws: SheetData, f: int, n: int, c1: int, width: int, make: Cell) -> None:
    """The first ``width`` year columns of a block taken from elsewhere (one fill group)."""
    group = ws.new_group()
    for rr in range(f, f + n):
        for c in range(c1, c1 + width):
            ws.formula(rr, c, make(rr, c), None, group)
