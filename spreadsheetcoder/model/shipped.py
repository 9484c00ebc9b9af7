"""The checkpoint shipped inside the package, loaded by default by ``predict``, ``fill`` and the service.

It lives in ``spreadsheetcoder/model/shipped/`` (fp16 safetensors + config.json, written by
``SpreadsheetCoder.save_pretrained``) and is read from disk only: no network. ``MODEL_CARD`` beside
the weights records what it was trained on and how it scores (README, evaluation section).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .layout import CARD_NAME, CONFIG_NAME, WEIGHTS_NAME

__all__ = ["MODEL_ENV", "SHIPPED_DIR", "model_card", "resolve_model_dir"]

SHIPPED_DIR = Path(__file__).with_name("shipped")
# An environment variable that points every command at another checkpoint folder.
MODEL_ENV = "SPREADSHEETCODER_MODEL"


def resolve_model_dir(model: str | os.PathLike[str] | None = None) -> Path:
    """The checkpoint folder to load: ``model`` if given, else ``$SPREADSHEETCODER_MODEL``, else the
    shipped one. Raises ``ConfigError`` with what is missing when the folder holds no checkpoint."""
    chosen = model if model is not None else os.environ.get(MODEL_ENV) or SHIPPED_DIR
    path = Path(chosen)
    if not (path / CONFIG_NAME).is_file() or not (path / WEIGHTS_NAME).is_file():
        where = "the shipped model" if path == SHIPPED_DIR else f"model folder {str(path)!r}"
        raise ConfigError(f"{where} holds no checkpoint ({CONFIG_NAME} + {WEIGHTS_NAME}); "
                          "pass --model DIR with a folder written by `spreadsheetcoder train` (RUN/model)")
    return path


def model_card(model_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """What ``model_card.json`` beside the weights says (training data, figures), or ``{}``."""
    path = Path(model_dir) if model_dir is not None else SHIPPED_DIR
    card = path / CARD_NAME
    if not card.is_file():
        return {}
    data: dict[str, Any] = json.loads(card.read_text(encoding="utf-8"))
    return data
