"""``POST /v1/check``: the cells of an uploaded .xlsx that look like mistakes, with their repairs."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile

from spreadsheetcoder.check import CheckFlag
from spreadsheetcoder.fill import display_formula
from spreadsheetcoder.sheet import Workbook

from ..deps import EngineDep, SettingsDep, require_key
from ..errors import ApiError
from ..schemas import CheckFlagPublic, CheckResponse
from ..text import check_text
from .common import ERRORS, read_upload, upload_workbook, within

router = APIRouter(prefix="/v1", tags=["check"], dependencies=[Depends(require_key)], responses=ERRORS)


def _sheet_names(workbook: Workbook, sheets: str | None) -> list[str]:
    """The workbook's names of the comma-separated ``sheets`` (Excel's case-insensitive match), in
    the workbook's order; every sheet when none are named. 422 ``unknown_sheet`` for a name it lacks."""
    asked = [name.strip() for name in (sheets or "").split(",") if name.strip()]
    if not asked:
        return list(workbook.sheet_names)
    try:
        chosen = {workbook.sheet(name).name for name in asked}
    except KeyError as exc:
        raise ApiError(422, "unknown_sheet", exc.args[0]) from None
    return [name for name in workbook.sheet_names if name in chosen]


def _public(flag: CheckFlag) -> CheckFlagPublic:
    """A flag as the service shows formulas (``display_formula``: no ``_xlfn.`` prefixes), like /v1/suggest."""
    shown = flag.to_dict()
    return CheckFlagPublic(**{**shown, "formula": display_formula(flag.formula) if flag.formula else flag.formula,
                              "repair": display_formula(flag.repair)}, sheet=flag.sheet, row=flag.row, col=flag.col)


@router.post("/check", response_model=CheckResponse)
async def check(
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the workbook (.xlsx/.xlsm)")],
    min_confidence: Annotated[float | None, Form(ge=0.0, le=1.0, description="flag cells at or above this "
                                                 "confidence (default: the checker's, under 2 false alarms "
                                                 "per 1,000 formula cells on held-out workbooks)")] = None,
    sheets: Annotated[str | None, Form(max_length=4000, description="sheets to check, comma-separated "
                                       "(default: all)")] = None,
) -> CheckResponse:
    """Check every formula cell (and each typed number among formulas) of the workbook, or of the
    named ``sheets``, with the formula checker: cells that look like a mistake users make (a range
    that stops one row short, a reference one column off, SUM for AVERAGE, a number typed over a
    formula, ...), each with the formula proposed in its place and a calibrated confidence. The
    file is read within the upload limits and cached by content, like ``/v1/suggest/xlsx``. 503
    ``checker_unavailable`` when the model folder holds no checker."""
    started = time.perf_counter()
    if sheets is not None:
        check_text(sheets, "sheets")
    data = await read_upload(file, settings)

    async def work() -> CheckResponse:
        await engine.checker()  # 503 before the workbook is parsed when there is no checker
        entry = await upload_workbook(engine, data, settings)
        names = _sheet_names(entry.workbook, sheets)
        report = await engine.check(entry, names, min_confidence=min_confidence)
        return CheckResponse(cells_checked=report.cells_checked, min_confidence=report.min_confidence,
                             flags=[_public(flag) for flag in report.flags],
                             seconds=round(time.perf_counter() - started, 3))

    return await within(settings.check_timeout_s, work())


__all__ = ["router"]
