"""``GET /healthz`` (liveness, no key needed) and ``GET /v1/info`` (model, version, limits)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from spreadsheetcoder.version import __version__

from ..deps import EngineDep, SettingsDep
from ..schemas import HealthResponse, InfoResponse, Limits

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthResponse)
async def healthz(request: Request) -> HealthResponse:
    """Liveness: the worker answers; ``model_loaded`` once the lifespan has loaded the model."""
    return HealthResponse(status="ok", model_loaded=getattr(request.app.state, "engine", None) is not None)


@router.get("/v1/info", response_model=InfoResponse)
async def info(engine: EngineDep, settings: SettingsDep) -> InfoResponse:
    """The model that answers, the library version, whether a key is needed, and the limits."""
    limits = Limits(**{name: getattr(settings, name) for name in Limits.model_fields})
    return InfoResponse(model=engine.model_name, model_card=engine.model_card, version=__version__,
                        context=engine.context, auth=bool(settings.api_keys), limits=limits)


__all__ = ["router"]
