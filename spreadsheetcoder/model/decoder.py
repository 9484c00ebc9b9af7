"""The decoder: one LSTM with attention, shared by the sketch stage and the range stage.

Each step embeds the previous token (from the sketch or the range vocabulary, with a stage
embedding), runs the LSTM, attends over the encoder's cell memory, and predicts the next token
with the head of its stage. In the range head the pointer slots ``sheet:K`` / ``name:K`` score the
K-th sheet view / defined name of the workbook (their encoded text) instead of a fixed row of the
output layer, so the model points at names it has never seen.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..vocab import NAME_PREFIX, SHEET_PREFIX
from .configuration import SpreadsheetCoderConfig
from .encoder import EncoderOutput

__all__ = ["FormulaDecoder", "pointer_slots"]

NEG = -1e4  # masked logit (finite, so bf16 and softmax stay well defined)


def pointer_slots(range_vocab: list[str], prefix: str, count: int) -> list[int]:
    """Range-vocabulary ids of ``prefix0 .. prefix{count-1}`` (-1 where a slot is missing)."""
    index = {t: i for i, t in enumerate(range_vocab)}
    return [index.get(f"{prefix}{k}", -1) for k in range(count)]


class FormulaDecoder(nn.Module):
    def __init__(self, config: SpreadsheetCoderConfig) -> None:
        super().__init__()
        d = config.d_model
        self.config = config
        self.sketch_embedding = nn.Embedding(len(config.sketch_vocab), d, padding_idx=0)
        self.range_embedding = nn.Embedding(len(config.range_vocab), d, padding_idx=0)
        self.stage_embedding = nn.Embedding(2, d)
        self.init_state = nn.Linear(d, 2 * d * config.lstm_layers)
        self.lstm = nn.LSTM(2 * d, d, num_layers=config.lstm_layers, batch_first=True,
                            dropout=config.dropout if config.lstm_layers > 1 else 0.0)
        self.query = nn.Linear(d, d)
        self.combine = nn.Linear(2 * d, d)
        self.dropout = nn.Dropout(config.dropout)
        self.sketch_head = nn.Linear(d, len(config.sketch_vocab))
        self.range_head = nn.Linear(d, len(config.range_vocab))
        self.pointer_query = nn.Linear(d, d)
        sheet_slots = torch.tensor(pointer_slots(config.range_vocab, SHEET_PREFIX, config.max_sheets))
        name_slots = torch.tensor(pointer_slots(config.range_vocab, NAME_PREFIX, config.max_names))
        self.sheet_slots: torch.Tensor
        self.name_slots: torch.Tensor
        self.register_buffer("sheet_slots", sheet_slots, persistent=False)
        self.register_buffer("name_slots", name_slots, persistent=False)

    def initial_state(self, enc: EncoderOutput) -> tuple[torch.Tensor, torch.Tensor]:
        layers, d = self.config.lstm_layers, self.config.d_model
        h, c = torch.tanh(self.init_state(enc.summary)).reshape(-1, layers, 2, d).unbind(2)
        return h.transpose(0, 1).contiguous(), c.transpose(0, 1).contiguous()

    def embed(self, ids: torch.Tensor, is_range: torch.Tensor) -> torch.Tensor:
        sketch = self.sketch_embedding(torch.where(is_range, 0, ids))
        ranges = self.range_embedding(torch.where(is_range, ids, 0))
        return torch.where(is_range[..., None], ranges, sketch) + self.stage_embedding(is_range.long())

    def hidden(self, enc: EncoderOutput, ids: torch.Tensor, is_range: torch.Tensor,
               state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Run ``T`` steps: ``ids``/``is_range`` ``(B, T)`` -> the heads' input ``(B, T, d)`` and the new
        LSTM state. ``enc`` tensors have batch ``B``."""
        x = self.embed(ids, is_range)  # (B, T, d)
        context = enc.summary[:, None, :].expand_as(x)
        out, state = self.lstm(torch.cat([x, context], dim=-1), state)  # (B, T, d)
        q = self.query(out)
        scores = torch.einsum("btd,bnd->btn", q, enc.memory) / enc.memory.shape[-1] ** 0.5
        scores = scores.masked_fill(~enc.memory_mask[:, None, :], NEG)
        attended = torch.einsum("btn,bnd->btd", F.softmax(scores, dim=-1), enc.memory)
        return self.dropout(torch.tanh(self.combine(torch.cat([out, attended], dim=-1)))), state

    def step(self, enc: EncoderOutput, ids: torch.Tensor, is_range: torch.Tensor,
             state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``hidden``, then both heads at every step: sketch logits ``(B, T, Vs)``, range logits
        ``(B, T, Vr)`` and the new LSTM state (beam search)."""
        h, state = self.hidden(enc, ids, is_range, state)
        return self.sketch_head(h), self._range_logits(h, enc), state

    def range_logits_at(self, h: torch.Tensor, enc: EncoderOutput, where: torch.Tensor) -> torch.Tensor:
        """Range logits ``(N, Vr)`` of the ``N`` positions where ``where`` ``(B, T)`` is True only
        (training: the output layer runs on range positions, not on every step of both stages)."""
        logits = self.range_head(h[where])
        for slots, ptr in self._pointer_scores(h, enc):
            logits = logits.index_copy(1, slots, ptr[where].to(logits.dtype))
        return logits

    def _range_logits(self, h: torch.Tensor, enc: EncoderOutput) -> torch.Tensor:
        logits = self.range_head(h)  # (B, T, Vr)
        for slots, ptr in self._pointer_scores(h, enc):
            logits = logits.index_copy(2, slots, ptr.to(logits.dtype))
        return logits

    def _pointer_scores(self, h: torch.Tensor, enc: EncoderOutput) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """``(slot ids, scores (B, T, K))`` of the sheet and name pointers: the logits of the range
        vocabulary's ``sheet:K`` / ``name:K`` rows."""
        q = self.pointer_query(h)
        out = []
        pointers: tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], ...] = (
            (self.sheet_slots, enc.sheets, enc.sheets_mask), (self.name_slots, enc.names, enc.names_mask))
        for slots, keys, mask in pointers:
            valid = slots >= 0
            if not bool(valid.any()):
                continue
            k = valid.nonzero().squeeze(-1)
            ptr = torch.einsum("btd,bkd->btk", q, keys[:, k]) / q.shape[-1] ** 0.5
            out.append((slots[k], ptr.masked_fill(~mask[:, None, k], NEG)))
        return out
