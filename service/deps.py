"""Dependencies of the routes: the settings and the engine the app's lifespan made, and the bearer check."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .config import Settings
from .engine import InferenceEngine
from .errors import ApiError

__all__ = ["EngineDep", "SettingsDep", "check_key", "get_engine", "get_settings", "require_key"]

_bearer = HTTPBearer(auto_error=False, description="one of SPREADSHEETCODER_API_KEYS, when keys are set")


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> InferenceEngine:
    engine: InferenceEngine | None = getattr(request.app.state, "engine", None)
    if engine is None:
        raise ApiError(503, "not_ready", "the model is not loaded yet")
    return engine


def check_key(settings: Settings, authorization: str | None) -> None:
    """Raise ``ApiError`` 401 unless keys are off or ``authorization`` is ``Bearer <a configured key>``."""
    if not settings.api_keys:
        return
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "missing_api_key", "this service needs 'Authorization: Bearer <key>'",
                       headers={"WWW-Authenticate": "Bearer"})
    if not any(hmac.compare_digest(token.encode(), key.encode()) for key in settings.api_keys):
        raise ApiError(401, "invalid_api_key", "the API key is not valid", headers={"WWW-Authenticate": "Bearer"})


def require_key(request: Request,
                _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None) -> None:
    """The bearer check as a dependency (it also documents the scheme in OpenAPI). ``RequestGate``
    makes the same check before the body is read, so an unauthenticated body is never parsed."""
    check_key(get_settings(request), request.headers.get("authorization"))


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[InferenceEngine, Depends(get_engine)]
