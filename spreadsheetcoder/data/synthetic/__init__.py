"""Synthetic workbook generator: realistic .xlsx files with formulas and correct cached values.

Entry point: ``synthesize(n, out_dir, seed, workers)`` writes ``synth_{seed}_{i:06d}.xlsx``.
Each workbook combines a few kinds (financial statements, sales, grade books, inventories,
timesheets, schedules, dashboards, energy-model sheets, calculator sheets...); every formula's
cached value is computed by the generator with Excel's semantics (``expr``, ``functions``).
"""

from .coverage import CORPUS_FUNCTIONS, NOT_GENERATED
from .generate import SynthSummary, generate_workbook, synthesize, workbook_path
from .kinds import KIND_WEIGHTS, KINDS
from .xlsx import write_xlsx, xlsx_bytes

__all__ = ["CORPUS_FUNCTIONS", "KINDS", "KIND_WEIGHTS", "NOT_GENERATED", "SynthSummary", "generate_workbook",
           "synthesize", "workbook_path", "write_xlsx", "xlsx_bytes"]
