"""notebooks/evaluation.ipynb: committed without outputs, and runs end to end on real results.

The results come from the CLI on the sample sheets: the overfit model in the ``values`` setting and
the baselines alone in ``formulas``. The executed copy stays in memory; the repository's file is
never rewritten.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.support.paths import ROOT, SAMPLES

NOTEBOOK = ROOT / "notebooks" / "evaluation.ipynb"
TIMEOUT_S = 300


def evaluate(out: Path, name: str, *args: str) -> tuple[Path, Path]:
    """Run ``spreadsheetcoder evaluate`` on the sample sheets; return the result and predictions paths."""
    result, predictions = out / f"{name}.json", out / f"{name}.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "spreadsheetcoder", "evaluate", str(SAMPLES), "--split", "all", *args,
         "-o", str(result), "--predictions", str(predictions), "--json", "--no-progress"],
        capture_output=True, text=True, timeout=TIMEOUT_S,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return result, predictions


def outputs(cell: nbformat.NotebookNode) -> str:
    """Everything a cell printed or displayed as text."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.slow
def test_notebook_runs_on_a_model_and_a_baselines_only_result(overfit_checkpoint, tmp_path, monkeypatch):
    model_folder, _ = overfit_checkpoint
    values = evaluate(tmp_path, "values", "--model", str(model_folder))
    formulas = evaluate(tmp_path, "formulas", "--baselines-only", "--context", "formulas")
    # The kernel inherits this process's environment.
    monkeypatch.setenv("SC_RESULTS", f"{values[0]},{formulas[0]}")
    monkeypatch.setenv("SC_PREDICTIONS", f"{values[1]},{formulas[1]}")

    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()

    produced = [output for cell in nb.cells for output in cell.get("outputs", [])]
    assert not [output for output in produced if output.output_type == "error"]
    # by function, by sketch length, by setting, by reference kind, calibration of the model
    assert sum("image/png" in output.get("data", {}) for output in produced) >= 5
    headline = next(cell for cell in nb.cells if "headline(" in cell.source and "concat" in cell.source)
    table = outputs(headline)
    assert "model" in table and "rule" in table and "copy" in table
    assert "values" in table and "formulas" in table  # both results were read, from the environment
    calibration = outputs(nb.cells[-1])
    assert "formulas: calibration needs a model" in calibration
    assert "values: calibration needs" not in calibration
