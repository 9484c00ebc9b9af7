"""Shared test setup: tests/ is importable, so tests can use the builders in tests/badfiles.py."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = str(Path(__file__).resolve().parent)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)
