"""``predict`` and ``fill`` with the model shipped in the package, on real workbooks."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from spreadsheetcoder.cli import main
from spreadsheetcoder.fill import (
    CellSpecError,
    check_fill_paths,
    display_formula,
    fill_bytes,
    prediction_records,
    propose_cells,
    resolve_cells,
)
from spreadsheetcoder.formula import parse_formula
from spreadsheetcoder.model.shipped import SHIPPED_DIR, model_card, resolve_model_dir
from spreadsheetcoder.suggest.predictor import FormulaPredictor
from spreadsheetcoder.suggest.types import Candidate
from spreadsheetcoder.xlsx.reader import read_workbook
from spreadsheetcoder.xlsx.writer import WriteError, changed_outside
from tests.support.badfiles import xlsx_bytes
from tests.support.paths import SAMPLES

DEMOS = SAMPLES / "fill"
EXPECTED = json.loads((DEMOS / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def predictor() -> FormulaPredictor:
    return FormulaPredictor(resolve_model_dir(), beam=5)


def test_shipped_model_is_in_the_package_and_small() -> None:
    weights = SHIPPED_DIR / "model.safetensors"
    assert weights.is_file() and weights.stat().st_size < 50 * 1024 * 1024
    assert resolve_model_dir() == SHIPPED_DIR
    card = model_card()
    assert card["context"] in ("values", "formulas") and card["dev"]["formula_top1"] >= 0


def test_model_env_and_missing_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPREADSHEETCODER_MODEL", str(tmp_path))
    with pytest.raises(Exception, match="holds no checkpoint"):
        resolve_model_dir()
    assert resolve_model_dir(SHIPPED_DIR) == SHIPPED_DIR


def test_display_formula_drops_file_prefixes_outside_strings() -> None:
    assert display_formula('=_xlfn.XLOOKUP(A1,B:B,C:C)&"_xlfn.x"') == '=XLOOKUP(A1,B:B,C:C)&"_xlfn.x"'
    assert display_formula("=_xlfn._xlws.FILTER(A1:A9,B1:B9>0)") == "=FILTER(A1:A9,B1:B9>0)"


def test_resolve_cells_orders_and_errors() -> None:
    book = read_workbook(DEMOS / "budget.xlsx")
    cells = resolve_cells(book, "Budget!D15:E15,assumptions!B2,D15,Budget!D15")
    assert [(s.name, r, c) for s, r, c in cells] == [("Budget", 15, 4), ("Budget", 15, 5), ("Assumptions", 2, 2)]
    with pytest.raises(CellSpecError, match="no worksheet named 'Nope'"):
        resolve_cells(book, "Nope!A1")
    with pytest.raises(CellSpecError, match="not a cell or an area"):
        resolve_cells(book, "Budget!XYZ")


def test_prediction_records_name_the_cells_and_shape_the_candidates() -> None:
    book = read_workbook(DEMOS / "budget.xlsx")
    cells = resolve_cells(book, "Budget!B5,Budget!D5,Budget!H40,'Assumptions'!B2")
    found = [[Candidate("=_xlfn.XLOOKUP(A5,A:A,B:B)", -0.12345678, 0.87654321, "model")],
             [], [Candidate("=SUM(D1:D4)", -1.0, 0.5, "run"), Candidate("=D4", -2.0, 0.25, "copy")], []]
    records = prediction_records(cells, found)
    assert [r["cell"] for r in records] == ["Budget!B5", "Budget!D5", "Budget!H40", "Assumptions!B2"]
    assert [r["holds"] for r in records] == [42000, "=C5-B5", None, 0.032]  # a formula, else the value
    assert records[0]["candidates"] == [{"formula": "=XLOOKUP(A5,A:A,B:B)", "confidence": 0.876543,
                                         "logprob": -0.123457, "source": "model"}]
    assert [c["source"] for c in records[2]["candidates"]] == ["run", "copy"] and records[3]["candidates"] == []
    with pytest.raises(ValueError):  # one candidate list per cell
        prediction_records(cells, found[:2])


def test_check_fill_paths_refuses_before_anything_is_read(tmp_path: Path) -> None:
    book = DEMOS / "budget.xlsx"
    check_fill_paths(book, tmp_path / "out.xlsx")
    check_fill_paths(book, book, in_place=True)
    with pytest.raises(WriteError, match=r"output folder .* does not exist"):
        check_fill_paths(book, tmp_path / "missing" / "out.xlsx")
    with pytest.raises(FileNotFoundError, match="no such workbook"):
        check_fill_paths(tmp_path / "nope.xlsx", tmp_path / "out.xlsx")
    with pytest.raises(WriteError, match="is the input workbook"):
        check_fill_paths(book, book)


def test_predict_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    cells = ",".join(EXPECTED["budget.xlsx"])
    assert main(["predict", str(DEMOS / "budget.xlsx"), "--cell", cells, "-k", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["cell"] for c in out["cells"]] == list(EXPECTED["budget.xlsx"])
    for item in out["cells"]:
        assert item["holds"] is None
        assert 1 <= len(item["candidates"]) <= 3
        # Ranked by the pipeline; confidence is the calibrated probability of each formula, best first.
        assert all(0 <= c["confidence"] <= 1 for c in item["candidates"])
        assert [c["confidence"] for c in item["candidates"]] == sorted(
            (c["confidence"] for c in item["candidates"]), reverse=True)
        assert all(c["source"] for c in item["candidates"])
        for c in item["candidates"]:
            parse_formula(c["formula"], (15, 4))


def test_predict_cli_readable_output_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["predict", str(DEMOS / "budget.xlsx"), "--cell", "Budget!B5", "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Budget!B5  (holds 42000; predicted as if empty)") and "  1. =" in out
    assert main(["predict", str(DEMOS / "budget.xlsx"), "--cell", "Nope!A1"]) == 2
    assert "no worksheet named 'Nope'" in capsys.readouterr().err
    assert main(["predict", str(DEMOS / "missing.xlsx"), "--cell", "A1"]) == 2


def test_fill_cli_writes_a_copy_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = DEMOS / "inventory.xlsx"
    before = src.read_bytes()
    cells = list(EXPECTED["inventory.xlsx"])
    out, report = tmp_path / "filled.xlsx", tmp_path / "report.json"
    assert main(["fill", str(src), "-o", str(out), "--cells", ",".join([*cells, "Inventory!A2"]),
                 "--report", str(report), "--no-progress", "--min-confidence", "0"]) == 0
    assert src.read_bytes() == before  # the input is never written
    data = json.loads(report.read_text())
    statuses = {c["cell"]: c["status"] for c in data["cells"]}
    assert statuses["Inventory!A2"] == "not_empty"
    assert all(statuses[c] == "filled" for c in cells)
    assert data["counts"]["filled"] == len(cells)
    sheet = read_workbook(out).sheet("Inventory")
    edits = {"Inventory": []}
    for item in data["cells"]:
        if item["status"] == "filled":
            row_col = resolve_cells(read_workbook(out), item["cell"])[0]
            assert sheet.get(row_col[1], row_col[2]).formula == item["formula"]
            edits["Inventory"].append((row_col[1], row_col[2]))
    assert changed_outside(before, out.read_bytes(), edits) == []
    openpyxl.load_workbook(out).close()
    assert "wrote" in capsys.readouterr().out


def test_fill_min_confidence_and_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    book = tmp_path / "budget.xlsx"
    book.write_bytes((DEMOS / "budget.xlsx").read_bytes())
    cells = ",".join(EXPECTED["budget.xlsx"])
    assert main(["fill", str(book), "-o", str(book), "--cells", cells]) == 2
    assert "--in-place" in capsys.readouterr().err
    assert main(["fill", str(book), "--cells", cells]) == 2  # neither -o nor --in-place
    assert main(["fill", str(book), "-o", str(tmp_path / "x.xlsx")]) == 2  # no cells, no --propose
    before = book.read_bytes()
    assert main(["fill", str(book), "--in-place", "--cells", cells, "--min-confidence", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {c["status"] for c in report["cells"]} == {"low_confidence"}
    assert book.read_bytes() == before  # nothing to write: the same bytes
    assert main(["fill", str(book), "--in-place", "--cells", cells, "--json", "--min-confidence", "0"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["filled"] == len(EXPECTED["budget.xlsx"])
    assert read_workbook(book).sheet("Budget").get(15, 4).formula is not None


def test_fill_shares_encodings_across_a_column(predictor: FormulaPredictor) -> None:
    data = (DEMOS / "loan_schedule.xlsx").read_bytes()
    _, report = fill_bytes(data, "Schedule!F64:I64", predictor, min_confidence=0.0)
    assert report.counts["filled"] + report.counts["no_prediction"] == 4
    # Four neighbouring cells share most of their row and column chunks.
    assert report.stats["chunks_encoded"] < report.stats["chunks_requested"] / 2


def test_fill_bytes_uses_a_workbook_already_read(predictor: FormulaPredictor, monkeypatch: pytest.MonkeyPatch) -> None:
    import spreadsheetcoder.fill as fill

    data = (DEMOS / "budget.xlsx").read_bytes()
    cells = ",".join(EXPECTED["budget.xlsx"])
    expected, _ = fill_bytes(data, cells, predictor, min_confidence=0.0)
    workbook = read_workbook(data)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was parsed again")

    monkeypatch.setattr(fill, "read_workbook", refuse)
    output, report = fill_bytes(data, cells, predictor, min_confidence=0.0, workbook=workbook)
    assert output == expected and report.counts["filled"] == len(EXPECTED["budget.xlsx"])


def test_propose_cells_finds_fill_down_gaps_and_totals() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Item", "Qty", "Price", "Amount"])
    for i, (q, p) in enumerate([(2, 3.5), (4, 1.25), (1, 9), (5, 2)], start=2):
        ws.append([f"item {i}", q, p, f"=B{i}*C{i}" if i < 4 else None])
    ws.append(["Total", None, None, None])
    ws["B6"] = 7
    book = read_workbook(xlsx_bytes(wb))
    proposed = [(r, c) for _, r, c in propose_cells(book)]
    assert (4, 4) in proposed and (5, 4) in proposed  # D4, D5: the fill-down continues
    assert (7, 2) not in proposed  # row 7 is empty, no label
    assert (6, 3) in proposed  # C6 in the Total row under two numbers
    complete = read_workbook(DEMOS.parent / "loan_schedule.xlsx")
    assert propose_cells(complete) == []


def test_shipped_model_on_the_fill_demos_matches_its_card() -> None:
    """The README's claim about the demos (model_card.json's "demo", written by scripts/ship_model.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("ship_model", SHIPPED_DIR.parents[2] / "scripts" / "ship_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.demo_hits(SHIPPED_DIR) == model_card()["demo"]


def test_formulas_context_continues_runs_first(capsys: pytest.CaptureFixture[str]) -> None:
    cells = "Budget!D15:F15"
    assert main(["predict", str(DEMOS / "budget.xlsx"), "--cell", cells, "--context", "formulas", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    tops = [item["candidates"][0] for item in out["cells"]]
    assert [t["formula"] for t in tops] == [EXPECTED["budget.xlsx"][c] for c in ("Budget!D15", "Budget!E15", "Budget!F15")]
    assert all(t["source"] == "run" for t in tops)
    assert main(["predict", str(DEMOS / "budget.xlsx"), "--cell", cells, "--context", "formulas", "--json",
                 "--model-only"]) == 0
    alone = json.loads(capsys.readouterr().out)
    assert all(c["source"] == "model" for item in alone["cells"] for c in item["candidates"])
    # In the values setting formulas are hidden: there is no run to continue.
    assert main(["predict", str(DEMOS / "budget.xlsx"), "--cell", cells, "--context", "values", "--json"]) == 0
    values = json.loads(capsys.readouterr().out)
    assert all(c["source"] not in ("run", "copy") for item in values["cells"] for c in item["candidates"])


def test_formulas_context_offers_nearby_formulas_by_confidence(predictor: FormulaPredictor) -> None:
    """No run to continue at C3 (C1 and C2 hold different formulas): the nearest formulas of the
    column, shifted to C3, join the model's candidates with their measured confidence, and the list
    stays sorted by confidence with one entry per formula."""
    from spreadsheetcoder.evaluation.baselines import COPY_PRECISION

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "S"
    for row, (a, b) in enumerate([(1, 2), (3, 4), (5, 6)], start=1):
        ws.cell(row, 1, a)
        ws.cell(row, 2, b)
    ws["C1"], ws["C2"] = "=A1+B1", "=A2*B2"
    book = read_workbook(xlsx_bytes(wb))
    sheet = book.sheets[0]
    [found] = predictor.predict_targets(book, sheet, [(3, 3)], context="formulas", k=5)
    texts = [c.formula for c in found]
    assert {"=A3*B3", "=A3+B3"} <= set(texts)
    assert texts.index("=A3*B3") < texts.index("=A3+B3")  # the nearer one first
    assert [c.confidence for c in found] == sorted((c.confidence for c in found), reverse=True)
    assert len(set(texts)) == len(texts) == 5
    assert found[texts.index("=A3*B3")].confidence == COPY_PRECISION[0]
    alone = FormulaPredictor(resolve_model_dir(), beam=5, neighbour_formulas=False)
    [model_only] = alone.predict_targets(book, sheet, [(3, 3)], context="formulas", k=5)
    assert all(c.confidence not in COPY_PRECISION for c in model_only)


def test_fill_output_keeps_the_input_permission_bits(tmp_path: Path) -> None:
    import os
    import stat

    book = tmp_path / "budget.xlsx"
    book.write_bytes((DEMOS / "budget.xlsx").read_bytes())
    cells = ",".join(EXPECTED["budget.xlsx"])
    for mode in (0o644, 0o640):
        os.chmod(book, mode)
        out = tmp_path / f"out_{mode:o}.xlsx"
        assert main(["fill", str(book), "-o", str(out), "--cells", cells, "--no-progress"]) == 0
        assert stat.S_IMODE(out.stat().st_mode) == mode
    os.chmod(book, 0o644)
    assert main(["fill", str(book), "--in-place", "--cells", cells, "--no-progress", "--min-confidence", "0"]) == 0
    assert stat.S_IMODE(book.stat().st_mode) == 0o644  # --in-place keeps the file's bits


def test_argument_errors_come_before_the_model_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from spreadsheetcoder.commands import fill as fill_command
    from spreadsheetcoder.commands import predict as predict_command

    def no_model(args: object) -> None:
        raise AssertionError("the model was loaded before the arguments were checked")

    for command in (fill_command, predict_command):
        monkeypatch.setattr(command, "load_predictor", no_model)
    book = str(DEMOS / "budget.xlsx")
    with pytest.raises(SystemExit) as exit_k:
        main(["predict", book, "--cell", "Budget!D15", "-k", "0"])
    assert exit_k.value.code == 2 and "must be at least 1" in capsys.readouterr().err
    assert main(["fill", book, "-o", str(tmp_path / "missing" / "out.xlsx"), "--cells", "Budget!D15"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["fill", str(tmp_path / "nope.xlsx"), "-o", str(tmp_path / "o.xlsx"), "--cells", "A1"]) == 2
    assert "no such workbook" in capsys.readouterr().err


def test_table_output_shows_a_multi_line_formula_on_one_line() -> None:
    from spreadsheetcoder.commands.common import one_line

    assert one_line('=IF(A1>0,\n  "yes",\r\n  "no")') == '=IF(A1>0,   "yes",   "no")'
    assert one_line("=SUM(A1:A3)") == "=SUM(A1:A3)"
