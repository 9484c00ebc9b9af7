"""Request and response bodies of the service (pydantic), with the examples the OpenAPI page shows."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from spreadsheetcoder.constants import ContextSetting
from spreadsheetcoder.version import __version__

from .text import check_grid_text, check_text

__all__ = [
    "CellValue",
    "CheckFlagPublic",
    "CheckResponse",
    "ErrorBody",
    "ErrorResponse",
    "FillResponse",
    "GridSheet",
    "HealthResponse",
    "InfoResponse",
    "Limits",
    "SheetsResponse",
    "SuggestRequest",
    "SuggestResponse",
    "SuggestionPublic",
]

# A cell as Office.js ``range.values`` gives it: a number, text, a boolean, or empty (null or "").
CellValue = float | int | bool | str | None

A1_CELL = r"^\$?[A-Za-z]{1,3}\$?[0-9]{1,7}$"
# Excel's rule for sheet names: 1-31 characters, none of []:*?/\ or control characters, no quote at either end.
SHEET_NAME = r"^[^\[\]:*?/\\\x00-\x1f']([^\[\]:*?/\\\x00-\x1f]*[^\[\]:*?/\\\x00-\x1f'])?$"
LOCALE = r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$"

SUGGEST_EXAMPLE: dict[str, Any] = {
    "sheet": "Sales",
    "address": "A1",
    "values": [
        ["Region", "Q1", "Q2", "Total"],
        ["North", 120, 135, 255],
        ["South", 98, 110, None],
    ],
    "formulas": [
        ["Region", "Q1", "Q2", "Total"],
        ["North", 120, 135, "=SUM(B2:C2)"],
        ["South", 98, 110, ""],
    ],
    "target": "D3",
    "k": 3,
    "context": "values",
    "locale": "de-DE",
}


class SuggestRequest(BaseModel):
    """A block of a sheet as an add-in reads it, and the cell to suggest formulas for.

    ``values`` is Office.js ``range.values`` of the block whose top-left cell is ``address``;
    ``formulas`` (``range.formulas``) and ``number_formats`` (``range.numberFormat``), when given,
    have the same shape. The target may lie outside the block (e.g. the row just below a table).

    Every string must be valid Unicode without control characters other than tab, LF and CR: a lone
    surrogate (``"\\ud800"``) or NUL anywhere is refused with 422 ``bad_text`` naming the field and
    cell (``values[3][2]``), before anything reads the grid."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SUGGEST_EXAMPLE]})

    values: list[list[CellValue]] = Field(description="rows of cell values (a rectangle)")
    formulas: list[list[CellValue]] | None = Field(
        None, description="rows of formulas ('=...') or values, the shape of values")
    number_formats: list[list[str | None]] | None = Field(
        None, description="rows of number format codes ('0.00%', 'yyyy-mm-dd'), the shape of values")
    address: str = Field("A1", pattern=A1_CELL, description="A1 address of the block's top-left cell")
    sheet: str = Field("Sheet1", min_length=1, max_length=31, pattern=SHEET_NAME, description="the sheet's name")
    target: str = Field(pattern=A1_CELL, description="A1 address of the cell to suggest formulas for")
    k: int | None = Field(default=None, description="suggestions wanted (1..max_k, see /v1/info; default 5)")
    context: ContextSetting | None = Field(
        None, description="formulas: the sheet's other formulas are seen (the default); values: only their values")
    locale: str | None = Field(default=None, pattern=LOCALE, description="BCP 47 locale of the user, e.g. 'de-DE'")

    # check_text raises ApiError, which pydantic lets through (it wraps only ValueError, AssertionError
    # and its own errors): the answer is 422 bad_text naming the field, not a generic invalid_request.
    @field_validator("sheet", "address", "target", "locale", mode="before")
    @classmethod
    def _valid_text(cls, value: Any, info: ValidationInfo) -> Any:
        # before: pydantic's own pattern checks would refuse a surrogate with a vaguer message
        return check_text(value, str(info.field_name)) if isinstance(value, str) else value

    @field_validator("values", "formulas", "number_formats")
    @classmethod
    def _valid_cell_text(cls, rows: list[list[Any]] | None, info: ValidationInfo) -> list[list[Any]] | None:
        check_grid_text(rows, str(info.field_name))
        return rows


class SuggestionPublic(BaseModel):
    """One suggested formula, best first."""

    formula: str = Field(description="A1 formula in en-US syntax, as Office.js range.formulas expects")
    formula_local: str | None = Field(
        None, description="the formula with the locale's separators (';', decimal ','); null when those are en-US's")
    confidence: float = Field(ge=0.0, le=1.0,
                              description="calibrated probability that the formula is exactly what belongs in the cell")
    source: str = Field(description="where the suggestion came from: model, run, copy, aggregate, arithmetic, "
                                    "reference, retrieval")
    sketch: str = Field(description="the formula with each reference replaced by RANGE, tokens space-separated")
    ranges: list[str] = Field(description="the references of the formula in A1, in order")


class SuggestResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "sheet": "Sales", "target": "D3", "context": "formulas",
        "suggestions": [{"formula": "=SUM(B3:C3)", "formula_local": "=SUM(B3:C3)", "confidence": 0.62,
                         "source": "aggregate", "sketch": "SUM( RANGE )", "ranges": ["B3:C3"]}],
        "model": "spreadsheetcoder/model/shipped", "version": __version__, "elapsed_ms": 41.7}]})

    sheet: str
    target: str
    context: ContextSetting
    suggestions: list[SuggestionPublic]
    model: str = Field(description="the checkpoint that answered")
    version: str = Field(description="the spreadsheetcoder version")
    elapsed_ms: float = Field(description="time spent on the request in the service")


class FillResponse(BaseModel):
    """The JSON form of ``/v1/fill`` (``response=json``): the filled file in base64 and the report."""

    filename: str
    xlsx_base64: str
    report: dict[str, Any] = Field(description="per-cell status: filled, not_empty, low_confidence, ...")


class CheckFlagPublic(BaseModel):
    """A cell that looks like a mistake, and the formula proposed in its place."""

    cell: str = Field(description="the cell with its sheet, quoted where Excel quotes it: Sheet1!D12, 'My Sheet'!B4")
    sheet: str
    row: int = Field(ge=1, description="1-based row")
    col: int = Field(ge=1, description="1-based column")
    formula: str | None = Field(description="what the cell holds (A1, en-US syntax), or null for a typed number")
    value: CellValue = Field(description="what the cell shows (its cached value)")
    kind: str = Field(description="the mistake the repair undoes: range_end, range_start, shifted_column, wrong_row, "
                                  "swapped_operands, function_family, absolute_dropped, absolute_added, hardcoded, "
                                  "wrong_sheet, inconsistent_formula")
    confidence: float = Field(ge=0.0, le=1.0, description="calibrated probability that the cell is a mistake")
    repair: str = Field(description="the formula proposed in its place (A1, en-US syntax, for range.formulas)")


class CheckResponse(BaseModel):
    """What ``/v1/check`` found: the flagged cells, highest confidence first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "cells_checked": 8, "min_confidence": 0.15,
        "flags": [{"cell": "Sheet1!D12", "sheet": "Sheet1", "row": 12, "col": 4, "formula": "=SUM(D2:D10)",
                   "value": 512, "kind": "range_end", "confidence": 0.97, "repair": "=SUM(D2:D11)"}],
        "seconds": 0.021}]})

    cells_checked: int = Field(description="formula cells, and typed numbers beside formulas, that were checked")
    min_confidence: float = Field(description="the threshold used: cells at or above it are flagged")
    flags: list[CheckFlagPublic]
    seconds: float = Field(description="time the check took in the service")


class GridSheet(BaseModel):
    name: str
    address: str = Field(description="A1 address of the grid's top-left cell")
    values: list[list[CellValue]]
    formulas: list[list[CellValue]]
    truncated: bool = Field(description="true when the sheet is larger than the grid returned")


class SheetsResponse(BaseModel):
    """An uploaded workbook's sheets as grids, for the task pane to show."""

    sheets: list[GridSheet]


class ErrorBody(BaseModel):
    code: str = Field(description="machine-readable: invalid_request, malformed_json, too_large, zip_bomb, ...")
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"error": {"code": "k_out_of_range", "message": "k must be between 1 and 10, got 50"}}]})

    error: ErrorBody


class Limits(BaseModel):
    max_upload_bytes: int
    max_uncompressed_bytes: int
    max_workbook_cells: int
    max_grid_cells: int
    max_fill_cells: int
    max_k: int
    default_k: int
    request_timeout_s: float
    fill_timeout_s: float
    check_timeout_s: float


class InfoResponse(BaseModel):
    model: str
    model_card: dict[str, Any]
    version: str
    context: ContextSetting = Field(description="the context setting used when a request names none (formulas: the sheet as it is)")
    auth: bool = Field(description="whether /v1 endpoints need a bearer key")
    limits: Limits


class HealthResponse(BaseModel):
    status: Literal["ok"]
    model_loaded: bool
