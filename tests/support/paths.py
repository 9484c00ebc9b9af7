"""Where the tests find the repository: its root and the sample workbooks of sample_sheets/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_sheets"
