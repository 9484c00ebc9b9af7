#!/usr/bin/env python
"""Generate the small, realistic sample workbooks in ``sample_sheets/``.

Regenerate (from the repository root; needs LibreOffice for the recalculation step)::

    apt-get install -y libreoffice-calc-nogui        # once; provides ``soffice``
    . .venv/bin/activate
    python scripts/make_sample_sheets.py             # writes sample_sheets/*.xlsx and verifies them

Options: ``--outdir DIR`` (default ``sample_sheets``), ``--soffice PATH`` (default: found on PATH).

How it works
------------
1. Each workbook is built with openpyxl: headers (sometimes below a title and a blank row), hard-coded
   or fixed-seed values, and real formulas (relative/absolute/cross-sheet references, a defined name,
   structured table references, SUMIF/COUNTIF/VLOOKUP/INDEX-MATCH/PMT/EDATE/TEXT/IFERROR...).
   Features: an Excel table, a bar chart, an image, a comment and data validations.
2. openpyxl writes formulas without cached results, so every file is recalculated by LibreOffice
   headless (``soffice --convert-to xlsx``) in a throw-away profile that forces "always recalculate"
   and the en-US locale. LibreOffice's copy is only *read* for its values.
3. The cached values are injected as ``<v>`` elements into the openpyxl-written sheet XML (so the
   table, chart, image, comment, defined name and data validations are exactly what openpyxl wrote),
   and the zip is rewritten with fixed timestamps so that reruns give byte-identical files.
4. The final files are re-read with openpyxl: every formula cell must have a non-empty, non-error
   cached value, independent Python re-computations must agree, and all features must be present.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from random import Random
from xml.sax.saxutils import escape

from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableFormula, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from spreadsheetcoder.xlsx.parts import sheet_parts

ROOT = Path(__file__).resolve().parents[1]
FIXED_TIME = dt.datetime(2024, 1, 15, 9, 0, 0)
ZIP_TIME = (2024, 1, 15, 9, 0, 0)

# ---------------------------------------------------------------------------------------------------
# styling helpers
# ---------------------------------------------------------------------------------------------------
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN_TOP = Border(top=Side(style="thin"))
MONEY = "#,##0.00"
MONEY0 = "#,##0"
PCT = "0.0%"
DATE = "yyyy-mm-dd"
TIME = "h:mm AM/PM"


def header(ws: Worksheet, row: int, col: int, names: list[str]) -> None:
    for i, name in enumerate(names):
        c = ws.cell(row=row, column=col + i, value=name)
        c.font = BOLD
        c.fill = HEADER_FILL
        c.alignment = Alignment(horizontal="center", wrap_text=True)


def total_style(ws: Worksheet, row: int, col1: int, col2: int) -> None:
    for col in range(col1, col2 + 1):
        c = ws.cell(row=row, column=col)
        c.font = BOLD
        c.fill = TOTAL_FILL
        c.border = THIN_TOP


def fmt(ws: Worksheet, ref: str, number_format: str) -> None:
    cells = ws[ref]
    if not isinstance(cells, tuple):
        cells.number_format = number_format
        return
    for row in cells:
        for c in row if isinstance(row, tuple) else (row,):
            c.number_format = number_format


def widths(ws: Worksheet, spec: dict[str, float]) -> None:
    for col, w in spec.items():
        ws.column_dimensions[col].width = w


def new_workbook(title: str) -> Workbook:
    wb = Workbook()
    wb.properties.creator = "SpreadsheetCoder sample generator"
    wb.properties.title = title
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    return wb


class _Rng:
    """Fixed-seed generator that only relies on ``Random.random`` (stable across Python versions)."""

    def __init__(self, seed: int) -> None:
        self._r = Random(seed)

    def randint(self, a: int, b: int) -> int:
        return a + int(self._r.random() * (b - a + 1))

    def choice(self, seq: list[str]) -> str:
        return seq[self.randint(0, len(seq) - 1)]

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self._r.random()


# ---------------------------------------------------------------------------------------------------
# 1. budget.xlsx
# ---------------------------------------------------------------------------------------------------
def build_budget() -> Workbook:
    wb = new_workbook("Operating budget vs actual")
    ws = wb.active
    ws.title = "Budget"
    ws["A1"] = "Marketing Department - Operating Budget vs Actual, March 2024"
    ws["A1"].font = TITLE
    ws["A2"] = "All figures in USD"
    # row 3 left blank
    header(ws, 4, 1, ["Category", "Budget", "Actual", "Variance", "Variance %", "Status", "Next Year Budget"])
    rows = [
        ("Salaries & wages", 42000, 43150.00),
        ("Rent", 6500, 6500.00),
        ("Utilities", 1200, 1342.18),
        ("Software subscriptions", 2400, 2215.50),
        ("Advertising", 5000, 6120.75),
        ("Travel", 1800, 960.40),
        ("Office supplies", 650, 712.33),
        ("Training", 1500, 1125.00),
        ("Insurance", 900, 900.00),
        ("Equipment", 3000, 3489.99),
    ]
    first = 5
    for i, (cat, budget, actual) in enumerate(rows):
        r = first + i
        ws.cell(r, 1, cat)
        ws.cell(r, 2, budget)
        ws.cell(r, 3, actual)
        ws.cell(r, 4, f"=C{r}-B{r}")
        ws.cell(r, 5, f'=IF(B{r}=0,"",D{r}/B{r})')
        ws.cell(r, 6, f'=IF(C{r}>B{r},"Over","Under")')
        ws.cell(r, 7, f"=ROUND(B{r}*(1+Assumptions!$B$2),-1)")
    last = first + len(rows) - 1
    t = last + 1  # total row
    ws.cell(t, 1, "Total")
    for col in "BCG":
        ws[f"{col}{t}"] = f"=SUM({col}{first}:{col}{last})"
    ws[f"D{t}"] = f"=C{t}-B{t}"
    ws[f"E{t}"] = f'=IF(B{t}=0,"",D{t}/B{t})'
    ws[f"F{t}"] = f'=IF(C{t}>B{t},"Over","Under")'
    total_style(ws, t, 1, 7)

    ws[f"A{t + 2}"] = "Sales tax on actual spend"
    ws[f"C{t + 2}"] = f"=ROUND(C{t}*TaxRate,2)"
    ws[f"A{t + 3}"] = "Contingency reserve"
    ws[f"B{t + 3}"] = f"=ROUND(B{t}*Assumptions!$B$4,0)"
    ws[f"A{t + 4}"] = "Total incl. tax & reserve"
    ws[f"B{t + 4}"] = f"=B{t}+B{t + 3}"
    ws[f"C{t + 4}"] = f"=C{t}+C{t + 2}"
    ws[f"A{t + 6}"] = "Categories over budget"
    ws[f"B{t + 6}"] = f'=COUNTIF(F{first}:F{last},"Over")'
    ws[f"A{t + 7}"] = "Largest overspend"
    ws[f"B{t + 7}"] = f"=INDEX(A{first}:A{last},MATCH(MAX(D{first}:D{last}),D{first}:D{last},0))"
    ws[f"C{t + 7}"] = f"=MAX(D{first}:D{last})"
    ws[f"A{t + 8}"] = "Budget utilisation"
    ws[f"B{t + 8}"] = f"=C{t}/B{t}"
    for r in (t + 4,):
        total_style(ws, r, 1, 3)

    fmt(ws, f"B{first}:D{t + 4}", MONEY)
    fmt(ws, f"G{first}:G{t}", MONEY0)
    fmt(ws, f"E{first}:E{t}", PCT)
    fmt(ws, f"C{t + 7}", MONEY)
    fmt(ws, f"B{t + 8}", PCT)
    widths(ws, {"A": 28, "B": 13, "C": 13, "D": 13, "E": 12, "F": 9, "G": 16})
    ws.freeze_panes = "B5"

    a = wb.create_sheet("Assumptions")
    header(a, 1, 1, ["Assumption", "Value", "Notes"])
    a["A2"], a["B2"], a["C2"] = "Inflation rate", 0.032, "Applied to next year's budget"
    a["A3"], a["B3"], a["C3"] = "Sales tax rate", 0.0825, "Defined name TaxRate"
    a["A4"], a["B4"], a["C4"] = "Contingency", 0.05, "Share of total budget held back"
    a["A5"], a["B5"], a["C5"] = "Fiscal year", 2024, ""
    a["A6"], a["B6"], a["C6"] = "Next fiscal year", "=B5+1", ""
    fmt(a, "B2:B4", "0.00%")
    widths(a, {"A": 20, "B": 10, "C": 34})
    wb.defined_names["TaxRate"] = DefinedName("TaxRate", attr_text="Assumptions!$B$3")
    return wb


# ---------------------------------------------------------------------------------------------------
# 2. sales.xlsx
# ---------------------------------------------------------------------------------------------------
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def build_sales() -> Workbook:
    wb = new_workbook("Regional sales FY2023")
    ws = wb.active
    ws.title = "Regional Sales"
    ws["A1"] = "Unit Sales by Region - FY2023"
    ws["A1"].font = TITLE
    # row 2 blank
    header(ws, 3, 1, ["Region", *MONTHS, "Total", "Share"])
    base = {"North": 420, "South": 365, "East": 510, "West": 455, "Central": 280, "International": 190}
    season = [0.92, 0.88, 1.00, 1.04, 1.08, 1.10, 1.02, 0.98, 1.05, 1.09, 1.18, 1.34]
    rng = _Rng(2023)
    first = 4
    for i, (region, b) in enumerate(base.items()):
        r = first + i
        ws.cell(r, 1, region)
        for m in range(12):
            ws.cell(r, 2 + m, round(b * season[m] * rng.uniform(0.93, 1.07)))
        ws[f"N{r}"] = f"=SUM(B{r}:M{r})"
    last = first + len(base) - 1
    t = last + 1
    ws[f"A{t}"] = "Total"
    for col in range(2, 15):
        L = get_column_letter(col)
        ws[f"{L}{t}"] = f"=SUM({L}{first}:{L}{last})"
    for r in range(first, t + 1):
        ws[f"O{r}"] = f"=N{r}/$N${t}"
    total_style(ws, t, 1, 15)
    fmt(ws, f"B{first}:N{t}", MONEY0)
    fmt(ws, f"O{first}:O{t}", PCT)

    g0 = t + 2
    ws[f"A{g0}"] = "Month-over-month growth"
    ws[f"A{g0}"].font = BOLD
    header(ws, g0 + 1, 1, ["Region", *MONTHS])
    for i in range(len(base) + 1):
        src, r = first + i, g0 + 2 + i
        ws[f"A{r}"] = f"=A{src}"
        for m in range(1, 12):
            cur, prev = get_column_letter(2 + m), get_column_letter(1 + m)
            ws[f"{cur}{r}"] = f"=IF({prev}{src}=0,0,{cur}{src}/{prev}{src}-1)"
    fmt(ws, f"C{g0 + 2}:M{g0 + 2 + len(base)}", PCT)
    widths(ws, {"A": 15, **{get_column_letter(c): 8 for c in range(2, 14)}, "N": 10, "O": 8})
    ws.freeze_panes = "B4"

    chart = BarChart()
    chart.type = "col"
    chart.title = "FY2023 units by region"
    chart.y_axis.title = "Units"
    chart.x_axis.title = "Region"
    chart.add_data(Reference(ws, min_col=14, min_row=3, max_row=last), titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    chart.height, chart.width = 7.5, 15
    ws.add_chart(chart, f"A{g0 + 10}")

    o = wb.create_sheet("Orders")
    cols = ["Order ID", "Order Date", "Region", "Product", "Units", "Price", "Revenue"]
    for i, name in enumerate(cols):
        o.cell(1, 1 + i, name)
    products = {"Widget": 24.99, "Gadget": 49.50, "Gizmo": 12.75, "Doohickey": 89.00}
    regions = list(base)
    n = 20
    for i in range(n):
        r = 2 + i
        prod = rng.choice(list(products))
        o.cell(r, 1, 5001 + i)
        o.cell(r, 2, dt.date(2023, 11, 1) + dt.timedelta(days=3 * i))
        o.cell(r, 3, rng.choice(regions))
        o.cell(r, 4, prod)
        o.cell(r, 5, rng.randint(2, 40))
        o.cell(r, 6, products[prod])
        o.cell(r, 7, "=SalesTable[[#This Row],[Units]]*SalesTable[[#This Row],[Price]]")
    ref = f"A1:G{n + 1}"
    table = Table(displayName="SalesTable", ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium9", showRowStripes=True)
    table.autoFilter = AutoFilter(ref=ref)
    for i, name in enumerate(cols):
        col = TableColumn(id=i + 1, name=name)
        if name == "Revenue":
            col.calculatedColumnFormula = TableFormula(
                attr_text="SalesTable[[#This Row],[Units]]*SalesTable[[#This Row],[Price]]"
            )
        table.tableColumns.append(col)
    o.add_table(table)
    fmt(o, f"B2:B{n + 1}", DATE)
    fmt(o, f"F2:G{n + 1}", MONEY)

    o["I1"] = "Order summary"
    o["I1"].font = BOLD
    summary = [
        ("Total revenue", "=SUM(SalesTable[Revenue])", MONEY),
        ("Total units", "=SUM(SalesTable[Units])", MONEY0),
        ("Average price", "=ROUND(AVERAGE(SalesTable[Price]),2)", MONEY),
        ("Orders", "=COUNTA(SalesTable[Order ID])", "0"),
        ("North revenue", '=SUMIF(SalesTable[Region],"North",SalesTable[Revenue])', MONEY),
        ("Largest order", "=MAX(SalesTable[Revenue])", MONEY),
        ("Revenue per unit", "=J2/J3", MONEY),
    ]
    for i, (label, formula, nf) in enumerate(summary):
        o.cell(2 + i, 9, label)
        o.cell(2 + i, 10, formula).number_format = nf
    widths(o, {"A": 9, "B": 11, "C": 13, "D": 11, "E": 7, "F": 9, "G": 11, "I": 17, "J": 12})
    return wb


# ---------------------------------------------------------------------------------------------------
# 3. gradebook.xlsx
# ---------------------------------------------------------------------------------------------------
def build_gradebook() -> Workbook:
    wb = new_workbook("Intro to Statistics gradebook")
    ws = wb.active
    ws.title = "Grades"
    ws["A1"] = "STAT 101 - Introduction to Statistics - Fall 2023 Gradebook"
    ws["A1"].font = TITLE
    # row 2 blank
    header(
        ws,
        3,
        1,
        [
            "Student",
            "Section",
            "HW1",
            "HW2",
            "HW3",
            "Quiz",
            "Midterm",
            "Final",
            "Average",
            "Letter",
            "Result",
            "Weighted",
            "Weighted Letter",
        ],
    )
    students = [
        ("Avery Johnson", "A", 92, 88, 95, 90, 87, 91),
        ("Blake Martinez", "B", 78, 82, 74, 80, 71, 76),
        ("Casey Nguyen", "A", 65, 70, 58, 62, 55, 61),
        ("Dana Okafor", "B", 99, 97, 100, 96, 94, 98),
        ("Elliot Brown", "A", 55, 48, 60, 52, 47, 50),
        ("Finley Garcia", "B", 84, 79, 88, 85, 82, 80),
        ("Gray Patel", "A", 71, 75, 69, 73, 68, 72),
        ("Harper Kim", "B", 88, 91, 85, 87, 90, 93),
        ("Indigo Rossi", "A", 60, 64, 66, 58, 61, 63),
        ("Jules Schmidt", "B", 93, 85, 90, 88, 79, 84),
        ("Kai Andersen", "A", 45, 52, 40, 55, 49, 53),
        ("Logan Dubois", "B", 81, 77, 83, 79, 86, 88),
    ]
    first = 4
    last = first + len(students) - 1
    weights_row = last + 5
    for i, row in enumerate(students):
        r = first + i
        for j, v in enumerate(row):
            ws.cell(r, 1 + j, v)
        ws[f"I{r}"] = f"=ROUND(AVERAGE(C{r}:H{r}),1)"
        ws[f"J{r}"] = f"=VLOOKUP(I{r},'Grade Scale'!$A$2:$B$6,2,TRUE)"
        ws[f"K{r}"] = f'=IF(I{r}>=60,"Pass","Fail")'
        ws[f"L{r}"] = f"=ROUND(SUMPRODUCT(C{r}:H{r},$C${weights_row}:$H${weights_row}),1)"
        ws[f"M{r}"] = f'=IF(L{r}>=90,"A",IF(L{r}>=80,"B",IF(L{r}>=70,"C",IF(L{r}>=60,"D","F"))))'
    stats = [
        ("Class average", "ROUND(AVERAGE({c}{a}:{c}{b}),1)"),
        ("Lowest", "MIN({c}{a}:{c}{b})"),
        ("Highest", "MAX({c}{a}:{c}{b})"),
    ]
    for k, (label, tmpl) in enumerate(stats):
        r = last + 2 + k
        ws[f"A{r}"] = label
        for c in "CDEFGHIL":
            ws[f"{c}{r}"] = "=" + tmpl.format(c=c, a=first, b=last)
        total_style(ws, r, 1, 13)
    ws[f"A{weights_row}"] = "Weight"
    for c, w in zip("CDEFGH", [0.10, 0.10, 0.10, 0.10, 0.25, 0.35], strict=True):
        ws[f"{c}{weights_row}"] = w
    ws[f"I{weights_row}"] = f"=SUM(C{weights_row}:H{weights_row})"
    fmt(ws, f"C{weights_row}:I{weights_row}", "0%")

    s = weights_row + 2
    summary = [
        ("Students passing", f'=COUNTIF(K{first}:K{last},"Pass")', "0"),
        ("Pass rate", f"=B{s}/COUNTA(A{first}:A{last})", PCT),
        ("Section A average", f'=ROUND(AVERAGEIF($B${first}:$B${last},"A",$I${first}:$I${last}),1)', "0.0"),
        ("Section B average", f'=ROUND(AVERAGEIF($B${first}:$B${last},"B",$I${first}:$I${last}),1)', "0.0"),
        ("A grades", f'=COUNTIF(J{first}:J{last},"A")', "0"),
    ]
    for i, (label, formula, nf) in enumerate(summary):
        ws[f"A{s + i}"] = label
        ws[f"B{s + i}"] = formula
        ws[f"B{s + i}"].number_format = nf

    scores = DataValidation(
        type="whole",
        operator="between",
        formula1="0",
        formula2="100",
        showErrorMessage=True,
        errorTitle="Invalid score",
        error="Scores must be whole numbers from 0 to 100.",
    )
    scores.add(f"C{first}:H{last}")
    section = DataValidation(
        type="list",
        formula1='"A,B"',
        allow_blank=False,
        showDropDown=False,
        showErrorMessage=True,
        error="Section must be A or B.",
    )
    section.add(f"B{first}:B{last}")
    ws.add_data_validation(scores)
    ws.add_data_validation(section)
    ws["H8"].comment = Comment(
        "Final submitted 2 days late: 10% penalty already applied.", "Prof. Rivera", width=220, height=70
    )
    widths(ws, {"A": 18, "B": 8, **{c: 8 for c in "CDEFGHIJK"}, "L": 9, "M": 9})
    ws.freeze_panes = "C4"

    g = wb.create_sheet("Grade Scale")
    header(g, 1, 1, ["Min Score", "Letter", "Students"])
    for i, (score, letter) in enumerate([(0, "F"), (60, "D"), (70, "C"), (80, "B"), (90, "A")]):
        g.cell(2 + i, 1, score)
        g.cell(2 + i, 2, letter)
        g.cell(2 + i, 3, f"=COUNTIF(Grades!$J${first}:$J${last},B{2 + i})")
    g["A7"] = "Total"
    g["C7"] = "=SUM(C2:C6)"
    total_style(g, 7, 1, 3)
    widths(g, {"A": 11, "B": 8, "C": 10})
    return wb


# ---------------------------------------------------------------------------------------------------
# 4. inventory.xlsx
# ---------------------------------------------------------------------------------------------------
def _png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """Minimal RGB PNG encoder (no Pillow needed to *write* the image)."""
    raw = b"".join(b"\x00" + bytes(v for x in range(width) for v in pixel(x, y)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def logo_png() -> bytes:
    """A 120x48 'warehouse' logo: navy background, three orange bars of rising height."""
    w, h = 120, 48
    bars = [(14, 30), (40, 20), (66, 10)]  # (x0, top)

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        if y >= h - 6:
            return (240, 240, 240)
        for x0, top in bars:
            if x0 <= x < x0 + 18 and y >= top:
                return (245, 150, 30)
        if 92 <= x < 110 and 6 <= y < 36 and (x - 92 + y) % 6 < 3:
            return (120, 170, 230)
        return (24, 48, 96)

    return _png(w, h, pixel)


class PngImage(Image):
    """openpyxl Image from raw PNG bytes, so writing does not depend on Pillow and stays byte-stable."""

    def __init__(self, data: bytes, width: int, height: int) -> None:
        self.ref = None
        self._png = data
        self.width, self.height = width, height
        self.format = "png"

    def _data(self) -> bytes:
        return self._png


def build_inventory() -> Workbook:
    wb = new_workbook("Warehouse inventory")
    ws = wb.active
    ws.title = "Inventory"
    header(
        ws,
        1,
        1,
        [
            "Item",
            "Qty On Hand",
            "Unit Cost",
            "Reorder Point",
            "Stock Value",
            "Status",
            "Category",
            "Order Qty",
        ],
    )
    items = [
        ("USB-C cable 1m", 240, 3.85, 100, "Electronics"),
        ("Wireless mouse", 38, 14.20, 50, "Electronics"),
        ("27in monitor", 12, 189.00, 10, "Electronics"),
        ("Laptop stand", 25, 32.50, 15, "Electronics"),
        ("HDMI adapter", 9, 11.75, 30, "Electronics"),
        ("A4 copy paper (ream)", 410, 4.60, 200, "Office"),
        ("Ballpoint pens (box)", 64, 6.25, 40, "Office"),
        ("Sticky notes (pack)", 22, 3.10, 50, "Office"),
        ("Stapler", 18, 8.90, 10, "Office"),
        ("Whiteboard markers", 35, 7.45, 40, "Office"),
        ("Office chair", 6, 145.00, 5, "Furniture"),
        ("Standing desk", 3, 420.00, 4, "Furniture"),
        ("Filing cabinet", 7, 210.00, 3, "Furniture"),
        ("Bookshelf", 4, 95.00, 2, "Furniture"),
        ("Desk lamp", 11, 27.80, 12, "Furniture"),
        ("Hand soap (1L)", 48, 4.95, 30, "Cleaning"),
        ("Paper towels (case)", 14, 22.40, 20, "Cleaning"),
        ("Disinfectant spray", 60, 5.35, 36, "Cleaning"),
        ("Trash bags (roll)", 26, 9.99, 24, "Cleaning"),
        ("Microfiber cloths", 90, 1.15, 50, "Cleaning"),
    ]
    first, last = 2, 1 + len(items)
    for i, (name, qty, cost, rop, cat) in enumerate(items):
        r = first + i
        ws.cell(r, 1, name)
        ws.cell(r, 2, qty)
        ws.cell(r, 3, cost)
        ws.cell(r, 4, rop)
        ws[f"E{r}"] = f"=B{r}*C{r}"
        ws[f"F{r}"] = f'=IF(B{r}<D{r},"Reorder","OK")'
        ws.cell(r, 7, cat)
        ws[f"H{r}"] = f"=IF(B{r}<D{r},D{r}*2-B{r},0)"
    t = last + 2
    ws[f"A{t}"] = "Total"
    ws[f"B{t}"] = f"=SUM(B{first}:B{last})"
    ws[f"E{t}"] = f"=SUM(E{first}:E{last})"
    ws[f"H{t}"] = f"=SUM(H{first}:H{last})"
    total_style(ws, t, 1, 8)
    fmt(ws, f"C{first}:C{last}", MONEY)
    fmt(ws, f"E{first}:E{t}", MONEY)

    header(ws, 1, 10, ["Category", "Items", "Units", "Stock Value", "Reorders"])
    cats = ["Electronics", "Office", "Furniture", "Cleaning"]
    rng_g, rng_b, rng_e, rng_f = (f"${c}${first}:${c}${last}" for c in "GBEF")
    for i, cat in enumerate(cats):
        r = 2 + i
        ws[f"J{r}"] = cat
        ws[f"K{r}"] = f"=COUNTIF({rng_g},J{r})"
        ws[f"L{r}"] = f"=SUMIF({rng_g},J{r},{rng_b})"
        ws[f"M{r}"] = f"=SUMIF({rng_g},J{r},{rng_e})"
        ws[f"N{r}"] = f'=COUNTIFS({rng_g},J{r},{rng_f},"Reorder")'
    st = 2 + len(cats)
    ws[f"J{st}"] = "Total"
    for c in "KLMN":
        ws[f"{c}{st}"] = f"=SUM({c}2:{c}{st - 1})"
    total_style(ws, st, 10, 14)
    fmt(ws, f"M2:M{st}", MONEY)
    extra = [
        ("Items to reorder", f'=COUNTIF(F{first}:F{last},"Reorder")', "0"),
        ("Reorder cost", f"=SUMPRODUCT(H{first}:H{last},C{first}:C{last})", MONEY),
        ("Average unit cost", f"=ROUND(AVERAGE(C{first}:C{last}),2)", MONEY),
        (
            "Highest-value item",
            f"=INDEX(A{first}:A{last},MATCH(MAX(E{first}:E{last}),E{first}:E{last},0))",
            "General",
        ),
        ("Electronics share", f"=M2/M{st}", PCT),
    ]
    for i, (label, formula, nf) in enumerate(extra):
        r = st + 2 + i
        ws[f"J{r}"] = label
        ws[f"K{r}"] = formula
        ws[f"K{r}"].number_format = nf
    img = PngImage(logo_png(), 120, 48)
    ws.add_image(img, f"J{st + 9}")
    widths(
        ws,
        {
            "A": 22,
            "B": 11,
            "C": 10,
            "D": 13,
            "E": 12,
            "F": 9,
            "G": 12,
            "H": 10,
            "I": 3,
            "J": 18,
            "K": 12,
            "L": 8,
            "M": 12,
            "N": 9,
        },
    )
    ws.freeze_panes = "A2"
    return wb


# ---------------------------------------------------------------------------------------------------
# 5. loan_schedule.xlsx
# ---------------------------------------------------------------------------------------------------
def build_loan() -> Workbook:
    wb = new_workbook("Car loan amortization schedule")
    ws = wb.active
    ws.title = "Schedule"
    inputs = [
        ("Principal", 28500, MONEY),
        ("Annual interest rate", 0.069, "0.00%"),
        ("Term (years)", 5, "0"),
        ("First payment date", dt.date(2024, 2, 1), DATE),
        ("Monthly payment", "=ROUND(PMT(B2/12,B3*12,-B1),2)", MONEY),
        (None, None, None),
        ("Number of payments", "=B3*12", "0"),
        ("Total paid", "=SUM(F5:F64)", MONEY),
        ("Total interest", "=SUM(G5:G64)", MONEY),
        ("Interest share of payments", "=B9/B8", PCT),
        ("Payoff date", "=MAX(J5:J64)", DATE),
        ("Balance after 12 months", "=INDEX(I5:I64,12)", MONEY),
    ]
    for i, (label, value, nf) in enumerate(inputs):
        if label is None:
            continue
        ws.cell(1 + i, 1, label).font = BOLD if i < 5 else Font()
        c = ws.cell(1 + i, 2, value)
        c.number_format = nf
        if i < 4:
            c.fill = PatternFill("solid", fgColor="FFF2CC")  # input cells
    ws["D2"] = "Amortization Schedule"
    ws["D2"].font = TITLE
    # row 3 blank
    header(
        ws,
        4,
        4,
        [
            "Period",
            "Opening Balance",
            "Payment",
            "Interest",
            "Principal",
            "Closing Balance",
            "Payment Date",
            "Cumulative Interest",
        ],
    )
    first, last = 5, 64
    for r in range(first, last + 1):
        ws[f"D{r}"] = 1 if r == first else f"=D{r - 1}+1"
        ws[f"E{r}"] = "=$B$1" if r == first else f"=I{r - 1}"
        ws[f"F{r}"] = f"=IF(D{r}=$B$7,E{r}+G{r},MIN($B$5,E{r}+G{r}))"
        ws[f"G{r}"] = f"=ROUND(E{r}*$B$2/12,2)"
        ws[f"H{r}"] = f"=F{r}-G{r}"
        ws[f"I{r}"] = f"=ROUND(E{r}-H{r},2)"
        ws[f"J{r}"] = f"=EDATE($B$4,D{r}-1)"
        ws[f"K{r}"] = f"=G{r}" if r == first else f"=K{r - 1}+G{r}"
    fmt(ws, f"E{first}:I{last}", MONEY)
    fmt(ws, f"K{first}:K{last}", MONEY)
    fmt(ws, f"J{first}:J{last}", DATE)
    widths(
        ws, {"A": 26, "B": 13, "C": 3, "D": 8, "E": 15, "F": 11, "G": 10, "H": 11, "I": 15, "J": 13, "K": 18}
    )
    ws.freeze_panes = "E5"
    return wb


# ---------------------------------------------------------------------------------------------------
# 6. timesheet.xlsx
# ---------------------------------------------------------------------------------------------------
def build_timesheet() -> Workbook:
    wb = new_workbook("Biweekly timesheet")
    ws = wb.active
    ws.title = "Timesheet"
    ws["A1"] = "Biweekly Timesheet"
    ws["A1"].font = TITLE
    ws["A2"], ws["B2"] = "Employee", "Jordan Lee"
    ws["D2"], ws["E2"] = "Hourly rate", 31.50
    ws["E2"].number_format = MONEY
    # row 3 blank
    header(ws, 4, 1, ["Date", "Day", "Start", "End", "Break (h)", "Hours", "Notes"])
    T = dt.time
    weeks = [
        [
            (T(8, 30), T(17, 15), 0.5, ""),
            (T(8, 45), T(18, 30), 0.5, "Release prep"),
            (T(9, 0), T(17, 0), 1.0, ""),
            (T(8, 15), T(19, 45), 0.5, "Release day"),
            (T(9, 10), T(16, 40), 0.5, ""),
            (T(10, 0), T(14, 0), 0.0, "On-call"),
            None,
        ],
        [
            (T(8, 30), T(17, 0), 0.5, ""),
            (T(8, 30), T(17, 30), 0.5, ""),
            (T(9, 15), T(17, 45), 1.0, "Dentist at noon"),
            (T(8, 0), T(16, 30), 0.5, ""),
            (T(8, 30), T(15, 0), 0.5, "Left early"),
            None,
            None,
        ],
    ]
    r = 5
    totals: list[tuple[int, int]] = []
    prev_date_row: int | None = None
    for w, days in enumerate(weeks, start=1):
        start = r
        for day in days:
            if prev_date_row is None:
                ws[f"A{r}"] = dt.date(2024, 3, 4)
            else:
                ws[f"A{r}"] = f"=A{prev_date_row}+1"
            prev_date_row = r
            ws[f"B{r}"] = f'=TEXT(A{r},"ddd")'
            if day is not None:
                ws[f"C{r}"], ws[f"D{r}"], ws[f"E{r}"] = day[0], day[1], day[2]
                if day[3]:
                    ws[f"G{r}"] = day[3]
            ws[f"F{r}"] = f'=IF(D{r}="",0,ROUND((D{r}-C{r})*24-E{r},2))'
            r += 1
        end = r - 1
        ws[f"A{r}"] = f"Week {w} total"
        ws[f"F{r}"] = f"=SUM(F{start}:F{end})"
        ws[f"A{r + 1}"] = f"Week {w} overtime (>40h)"
        ws[f"F{r + 1}"] = f"=MAX(0,F{r}-40)"
        total_style(ws, r, 1, 7)
        totals.append((r, start))
        r += 3  # total row, overtime row, blank row; the next week's dates continue from `end`
    (t1, s1), (t2, s2) = totals
    fmt(ws, f"A5:A{t2 - 1}", DATE)
    fmt(ws, f"C5:D{t2 - 1}", TIME)
    fmt(ws, f"F5:F{t2 + 1}", "0.00")

    s = t2 + 3
    ws[f"A{s}"] = "Pay summary"
    ws[f"A{s}"].font = BOLD
    summary = [
        ("Pay period", f'=TEXT(A{s1},"mmm d")&" - "&TEXT(A{t2 - 1},"mmm d, yyyy")', "General"),
        ("Regular hours", f"=F{t1}-F{t1 + 1}+F{t2}-F{t2 + 1}", "0.00"),
        ("Overtime hours", f"=F{t1 + 1}+F{t2 + 1}", "0.00"),
        ("Regular pay", f"=ROUND(B{s + 2}*$E$2,2)", MONEY),
        ("Overtime pay", f"=ROUND(B{s + 3}*$E$2*1.5,2)", MONEY),
        ("Gross pay", f"=B{s + 4}+B{s + 5}", MONEY),
        ("Days worked", f'=COUNTIF(F{s1}:F{t1 - 1},">0")+COUNTIF(F{s2}:F{t2 - 1},">0")', "0"),
        ("Average hours per day", f"=ROUND((F{t1}+F{t2})/B{s + 7},2)", "0.00"),
        (
            "Longest day in week 1",
            f'=TEXT(INDEX(A{s1}:A{t1 - 1},MATCH(MAX(F{s1}:F{t1 - 1}),F{s1}:F{t1 - 1},0)),"dddd mmm d")',
            "General",
        ),
    ]
    for i, (label, formula, nf) in enumerate(summary):
        ws[f"A{s + 1 + i}"] = label
        ws[f"B{s + 1 + i}"] = formula
        ws[f"B{s + 1 + i}"].number_format = nf
    total_style(ws, s + 6, 1, 2)
    widths(ws, {"A": 24, "B": 22, "C": 10, "D": 10, "E": 9, "F": 8, "G": 18})
    return wb


# ---------------------------------------------------------------------------------------------------
# 7. kpi_dashboard.xlsx
# ---------------------------------------------------------------------------------------------------
def build_kpi() -> Workbook:
    wb = new_workbook("Sales KPI dashboard H1 2024")
    dash = wb.active
    dash.title = "Dashboard"
    data = wb.create_sheet("Data")
    tgt = wb.create_sheet("Regional Targets")

    # --- Data: 149 orders in rows 2..150
    header(
        data, 1, 1, ["Order ID", "Order Date", "Revenue", "Cost", "Region", "Sales Rep", "Units", "Margin"]
    )
    rng = _Rng(7)
    regions = ["North", "South", "East", "West", "Online"]
    reps = ["A. Chen", "B. Osei", "C. Larsen", "D. Moreau", "E. Silva", "F. Haddad"]
    n_last = 150
    day0 = dt.date(2024, 1, 2)
    for i, r in enumerate(range(2, n_last + 1)):
        units = rng.randint(1, 60)
        price = round(rng.uniform(18, 140), 2)
        revenue = round(units * price, 2)
        data.cell(r, 1, 1001 + i)
        data.cell(r, 2, day0 + dt.timedelta(days=(i * 181) // 149))
        data.cell(r, 3, revenue)
        data.cell(r, 4, round(revenue * rng.uniform(0.52, 0.78), 2))
        data.cell(r, 5, rng.choice(regions))
        data.cell(r, 6, rng.choice(reps))
        data.cell(r, 7, units)
        data[f"H{r}"] = f"=C{r}-D{r}"
    fmt(data, f"B2:B{n_last}", DATE)
    fmt(data, f"C2:D{n_last}", MONEY)
    fmt(data, f"H2:H{n_last}", MONEY)
    widths(data, {"A": 9, "B": 11, "C": 11, "D": 11, "E": 9, "F": 11, "G": 7, "H": 11})
    data.freeze_panes = "A2"

    # --- Regional Targets (no target for Online -> IFERROR paths)
    header(tgt, 1, 1, ["Region", "H1 Target", "Manager"])
    for i, (reg, target, mgr) in enumerate(
        [
            ("North", 95000, "R. Alvarez"),
            ("South", 80000, "S. Iyer"),
            ("East", 90000, "T. Novak"),
            ("West", 85000, "U. Park"),
        ]
    ):
        tgt.cell(2 + i, 1, reg)
        tgt.cell(2 + i, 2, target).number_format = MONEY0
        tgt.cell(2 + i, 3, mgr)
    tgt["A6"] = "Total"
    tgt["B6"] = "=SUM(B2:B5)"
    tgt["B6"].number_format = MONEY0
    total_style(tgt, 6, 1, 3)
    widths(tgt, {"A": 10, "B": 12, "C": 12})

    # --- Dashboard
    d = dash
    d["A1"] = "Sales KPI Dashboard - H1 2024"
    d["A1"].font = TITLE
    d["A2"] = "Source: Data sheet (149 orders); targets from Regional Targets"
    # row 3 blank
    header(d, 4, 1, ["KPI", "Value"])
    rngC, rngE, rngB, rngA = (f"Data!${c}$2:${c}${n_last}" for c in "CEBA")
    kpis = [
        ("Total revenue", f"=SUM(Data!C2:C{n_last})", MONEY),
        ("Total cost", f"=SUM(Data!D2:D{n_last})", MONEY),
        ("Gross margin", "=B5-B6", MONEY),
        ("Margin %", "=IFERROR(B7/B5,0)", PCT),
        ("Orders", f"=COUNT(Data!C2:C{n_last})", "0"),
        ("Average order value", f"=AVERAGE(Data!C2:C{n_last})", MONEY),
        ("Largest order", f"=MAX(Data!C2:C{n_last})", MONEY),
        ("Units sold", f"=SUM(Data!G2:G{n_last})", MONEY0),
        ("Revenue vs target", "=IFERROR(B5/'Regional Targets'!B6-1,0)", PCT),
    ]
    for i, (label, formula, nf) in enumerate(kpis):
        d.cell(5 + i, 1, label)
        d.cell(5 + i, 2, formula).number_format = nf

    h = 15
    header(d, h, 1, ["Region", "Revenue", "Target", "Attainment", "Orders", "Avg Order", "Share"])
    for i, reg in enumerate(regions):
        r = h + 1 + i
        d[f"A{r}"] = reg
        d[f"B{r}"] = f"=SUMIF({rngE},A{r},{rngC})"
        d[f"C{r}"] = (
            f"=IFERROR(INDEX('Regional Targets'!$B$2:$B$5,MATCH(A{r},'Regional Targets'!$A$2:$A$5,0)),0)"
        )
        d[f"D{r}"] = f'=IFERROR(B{r}/C{r},"no target")'
        d[f"E{r}"] = f"=COUNTIF({rngE},A{r})"
        d[f"F{r}"] = f"=IFERROR(B{r}/E{r},0)"
        d[f"G{r}"] = f"=B{r}/$B$5"
    rt = h + 1 + len(regions)
    d[f"A{rt}"] = "Total"
    for c in "BCEG":
        d[f"{c}{rt}"] = f"=SUM({c}{h + 1}:{c}{rt - 1})"
    d[f"D{rt}"] = f'=IFERROR(SUMIF(C{h + 1}:C{rt - 1},">0",B{h + 1}:B{rt - 1})/C{rt},0)'
    total_style(d, rt, 1, 7)
    fmt(d, f"B{h + 1}:C{rt}", MONEY0)
    fmt(d, f"D{h + 1}:D{rt}", PCT)
    fmt(d, f"F{h + 1}:F{rt}", MONEY)
    fmt(d, f"G{h + 1}:G{rt}", PCT)

    m = rt + 2
    header(d, m, 1, ["Month", "Revenue", "Orders", "MoM Change", "Cumulative"])
    for i in range(6):
        r = m + 1 + i
        d[f"A{r}"] = dt.date(2024, 1 + i, 1)
        d[f"A{r}"].number_format = "mmm yyyy"
        d[f"B{r}"] = f'=SUMIFS({rngC},{rngB},">="&A{r},{rngB},"<"&EDATE(A{r},1))'
        d[f"C{r}"] = f'=COUNTIFS({rngB},">="&A{r},{rngB},"<"&EDATE(A{r},1))'
        if i:
            d[f"D{r}"] = f"=IFERROR(B{r}/B{r - 1}-1,0)"
        d[f"E{r}"] = f"=SUM(B${m + 1}:B{r})"
    fmt(d, f"B{m + 1}:B{m + 6}", MONEY0)
    fmt(d, f"D{m + 1}:D{m + 6}", PCT)
    fmt(d, f"E{m + 1}:E{m + 6}", MONEY0)

    q = m + 8
    d[f"A{q}"] = "Order lookup"
    d[f"A{q}"].font = BOLD
    d[f"A{q + 1}"], d[f"B{q + 1}"] = "Order ID", 1057
    d[f"B{q + 1}"].fill = PatternFill("solid", fgColor="FFF2CC")
    look = [
        ("Revenue", f'=IFERROR(INDEX({rngC},MATCH($B${q + 1},{rngA},0)),"Not found")', MONEY),
        ("Region", f'=IFERROR(INDEX({rngE},MATCH($B${q + 1},{rngA},0)),"Not found")', "General"),
        ("Sales rep", f'=IFERROR(VLOOKUP($B${q + 1},Data!$A$2:$G${n_last},6,FALSE),"Not found")', "General"),
        (
            "Order date",
            f'=IFERROR(TEXT(INDEX({rngB},MATCH($B${q + 1},{rngA},0)),"yyyy-mm-dd"),"Not found")',
            "General",
        ),
        ("Unknown order 9999", f'=IFERROR(INDEX({rngC},MATCH(9999,{rngA},0)),"Not found")', "General"),
    ]
    for i, (label, formula, nf) in enumerate(look):
        d[f"A{q + 2 + i}"] = label
        d[f"B{q + 2 + i}"] = formula
        d[f"B{q + 2 + i}"].number_format = nf
    widths(d, {"A": 22, "B": 14, "C": 11, "D": 12, "E": 11, "F": 11, "G": 8})
    return wb


BUILDERS: dict[str, Callable[[], Workbook]] = {
    "budget.xlsx": build_budget,
    "sales.xlsx": build_sales,
    "gradebook.xlsx": build_gradebook,
    "inventory.xlsx": build_inventory,
    "loan_schedule.xlsx": build_loan,
    "timesheet.xlsx": build_timesheet,
    "kpi_dashboard.xlsx": build_kpi,
}

# ---------------------------------------------------------------------------------------------------
# recalculation with LibreOffice and injection of cached values
# ---------------------------------------------------------------------------------------------------
LO_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>en-US</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse"><value>en-US</value></prop></item>
</oor:items>
"""

Cached = tuple[str, str]  # (t attribute or "" for numbers, text of <v>)


def recalc_with_libreoffice(soffice: str, files: list[Path], workdir: Path) -> dict[str, Path]:
    profile = workdir / "lo_profile"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(LO_PROFILE, encoding="utf-8")
    outdir = workdir / "recalculated"
    outdir.mkdir()
    env = {**os.environ, "LANG": "en_US.UTF-8", "LC_ALL": "C.UTF-8", "HOME": str(workdir)}
    cmd = [
        soffice,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--nolockcheck",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(outdir),
        *map(str, files),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, check=False)
    result = {f.name: outdir / f.name for f in files}
    missing = [n for n, p in result.items() if not p.exists()]
    if proc.returncode != 0 or missing:
        raise SystemExit(
            f"LibreOffice recalculation failed (rc={proc.returncode}, missing={missing}):\n"
            f"{proc.stdout}\n{proc.stderr}"
        )
    return result


def _number_text(value: float) -> str:
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    return repr(float(value))


def cached_values(original: Path, recalculated: Path) -> dict[str, dict[str, Cached]]:
    """For every formula cell of ``original``: the (type, text) LibreOffice computed for it."""
    formulas = load_workbook(original)
    values = load_workbook(recalculated, data_only=True)
    out: dict[str, dict[str, Cached]] = {}
    problems = []
    for ws in formulas.worksheets:
        vws = values[ws.title]
        sheet: dict[str, Cached] = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type != "f":
                    continue
                v = vws[cell.coordinate]
                val = v.value
                if val is None or v.data_type == "e" or (isinstance(val, str) and val.startswith("#")):
                    problems.append(f"{ws.title}!{cell.coordinate} {cell.value} -> {val!r}")
                    continue
                if isinstance(val, bool):
                    sheet[cell.coordinate] = ("b", "1" if val else "0")
                elif isinstance(val, (int, float)):
                    sheet[cell.coordinate] = ("", _number_text(val))
                elif isinstance(val, (dt.datetime, dt.date, dt.time, dt.timedelta)):
                    sheet[cell.coordinate] = ("", _number_text(to_excel(val)))
                else:
                    sheet[cell.coordinate] = ("str", str(val))
        out[ws.title] = sheet
    if problems:
        raise SystemExit(
            f"{original.name}: formula cells without a usable value:\n  " + "\n  ".join(problems)
        )
    return out


CELL_RE = re.compile(
    r'<c r="(?P<ref>[A-Z]+[0-9]+)"(?P<attrs>[^>]*?)>(?P<f><f(?:\s[^>]*)?>[^<]*</f>)'
    r"(?:<v\s*/>|<v></v>)?</c>"
)


def inject(src: Path, dst: Path, values: dict[str, dict[str, Cached]]) -> int:
    """Copy ``src`` to ``dst`` adding cached ``<v>`` values; fixed zip timestamps. Returns #injected."""
    injected = 0
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        by_part = {part: values[name] for name, part in sheet_parts(zin)[1].items()}
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename in by_part:
                sheet_values = by_part[info.filename]
                seen: set[str] = set()

                def repl(
                    m: re.Match[str], sheet_values: dict[str, Cached] = sheet_values, seen: set[str] = seen
                ) -> str:
                    ref = m.group("ref")
                    kind, text = sheet_values[ref]
                    seen.add(ref)
                    t_attr = f' t="{kind}"' if kind else ""
                    return f'<c r="{ref}"{m.group("attrs")}{t_attr}>{m.group("f")}<v>{escape(text)}</v></c>'

                xml = CELL_RE.sub(repl, data.decode("utf-8"))
                if seen != set(sheet_values):
                    raise SystemExit(
                        f"{src.name}/{info.filename}: could not place cached values for "
                        f"{sorted(set(sheet_values) - seen)}"
                    )
                injected += len(seen)
                data = xml.encode("utf-8")
            elif info.filename == "docProps/core.xml":
                stamp = FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data
                )
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zout.writestr(zi, data)
    return injected


# ---------------------------------------------------------------------------------------------------
# verification
# ---------------------------------------------------------------------------------------------------
def _close(a: float, b: float, tol: float = 0.005) -> bool:
    return abs(a - b) <= tol


def independent_checks(name: str, v: Workbook) -> list[str]:
    """Re-compute a few results in Python and compare them with the cached values."""
    bad: list[str] = []

    def check(ok: bool, what: str) -> None:
        if not ok:
            bad.append(what)

    if name == "budget.xlsx":
        ws = v["Budget"]
        for r in range(5, 15):
            check(_close(ws[f"D{r}"].value, ws[f"C{r}"].value - ws[f"B{r}"].value), f"D{r}")
            check(_close(ws[f"G{r}"].value, round(ws[f"B{r}"].value * 1.032, -1)), f"G{r}")
        check(_close(ws["B15"].value, sum(ws[f"B{r}"].value for r in range(5, 15))), "B15")
        check(_close(ws["C17"].value, round(ws["C15"].value * 0.0825, 2)), "C17 (TaxRate)")
        var = {ws[f"A{r}"].value: ws[f"C{r}"].value - ws[f"B{r}"].value for r in range(5, 15)}
        check(ws["B22"].value == max(var, key=lambda k: var[k]), "B22 largest overspend (INDEX/MATCH)")
    elif name == "sales.xlsx":
        ws = v["Regional Sales"]
        for r in range(4, 10):
            check(ws[f"N{r}"].value == sum(ws.cell(r, c).value for c in range(2, 14)), f"N{r}")
        check(_close(ws["O10"].value, 1.0, 1e-9), "O10 shares sum to 1")
        o = v["Orders"]
        rev = [o[f"E{r}"].value * o[f"F{r}"].value for r in range(2, 22)]
        check(all(_close(o[f"G{r}"].value, x) for r, x in zip(range(2, 22), rev, strict=True)), "Revenue col")
        check(_close(o["J2"].value, sum(rev)), "J2 SUM(SalesTable[Revenue])")
        north = sum(x for r, x in zip(range(2, 22), rev, strict=True) if o[f"C{r}"].value == "North")
        check(_close(o["J6"].value, north), "J6 SUMIF North")
    elif name == "gradebook.xlsx":
        ws = v["Grades"]
        for r in range(4, 16):
            avg = round(sum(ws.cell(r, c).value for c in range(3, 9)) / 6 + 1e-9, 1)
            check(_close(ws[f"I{r}"].value, avg, 0.051), f"I{r}")
            avg = ws[f"I{r}"].value
            letter = (
                "A" if avg >= 90 else "B" if avg >= 80 else "C" if avg >= 70 else "D" if avg >= 60 else "F"
            )
            check(ws[f"J{r}"].value == letter, f"J{r} VLOOKUP")
        check(v["Grade Scale"]["C7"].value == 12, "grade counts")
    elif name == "inventory.xlsx":
        ws = v["Inventory"]
        total = sum(ws[f"B{r}"].value * ws[f"C{r}"].value for r in range(2, 22))
        check(_close(ws["E23"].value, total), "E23")
        check(_close(ws["M6"].value, total), "M6 SUMIF total")
        reorder = sum(ws[f"B{r}"].value < ws[f"D{r}"].value for r in range(2, 22))
        check(ws["K8"].value == reorder, "K8 reorder count")
    elif name == "loan_schedule.xlsx":
        ws = v["Schedule"]
        i = 0.069 / 12
        pmt = round(28500 * i / (1 - (1 + i) ** -60), 2)
        check(_close(ws["B5"].value, pmt), "B5 PMT")
        check(_close(ws["I64"].value, 0.0, 1e-6), "I64 final balance 0")
        check(_close(sum(ws[f"H{r}"].value for r in range(5, 65)), 28500), "principal sums to loan")
        check(ws["J64"].value == dt.datetime(2029, 1, 1), "J64 EDATE")
    elif name == "timesheet.xlsx":
        ws = v["Timesheet"]
        check(ws["B5"].value == "Mon" and ws["B11"].value == "Sun", "TEXT ddd")
        wk1 = (8.75 - 0.5) + (9.75 - 0.5) + (8 - 1) + (11.5 - 0.5) + (7.5 - 0.5) + 4
        check(_close(ws["F12"].value, wk1), "F12 week total")
        check(_close(ws["F13"].value, max(0, wk1 - 40)), "F13 overtime")
        check(ws["B34"].value == "Thursday Mar 7", "B34 longest day")
    elif name == "kpi_dashboard.xlsx":
        d, data = v["Dashboard"], v["Data"]
        rev = [data[f"C{r}"].value for r in range(2, 151)]
        check(_close(d["B5"].value, sum(rev)), "B5 SUM(Data!C2:C150)")
        check(_close(d["B21"].value, sum(rev)), "B21 regional SUMIF total")
        check(d["D20"].value == "no target", "D20 IFERROR")
        check(_close(d["E29"].value, sum(rev)), "E29 cumulative monthly SUMIFS")
        check(d["B37"].value == "Not found", "B37 IFERROR lookup")
        check(_close(d["B33"].value, data["C58"].value), "B33 INDEX/MATCH order 1057")
    return bad


def verify(path: Path, formula_count: int) -> dict[str, object]:
    wb = load_workbook(path)
    vals = load_workbook(path, data_only=True)
    n = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    n += 1
                    val = vals[ws.title][cell.coordinate].value
                    if val is None or (isinstance(val, str) and val.startswith("#")):
                        raise SystemExit(f"{path.name}: {ws.title}!{cell.coordinate} has no cached value")
    if n != formula_count:
        raise SystemExit(f"{path.name}: {n} formulas after injection, expected {formula_count}")
    features: dict[str, object] = {"formulas": n, "sheets": wb.sheetnames}
    names = list(wb.defined_names)
    if names:
        features["defined_names"] = {k: wb.defined_names[k].attr_text for k in names}
    tables = {t.name: t.ref for ws in wb.worksheets for t in ws.tables.values()}
    if tables:
        features["tables"] = tables
    charts = sum(len(ws._charts) for ws in wb.worksheets)
    with zipfile.ZipFile(path) as zf:
        chart_parts = [n for n in zf.namelist() if n.startswith("xl/charts/chart")]
        media = [n for n in zf.namelist() if n.startswith("xl/media/")]
    if chart_parts:
        features["charts"] = chart_parts  # openpyxl does not read charts back; check the parts
    if charts:
        features["charts_loaded"] = charts
    images = sum(len(ws._images) for ws in wb.worksheets)  # needs Pillow to be loaded
    if media:
        features["media"] = media
        features["images_loaded"] = images
    comments = [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.comment
    ]
    if comments:
        features["comments"] = comments
    dvs = [
        f"{ws.title}!{dv.sqref} ({dv.type})"
        for ws in wb.worksheets
        for dv in ws.data_validations.dataValidation
    ]
    if dvs:
        features["data_validations"] = dvs
    bad = independent_checks(path.name, vals)
    if bad:
        raise SystemExit(f"{path.name}: cached values disagree with Python re-computation: {bad}")
    return features


EXPECTED_FEATURES = {
    "budget.xlsx": ["defined_names"],
    "sales.xlsx": ["tables", "charts"],
    "gradebook.xlsx": ["comments", "data_validations"],
    "inventory.xlsx": ["media"],
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--outdir", type=Path, default=ROOT / "sample_sheets")
    ap.add_argument("--soffice", default=shutil.which("soffice") or shutil.which("libreoffice"))
    args = ap.parse_args(argv)
    if not args.soffice:
        raise SystemExit("LibreOffice (soffice) not found: apt-get install -y libreoffice-calc-nogui")
    args.outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sample_sheets_") as tmp:
        work = Path(tmp)
        raw_dir = work / "openpyxl"
        raw_dir.mkdir()
        raw_files = []
        for name, build in BUILDERS.items():
            path = raw_dir / name
            build().save(path)
            raw_files.append(path)
        recalculated = recalc_with_libreoffice(args.soffice, raw_files, work)
        for path in raw_files:
            values = cached_values(path, recalculated[path.name])
            dst = args.outdir / path.name
            count = inject(path, dst, values)
            features = verify(dst, count)
            missing = [k for k in EXPECTED_FEATURES.get(path.name, []) if not features.get(k)]
            if missing:
                raise SystemExit(f"{path.name}: missing features {missing}")
            if path.name == "inventory.xlsx" and not features["images_loaded"]:
                sys.stderr.write(
                    "note: Pillow not installed, openpyxl cannot load the image back "
                    "(the PNG part is present)\n"
                )
            size = dst.stat().st_size
            if size >= 100_000:
                raise SystemExit(f"{dst.name} is {size} bytes (limit 100 KB)")
            sys.stdout.write(
                f"{dst.relative_to(ROOT) if dst.is_relative_to(ROOT) else dst}: {size} bytes, {features}\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
