"""Formula checking (issue 15): which cells of a workbook look like mistakes, and their repairs.

- ``mutations`` (with ``rewrites``, ``dependents``): plausible mistakes injected into workbooks,
  the self-supervised training and evaluation data;
- ``candidates`` and ``features``: the formulas a cell may have been meant to hold, described on
  the sheet; ``checker``: the trained scorer (``load_checker``, ``Checker.check``);
- ``repair``: accepted repairs written through the lossless writer;
- ``baselines`` (with ``excelint``): Excel's own error-checking rules and an ExceLint-style
  reference-fingerprint analysis, to compare with.

Layering: this package reads workbooks through the lower layers only (``sheet``, ``formula``,
``references``, ``values``, ``suggest/engine.py``), never ``data/``, ``evaluation/`` or the CLI.
"""

from __future__ import annotations

from .baselines import Flag, excelint_flags, inconsistent_formula_flags
from .candidates import CANDIDATE_KINDS
from .checker import Checker, CheckFlag, CheckReport, load_checker
from .mutations import MUTATION_KINDS, MutatedWorkbook, Mutation, applicable, mutate, sample_mutation
from .repair import RepairResult, repair_bytes

__all__ = [
    "CANDIDATE_KINDS",
    "MUTATION_KINDS",
    "CheckFlag",
    "CheckReport",
    "Checker",
    "Flag",
    "MutatedWorkbook",
    "Mutation",
    "RepairResult",
    "applicable",
    "excelint_flags",
    "inconsistent_formula_flags",
    "load_checker",
    "mutate",
    "repair_bytes",
    "sample_mutation",
]
