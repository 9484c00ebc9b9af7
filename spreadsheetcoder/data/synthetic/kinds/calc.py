"""Calculator sheets (science, engineering, statistics): the long tail of functions found in real
workbooks (distributions, combinatorics, trigonometry, number bases, unit conversion, matrices)."""

from __future__ import annotations

from collections.abc import Callable

from ..book import SheetData
from ..ctx import Gen
from ..expr import Expr
from ..functions import call
from .panels import array_formula, column_panel, rows_panel

__all__ = ["PANELS", "science_sheet"]


def _stats(g: Gen, ws: SheetData, r: int, c: int) -> int:
    n = g.randint(10, 40)
    mean, sd = g.amount(10, 500), g.amount(1, 50)
    xs = [round(g.rng.gauss(mean, sd), 2) for _ in range(n)]
    nxt, first, last = _stats_columns(g, ws, r, c, xs)
    b = ws.rng(first, c, last, c)
    rows = [("Median", lambda: call("MEDIAN", b), "0.00"), ("Std dev (sample)", lambda: call("STDEV", b), "0.00"),
            ("Std dev", lambda: call("STDEV.S", b), "0.00"), ("Population SD", lambda: call("STDEV.P", b), "0.00"),
            ("90th percentile", lambda: call("PERCENTILE", b, 0.9), "0.00"),
            ("Q1", lambda: call("PERCENTILE.INC", b, 0.25), "0.00"),
            ("P10 (exclusive)", lambda: call("PERCENTILE.EXC", b, 0.1), "0.00"),
            ("Trimmed mean 20%", lambda: call("TRIMMEAN", b, 0.2), "0.00"),
            ("2nd largest", lambda: call("LARGE", b, 2), "0.00"), ("3rd smallest", lambda: call("SMALL", b, 3), "0.00"),
            ("Mean (A)", lambda: call("AVERAGEA", b), "0.00"), ("Sum of squares", lambda: call("SUMSQ", b), "0.00"),
            ("Range", lambda: call("MAX", b) - call("MIN", b), "0.00"), ("Variance", lambda: call("VAR", b), "0.00")]
    nxt = rows_panel(g, ws, nxt, c, g.pick(["Statistics", "Summary statistics"]), rows, g.randint(3, 7))
    if g.chance(0.5):
        bins = sorted({round(mean + sd * k, 0) for k in (-1, 0, 1, 2)})
        ws.put(nxt, c, "Bins", bold=True)
        ws.put(nxt, c + 1, "Frequency", bold=True)
        for i, v in enumerate(bins):
            ws.put(nxt + 1 + i, c, v)
        h = array_formula(ws, nxt + 1, c + 1, call("FREQUENCY", b, ws.rng(nxt + 1, c, nxt + len(bins), c)))
        nxt += h + 2
    return nxt


def _stats_columns(g: Gen, ws: SheetData, r: int, c: int, xs: list[float]) -> tuple[int, int, int]:
    first, last = r + 2, r + 1 + len(xs)

    def block() -> Expr:
        # Built when each formula is, after the panel has written the values it reads.
        return ws.rng(first, c, last, c, True, True)
    outputs = [
        ("Rank", lambda rr: call("RANK.EQ", ws.ref(rr, c), block()), None),
        ("Rank (avg)", lambda rr: call("RANK.AVG", ws.ref(rr, c), block(), 1), None),
        ("z-score", lambda rr: (ws.ref(rr, c) - call("AVERAGE", block())) / call("STDEV.S", block()), "0.000"),
        ("Above median", lambda rr: call("IF", ws.ref(rr, c).gt(call("MEDIAN", block())), "Yes", "No"), None),
        ("Deviation", lambda rr: call("ABS", ws.ref(rr, c) - call("AVERAGE", block())), "0.00")]
    title = g.pick(["Measurements", "Sample data", "Observations"])
    return column_panel(g, ws, r, c, title, [(g.pick(["Value", "x", "Reading"]), xs, "0.00")], outputs,
                        k=g.randint(1, 3))


def _distributions(g: Gen, ws: SheetData, r: int, c: int) -> int:
    xs = [float(k) for k in range(g.randint(5, 12))]
    mean, lam = g.pick([1.5, 2.0, 3.0, 4.5]), g.pick([0.25, 0.5, 1.0])
    x = lambda rr: ws.ref(rr, c)  # noqa: E731
    outputs = [("P(X=x)", lambda rr: call("POISSON.DIST", x(rr), mean, False), "0.0000"),
               ("P(X<=x)", lambda rr: call("POISSON.DIST", x(rr), mean, True), "0.0000"),
               ("Exp CDF", lambda rr: call("EXPON.DIST", x(rr), lam, True), "0.0000"),
               ("Exp PDF", lambda rr: call("EXPON.DIST", x(rr), lam, False), "0.0000"),
               ("erf(x/4)", lambda rr: call("ERF", x(rr) / 4), "0.0000"),
               ("erfc(x/4)", lambda rr: call("ERFC", x(rr) / 4), "0.0000"),
               ("ERF.PRECISE", lambda rr: call("ERF.PRECISE", x(rr) / 5), "0.0000"),
               ("ERFC.PRECISE", lambda rr: call("ERFC.PRECISE", x(rr) / 5), "0.0000"),
               ("ln Gamma(x+1)", lambda rr: call("GAMMALN", x(rr) + 1), "0.0000"),
               ("GAMMALN.PRECISE", lambda rr: call("GAMMALN.PRECISE", x(rr) + 0.5), "0.0000"),
               ("Gamma(x+1)", lambda rr: call("GAMMA", x(rr) + 1), "0.00"),
               ("Fisher", lambda rr: call("FISHER", x(rr) / 20), "0.0000"),
               ("Fisher inverse", lambda rr: call("FISHERINV", x(rr) / 10), "0.0000"),
               ("Gauss", lambda rr: call("GAUSS", x(rr) / 4 - 1), "0.0000")]
    nxt, _, _ = column_panel(g, ws, r, c, g.pick(["Distributions", "Probability table"]),
                                    [("x", xs, None)], outputs, g.randint(2, 5))
    if g.chance(0.4):
        probs = g.pick([[0.5, 0.3, 0.2], [0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4]])
        ws.put(nxt, c, "Outcome", bold=True)
        ws.put(nxt, c + 1, "Probability", bold=True)
        for i, p in enumerate(probs):
            ws.put(nxt + 1 + i, c, float(i + 1))
            ws.put(nxt + 1 + i, c + 1, p)
        end = nxt + len(probs)
        ws.put(end + 1, c, "P(2 <= X <= 3)")
        ws.formula(end + 1, c + 1, call("PROB", ws.rng(nxt + 1, c, end, c), ws.rng(nxt + 1, c + 1, end, c + 1), 2, 3))
        nxt = end + 3
    return nxt


def _combinatorics(g: Gen, ws: SheetData, r: int, c: int) -> int:
    m = g.randint(4, 10)
    ns = [float(g.randint(5, 15)) for _ in range(m)]
    ks = [float(g.randint(1, int(n) - 1)) for n in ns]
    n_, k_ = (lambda rr: ws.ref(rr, c)), (lambda rr: ws.ref(rr, c + 1))
    outputs = [("n!", lambda rr: call("FACT", k_(rr)), "#,##0"), ("k!!", lambda rr: call("FACTDOUBLE", k_(rr)), None),
               ("nPk", lambda rr: call("PERMUT", n_(rr), k_(rr)), "#,##0"),
               ("n^k", lambda rr: call("PERMUTATIONA", n_(rr), k_(rr)), "#,##0"),
               ("nCk", lambda rr: call("COMBIN", n_(rr), k_(rr)), "#,##0"),
               ("Multinomial", lambda rr: call("MULTINOMIAL", k_(rr), n_(rr) - k_(rr)), "#,##0"),
               ("n div k", lambda rr: call("QUOTIENT", n_(rr), k_(rr)), None),
               ("n mod k", lambda rr: call("MOD", n_(rr), k_(rr)), None),
               ("Even", lambda rr: call("EVEN", n_(rr) / k_(rr)), None),
               ("Odd", lambda rr: call("ODD", n_(rr) / k_(rr)), None),
               ("n odd?", lambda rr: call("ISODD", n_(rr)), None), ("k even?", lambda rr: call("ISEVEN", k_(rr)), None),
               ("Equal?", lambda rr: call("DELTA", call("MOD", n_(rr), 2), call("MOD", k_(rr), 2)), None),
               ("n>=10", lambda rr: call("GESTEP", n_(rr), 10), None),
               ("Product", lambda rr: call("PRODUCT", n_(rr), k_(rr)), None)]
    return column_panel(g, ws, r, c, g.pick(["Combinatorics", "Counting"]), [("n", ns, None), ("k", ks, None)],
                        outputs, g.randint(2, 6))[0]


def _trig(g: Gen, ws: SheetData, r: int, c: int) -> int:
    m = g.randint(5, 13)
    step = g.pick([15.0, 30.0, 45.0])
    degs = [step * i for i in range(m)]
    d = lambda rr: ws.ref(rr, c)  # noqa: E731
    outputs = [("Radians", lambda rr: call("RADIANS", d(rr)), "0.0000"),
               ("Sine", lambda rr: call("SIN", call("RADIANS", d(rr))), "0.0000"),
               ("Cosine", lambda rr: call("COS", d(rr) * call("PI") / 180), "0.0000"),
               ("Tangent", lambda rr: call("TAN", call("RADIANS", d(rr) / 3)), "0.0000"),
               ("Back to degrees", lambda rr: call("DEGREES", call("RADIANS", d(rr))), "0.0"),
               ("Angle of (cos,sin)", lambda rr: call("DEGREES", call("ATAN2", call("COS", call("RADIANS", d(rr))),
                                                                          call("SIN", call("RADIANS", d(rr)) + 0.5))),
                "0.00"),
               ("Arc length r=2", lambda rr: 2 * call("PI") * 2 * d(rr) / 360, "0.000"),
               ("sqrt(pi*deg)", lambda rr: call("SQRTPI", d(rr)), "0.000"),
               ("Chord", lambda rr: call("SQRT", call("POWER", call("SIN", call("RADIANS", d(rr))), 2)
                                         + (1 - call("COS", call("RADIANS", d(rr)))) ** 2), "0.000")]
    return column_panel(g, ws, r, c, g.pick(["Angles", "Trigonometry"]), [("Degrees", degs, None)], outputs,
                        g.randint(2, 5))[0]


def _bases(g: Gen, ws: SheetData, r: int, c: int) -> int:
    nums = sorted(g.rng.sample(range(1, 256), g.randint(4, 10)))
    n = lambda rr: ws.ref(rr, c)  # noqa: E731
    outputs = [("Binary", lambda rr: call("BASE", n(rr), 2, 8), None), ("Hex", lambda rr: call("BASE", n(rr), 16), None),
               ("Hex to dec", lambda rr: call("HEX2DEC", call("BASE", n(rr), 16)), None),
               ("From binary", lambda rr: call("DECIMAL", call("BASE", n(rr), 2), 2), None),
               ("Roman", lambda rr: call("ROMAN", n(rr)), None), ("AND 15", lambda rr: call("BITAND", n(rr), 15), None),
               ("OR 1", lambda rr: call("BITOR", n(rr), 1), None), ("XOR 255", lambda rr: call("BITXOR", n(rr), 255), None),
               ("<< 2", lambda rr: call("BITLSHIFT", n(rr), 2), None), (">> 1", lambda rr: call("BITRSHIFT", n(rr), 1), None),
               ("Letter", lambda rr: call("CHAR", 65 + call("MOD", n(rr), 26)), None),
               ("Code of letter", lambda rr: call("CODE", call("CHAR", 65 + call("MOD", n(rr), 26))), None)]
    return column_panel(g, ws, r, c, g.pick(["Number systems", "Bit operations"]),
                        [("n", [float(x) for x in nums], None)], outputs, g.randint(2, 6))[0]


_CONVERSIONS = [("km", "mi"), ("mi", "km"), ("kg", "lbm"), ("lbm", "kg"), ("l", "gal"), ("gal", "l"), ("C", "F"),
                ("F", "C"), ("kWh", "J"), ("m", "ft"), ("in", "cm"), ("ozm", "g"), ("K", "C"), ("kW", "W")]


def _units(g: Gen, ws: SheetData, r: int, c: int) -> int:
    pairs = g.picks(_CONVERSIONS, g.randint(3, 8))
    vals = [g.amount(1, 500) for _ in pairs]
    outputs = [("Converted", lambda rr: call("CONVERT", ws.ref(rr, c), ws.ref(rr, c + 1), ws.ref(rr, c + 2)), "0.000"),
               ("Rounded", lambda rr: call("ROUND", call("CONVERT", ws.ref(rr, c), ws.ref(rr, c + 1), ws.ref(rr, c + 2)),
                                           1), "0.0")]
    return column_panel(g, ws, r, c, g.pick(["Unit conversions", "Conversions"]),
                        [("Value", vals, None), ("From", [p[0] for p in pairs], None),
                         ("To", [p[1] for p in pairs], None)], outputs, g.randint(1, 2))[0]


def _matrices(g: Gen, ws: SheetData, r: int, c: int) -> int:
    n = g.pick([2, 3])
    ws.put(r, c, "Matrix A", bold=True)
    ws.put(r, c + n + 1, "Matrix B", bold=True)
    for i in range(n):
        for j in range(n):
            ws.put(r + 1 + i, c + j, float(g.randint(-5, 9) + (10 * n if i == j else 0)))
            ws.put(r + 1 + i, c + n + 1 + j, float(g.randint(-5, 9)))
    a = ws.rng(r + 1, c, r + n, c + n - 1)
    b = ws.rng(r + 1, c + n + 1, r + n, c + 2 * n)
    nxt = r + n + 2
    ops: list[tuple[str, Callable[[], Expr]]] = [("A x B", lambda: call("MMULT", a, b)),
                                                 ("Inverse of A", lambda: call("MINVERSE", a)),
                                                 ("Transpose of B", lambda: call("TRANSPOSE", b))]
    for label, make in g.picks(ops, g.randint(1, 3)):
        ws.put(nxt, c, label, bold=True)
        nxt += array_formula(ws, nxt + 1, c, make(), "0.000") + 2
    return rows_panel(g, ws, nxt, c, "Scalars", [("det(A)", lambda: call("MDETERM", a), "0.00"),
                                                 ("sum(A*B)", lambda: call("SUMPRODUCT", a, b), None),
                                                 ("trace check", lambda: call("SUM", a) - call("SUM", b), None)],
                      g.randint(1, 3))


def _complex(g: Gen, ws: SheetData, r: int, c: int) -> int:
    m = g.randint(3, 8)
    re_ = [float(g.randint(-9, 9)) for _ in range(m)]
    im = [float(g.randint(-9, 9)) for _ in range(m)]
    nxt, first, last = column_panel(g, ws, r, c, g.pick(["Impedance", "Complex numbers"]),
                                    [("R", re_, None), ("X", im, None)],
                                    [("Z", lambda rr: call("COMPLEX", ws.ref(rr, c), ws.ref(rr, c + 1)), None)], 1)
    g.fill_down(ws, c + 3, first, last, lambda rr: call("IMREAL", ws.ref(rr, c + 2)))
    g.fill_down(ws, c + 4, first, last, lambda rr: call("IMAGINARY", ws.ref(rr, c + 2)))
    ws.put(first - 1, c + 3, "Re", bold=True)
    ws.put(first - 1, c + 4, "Im", bold=True)
    return nxt


def _regression(g: Gen, ws: SheetData, r: int, c: int) -> int:
    m = g.randint(5, 15)
    x0 = g.pick([1, 2010, 2015])
    xs = [float(x0 + i) for i in range(m)]
    a, b = g.amount(1, 50), g.amount(50, 500)
    ys = [round(b + a * i + g.rng.gauss(0, a), 2) + (0 if b + a * i > a * 3 else a * 3) for i in range(m)]
    ws.put(r, c, g.pick(["Trend analysis", "Regression"]), bold=True)
    g.header(ws, r + 1, c, ["x", "y"])
    for i in range(m):
        ws.put(r + 2 + i, c, xs[i])
        ws.put(r + 2 + i, c + 1, ys[i])
    y = ws.rng(r + 2, c + 1, r + 1 + m, c + 1, True, True)
    x = ws.rng(r + 2, c, r + 1 + m, c, True, True)
    nx = r + 2 + m
    ws.put(nx, c, xs[-1] + 1)
    new = ws.ref(nx, c)
    rows = [("Forecast next", lambda: call("FORECAST", new, y, x), "0.00"),
            ("FORECAST.LINEAR", lambda: call("FORECAST.LINEAR", new, y, x), "0.00"),
            ("TREND next", lambda: call("TREND", y, x, new), "0.00"),
            ("GROWTH next", lambda: call("GROWTH", y, x, new), "0.00"),
            ("Slope (LINEST)", lambda: call("INDEX", call("LINEST", y, x), 1), "0.000"),
            ("Intercept (LINEST)", lambda: call("INDEX", call("LINEST", y, x), 2), "0.000")]
    return rows_panel(g, ws, nx + 2, c, "Projection", rows, g.randint(2, 5))


def _growth(g: Gen, ws: SheetData, r: int, c: int) -> int:
    ws.put(r, c, g.pick(["Growth rate", "Rate"]))
    ws.put(r, c + 1, round(g.rng.uniform(0.01, 0.12), 3), "0.0%")
    rate = ws.absref(r, c + 1)
    m = g.randint(4, 12)
    start = g.amount(10, 1000)
    vals = [round(start * (1 + g.rng.uniform(0, 0.2)) ** i, 2) for i in range(m)]
    v = lambda rr: ws.ref(rr, c + 1)  # noqa: E731
    outputs = [("e^(rate*t)", lambda rr: call("EXP", rate * ws.ref(rr, c)), "0.0000"),
               ("log10", lambda rr: call("LOG10", v(rr)), "0.000"), ("log2", lambda rr: call("LOG", v(rr), 2), "0.000"),
               ("ln", lambda rr: call("LN", v(rr)), "0.000"), ("log", lambda rr: call("LOG", v(rr)), "0.000"),
               ("Continuous", lambda rr: v(rr) * call("EXP", rate), "0.00"),
               ("Squared", lambda rr: call("POWER", v(rr), 2), "0.00")]
    nxt, first, last = column_panel(g, ws, r + 2, c, g.pick(["Growth", "Logarithms"]),
                                    [("t", [float(i) for i in range(m)], None), ("Value", vals, "0.00")], outputs,
                                    g.randint(2, 4))
    rows = [("CAGR", lambda: call("POWER", ws.ref(last, c + 1) / ws.ref(first, c + 1), 1 / (m - 1)) - 1, "0.00%"),
            ("Doubling time", lambda: call("LOG", 2) / call("LOG", 1 + rate), "0.0"),
            ("Rule of 72", lambda: 72 / (rate * 100), "0.0")]
    return rows_panel(g, ws, nxt, c, "Summary", rows, g.randint(1, 3))


PANELS: dict[str, Callable[[Gen, SheetData, int, int], int]] = {
    "growth": _growth,
    "stats": _stats, "distributions": _distributions, "combinatorics": _combinatorics, "trig": _trig,
    "bases": _bases, "units": _units, "matrices": _matrices, "complex": _complex, "regression": _regression}


def science_sheet(g: Gen) -> None:
    """A calculator sheet of 2-4 panels stacked vertically (sometimes two columns of panels)."""
    ws = g.sheet(g.pick(["Calculator", "Analysis", "Stats", "Engineering", "Lab", "Calc", "Worksheet"]))
    r0, c0 = g.origin()
    r = r0
    for name in g.picks(list(PANELS), g.randint(2, 4)):
        r = PANELS[name](g, ws, r, c0)
