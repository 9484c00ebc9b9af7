"""The service's routers: suggest (JSON grid and .xlsx), fill, check, and health/info."""

from .check import router as check_router
from .fill import router as fill_router
from .info import router as info_router
from .suggest import router as suggest_router

__all__ = ["check_router", "fill_router", "info_router", "suggest_router"]
