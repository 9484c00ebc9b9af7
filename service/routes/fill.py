"""``POST /v1/fill``: an uploaded .xlsx with predicted formulas written into the named empty cells."""

from __future__ import annotations

import base64
import json
import re
import time
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from spreadsheetcoder.constants import DEFAULT_MIN_CONFIDENCE, ContextSetting
from spreadsheetcoder.fill import CellSpecError, FillReport, plan_fill, write_fill
from spreadsheetcoder.references import parse_cell_list
from spreadsheetcoder.text import clean_text
from spreadsheetcoder.xlsx.writer import WriteError

from ..deps import EngineDep, SettingsDep, require_key
from ..errors import ApiError
from ..schemas import FillResponse
from ..text import check_text
from .common import ERRORS, read_upload, upload_workbook, within

router = APIRouter(prefix="/v1", tags=["fill"], dependencies=[Depends(require_key)], responses=ERRORS)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_HEADER = "X-Fill-Report"
MAX_HEADER_CHARS = 8000
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


def _filename(upload: str | None) -> str:
    stem = (upload or "workbook").replace("\\", "/").rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    stem = _UNSAFE_NAME.sub("_", stem).strip(" .") or "workbook"
    return f"{stem[:100]}_filled.xlsx"


def _header_report(report: dict[str, Any]) -> str:
    """The report for the response header: counts and each cell's outcome, or counts alone when long."""
    short = {"counts": report["counts"],
             "cells": [{key: c[key] for key in ("cell", "status", "formula", "confidence")} for c in report["cells"]]}
    text = json.dumps(short, separators=(",", ":"))
    if len(text) > MAX_HEADER_CHARS:
        text = json.dumps({"counts": report["counts"], "truncated": True}, separators=(",", ":"))
    return text


@router.post("/fill", response_model=None, responses={
    200: {"content": {XLSX: {}, "application/json": {"schema": FillResponse.model_json_schema()}},
          "description": "the filled workbook (response=xlsx, report in the X-Fill-Report header) or JSON"}})
async def fill(
    engine: EngineDep,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="the workbook (.xlsx/.xlsm)")],
    cells: Annotated[str, Form(min_length=1, max_length=4000,
                               description="cells and areas to fill: 'Sheet1!F2:F40,Summary!C9'")],
    min_confidence: Annotated[float, Form(ge=0.0, le=1.0, description="leave cells below this confidence empty "
                                          "(default: 90% precision on the dev split)")] = DEFAULT_MIN_CONFIDENCE,
    context: Annotated[ContextSetting | None, Form()] = None,
    response: Annotated[Literal["xlsx", "json"], Form(description="the file itself, or JSON with it in base64")] = "xlsx",
) -> Response:
    """Predict the named empty cells and write the top formula of each into a copy of the workbook,
    with the same lossless writer as ``spreadsheetcoder fill``: every other part of the package is
    kept byte for byte. Cells that hold something, fall below ``min_confidence`` or lie inside
    merged areas are left alone and reported."""
    data = await read_upload(file, settings)
    label = clean_text(file.filename) if file.filename else None  # the report echoes it: valid text only
    try:
        parse_cell_list(check_text(cells, "cells"), limit=settings.max_fill_cells)
    except ValueError as exc:
        raise ApiError(422, "bad_cells", str(exc)) from None

    async def work() -> tuple[bytes, dict[str, Any]]:
        started = time.perf_counter()
        entry = await upload_workbook(engine, data, settings)  # refuses bombs and corrupt files within the limits
        chosen = context or engine.context
        try:
            plan = plan_fill(entry.workbook, cells)
        except CellSpecError as exc:
            raise ApiError(422, "bad_cells", str(exc)) from None
        found = await engine.predict_cells(entry, plan.cells_to_predict(), context=chosen, k=5)
        try:
            filled = await engine.read(partial(write_fill, data, plan, found, min_confidence=min_confidence))
        except WriteError as exc:
            raise ApiError(422, "write_error", str(exc)) from None
        report = FillReport(input=label, output=None, model=engine.model_name, context=chosen,
                            min_confidence=min_confidence, cells=plan.report_cells(),
                            seconds=round(time.perf_counter() - started, 3))
        return filled, report.to_dict()

    filled, report = await within(settings.fill_timeout_s, work())
    name = _filename(label)
    if response == "json":
        body = FillResponse(filename=name, xlsx_base64=base64.b64encode(filled).decode("ascii"), report=report)
        return Response(body.model_dump_json(), media_type="application/json")
    return Response(filled, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="{name}"', REPORT_HEADER: _header_report(report)})


__all__ = ["router"]
