import json

from spreadsheetcoder.cli import main
from spreadsheetcoder.data.extract import extract
from spreadsheetcoder.data.stats import format_markdown, formula_stats, iter_examples
from tests.support.sheets import sample_books


def test_stats_of_a_folder_equal_stats_of_its_jsonl(tmp_path):
    out = tmp_path / "ex.jsonl"
    books = sample_books(tmp_path)
    extract(books, out, workers=1, progress=False)
    from_jsonl = formula_stats(iter_examples(out), "x").to_json()
    from_dir = formula_stats(iter_examples(books, workers=1), "x").to_json()
    assert from_jsonl == from_dir
    assert from_jsonl["top_functions"]["SUM"] > 0
    assert abs(sum(from_jsonl["range_length"].values()) - 1.0) < 1e-3
    assert 0 < from_jsonl["other_sheet_share"] < 1


def test_range_lengths_and_absolute_share_on_a_known_example():
    example = {
        "workbook": "w.xlsx", "sheet": "S", "row": 251, "col": 2, "occurrences": 3, "representable": True,
        "functions": ["SUM"], "sketch": ["SUM(", "RANGE", ")", "*", "RANGE"], "reference_kinds": ["beyond_window", "in_window"],
        "ranges": [
            {"sheet": None, "start": {"row": -249, "col": 0, "row_abs": False, "col_abs": False},
             "end": {"row": -1, "col": 0, "row_abs": False, "col_abs": False}, "name": None, "spec": None},
            {"sheet": None, "start": {"row": 1, "col": 6, "row_abs": True, "col_abs": True},
             "end": None, "name": None, "spec": None},
        ],
    }
    report = formula_stats([example]).to_json()
    assert report["range_length"][">100"] == 0.5 and report["range_length"]["1"] == 0.5
    assert report["absolute_reference_share"] == 0.5
    assert report["beyond_window_share"] == 1.0 and report["leaves_window_share"] == 1.0
    assert report["formula_cells_per_sheet"] == 3.0
    assert "| SUM | 100.0% |" in format_markdown([report])


def test_cli_stats_side_by_side(tmp_path, capsys):
    out = tmp_path / "ex.jsonl"
    extract(sample_books(tmp_path), out, workers=1, progress=False)
    assert main(["stats", str(out), str(out), "--names", "real,synthetic", "--json"]) == 0
    reports = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [r["name"] for r in reports] == ["real", "synthetic"]
    assert main(["stats", str(out), "--names", "a,b"]) == 2  # one name per input
