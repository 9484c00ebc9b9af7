"""Helpers shared by the routes: limits on k, the request deadline, reading an upload."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import UploadFile

from spreadsheetcoder.sheet import Workbook
from spreadsheetcoder.xlsx.reader import ReadLimits, read_workbook

from ..config import Settings
from ..engine import CachedWorkbook, InferenceEngine
from ..errors import ApiError
from ..grid import content_key
from ..schemas import ErrorResponse

__all__ = ["ERRORS", "check_k", "read_upload", "upload_workbook", "within"]

T = TypeVar("T")

# Error responses every /v1 endpoint may give (OpenAPI).
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text} for status, text in {
        400: "malformed JSON or multipart body", 401: "missing or wrong API key (when keys are set)",
        413: "body, upload, grid or workbook over the limits", 415: "wrong content type or file format",
        422: "invalid request, corrupt or hostile workbook", 503: "busy", 504: "over the request timeout"}.items()}


def check_k(k: int | None, settings: Settings) -> int:
    if k is None:
        return min(settings.default_k, settings.max_k)
    if not 1 <= k <= settings.max_k:
        raise ApiError(422, "k_out_of_range", f"k must be between 1 and {settings.max_k}, got {k}")
    return k


async def within(seconds: float, work: Awaitable[T]) -> T:
    """``work`` under the request timeout: 504 when it runs over (the request, not the worker, gives up)."""
    try:
        return await asyncio.wait_for(work, seconds)
    except TimeoutError:
        raise ApiError(504, "timeout", f"the request took longer than {seconds:g} s") from None


async def read_upload(file: UploadFile, settings: Settings) -> bytes:
    data = await file.read()
    if len(data) > settings.max_upload_bytes:
        raise ApiError(413, "too_large", f"the upload is over the limit of {settings.max_upload_bytes} bytes")
    if not data:
        raise ApiError(422, "empty", "the uploaded file is empty")
    return data


def read_limits(settings: Settings) -> ReadLimits:
    return ReadLimits(max_file_bytes=settings.max_upload_bytes, max_uncompressed_bytes=settings.max_uncompressed_bytes,
                      max_cells=settings.max_workbook_cells)


async def upload_workbook(engine: InferenceEngine, data: bytes, settings: Settings) -> CachedWorkbook:
    """The workbook of an uploaded .xlsx, read safely within the service's limits, cached by content."""
    limits = read_limits(settings)

    def build() -> Workbook:
        return read_workbook(data, limits)

    return await engine.workbook(content_key(b"xlsx", data), build)
