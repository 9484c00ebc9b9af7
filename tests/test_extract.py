import json
import shutil
from pathlib import Path

import pytest

from spreadsheetcoder.cli import main
from spreadsheetcoder.context import ContextWindow
from spreadsheetcoder.data.extract import extract
from tests.support.paths import SAMPLES

SUMMARY_KEYS = {"workbooks", "workbooks_failed", "formula_cells", "targets", "representable", "roundtrip_exact",
                "not_representable", "seconds", "by_source"}


@pytest.fixture()
def corpus_dir(tmp_path: Path) -> Path:
    """A small folder of workbooks in two source folders plus bad files."""
    root = tmp_path / "books"
    (root / "finance").mkdir(parents=True)
    (root / "school" / "deep").mkdir(parents=True)
    shutil.copy(SAMPLES / "budget.xlsx", root / "finance" / "budget.xlsx")
    shutil.copy(SAMPLES / "loan_schedule.xlsx", root / "finance" / "loan.xlsx")
    shutil.copy(SAMPLES / "gradebook.xlsx", root / "school" / "deep" / "grades.xlsx")
    (root / "school" / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a real zip")
    (root / "school" / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    (root / "notes.txt").write_text("not a workbook")
    return root


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_extract_writes_one_example_per_distinct_formula_and_skips_bad_files(corpus_dir, tmp_path):
    out = tmp_path / "ex.jsonl"
    summary = extract(corpus_dir, out, workers=2, progress=False).to_json()
    assert set(summary) >= SUMMARY_KEYS
    assert summary["workbooks"] == 5
    assert summary["workbooks_failed"] == {"corrupt": 1, "unsupported_format": 1}
    examples = read_jsonl(out)
    assert len(examples) == summary["targets"] > 0
    assert {e["workbook"] for e in examples} == {"finance/budget.xlsx", "finance/loan.xlsx", "school/deep/grades.xlsx"}
    assert set(summary["by_source"]) == {"finance", "school"}
    assert summary["roundtrip_exact"] == 1.0
    keys = [(e["workbook"], e["sheet"], e["relative"]) for e in examples]
    assert len(keys) == len(set(keys))  # distinct relative formulas per sheet
    first = examples[0]
    window = ContextWindow.from_dict(first["context"])
    assert window.cells[10][10] == "mask" and len(window.cells) == 21
    assert first["sketch"] and len(first["ranges"]) == first["sketch"].count("RANGE")


def test_extract_all_cells_and_formulas_setting(corpus_dir, tmp_path):
    out = tmp_path / "all.jsonl"
    summary = extract(corpus_dir / "finance", out, all_cells=True, context="formulas", workers=1, progress=False)
    examples = read_jsonl(out)
    assert len(examples) == summary.formula_cells > summary.distinct_formulas
    shown = [text for e in examples for _, _, text in e["context"]["cells"] if "|f:=" in text]
    assert shown, "neighbour formulas are visible in the formulas setting"


def test_cli_extract_json_last_line(corpus_dir, tmp_path, capsys):
    out = tmp_path / "cli.jsonl"
    assert main(["extract", str(corpus_dir), "-o", str(out), "--json", "--workers", "1", "--no-progress"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    stats = json.loads(last)
    assert set(stats) >= SUMMARY_KEYS and stats["targets"] == len(read_jsonl(out))


def test_cli_missing_folder_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["extract", str(tmp_path / "nope"), "-o", str(tmp_path / "x.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no such file" in err[0]


def test_cli_help_explains_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--all-cells" in text and "--context" in text and "distinct relative formula" in text


@pytest.mark.parametrize("command", ["extract", "stats", "synth", "cache", "train", "evaluate", "predict", "fill",
                                     "serve"])
def test_cli_help_shows_only_defaults_that_say_something(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "default: $SPREADSHEETCODER_MODEL, else the model shipped in the package) (default" not in text
