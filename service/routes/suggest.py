"""``POST /v1/suggest`` (a grid as an add-in reads it) and ``POST /v1/suggest/xlsx`` (an upload)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from spreadsheetcoder.constants import ContextSetting
from spreadsheetcoder.references import parse_a1, split_sheet
from spreadsheetcoder.sheet import Sheet
from spreadsheetcoder.version import __version__

from ..deps import EngineDep, SettingsDep, require_key
from ..engine import CachedWorkbook, InferenceEngine
from ..errors import ApiError
from ..grid import cell_address, content_key, grid_workbook, present, sheet_grids
from ..schemas import LOCALE, SheetsResponse, SuggestionPublic, SuggestRequest, SuggestResponse
from ..text import check_text
from .common import ERRORS, check_k, read_upload, upload_workbook, within

router = APIRouter(prefix="/v1", tags=["suggest"], dependencies=[Depends(require_key)], responses=ERRORS)


async def _answer(engine: InferenceEngine, entry: CachedWorkbook, sheet: Sheet, target: tuple[int, int],
                  context: ContextSetting | None, k: int, locale: str | None, started: float) -> SuggestResponse:
    context = context or engine.context
    candidates = await engine.suggest(entry, sheet, target, context=context, k=k)
    suggestions = [SuggestionPublic(**present(c.formula, target, locale), confidence=round(min(max(c.confidence, 0.0), 1.0), 6),
                                    source=c.source)
                   for c in candidates]
    return SuggestResponse(sheet=sheet.name, target=cell_address(*target), context=context, suggestions=suggestions,
                           model=engine.model_name, version=__version__,
                           elapsed_ms=round((time.perf_counter() - started) * 1000, 1))


@router.post("/suggest", response_model=SuggestResponse)
async def suggest(body: SuggestRequest, engine: EngineDep, settings: SettingsDep) -> SuggestResponse:
    """Top-k formulas for the target cell of a block of a sheet, as an add-in reads it.

    Send the sheet's used range (``values``, and ``formulas``/``number_formats`` when you have them)
    with its top-left ``address``: the same block sent again, for another target, reuses the
    encodings of the first request. Formulas come back in A1 with en-US syntax (write them with
    Office.js ``range.formulas``); ``formula_local`` uses the separators of ``locale``."""
    started = time.perf_counter()
    k = check_k(body.k, settings)
    key = content_key("grid", body.sheet, body.address, body.values, body.formulas, body.number_formats)
    try:
        target = parse_a1(body.target)
    except ValueError as exc:
        raise ApiError(422, "bad_address", str(exc)) from None

    async def work() -> SuggestResponse:
        entry = await engine.workbook(key, lambda: grid_workbook(body, settings.max_grid_cells)[0])
        return await _answer(engine, entry, entry.workbook.sheets[0], target, body.context, k, body.locale, started)

    return await within(settings.request_timeout_s, work())


def _sheet_and_cell(entry: CachedWorkbook, sheet_name: str | None, cell: str) -> tuple[Sheet, tuple[int, int]]:
    named, address = split_sheet(cell.strip())  # split_sheet unquotes 'My Sheet'!B7
    try:
        target = parse_a1(address)
    except ValueError as exc:
        raise ApiError(422, "bad_address", str(exc)) from None
    try:
        return entry.workbook.sheet_or_first(named or sheet_name), target
    except KeyError as exc:
        raise ApiError(422, "unknown_sheet", exc.args[0]) from None


@router.post("/suggest/xlsx", response_model=SuggestResponse)
async def suggest_xlsx(
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the workbook (.xlsx/.xlsm)")],
    cell: Annotated[str, Form(max_length=300, description="target cell: 'B7' or 'Sheet1!B7'")],
    sheet: Annotated[str | None, Form(max_length=31, description="sheet of the cell (default: the first)")] = None,
    k: Annotated[int | None, Form(description="suggestions wanted (1..max_k)")] = None,
    context: Annotated[ContextSetting | None, Form()] = None,
    locale: Annotated[str | None, Form(pattern=LOCALE)] = None,
) -> SuggestResponse:
    """Top-k formulas for one cell of an uploaded workbook (the same answer as ``/v1/suggest``).

    The whole workbook is the context: other sheets and defined names can be referenced. The file
    is read within the upload limits (zip and XML bombs, encrypted and corrupt files are refused),
    and cached by content, so asking about another cell of the same file does not read it again."""
    started = time.perf_counter()
    k_ = check_k(k, settings)
    check_text(cell, "cell")
    if sheet is not None:
        check_text(sheet, "sheet")
    data = await read_upload(file, settings)

    async def work() -> SuggestResponse:
        entry = await upload_workbook(engine, data, settings)
        target_sheet, target = _sheet_and_cell(entry, sheet, cell)
        return await _answer(engine, entry, target_sheet, target, context, k_, locale, started)

    return await within(settings.request_timeout_s, work())


@router.post("/sheets", response_model=SheetsResponse, tags=["task pane"])
async def sheets(
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the workbook (.xlsx/.xlsm)")],
) -> SheetsResponse:
    """The sheets of an uploaded workbook as grids of values and formulas (from A1, at most 500 rows
    by 52 columns each), for the task pane to show. The file stays cached for ``/v1/suggest/xlsx``."""
    data = await read_upload(file, settings)

    async def work() -> SheetsResponse:
        entry = await upload_workbook(engine, data, settings)
        return SheetsResponse.model_validate({"sheets": await engine.read(lambda: sheet_grids(entry.workbook))})

    return await within(settings.request_timeout_s, work())


__all__ = ["router"]
