"""Tests of the synthetic workbook generator (spreadsheetcoder.data.synthetic)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.formula.tokenizer import Token, Tokenizer
from openpyxl.formula.translate import Translator
from openpyxl.utils.datetime import to_excel
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from spreadsheetcoder.data.synthetic import (
    CORPUS_FUNCTIONS,
    KINDS,
    NOT_GENERATED,
    generate_workbook,
    synthesize,
    xlsx_bytes,
)
from spreadsheetcoder.data.synthetic.book import BookData, a1
from spreadsheetcoder.data.synthetic.expr import lift
from spreadsheetcoder.data.synthetic.functions import call
from spreadsheetcoder.data.synthetic.values import NA, XlError, matches_criterion, number_text, serial

HAS_ENGINES = importlib.util.find_spec("formulas") is not None and importlib.util.find_spec("pycel") is not None
# Kinds whose workbooks the `formulas` engine evaluates in about a second (for the quick agreement test).
QUICK_KINDS = ["income_statement", "budget_vs_actual", "price_lookup", "orders_table", "timesheet", "utility_sheet"]


def _formula_text(value: object) -> str | None:
    if isinstance(value, DataTableFormula):
        return f"=TABLE(,{value.r1})"
    text = value.text if isinstance(value, ArrayFormula) else value
    return text if isinstance(text, str) and text.startswith("=") else None


def _functions(formula: str) -> set[str]:
    names = set()
    for tok in Tokenizer(formula).items:
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            name = tok.value[:-1].upper()
            for prefix in ("_XLFN._XLWS.", "_XLFN."):
                name = name.removeprefix(prefix)
            names.add(name)
    return names


@pytest.fixture(scope="module")
def kind_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[BookData, Path]]]:
    """Three workbooks of every kind, written to disk."""
    out = tmp_path_factory.mktemp("kinds")
    books: dict[str, list[tuple[BookData, Path]]] = {}
    for kind in KINDS:
        for i in range(3):
            book, _, shared = generate_workbook(11, i * 100 + len(books), [kind])
            path = out / f"{kind}_{i}.xlsx"
            path.write_bytes(xlsx_bytes(book, shared_formulas=shared))
            books.setdefault(kind, []).append((book, path))
    return books


# -- determinism ------------------------------------------------------------------------------------
def test_same_seed_same_bytes() -> None:
    first = [xlsx_bytes(generate_workbook(5, i)[0]) for i in range(4)]
    second = [xlsx_bytes(generate_workbook(5, i)[0]) for i in range(4)]
    assert first == second
    assert xlsx_bytes(generate_workbook(6, 0)[0]) != first[0]


def test_workers_do_not_change_files(tmp_path: Path) -> None:
    one = synthesize(6, tmp_path / "one", seed=3, workers=1, progress=False)
    two = synthesize(6, tmp_path / "two", seed=3, workers=2, progress=False)
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == [f"synth_3_{i:06d}.xlsx" for i in range(6)]
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
    assert one.workbooks == two.workbooks == 6
    assert one.formula_cells == two.formula_cells > 0


def test_synthesize_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="n >= 0"):
        synthesize(-1, tmp_path, seed=0)
    with pytest.raises(ValueError, match="workers >= 1"):
        synthesize(1, tmp_path, seed=0, workers=0)


# -- files ------------------------------------------------------------------------------------------
def _cached(value: object) -> object:
    if isinstance(value, dt.datetime):
        return float(to_excel(value))
    return value


def test_every_kind_opens_with_formulas_and_values(kind_books: dict[str, list[tuple[BookData, Path]]]) -> None:
    for kind, items in kind_books.items():
        formulas = 0
        for book, path in items:
            wb_f = load_workbook(path)
            wb_v = load_workbook(path, data_only=True)
            assert wb_f.sheetnames == [s.name for s in book.sheets]
            for sheet in book.sheets:
                ws_f, ws_v = wb_f[sheet.name], wb_v[sheet.name]
                for (r, c), cell in sheet.cells.items():
                    if cell.formula is None:
                        continue
                    formulas += 1
                    text = _formula_text(ws_f.cell(r, c).value)
                    assert text == "=" + cell.formula, (kind, sheet.name, a1(r, c))
                    got = _cached(ws_v.cell(r, c).value)
                    want = cell.value.code if isinstance(cell.value, XlError) else cell.value
                    if isinstance(want, float) and not isinstance(want, bool):
                        assert isinstance(got, (int, float)) and got == pytest.approx(want, rel=1e-12, abs=1e-12)
                    else:
                        assert got == want or (want == "" and got is None), (kind, sheet.name, a1(r, c), got, want)
        assert formulas > 0, kind


def test_cached_value_element_for_every_formula(kind_books: dict[str, list[tuple[BookData, Path]]]) -> None:
    for items in kind_books.values():
        for _, path in items:
            with zipfile.ZipFile(path) as zf:
                for name in zf.namelist():
                    if name.startswith("xl/worksheets/sheet"):
                        xml = zf.read(name).decode()
                        assert xml.count("<f") <= xml.count("<v>")


def test_fill_groups_hold_one_relative_formula(kind_books: dict[str, list[tuple[BookData, Path]]]) -> None:
    for items in kind_books.values():
        for book, _ in items:
            for sheet in book.sheets:
                masters: dict[int, tuple[str, str]] = {}
                for (r, c), cell in sorted(sheet.cells.items()):
                    if cell.group is None or cell.formula is None:
                        continue
                    here = a1(r, c)
                    if cell.group not in masters:
                        masters[cell.group] = ("=" + cell.formula, here)
                        continue
                    text, origin = masters[cell.group]
                    assert Translator(text, origin).translate_formula(here) == "=" + cell.formula, (sheet.name, here)


def test_tables_and_defined_names_are_written(kind_books: dict[str, list[tuple[BookData, Path]]]) -> None:
    book, path = kind_books["orders_table"][0]
    wb = load_workbook(path)
    tables = [t for ws in wb.worksheets for t in ws.tables.values()]
    assert tables and tables[0].displayName == book.sheets[0].tables[0].name
    assert any("[[#This Row]," in (c.formula or "") for c in book.sheets[0].cells.values())
    named = [b for items in kind_books.values() for b, _ in items if b.names]
    assert named, "some workbook defines names"
    wb = load_workbook(next(p for items in kind_books.values() for b, p in items if b.names))
    assert len(wb.defined_names) > 0


# -- values -----------------------------------------------------------------------------------------
def test_value_semantics() -> None:
    assert number_text(0.1 + 0.2) == "0.3"
    assert number_text(1e20) == "1E+20"
    assert matches_criterion("east", "East") and matches_criterion(12.0, ">=10")
    assert not matches_criterion("12", ">=10") and matches_criterion(None, "")
    assert matches_criterion("Northwest", "North*") and matches_criterion(5.0, "<>East")
    assert call("ROUND", 2.675, 2).value == 2.68
    assert call("DATE", 2024, 14, 0).value == serial(dt.date(2025, 1, 31))
    ws = BookData().add_sheet("Data Sheet")
    for r, (key, value) in enumerate([("a", 1.0), ("B", 2.0)], start=1):
        ws.put(r, 1, key)
        ws.put(r, 2, value)
    table = ws.rng(1, 1, 2, 2, True, True, sheet=True)
    assert table.text == "'Data Sheet'!$A$1:$B$2"
    assert call("VLOOKUP", "b", table, 2, False).value == 2.0
    assert call("MATCH", "zz", ws.rng(1, 1, 2, 1), 0).value == NA
    assert call("SUMIF", ws.rng(1, 1, 2, 1), "<>a", ws.rng(1, 2, 2, 2)).value == 2.0
    assert call("IFERROR", lift(1) / 0, "x").value == "x"
    assert (lift("a").cat(lift(2.5))).value == "a2.5"
    assert (lift(1) + lift(2) * 3).text == "1+2*3" and ((lift(1) + 2) * 3).text == "(1+2)*3"


def test_kinds_coverage_in_random_books(tmp_path: Path) -> None:
    summary = synthesize(60, tmp_path, seed=2024, workers=2, progress=False)
    assert set(summary.kinds) == set(KINDS)
    assert 20 <= summary.distinct_estimate / summary.workbooks <= 120


def test_function_coverage(kind_books: dict[str, list[tuple[BookData, Path]]]) -> None:
    seen: set[str] = set()
    groups = [["science_sheet"], ["utility_sheet"], ["staff_list", "project_tracker"], ["depreciation"],
              ["loan_schedule", "price_lookup", "inventory"]]
    for i in range(40):
        for kinds in groups:
            book, _, _ = generate_workbook(77, i, kinds)
            for sheet in book.sheets:
                for cell in sheet.cells.values():
                    if cell.formula:
                        seen |= _functions("=" + cell.formula)
    for items in kind_books.values():
        for book, _ in items:
            for sheet in book.sheets:
                for cell in sheet.cells.values():
                    if cell.formula:
                        seen |= _functions("=" + cell.formula)
    expected = set(CORPUS_FUNCTIONS) - set(NOT_GENERATED)
    assert expected - seen == set()


def test_header_and_layout_variety() -> None:
    headers: Counter[str] = Counter()
    not_a1 = merged = non_ascii = 0
    for i in range(60):
        book, _, _ = generate_workbook(9, i)
        for sheet in book.sheets:
            bold = [c.value for c in sheet.cells.values() if c.style[1] and isinstance(c.value, str)]
            headers.update(bold)
            non_ascii += any(not str(h).isascii() for h in bold)
            merged += bool(sheet.merges)
            top_left = min(sheet.cells) if sheet.cells else (1, 1)
            not_a1 += top_left != (1, 1)
    qty_like = {h for h in headers if h.lower().startswith(("qty", "quantity", "menge", "cantidad", "quantit", "数量"))}
    assert len(headers) > 300 and len(qty_like) >= 3
    assert non_ascii > 0 and merged > 0 and not_a1 > 10


# -- agreement with independent engines -------------------------------------------------------------
@pytest.mark.skipif(not HAS_ENGINES, reason="needs the formulas and pycel packages")
def test_values_agree_with_formula_engine(kind_books: dict[str, list[tuple[BookData, Path]]],
                                         soffice: str | None) -> None:
    from spreadsheetcoder.data.synthetic.check import CheckReport, check_workbook

    total = CheckReport()
    for kind in QUICK_KINDS:
        total.merge(check_workbook(kind_books[kind][0][1]))
    assert total.cells > 100
    assert total.rate >= 0.999, total.mismatches[:5]
    assert soffice is not None or total.without_libreoffice <= 0.01 * total.cells  # without it: a few, never many


@pytest.mark.slow
@pytest.mark.skipif(not HAS_ENGINES, reason="needs the formulas and pycel packages")
def test_values_agree_on_random_books(tmp_path: Path, soffice: str | None) -> None:
    from spreadsheetcoder.data.synthetic.check import CheckReport, check_workbook

    synthesize(30, tmp_path, seed=99, workers=2, progress=False)
    total = CheckReport()
    for path in sorted(tmp_path.glob("*.xlsx")):
        total.merge(check_workbook(path))
    assert total.rate >= 0.999, total.mismatches[:5]
    assert soffice is not None or total.without_libreoffice <= 0.01 * total.cells  # without it: a few, never many


def test_cells_only_libreoffice_settles_are_unverifiable_without_it(tmp_path: Path) -> None:
    """As on a machine without LibreOffice: INDIRECT and OFFSET across sheets, which the Python engines
    get wrong, are counted as unverifiable, never as mismatches."""
    from spreadsheetcoder.data.synthetic.check import check_workbook

    synthesize(4, tmp_path, seed=99, workers=1, progress=False)
    reports = [check_workbook(path, use_libreoffice=False) for path in sorted(tmp_path.glob("*.xlsx"))]
    assert sum(r.without_libreoffice for r in reports) > 0  # these books hold such cells
    assert all(not r.mismatches for r in reports), [r.mismatches[:3] for r in reports]


def test_cli_synth_then_extract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json as _json

    from spreadsheetcoder.cli import main

    assert main(["synth", "-n", "3", "-o", str(tmp_path / "books"), "--seed", "5", "--workers", "1", "--json",
                 "--no-progress"]) == 0
    summary = _json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["workbooks"] == 3 and summary["formula_cells"] > 0
    assert main(["extract", str(tmp_path / "books"), "-o", str(tmp_path / "s.jsonl"), "--workers", "1", "--json",
                 "--no-progress"]) == 0
    stats = _json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert stats["workbooks_ok"] == 3 and stats["targets"] > 10 and stats["roundtrip_exact"] == 1.0
