"""The service's routers: suggest (JSON grid and .xlsx), fill, and health/info."""

from .fill import router as fill_router
from .info import router as info_router
from .suggest import router as suggest_router

__all__ = ["fill_router", "info_router", "suggest_router"]
