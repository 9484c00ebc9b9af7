"""Service settings, read from the environment (prefix ``SPREADSHEETCODER_``) by pydantic-settings.

``SPREADSHEETCODER_API_KEYS='["k1","k2"]'`` (a JSON list, or one key as plain text) turns on bearer
authentication of the ``/v1`` endpoints; ``SPREADSHEETCODER_CORS_ORIGINS`` lists the origins a
browser add-in may call from. Every limit below is enforced before the expensive work it guards.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings"]


def _list_from_env(value: Any) -> Any:
    """A JSON list, or comma-separated text (``"a,b"``), or one item, as a list of strings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Everything the service can be configured with; each field is ``SPREADSHEETCODER_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SPREADSHEETCODER_", extra="ignore", frozen=True)

    model: str | None = Field(default=None, description="checkpoint folder (default: the model shipped in the package)")
    device: str = Field(default="cpu", description="torch device the model runs on")
    beam: int = Field(default=5, ge=1, le=32, description="beam width (raised to k when k is larger)")
    batch_size: int = Field(default=32, ge=1, le=256, description="targets decoded together")
    max_decode_steps: int = Field(default=64, ge=8, le=512,
                                  description="cap on the model's decoder steps per suggestion (a sketch token each, "
                                              "2-6 per reference): bounds the slowest suggestions; about 1.5% of the "
                                              "dev split's formulas are longer")
    api_keys: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="bearer keys accepted on /v1 (none: no authentication)")
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="origins allowed by CORS ('*' for any)")
    max_upload_bytes: int = Field(default=20 * 1024 * 1024, ge=1024, description="largest request body (JSON or upload)")
    max_uncompressed_bytes: int = Field(default=256 * 1024 * 1024, ge=1024,
                                        description="sum of the uncompressed parts of an uploaded .xlsx")
    max_workbook_cells: int = Field(default=1_000_000, ge=1, description="non-empty cells of an uploaded workbook")
    max_grid_cells: int = Field(default=250_000, ge=1, description="rows x columns of a JSON grid")
    max_fill_cells: int = Field(default=2_000, ge=1, description="cells one /v1/fill may ask for")
    max_k: int = Field(default=10, ge=1, le=32, description="largest k")
    default_k: int = Field(default=5, ge=1, description="k when the request gives none")
    request_timeout_s: float = Field(default=60.0, gt=0, description="wall-clock limit of one request's work")
    fill_timeout_s: float = Field(default=300.0, gt=0,
                                  description="wall-clock limit of one /v1/fill (bulk work, served between "
                                              "suggestions; about 0.15 s a cell on 2 cores)")
    check_timeout_s: float = Field(default=300.0, gt=0,
                                   description="wall-clock limit of one /v1/check (bulk work, one sheet at a time "
                                               "between suggestions; about 1-2 ms a checked cell)")
    max_queue: int = Field(default=512, ge=1, description="suggestions waiting for the model before 503 busy")
    cache_workbooks: int = Field(default=16, ge=1, description="workbooks kept with their encodings (LRU by content)")
    cache_mb: float = Field(default=100.0, gt=0,
                            description="memory of the cached workbooks and their encodings (estimated: 250 bytes "
                                        "a cell, 4 MB a predictor view, the encodings' tensors); the least recently "
                                        "used go beyond it")
    cache_idle_s: float = Field(default=30.0, gt=0,
                                description="a cached workbook nobody asked about for this long is dropped (its "
                                            "memory handed back); the next request on it reads and encodes it again")
    fill_slice_s: float = Field(default=0.25, gt=0, le=10,
                                description="target seconds of one slice of a fill: the cells a fill predicts at a "
                                            "time are sized from the time per cell measured so far, so a waiting "
                                            "suggestion is taken within about this long")
    header_timeout_s: float = Field(default=5.0, gt=0,
                                    description="a request's line and headers must arrive within this (else closed)")
    body_idle_timeout_s: float = Field(default=5.0, gt=0,
                                       description="longest pause while a request body arrives (else 408 and closed)")
    body_timeout_s: float = Field(default=60.0, gt=0, description="a request body must arrive within this (else 408)")
    max_connections_per_client: int = Field(default=128, ge=1,
                                            description="open connections from one client address (more are refused)")
    cache_chunks: int = Field(default=4096, ge=64, description="encoded chunks kept per cached workbook")
    office_js_url: str = Field(default="https://appsforoffice.microsoft.com/lib/1/hosted/office.js",
                               description="Office.js, loaded by the task pane only inside an Office host")

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return _list_from_env(value)
