"""Formula checking (issue 15): plausible mistakes injected into workbooks (``mutations``) and the
baselines that look for them (``baselines``: Excel's own error-checking rules and an
ExceLint-style reference-fingerprint analysis).

Layering: this package reads workbooks through the lower layers only (``sheet``, ``formula``,
``references``, ``values``, ``suggest/engine.py``), never ``data/``, ``evaluation/`` or the CLI.
"""

from __future__ import annotations

from .baselines import Flag, excelint_flags, inconsistent_formula_flags
from .mutations import MUTATION_KINDS, MutatedWorkbook, Mutation, applicable, mutate, sample_mutation

__all__ = [
    "MUTATION_KINDS",
    "Flag",
    "MutatedWorkbook",
    "Mutation",
    "applicable",
    "excelint_flags",
    "inconsistent_formula_flags",
    "mutate",
    "sample_mutation",
]
