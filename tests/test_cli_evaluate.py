"""`spreadsheetcoder evaluate` on the command line: errors and the JSON last line."""

from __future__ import annotations

import json

from spreadsheetcoder.cli import main
from tests.support.paths import SAMPLES


def test_missing_folder_is_one_readable_error(capsys):
    assert main(["evaluate", "/no/such/folder", "--baselines-only"]) == 2
    assert capsys.readouterr().err.strip() == "spreadsheetcoder evaluate: error: no such file or folder: /no/such/folder"


def test_a_model_or_baselines_only_is_required(capsys):
    assert main(["evaluate", str(SAMPLES)]) == 2
    assert "--baselines-only" in capsys.readouterr().err


def test_an_empty_split_says_so(capsys):
    assert main(["evaluate", str(SAMPLES / "budget.xlsx"), "--baselines-only", "--split", "dev",
                 "--no-progress"]) == 0
    assert "no targets" in capsys.readouterr().out


def test_json_last_line_has_the_model_and_both_baselines(overfit_checkpoint, capsys):
    folder, _ = overfit_checkpoint
    assert main(["evaluate", str(SAMPLES / "budget.xlsx"), "--model", str(folder), "--split", "all",
                 "--json", "--no-progress"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["targets"] > 10 and result["context"] == "values"
    assert {"model", "baselines", "by_function", "by_source", "by_reference_kind", "macro_by_workbook"} <= set(result)
    assert set(result["baselines"]) == {"rule", "copy"}
    assert result["model"]["formula_top1"] > result["baselines"]["rule"]["formula_top1"]
