"""The ``features`` encoder: trainable row and column views over precomputed cell features.

The paper runs BERT over a row-based and a column-based view of the window. Here BERT's part is
done once per distinct text (model/cellfeatures.py), and what trains is small:

- ``CellEncoder``: a cell's MiniLM vector, typed numeric features and type -> ``cell_dim``;
- ``LineEncoder``: a transformer over each row of the window (each cell plus its column's header
  cells: the header is "prepended" by addition, which keeps rows 21 cells long) and another over
  each column (header cells first, then the window's rows);
- ``GridConvolution``: the paper's row-wise and column-wise convolutions over both views;
- a projection to ``d_model`` plus a learned position per window cell: the decoder's memory.

Pointer keys (sheet views, defined names) are their MiniLM vectors projected to ``d_model``.
``GridEncoder`` returns the same ``EncoderOutput`` as the chunk encoder, so the decoder, pointers,
anchors and beam search are shared.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ..constants import MAX_HEADER_ROWS
from .cellfeatures import CELL_TYPES, EMBED_DIM, NUMERIC_FEATURES
from .configuration import SpreadsheetCoderConfig
from .encoder import EncoderOutput

__all__ = ["CellEncoder", "GridConvolution", "GridEncoder", "LineEncoder"]


class CellEncoder(nn.Module):
    """Cell vectors from features: ``(n, 384)``, ``(n, F)``, ``(n,)`` -> ``(n, dim)``."""

    def __init__(self, dim: int, dropout: float) -> None:
        super().__init__()
        self.text = nn.Linear(EMBED_DIM, dim)
        self.numeric = nn.Linear(NUMERIC_FEATURES, dim)
        self.kind = nn.Embedding(len(CELL_TYPES), dim)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, vectors: torch.Tensor, numeric: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.norm(self.text(vectors) + self.numeric(numeric) + self.kind(types)))


class LineEncoder(nn.Module):
    """A small transformer over lines of cells: ``(N, L, dim)`` -> ``(N, L, dim)``."""

    def __init__(self, dim: int, length: int, layers: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.position = nn.Parameter(torch.zeros(length, dim))
        nn.init.normal_(self.position, std=0.02)
        # No dropout inside the line layers: on a CPU its masks cost more than the layers (the
        # cell vectors and the memory are dropped out instead).
        layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, 0.0, batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False) if layers else None

    def forward(self, lines: torch.Tensor) -> torch.Tensor:
        x = lines + self.position[: lines.shape[1]]
        return x if self.layers is None else self.layers(x)


class GridConvolution(nn.Module):
    """Row-wise (1 x k) and column-wise (k x 1) convolutions: ``(B, R, S, w)`` -> ``(B, R, S, 3w)``.

    Depthwise (one filter per channel): the projection that follows mixes the channels, and a full
    convolution over the grid cost 70% of a training step on a CPU for no measured gain.
    """

    def __init__(self, width: int, kernel: int) -> None:
        super().__init__()
        self.row_conv = nn.Conv2d(width, width, (1, kernel), padding=(0, kernel // 2), groups=width)
        self.col_conv = nn.Conv2d(width, width, (kernel, 1), padding=(kernel // 2, 0), groups=width)

    def forward(self, grid: torch.Tensor) -> torch.Tensor:
        x = grid.permute(0, 3, 1, 2)
        return torch.cat([x, self.row_conv(x), self.col_conv(x)], dim=1).permute(0, 2, 3, 1)


class GridEncoder(nn.Module):
    """Encoder of ``config.encoder == "features"`` (see the module docstring)."""

    def __init__(self, config: SpreadsheetCoderConfig) -> None:
        super().__init__()
        self.config = config
        dim = config.cell_dim
        self.size = 2 * config.radius + 1
        self.rows = MAX_HEADER_ROWS + self.size
        self.cells = CellEncoder(dim, config.dropout)
        self.header = nn.Linear(dim, dim) if config.use_header else None
        layers, heads = config.line_layers, config.line_heads
        self.row_view = LineEncoder(dim, self.size, layers, heads, config.dropout) if config.use_row_view else None
        self.col_view = LineEncoder(dim, self.rows, layers, heads, config.dropout) if config.use_col_view else None
        width = dim * (int(config.use_row_view) + int(config.use_col_view))
        self.conv = GridConvolution(width, config.conv_kernel) if config.use_conv else None
        self.project = nn.Linear(width * (3 if config.use_conv else 1), config.d_model)
        self.position = nn.Parameter(torch.zeros(self.rows * self.size, config.d_model))
        nn.init.normal_(self.position, std=0.02)
        self.norm = nn.LayerNorm(config.d_model)  # dropout acts on the cells (CellEncoder), not per window cell
        self.pointer = nn.Linear(EMBED_DIM, config.d_model)

    def forward(self, batch: dict[str, Any]) -> EncoderOutput:
        cells = self.cells(batch["cell_vectors"], batch["cell_numeric"], batch["cell_types"])
        grid = cells[batch["cell_index"]]  # (B, R, S, dim)
        b, r, s, dim = grid.shape
        views = []
        if self.row_view is not None:
            rows = grid
            if self.header is not None:
                exists = batch["cell_exists"][:, :MAX_HEADER_ROWS, :, None].to(grid.dtype)
                head = (grid[:, :MAX_HEADER_ROWS] * exists).sum(1) / exists.sum(1).clamp(min=1)  # (B, S, dim)
                rows = grid + self.header(head)[:, None]
            views.append(self.row_view(rows.reshape(b * r, s, dim)).reshape(b, r, s, dim))
        if self.col_view is not None:
            cols = grid.transpose(1, 2).reshape(b * s, r, dim)
            views.append(self.col_view(cols).reshape(b, s, r, dim).transpose(1, 2))
        x = torch.cat(views, dim=-1)
        if self.conv is not None:
            x = self.conv(x)
        memory = self.norm(self.project(x).reshape(b, r * s, -1) + self.position)
        target = (MAX_HEADER_ROWS + self.config.radius) * self.size + self.config.radius
        keys = self.pointer(batch["pointer_vectors"])
        sheets, sheets_mask = _pointer_keys(keys, batch["pointer_sheets"])
        names, names_mask = _pointer_keys(keys, batch["pointer_names"])
        return EncoderOutput(memory=memory, memory_mask=batch["cell_exists"].reshape(b, -1), summary=memory[:, target],
                             sheets=sheets, sheets_mask=sheets_mask, names=names, names_mask=names_mask)


def _pointer_keys(keys: torch.Tensor, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mask = index >= 0
    if keys.shape[0] == 0:
        return keys.new_zeros((*index.shape, keys.shape[-1])), mask
    return keys[index.clamp(min=0)] * mask[..., None].to(keys.dtype), mask
