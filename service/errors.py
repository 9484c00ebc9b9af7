"""Errors at the edge: library exceptions and request errors → HTTP status + one JSON body shape,
``{"error": {"code": ..., "message": ...}}``, for every 4xx and 5xx the service answers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from spreadsheetcoder.errors import ConfigError, FormulaError, WorkbookError

__all__ = ["WORKBOOK_STATUS", "ApiError", "error_response", "install_error_handlers"]

# WorkbookError.reason -> HTTP status. Sizes are 413, formats the service cannot read 415, the rest 422.
WORKBOOK_STATUS = {
    "not_found": 400,
    "unsupported_format": 415,
    "encrypted": 422,
    "corrupt": 422,
    "too_large": 413,
    "zip_bomb": 413,
    "hostile_xml": 422,
    "empty": 422,
}

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid_request", 429: "too_many_requests", 503: "busy", 504: "timeout"}


_FASTAPI_PARSE_ERROR = "There was an error parsing the body"


class ApiError(Exception):
    """An error the service answers with ``status`` and ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   details: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _jsonable(errors: list[Any]) -> list[dict[str, Any]]:
    out = []
    for err in errors[:20]:
        item = {"loc": [str(part) for part in err.get("loc", ())], "msg": str(err.get("msg", "")),
                "type": str(err.get("type", ""))}
        out.append(item)
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception the service expects to one JSON error. Anything else is a bug:
    ``requestlog.RequestLog`` logs its traceback once and answers the JSON 500."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        if any(err.get("type") == "json_invalid" for err in errors):
            return error_response(400, "malformed_json", "the request body is not valid JSON", details=_jsonable(errors))
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        message = f"{where}: {first.get('msg', 'invalid')}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        return error_response(422, "invalid_request", message, details=_jsonable(errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = str(exc.detail)
        content_type = request.headers.get("content-type", "")
        if exc.status_code == 400 and (message == _FASTAPI_PARSE_ERROR or "multipart" in content_type):
            # undecodable JSON, or a multipart body the parser gave up on (no boundary, ...)
            kind = "multipart" if "multipart" in content_type else "json"
            code = f"malformed_{kind}"
            if message == _FASTAPI_PARSE_ERROR:
                message = f"the request body is not valid {'JSON' if kind == 'json' else 'multipart/form-data'}"
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(WorkbookError)
    async def _workbook(_: Request, exc: WorkbookError) -> JSONResponse:
        return error_response(WORKBOOK_STATUS.get(exc.reason, 422), exc.reason, str(exc))

    @app.exception_handler(FormulaError)
    async def _formula(_: Request, exc: FormulaError) -> JSONResponse:
        return error_response(422, f"formula_{exc.reason}", str(exc))

    @app.exception_handler(ConfigError)
    async def _config(_: Request, exc: ConfigError) -> JSONResponse:
        return error_response(422, "invalid_option", str(exc))
