"""evaluate_folder on small real folders: the JSON's shape, counts, micro vs macro averages, JSONL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from spreadsheetcoder.data.split import WorkbookSplitter
from spreadsheetcoder.evaluation import Candidate, Predictor, evaluate_folder, rule_candidates
from spreadsheetcoder.evaluation.metrics import METRICS
from spreadsheetcoder.sheet import Sheet, Workbook
from spreadsheetcoder.targets import Target, list_targets
from spreadsheetcoder.xlsx.reader import read_workbook
from tests.support.badfiles import openpyxl_workbook
from tests.support.paths import SAMPLES
from tests.support.sheets import sample_books

METRIC_KEYS = {"targets", "exec_checked", *METRICS}
TOP_KEYS = ["targets", "workbooks", "failed", "split", "context", "k", "model", "coverage_gaps", "baselines", "by_function",
            "by_source", "by_reference_kind", "by_sketch_length", "macro_by_workbook"]


class RulePredictor:
    """A real predictor: the rule baseline, run on a copy of the sheet with the target emptied.

    Records, per call, whether the sheet it was given still held every requested cell (the
    harness must hand over the original sheet).
    """

    def __init__(self) -> None:
        self.saw_original: list[bool] = []

    def predict_targets(self, workbook: Workbook, sheet: Sheet, cells: Sequence[tuple[int, int]], *,
                        context: str, k: int) -> list[list[Candidate]]:
        self.saw_original.append(all(sheet.get(*cell) is not None for cell in cells))
        out = []
        for cell in cells:
            masked = replace(sheet, cells={key: c for key, c in sheet.cells.items() if key != cell})
            texts = rule_candidates(masked, *cell, context=context, k=k)
            out.append([Candidate(text, -1.0 - rank, 0.9 / (rank + 1)) for rank, text in enumerate(texts)])
        return out

    def covers(self, workbook: Workbook, sheet: Sheet, target: Target) -> bool:
        return target.formula is not None


def totals_sheet() -> dict[str, Any]:
    """Four columns of 3, 4, 5 and 6 numbers under a header, each with its SUM total below: four
    distinct relative formulas, all of which AutoSum finds."""
    cells: dict[str, Any] = {"A1": "Item"}
    for col, n in zip("BCDE", (3, 4, 5, 6), strict=True):
        cells[f"{col}1"] = f"Q{col}"
        for row in range(2, n + 2):
            cells[f"A{row}"] = f"item {row}"
            cells[f"{col}{row}"] = row * 10
        cells[f"{col}{n + 2}"] = f"=SUM({col}2:{col}{n + 1})"
    return cells


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """big.xlsx: 4 targets the rule baseline hits; small.xlsx: 1 target it misses; broken.xlsx."""
    root = tmp_path / "books"
    (root / "team").mkdir(parents=True)
    openpyxl_workbook({"Totals": totals_sheet(), "Notes": {"A1": "no formulas here"}}).save(root / "big.xlsx")
    # C2 and C3 hold one relative formula: one target, C2.
    openpyxl_workbook({"Prices": {"A1": "Item", "B1": "Price", "C1": "Double",
                                  "A2": "x", "B2": 5, "C2": "=B2*2",
                                  "A3": "y", "B3": 6, "C3": "=B3*2"}}).save(root / "team" / "small.xlsx")
    (root / "broken.xlsx").write_bytes(b"this is not a zip file")
    return root


def test_evaluate_folder_json_shape_and_counts(folder: Path) -> None:
    predictor = RulePredictor()
    assert isinstance(predictor, Predictor)
    result = evaluate_folder(folder, predictor=predictor, split="all", progress=False)
    assert list(result) == TOP_KEYS
    assert (result["targets"], result["workbooks"], result["failed"]) == (5, 2, 1)
    assert (result["split"], result["context"], result["k"]) == ("all", "values", 5)
    expected = sum(len(list_targets(s)) for p in ("big.xlsx", "team/small.xlsx")
                   for s in read_workbook(folder / p).sheets)
    assert result["targets"] == expected
    assert set(result["model"]) == METRIC_KEYS
    assert set(result["baselines"]) == {"rule", "copy"}
    assert predictor.saw_original == [True, True]
    json.dumps(result)  # JSON-able

    # The predictor proposes exactly the rule baseline, so both score alike.
    for name in ("formula_top1", "formula_top5", "sketch_top1", "range_top1"):
        assert result["model"][name] == result["baselines"]["rule"][name]
    assert result["model"]["coverage"] == 1.0  # every target is representable
    assert result["baselines"]["copy"]["coverage"] == 0.0  # nothing to copy in the values setting

    assert result["by_function"]["SUM"]["targets"] == 4
    assert result["by_function"]["(none)"]["targets"] == 1
    assert set(result["by_function"]["SUM"]) == {"targets", "model", "rule", "copy"}
    assert result["by_source"]["."]["targets"] == 4 and result["by_source"]["team"]["targets"] == 1
    assert result["by_reference_kind"]["in_window"]["targets"] == 5
    assert list(result["by_sketch_length"]) == ["3"]  # "SUM( RANGE )" and "RANGE * 2"
    # openpyxl writes no cached values: only exact matches (4 of 5) count as executing alike.
    assert result["baselines"]["rule"]["exec_checked"] == 0.8 and result["baselines"]["rule"]["exec_top1"] == 1.0


def test_micro_and_macro_averages_differ(folder: Path) -> None:
    result = evaluate_folder(folder, predictor=RulePredictor(), split="all", progress=False)
    assert result["baselines"]["rule"]["formula_top1"] == 0.8  # 4 of 5 targets
    macro = result["macro_by_workbook"]
    assert macro["workbooks"] == 2
    assert macro["rule"]["formula_top1"] == 0.5  # (4/4 + 0/1) / 2
    assert macro["model"]["formula_top1"] == 0.5
    assert set(macro) == {"workbooks", "model", "rule", "copy"}


def test_without_a_predictor_only_baselines_run(folder: Path) -> None:
    result = evaluate_folder(folder, predictor=None, split="all", progress=False)
    assert "model" not in result
    assert "model" not in result["by_function"]["SUM"]
    assert set(result["macro_by_workbook"]) == {"workbooks", "rule", "copy"}


def test_predictions_jsonl_has_one_line_per_target(folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "predictions.jsonl"
    result = evaluate_folder(folder, predictor=RulePredictor(), split="all", context="formulas", predictions=out,
                             progress=False)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == result["targets"] == 5
    small = next(line for line in lines if line["workbook"] == "team/small.xlsx")
    assert small["source"] == "team" and small["sheet"] == "Prices" and small["cell"] == "C2"
    assert small["formula"] == "=B2*2" and small["relative"] == "=RC[-1]*2"
    assert small["functions"] == [] and small["reference_kinds"] == ["in_window"]
    assert small["sketch_length"] == 3 and small["representable"] is True and small["covered"] is True
    for system in ("model", "rule", "copy"):
        assert set(small[system]) == {"candidates", "hits"}
        assert set(small[system]["hits"]) == set(METRICS)
    # AutoSum over B2, then C3's formula filled up; baselines rank with confidence 1/(rank+1).
    assert small["rule"]["candidates"] == [{"formula": "=SUM(B2)", "logprob": 0.0, "confidence": 1.0, "source": "rule"},
                                           {"formula": "=B2*2", "logprob": 0.0, "confidence": 0.5, "source": "rule"}]
    assert small["rule"]["hits"]["formula_top1"] is False and small["rule"]["hits"]["formula_top5"] is True
    assert small["copy"]["candidates"][0]["formula"] == "=B2*2" and small["copy"]["hits"]["formula_top1"] is True
    assert small["model"]["candidates"][0] == {"formula": "=SUM(B2)", "logprob": -1.0, "confidence": 0.9, "source": "model"}
    assert small["rule"]["hits"]["exec_top1"] is None  # no cached values in openpyxl's files


def test_split_selection_and_limits(folder: Path) -> None:
    (folder / "SPLITS.tsv").write_text("file\tsplit\nbig.xlsx\tdev\nteam/small.xlsx\ttrain\nbroken.xlsx\ttest\n",
                                       encoding="utf-8")
    dev = evaluate_folder(folder, predictor=None, progress=False)  # SPLITS.tsv under root by default
    assert (dev["workbooks"], dev["targets"], dev["failed"]) == (1, 4, 0)
    train = evaluate_folder(folder, predictor=None, split="train", progress=False,
                            splitter=WorkbookSplitter(folder / "SPLITS.tsv"))
    assert (train["workbooks"], train["targets"]) == (1, 1)
    limited = evaluate_folder(folder, predictor=None, split="all", limit_workbooks=1, progress=False)
    assert limited["workbooks"] + limited["failed"] == 1


def test_bad_arguments_are_refused(folder: Path) -> None:
    with pytest.raises(ValueError, match="split"):
        evaluate_folder(folder, predictor=None, split="validation")
    with pytest.raises(ValueError, match="setting"):
        evaluate_folder(folder, predictor=None, context="both")
    with pytest.raises(ValueError, match="k must"):
        evaluate_folder(folder, predictor=None, k=0)


class ShortPredictor(RulePredictor):
    def predict_targets(self, workbook: Workbook, sheet: Sheet, cells: Sequence[tuple[int, int]], *,
                        context: str, k: int) -> list[list[Candidate]]:
        return []


def test_a_predictor_returning_too_few_lists_is_an_error(folder: Path) -> None:
    with pytest.raises(ValueError, match="candidate lists"):
        evaluate_folder(folder, predictor=ShortPredictor(), split="all", progress=False)


def test_sample_sheets_expected_results(tmp_path: Path) -> None:
    """A regression check on sample_sheets/ (real cached values, so execution match is checkable)."""
    result = evaluate_folder(sample_books(tmp_path), predictor=RulePredictor(), split="all", context="formulas", progress=False)
    assert result["targets"] == sum(len(list_targets(s)) for p in SAMPLES.glob("*.xlsx")
                                    for s in read_workbook(p).sheets)
    assert (result["workbooks"], result["failed"]) == (7, 0)
    rule, copy = result["baselines"]["rule"], result["baselines"]["copy"]
    assert rule["exec_checked"] == 1.0 and copy["exec_checked"] == 1.0
    assert rule["formula_top5"] >= 0.4 and copy["formula_top5"] >= 0.4
    assert copy["exec_top1"] >= copy["formula_top1"]  # an exact match always executes alike
    assert {"in_window", "beyond_window", "other_sheet", "defined_name", "structured"} <= set(
        result["by_reference_kind"]
    )
