"""SpreadsheetCoder: predict the formula of an empty spreadsheet cell from the table around it."""

from __future__ import annotations

__version__ = "0.1.0"
