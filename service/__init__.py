"""The REST service and task pane of SpreadsheetCoder: ``create_app`` (service/app.py)."""

from .app import create_app
from .config import Settings

__all__ = ["Settings", "create_app"]
