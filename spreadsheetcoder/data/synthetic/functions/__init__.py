"""Excel function implementations, registered by name; ``call`` builds a call expression."""

from . import conditional, dates, eng, finance, logic, lookup, mathfns, stats, text
from .base import FUNCTIONS, PREFIXES, call

__all__ = ["FUNCTIONS", "PREFIXES", "call", "conditional", "dates", "eng", "finance", "logic", "lookup",
           "mathfns", "stats", "text"]
