"""The FastAPI app: ``create_app(settings)``; run it with ``uvicorn --factory service.app:create_app``
or ``spreadsheetcoder serve``.

The lifespan loads the model once per worker (``InferenceEngine``); routes live in ``routes/``;
``RequestGate`` checks keys, content types and sizes before a body is parsed; every error is one
JSON shape (errors.py), logged as one line with the request's id (``RequestLog``). The task pane (``static/``) is served at ``/`` and the Office add-in
manifest at ``/addin/manifest.xml``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from spreadsheetcoder.version import __version__

from .config import Settings
from .engine import InferenceEngine
from .errors import install_error_handlers
from .gate import RequestGate
from .requestlog import RequestLog
from .routes import check_router, fill_router, info_router, suggest_router

logger = logging.getLogger(__name__)

__all__ = ["create_app"]

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
ADDIN = HERE / "addin"

DESCRIPTION = """Formula suggestions for spreadsheet cells from the table around them (SpreadsheetCoder).

An add-in sends the block of the sheet it reads (`POST /v1/suggest`) or the workbook file
(`POST /v1/suggest/xlsx`) and gets the top-k formulas for a cell, in A1 with en-US syntax.
`POST /v1/fill` writes predicted formulas into a copy of an uploaded workbook; `POST /v1/check` lists the
cells of an uploaded workbook that look like mistakes, each with a repair. When
`SPREADSHEETCODER_API_KEYS` is set, `/v1` endpoints (except `/v1/info`) need `Authorization: Bearer <key>`.
Every error is `{"error": {"code": ..., "message": ...}}`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service app with ``settings`` (default: read from the environment, ``SPREADSHEETCODER_*``)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = InferenceEngine(settings)
        await engine.start()
        app.state.engine = engine
        logger.info("model %s loaded (%s context)", engine.model_dir, engine.context)
        try:
            yield
        finally:
            app.state.engine = None
            await engine.stop()

    app = FastAPI(title="SpreadsheetCoder", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = None
    install_error_handlers(app)
    app.include_router(info_router)
    app.include_router(suggest_router)
    app.include_router(fill_router)
    app.include_router(check_router)

    page = (STATIC / "index.html").read_text(encoding="utf-8").replace("{{OFFICE_JS_URL}}", settings.office_js_url)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def task_pane() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/addin/manifest.xml", include_in_schema=False)
    async def manifest() -> FileResponse:
        return FileResponse(ADDIN / "manifest.xml", media_type="application/xml")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(RequestGate, settings=settings)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Fill-Report", "X-Request-ID"])
    app.add_middleware(RequestLog)  # outermost: every answer, refusals by the gate included, has an id
    return app
