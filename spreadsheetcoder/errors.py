"""Typed errors of the library. The CLI and the service translate them once, at the edge."""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "FormulaError",
    "SpreadsheetCoderError",
    "WorkbookError",
]


class SpreadsheetCoderError(Exception):
    """Base class of every error the library raises on purpose."""


class WorkbookError(SpreadsheetCoderError):
    """A workbook that cannot be read.

    Attributes:
        reason: short machine-readable code, one of ``WorkbookError.REASONS``.
        path: the offending file (may be ``None`` for in-memory input).
    """

    REASONS = (
        "not_found",  # no such file
        "unsupported_format",  # .xls, .xlsb, .ods, csv, ...: message says how to convert
        "encrypted",  # password-protected (OLE EncryptedPackage)
        "corrupt",  # not a zip, truncated, missing parts, malformed XML
        "too_large",  # file, uncompressed parts or cells over the limits
        "zip_bomb",  # compression ratio over the limit
        "hostile_xml",  # DTD / entity declarations (XML bombs, external entities)
        "empty",  # no worksheet at all
    )

    def __init__(self, reason: str, message: str, path: str | None = None) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown WorkbookError reason {reason!r}; expected one of {self.REASONS}")
        self.reason = reason
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{message}")


class FormulaError(SpreadsheetCoderError):
    """A formula that cannot be parsed, represented or rendered.

    Attributes:
        reason: short machine-readable code (see ``formula.UNREPRESENTABLE_REASONS``).
        formula: the offending formula text.
    """

    def __init__(self, reason: str, formula: str, detail: str = "") -> None:
        self.reason = reason
        self.formula = formula
        extra = f" ({detail})" if detail else ""
        super().__init__(f"{reason}: {formula!r}{extra}")


class ConfigError(SpreadsheetCoderError, ValueError):
    """An invalid configuration value or an unknown key (a ``ValueError`` too)."""


class DataError(SpreadsheetCoderError, ValueError):
    """A data file that is not what it should be: extract's JSONL examples, a split file (a ``ValueError`` too)."""
