"""Shared fixtures: the sample-sheet training cache, an overfitted tiny model, LibreOffice.

Builders the tests import live in tests/support/ (``from tests.support.sheets import ...``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.sheets import sample_books
from tests.support.tiny_model import tiny_config

OVERFIT_EXAMPLES = 50


@pytest.fixture(scope="session")
def sample_cache(tmp_path_factory) -> Path:
    """A training cache of every sample sheet (all in train), windows wide enough for the tiny model."""
    from spreadsheetcoder.data.cache import CacheConfig, build_cache
    from spreadsheetcoder.data.extract import extract
    from spreadsheetcoder.data.split import WorkbookSplitter

    folder = tmp_path_factory.mktemp("sample_cache")
    extract(sample_books(folder), folder / "examples.jsonl", radius=16, workers=1, progress=False)
    return build_cache([folder / "examples.jsonl"], folder / "cache", config=CacheConfig(radius=16),
                       splitter=WorkbookSplitter(dev=0.0, test=0.0), progress=False)


@pytest.fixture(scope="session")
def overfit_checkpoint(sample_cache, tmp_path_factory) -> tuple[Path, list[dict]]:
    """A tiny model trained on the first 50 covered sample-sheet examples until every target token
    is right under teacher forcing; returns its folder and those examples' locations."""
    import torch

    from spreadsheetcoder.data.dataset import FormulaDataset
    from spreadsheetcoder.model.batching import Batcher
    from spreadsheetcoder.model.modeling import SpreadsheetCoder

    data = FormulaDataset(sample_cache, None)
    chosen = [i for i in range(len(data)) if data[i]["covered"]][:OVERFIT_EXAMPLES]
    items = [data[i] for i in chosen]
    torch.manual_seed(0)
    config = tiny_config(sample_cache)
    model = SpreadsheetCoder(config)
    batch = Batcher(config).collate(data, items)
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-3)
    exact = 0.0
    for _ in range(300):
        out = model(batch)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
        pred = out.predictions
        exact = ((pred == batch["out_ids"]) | ~batch["out_mask"]).all(1).float().mean().item()
        if exact == 1.0:
            break
    folder = model.eval().save_pretrained(tmp_path_factory.mktemp("overfit") / "model")
    sheets = json.loads((Path(sample_cache) / "sheets.json").read_text(encoding="utf-8"))
    where = [{"workbook": sheets[it["sheet"]][0], "sheet": sheets[it["sheet"]][1], "row": it["row"], "col": it["col"],
              "teacher_forced_exact": exact} for it in items]
    return folder, where


def apt_installed(package: str, executable: str) -> str | None:
    """The path of ``executable``: found on PATH, or installed with apt-get (``package``) when this is
    root on Debian (a fresh machine may lack the package lists: update, then install again); None
    when neither works. The one place the suite installs system packages."""
    import os
    import shutil
    import subprocess

    found = shutil.which(executable)
    if found or not (shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0):
        return found
    for step in (["apt-get", "install", "-y", "-q", package], ["apt-get", "update", "-q"],
                 ["apt-get", "install", "-y", "-q", package]):
        subprocess.run(step, capture_output=True, timeout=1200, check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        found = shutil.which(executable)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def soffice() -> str | None:
    """LibreOffice's soffice (Debian's libreoffice-calc-nogui), installed once before the first test
    that needs it; None where it cannot be."""
    return apt_installed("libreoffice-calc-nogui", "soffice")


@pytest.fixture(scope="session")
def chromium() -> str | None:
    """Debian's Chromium for the task-pane test (playwright drives it; no browser is downloaded)."""
    return apt_installed("chromium", "chromium")
