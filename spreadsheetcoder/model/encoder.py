"""The encoder: BERT over row and column chunks, per-cell pooling, grid convolutions.

``TableEncoder.forward`` takes a ``ChunkPlan`` (model/chunks.py) as tensors and returns, for each
target, a memory of ``(H + S) * S`` cell vectors (``S = 2r+1``, ``H`` header slots) that the
decoder attends over, plus the pointer candidates (sheet views, defined names) encoded by the
same BERT. One BERT serves both views (a view embedding tells them apart): two copies would double
the checkpoint for no measured gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from ..constants import MAX_HEADER_ROWS
from ..pretrained import base_model_dir
from .configuration import SpreadsheetCoderConfig

if TYPE_CHECKING:
    from transformers import BertModel

__all__ = ["EncoderOutput", "TableEncoder", "build_bert"]


def build_bert(config: SpreadsheetCoderConfig, load_weights: bool) -> BertModel:
    """The BERT of ``config``: MiniLM's first ``bert_layers`` layers (weights loaded from the
    installed package when ``load_weights``), or a random BERT of the configured sizes.
    ``transformers`` is imported here, not at module level: the features encoder never needs it."""
    from transformers import BertConfig, BertModel

    if config.bert == "pretrained":
        path = base_model_dir()
        if load_weights:
            bert = BertModel.from_pretrained(str(path), local_files_only=True, add_pooling_layer=False)
        else:
            bert = BertModel(BertConfig.from_pretrained(str(path), local_files_only=True), add_pooling_layer=False)
        bert.encoder.layer = bert.encoder.layer[: config.bert_layers]
        bert.config.num_hidden_layers = config.bert_layers
        return bert
    bert_config = BertConfig(
        vocab_size=config.token_vocab_size, hidden_size=config.hidden_size, num_hidden_layers=config.bert_layers,
        num_attention_heads=config.num_heads, intermediate_size=config.intermediate_size,
        max_position_embeddings=512, type_vocab_size=2,
        hidden_dropout_prob=config.dropout, attention_probs_dropout_prob=config.dropout,
    )
    return BertModel(bert_config, add_pooling_layer=False)


@dataclass
class EncoderOutput:
    """Attributes:
        memory: ``(B, N, d_model)`` cell vectors, ``N = (H + S) * S``.
        memory_mask: ``(B, N)`` True where a cell exists (unused header slots are False).
        summary: ``(B, d_model)`` the target cell's vector, the decoder's initial input.
        sheets: ``(B, max_sheets, d_model)`` pointer keys of the workbook's sheets.
        sheets_mask: ``(B, max_sheets)`` True for real sheets.
        names, names_mask: the same for defined names.
    """

    memory: torch.Tensor
    memory_mask: torch.Tensor
    summary: torch.Tensor
    sheets: torch.Tensor
    sheets_mask: torch.Tensor
    names: torch.Tensor
    names_mask: torch.Tensor


class TableEncoder(nn.Module):
    def __init__(self, config: SpreadsheetCoderConfig, load_weights: bool = True) -> None:
        super().__init__()
        self.config = config
        self.bert = build_bert(config, load_weights)
        hidden = self.bert.config.hidden_size
        size = 2 * config.radius + 1
        rows = MAX_HEADER_ROWS + size
        self.pad_cell = nn.Parameter(torch.zeros(hidden))
        self.view_embedding = nn.Parameter(torch.zeros(2, hidden))
        views = int(config.use_row_view) + int(config.use_col_view)
        width = hidden * views
        k = config.conv_kernel
        if config.use_conv:
            # Row-wise: along a row (kernel 1 x k); column-wise: along a column (k x 1).
            self.row_conv = nn.Conv2d(width, width, (1, k), padding=(0, k // 2))
            self.col_conv = nn.Conv2d(width, width, (k, 1), padding=(k // 2, 0))
            width *= 3
        self.project = nn.Linear(width, config.d_model)
        self.position = nn.Parameter(torch.zeros(rows * size, config.d_model))
        nn.init.normal_(self.position, std=0.02)
        self.norm = nn.LayerNorm(config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.pointer = nn.Linear(hidden, config.d_model)
        self.rows, self.size = rows, size

    def _bert(self, tokens: torch.Tensor, types: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states of ``tokens`` ``(n, L)``, in slices of ``chunk_batch`` sequences: ``(n, L, h)``."""
        outs = []
        step = self.config.chunk_batch
        for start in range(0, tokens.shape[0], step):
            ids = tokens[start:start + step]
            mask = ids != 0
            kwargs = {"token_type_ids": types[start:start + step]} if types is not None else {}
            outs.append(self.bert(input_ids=ids, attention_mask=mask, **kwargs).last_hidden_state)
        if not outs:
            return tokens.new_zeros((0, tokens.shape[1], self.bert.config.hidden_size), dtype=torch.float)
        return torch.cat(outs)

    def _pool_cells(self, hidden: torch.Tensor, slots: torch.Tensor, n_slots: int) -> torch.Tensor:
        """Mean of each cell's token states: ``(n_chunks * n_slots, h)``."""
        n, _length, h = hidden.shape
        index = torch.arange(n, device=hidden.device)[:, None] * n_slots + slots
        keep = slots >= 0
        flat = index[keep]
        sums = hidden.new_zeros((n * n_slots, h)).index_add_(0, flat, hidden[keep])
        counts = hidden.new_zeros(n * n_slots).index_add_(0, flat, torch.ones_like(flat, dtype=hidden.dtype))
        return sums / counts.clamp(min=1)[:, None]

    def _gather(self, cells: torch.Tensor, index: torch.Tensor, view: int) -> torch.Tensor:
        """Window grid ``(B, R, S, h)`` of one view from pooled cells; -1 gives the pad cell."""
        grid = cells[index.clamp(min=0)]
        grid = torch.where((index >= 0)[..., None], grid, self.pad_cell.to(grid.dtype))
        return grid + self.view_embedding[view].to(grid.dtype)

    def encode_pointers(self, tokens: torch.Tensor) -> torch.Tensor:
        """Candidate keys ``(n, d_model)`` of pointer texts ``(n, L)`` (mean of their token states)."""
        if tokens.shape[0] == 0:
            return tokens.new_zeros((0, self.config.d_model), dtype=torch.float)
        hidden = self._bert(tokens)
        mask = (tokens != 0).to(hidden.dtype)[..., None]
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
        return self.pointer(pooled)

    def encode_cells(self, tokens: torch.Tensor, types: torch.Tensor, slots: torch.Tensor, n_slots: int) -> torch.Tensor:
        """Per-cell vectors of chunks: ``(n_chunks * n_slots, h)`` (BERT, then the mean of each cell's tokens)."""
        return self._pool_cells(self._bert(tokens, types), slots, n_slots)

    def forward(self, batch: dict[str, torch.Tensor], cells: torch.Tensor | None = None,
                pointer_keys: torch.Tensor | None = None) -> EncoderOutput:
        """Encode a batch; ``cells`` (from ``encode_cells``) and ``pointer_keys`` (from
        ``encode_pointers``) may be given precomputed, e.g. from a cache of a sheet's chunks."""
        n_slots = int(batch["n_slots"])
        if cells is None:
            cells = self.encode_cells(batch["chunk_tokens"], batch["chunk_types"], batch["chunk_slots"], n_slots)
        views = []
        if self.config.use_row_view:
            views.append(self._gather(cells, batch["row_cells"], 0))
        if self.config.use_col_view:
            views.append(self._gather(cells, batch["col_cells"], 1))
        grid = torch.cat(views, dim=-1)  # (B, R, S, width)
        exists = batch["row_cells"] >= 0  # (B, R, S)
        if self.config.use_conv:
            x = grid.permute(0, 3, 1, 2)  # (B, width, R, S)
            grid = torch.cat([x, self.row_conv(x), self.col_conv(x)], dim=1).permute(0, 2, 3, 1)
        b = grid.shape[0]
        memory = self.project(grid).reshape(b, self.rows * self.size, -1) + self.position
        memory = self.dropout(self.norm(memory))
        memory_mask = exists.reshape(b, -1)
        target = (MAX_HEADER_ROWS + self.config.radius) * self.size + self.config.radius
        keys = self.encode_pointers(batch["pointer_tokens"]) if pointer_keys is None else pointer_keys
        sheets, sheets_mask = self._pointer_keys(keys, batch["pointer_sheets"])
        names, names_mask = self._pointer_keys(keys, batch["pointer_names"])
        return EncoderOutput(memory=memory, memory_mask=memory_mask, summary=memory[:, target],
                             sheets=sheets, sheets_mask=sheets_mask, names=names, names_mask=names_mask)

    @staticmethod
    def _pointer_keys(keys: torch.Tensor, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mask = index >= 0
        if keys.shape[0] == 0:
            return keys.new_zeros((*index.shape, keys.shape[-1])), mask
        return keys[index.clamp(min=0)] * mask[..., None].to(keys.dtype), mask
