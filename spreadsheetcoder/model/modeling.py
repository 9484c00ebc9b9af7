"""``SpreadsheetCoder``: the encoder and the decoder, the loss, beam search, checkpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import ConfigError
from ..version import __version__
from .configuration import SpreadsheetCoderConfig
from .decoder import FormulaDecoder
from .encoder import EncoderOutput, TableEncoder
from .layout import CONFIG_NAME, WEIGHTS_NAME

__all__ = ["ModelOutput", "SpreadsheetCoder"]


@dataclass
class ModelOutput:
    """Attributes:
        loss: mean token cross-entropy over both stages (when targets are given).
        sketch_logits: ``(B, T, Vs)``; range_logits: ``(B, T, Vr)`` (None in a teacher-forced pass
            unless ``return_logits``).
        token_accuracy: share of target tokens predicted right under teacher forcing.
        loss_sum, tokens: the summed token loss and the token count behind ``loss`` (data-parallel
            training divides by the global count, so N processes take exactly the step of one).
        predictions: ``(B, T)`` the argmax of the stage's head at each target position (0 elsewhere).
    """

    loss: torch.Tensor | None
    sketch_logits: torch.Tensor | None
    range_logits: torch.Tensor | None
    token_accuracy: torch.Tensor | None = None
    loss_sum: torch.Tensor | None = None
    tokens: torch.Tensor | None = None
    predictions: torch.Tensor | None = None


class SpreadsheetCoder(nn.Module):
    """The SpreadsheetCoder model (DESIGN.md, "Model").

    Args:
        config: sizes, vocabularies and switches.
        load_base_weights: start a pretrained-BERT config from the installed MiniLM weights
            (``from_pretrained`` turns this off: the checkpoint holds every weight).
    """

    def __init__(self, config: SpreadsheetCoderConfig, load_base_weights: bool = True) -> None:
        super().__init__()
        if len(config.sketch_vocab) < 4 or len(config.range_vocab) < 4:
            raise ConfigError("the config has no decoder vocabularies; take them from the training cache")
        self.config = config
        self.encoder: nn.Module
        if config.encoder == "features":
            from .grid import GridEncoder

            self.encoder = GridEncoder(config)
        else:
            self.encoder = TableEncoder(config, load_weights=load_base_weights)
        self.decoder = FormulaDecoder(config)

    def encode(self, batch: dict[str, Any]) -> EncoderOutput:
        return self.encoder(batch)

    def forward(self, batch: dict[str, Any], *, return_logits: bool = False) -> ModelOutput:
        """Teacher-forced pass. ``batch`` comes from ``Batcher.collate``; the loss needs ``out_ids``.

        With targets, each head runs only on the positions of its stage (the output layers are the
        largest matrices of a step); ``return_logits`` (or no targets) also gives both heads' logits
        at every position.
        """
        enc = self.encode(batch)
        state = self.decoder.initial_state(enc)
        h, _ = self.decoder.hidden(enc, batch["in_ids"], batch["in_range"], state)
        full = return_logits or "out_ids" not in batch
        sketch_logits = self.decoder.sketch_head(h) if full else None
        range_logits = self.decoder._range_logits(h, enc) if full else None
        if "out_ids" not in batch:
            return ModelOutput(None, sketch_logits, range_logits)
        out_ids, out_range, mask = batch["out_ids"], batch["out_range"], batch["out_mask"]
        at_sketch, at_range = mask & ~out_range, mask & out_range
        sketch_rows = self.decoder.sketch_head(h[at_sketch]).float()
        range_rows = self.decoder.range_logits_at(h, enc, at_range).float()
        sketch_loss = F.cross_entropy(sketch_rows, out_ids[at_sketch], reduction="sum")
        range_loss = F.cross_entropy(range_rows, out_ids[at_range], reduction="sum")
        loss_sum = sketch_loss + range_loss
        tokens = mask.sum()
        loss = loss_sum / tokens.clamp(min=1)
        with torch.no_grad():
            pred = torch.zeros_like(out_ids)
            pred[at_sketch] = sketch_rows.argmax(-1)
            pred[at_range] = range_rows.argmax(-1)
            accuracy = ((pred == out_ids) & mask).sum() / tokens.clamp(min=1)
        return ModelOutput(loss, sketch_logits, range_logits, accuracy, loss_sum, tokens, pred)

    def configure_optimizers(self, *, lr: float, bert_lr: float | None = None,
                             weight_decay: float = 0.01) -> torch.optim.AdamW:
        """AdamW with three groups: the BERT of the chunk encoder (``bert_lr``), the other matrices
        (``lr``, ``weight_decay``), and biases, norms, embeddings and learned positions (``lr``, no
        decay: shrinking them towards zero only hurts)."""
        bert = getattr(self.encoder, "bert", None)
        bert_ids = {id(p) for p in bert.parameters()} if bert is not None else set()
        decay, no_decay = [], []
        for name, param in self.named_parameters():
            if id(param) in bert_ids:
                continue
            plain = param.ndim < 2 or "embedding" in name or name.endswith("position") or "norm" in name.lower()
            (no_decay if plain else decay).append(param)
        groups = [{"params": [p for p in self.parameters() if id(p) in bert_ids], "lr": bert_lr or lr},
                  {"params": decay, "lr": lr, "weight_decay": weight_decay},
                  {"params": no_decay, "lr": lr, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, weight_decay=weight_decay)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def save_pretrained(self, folder: str | Path, *, dtype: torch.dtype | None = None,
                        metadata: dict[str, Any] | None = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` (``dtype=torch.float16`` halves the file)."""
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        state = {k: (v.to(dtype) if dtype is not None and v.is_floating_point() else v).contiguous()
                 for k, v in self.state_dict().items()}
        tmp = path / (WEIGHTS_NAME + ".tmp")
        save_file(state, str(tmp), metadata={"format": "pt", "spreadsheetcoder": __version__,
                                             **{k: json.dumps(v) for k, v in (metadata or {}).items()}})
        tmp.replace(path / WEIGHTS_NAME)
        self.config.save(path / CONFIG_NAME)
        return path

    @classmethod
    def from_pretrained(cls, folder: str | Path, *, map_location: str | torch.device = "cpu") -> SpreadsheetCoder:
        """The model saved in ``folder`` by ``save_pretrained`` (weights restored to float32)."""
        path = Path(folder)
        if not (path / CONFIG_NAME).is_file() or not (path / WEIGHTS_NAME).is_file():
            raise FileNotFoundError(f"{path} is not a SpreadsheetCoder checkpoint (needs {CONFIG_NAME} and {WEIGHTS_NAME})")
        config = SpreadsheetCoderConfig.load(path / CONFIG_NAME)
        model = cls(config, load_base_weights=False)
        state = load_file(str(path / WEIGHTS_NAME), device=str(map_location))
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ConfigError(f"checkpoint {path} does not match its config: missing {missing[:5]}, unexpected {unexpected[:5]}")
        return model
