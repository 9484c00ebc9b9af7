"""Chunk plans: which BERT sequences a batch of targets needs, shared wherever possible.

The paper feeds BERT a row-based view (rows of the window, the header prepended to each chunk)
and a column-based view (its columns). Cut around each target, those chunks would differ for
every target, so filling a column of 1,000 cells would encode 1,000 windows. Here the sheet is
instead cut on a fixed grid of tiles that does not depend on the target:

- a **row chunk** is one sheet row over one tile of ``tile`` columns (columns ``k*tile+1 ..``),
  with the table's last header row over the same columns prepended;
- a **column chunk** is one sheet column over one tile of ``tile`` rows, with the column's header
  cells prepended.

A target's ``(H + 2r+1) x (2r+1)`` window then gathers its per-cell embeddings from the chunks
that cover it (3 or 4 tiles per line for ``r = 10``, ``tile = 7``). Chunks are keyed by what they
contain, so every target of a batch (or of a sheet at inference) that needs the same chunk shares
one encoding. The one thing that differs per target is the target itself, which is masked: a
chunk that holds a target's own cell is that target's alone (masked there), and every other
chunk shows the sheet as it is, in training exactly as at inference.

``plan_batch`` does all of this with numpy on whole arrays; the model only runs BERT on
``ChunkPlan.tokens`` and gathers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..constants import MASK_TEXT, MAX_HEADER_ROWS, TAG_BOOL, TAG_DATE, TAG_ERROR, TAG_NUMBER, TAG_STRING

__all__ = ["CellSource", "ChunkPlan", "PointerPlan", "compact_tags", "plan_batch", "plan_pointers", "tag_table"]

_OWNER_STRIDE = 1 << 15  # > MAX_COL


class CellSource(Protocol):
    """Where cell texts come from: a training cache, or a live workbook at inference."""

    def text_ids(self, sheets: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Text row of each cell (``PAD_TEXT`` outside the sheet, ``EMPTY_TEXT`` for empty cells)."""
        ...

    def text_tokens(self, text_ids: np.ndarray) -> np.ndarray:
        """WordPiece ids of those texts, ``(*text_ids.shape, width)``, 0-padded."""
        ...

    def pointer_tokens(self, book: int) -> tuple[np.ndarray, np.ndarray]:
        """Token rows of workbook ``book``'s sheet views and defined names: ``(n, width)`` each."""
        ...


@dataclass
class ChunkPlan:
    """BERT inputs of one batch and how to gather each target's window from them.

    Attributes:
        tokens: ``(n_chunks, L)`` WordPiece ids, ``[CLS] prefix [SEP] body [SEP]``, 0-padded.
        types: ``(n_chunks, L)`` token type ids (0 prefix, 1 body).
        slots: ``(n_chunks, L)`` cell slot of each token within its chunk, -1 for special tokens.
        n_slots: cell slots per chunk (prefix slots then body slots).
        row_cells / col_cells: ``(B, H + S, S)`` index into the pooled cells
            (``chunk * n_slots + slot``) of the row / column view; -1 where the window has no cell
            (unused header rows).
        texts: ``(n_chunks, n_slots)`` text row of each cell slot (-1 for absent prefix cells).
        keys: ``(n_chunks, 6)`` what identifies each chunk (view, sheet, line, tile, header, masked
            cell): equal keys have equal encodings, so a caller may cache them across batches.
        chunks_requested: how many chunk requests the plan served (before sharing): with
            ``len(tokens)`` it tells how much sharing saved.
    """

    tokens: np.ndarray
    types: np.ndarray
    slots: np.ndarray
    n_slots: int
    row_cells: np.ndarray
    col_cells: np.ndarray
    texts: np.ndarray
    keys: np.ndarray
    chunks_requested: int


# Typed cell texts start with a tag that WordPiece cuts into 2-3 pieces (``num:`` -> nu ##m :).
# The encoder sees one word instead, which leaves the per-cell token budget to the value itself.
TAG_WORDS = {f"{TAG_NUMBER}:": "number", f"{TAG_STRING}:": "text", f"{TAG_DATE}:": "date", f"{TAG_BOOL}:": "logical",
             f"{TAG_ERROR}:": "error"}


def tag_table(encode: Any, token_id: Any) -> list[tuple[np.ndarray, int]]:
    """``[(prefix ids, replacement id), ...]`` for ``compact_tags`` from a tokenizer's functions."""
    prefixes = encode(list(TAG_WORDS))
    return [(np.asarray(ids, np.int64), int(token_id(word))) for ids, word in zip(prefixes, TAG_WORDS.values(), strict=True)]


def compact_tags(tokens: np.ndarray, table: list[tuple[np.ndarray, int]], width: int) -> np.ndarray:
    """Replace each cell's tag prefix by one token and cut cells to ``width`` tokens: ``(..., W)`` -> ``(..., width)``."""
    out = tokens.copy()
    for prefix, word in table:
        n = len(prefix)
        if tokens.shape[-1] < n:
            continue
        hit = (tokens[..., :n] == prefix).all(axis=-1)
        if not hit.any():
            continue
        shifted = np.concatenate([np.full((*tokens.shape[:-1], 1), word, tokens.dtype), tokens[..., n:],
                                  np.zeros((*tokens.shape[:-1], n - 1), tokens.dtype)], axis=-1)
        out[hit] = shifted[hit]
    return out[..., :width]


def _tile_range(center: np.ndarray, radius: int, tile: int) -> tuple[np.ndarray, np.ndarray]:
    lo = (center - radius - 1) // tile
    hi = (center + radius - 1) // tile
    return lo, hi


def _assemble(text_tokens: np.ndarray, n_prefix: int, cls_id: int, sep_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(n, slots, M)`` token ids of each chunk's cells -> compact ``[CLS] prefix [SEP] body [SEP]``."""
    n, n_slots, m = text_tokens.shape
    prefix = text_tokens[:, :n_prefix].reshape(n, -1)
    body = text_tokens[:, n_prefix:].reshape(n, -1)
    col = np.full((n, 1), cls_id, dtype=np.int64)
    sep = np.full((n, 1), sep_id, dtype=np.int64)
    dense = np.concatenate([col, prefix, sep, body, sep], axis=1)
    slot_of = np.concatenate([
        [-1], np.repeat(np.arange(n_prefix), m), [-1], np.repeat(np.arange(n_prefix, n_slots), m), [-1],
    ]).astype(np.int64)
    type_of = np.concatenate([np.zeros(1 + n_prefix * m + 1), np.ones((n_slots - n_prefix) * m + 1)]).astype(np.int64)
    valid = dense != 0
    order = np.argsort(~valid, axis=1, kind="stable")
    length = int(valid.sum(axis=1).max(initial=0))
    tokens = np.take_along_axis(dense, order, axis=1)[:, :length]
    keep = np.take_along_axis(valid, order, axis=1)[:, :length]
    slots = np.where(keep, slot_of[order[:, :length]], -1)
    types = np.where(keep, type_of[order[:, :length]], 0)
    return tokens * keep, types, slots


@dataclass
class _Windows:
    """Where a batch's target windows lie: ``B`` targets, windows of ``S = 2r+1`` rows and columns
    under ``H = MAX_HEADER_ROWS`` header slots, each line of the window covered by ``n_tiles`` tiles
    from the first one (``col_lo`` for the tiles of a row, ``row_lo`` for those of a column)."""

    rows: np.ndarray  # (B,) target rows
    cols: np.ndarray  # (B,) target columns
    hdr: np.ndarray  # (B, H) header rows, 0 where none (or the header is off)
    win_rows: np.ndarray  # (B, S) sheet rows of the window
    win_cols: np.ndarray  # (B, S) sheet columns of the window
    owner_key: np.ndarray  # (B,) key of a chunk that holds the target's own cell
    col_lo: np.ndarray  # (B,) first column tile
    row_lo: np.ndarray  # (B,) first row tile
    size: int
    tile: int
    n_tiles: int


def _windows(rows: np.ndarray, cols: np.ndarray, header_rows: np.ndarray, *, radius: int, tile: int,
             use_header: bool) -> _Windows:
    offsets = np.arange(-radius, radius + 1)
    hdr = np.where(header_rows >= 1, header_rows, 0).astype(np.int64) if use_header else np.zeros_like(header_rows)
    return _Windows(
        rows=rows, cols=cols, hdr=hdr, win_rows=rows[:, None] + offsets[None, :],
        win_cols=cols[:, None] + offsets[None, :],
        # A chunk holding a target's own cell is keyed by that cell (it is masked there, for that target only).
        owner_key=rows * _OWNER_STRIDE + cols,
        col_lo=_tile_range(cols, radius, tile)[0], row_lo=_tile_range(rows, radius, tile)[0],
        size=2 * radius + 1, tile=tile, n_tiles=(2 * radius + tile - 1) // tile + 1,
    )


def _row_requests(w: _Windows, sheets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys of the row view's chunk requests, one per target, grid row (H header slots, then the
    window rows) and tile, ``(B * (H+S) * n_tiles, 6)``; and ``(B, H+S)`` the header slots with no row."""
    b_count, h, size = len(w.rows), MAX_HEADER_ROWS, w.size
    n_hdr = (w.hdr > 0).sum(axis=1)
    last_hdr = np.where(n_hdr > 0, w.hdr[np.arange(b_count), np.maximum(n_hdr - 1, 0)], 0)
    grid_rows = np.concatenate([w.hdr, w.win_rows], axis=1)  # (B, H+S)
    row_prefix = np.concatenate([np.zeros((b_count, h), np.int64), np.repeat(last_hdr[:, None], size, 1)], axis=1)
    tiles = w.col_lo[:, None] + np.arange(w.n_tiles)[None, :]  # (B, NT); some may lie beyond the window
    # request (b, grid row i, tile k)
    bb, ii, kk = np.meshgrid(np.arange(b_count), np.arange(h + size), np.arange(w.n_tiles), indexing="ij")
    line = grid_rows[bb, ii]
    tile_k = tiles[bb, kk]
    first = tile_k * w.tile + 1
    holds_target = (line == w.rows[bb]) & (first <= w.cols[bb]) & (w.cols[bb] < first + w.tile)
    absent = (ii < h) & (grid_rows[bb, ii] == 0)
    keys = np.stack([
        np.zeros_like(line), sheets[bb], line, tile_k, row_prefix[bb, ii],
        np.where(holds_target, w.owner_key[bb], -1),
    ], axis=-1).reshape(-1, 6)
    return keys, absent[:, :, 0]


def _col_requests(w: _Windows, sheets: np.ndarray) -> np.ndarray:
    """Keys of the column view's chunk requests, one per target, window column and row tile,
    ``(B * S * n_tiles, 6)``; the prefix is the column's (at most two) header rows."""
    rtiles = w.row_lo[:, None] + np.arange(w.n_tiles)[None, :]
    cb, jj, kk = np.meshgrid(np.arange(len(w.rows)), np.arange(w.size), np.arange(w.n_tiles), indexing="ij")
    cline = w.win_cols[cb, jj]
    rtile_k = rtiles[cb, kk]
    rfirst = rtile_k * w.tile + 1
    c_holds = (cline == w.cols[cb]) & (rfirst <= w.rows[cb]) & (w.rows[cb] < rfirst + w.tile)
    hdr_key = w.hdr[:, 0] * (1 << 21) + w.hdr[:, 1]
    return np.stack([
        np.ones_like(cline), sheets[cb], cline, rtile_k, hdr_key[cb], np.where(c_holds, w.owner_key[cb], -1),
    ], axis=-1).reshape(-1, 6)


def _chunk_cells(unique: np.ndarray, tile: int, n_prefix: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sheet rows, columns and presence ``(n, n_prefix + tile)`` of the cells of each unique chunk:
    prefix slots then body slots."""
    h = MAX_HEADER_ROWS
    n_slots = n_prefix + tile
    view, _, line_u, tile_u, pre_u, _ = (unique[:, k] for k in range(6))
    span = tile_u[:, None] * tile + 1 + np.arange(tile)[None, :]  # (n, tile)
    is_row = view == 0
    cell_rows = np.zeros((len(unique), n_slots), np.int64)
    cell_cols = np.zeros((len(unique), n_slots), np.int64)
    present = np.zeros((len(unique), n_slots), bool)
    # row chunks: prefix = header row over the tile's columns, body = the row over them
    cell_rows[is_row, :tile] = pre_u[is_row, None]
    cell_cols[is_row, :tile] = span[is_row]
    present[is_row, :tile] = pre_u[is_row, None] > 0
    cell_rows[is_row, n_prefix:] = line_u[is_row, None]
    cell_cols[is_row, n_prefix:] = span[is_row]
    present[is_row, n_prefix:] = True
    # column chunks: prefix = the column's header cells, body = the column over the tile's rows
    col_hdr = np.stack([pre_u >> 21, pre_u & ((1 << 21) - 1)], axis=1)  # (n, 2)
    is_col = ~is_row
    cell_rows[is_col, :h] = col_hdr[is_col]
    cell_cols[is_col, :h] = line_u[is_col, None]
    present[is_col, :h] = col_hdr[is_col] > 0
    cell_rows[is_col, n_prefix:] = span[is_col]
    cell_cols[is_col, n_prefix:] = line_u[is_col, None]
    present[is_col, n_prefix:] = True
    return cell_rows, cell_cols, present


def _chunk_texts(source: CellSource, unique: np.ndarray, cell_rows: np.ndarray, cell_cols: np.ndarray) -> np.ndarray:
    """Text row of each chunk cell, the chunk's owner cell (if any) masked."""
    sheet_u, owner_u = unique[:, 1], unique[:, 5]
    text = source.text_ids(np.broadcast_to(sheet_u[:, None], cell_rows.shape), cell_rows, cell_cols)
    owner = owner_u[:, None]
    masked = (owner >= 0) & (cell_rows == owner // _OWNER_STRIDE) & (cell_cols == owner % _OWNER_STRIDE)
    return np.where(masked, MASK_TEXT, text)


def _row_gather(w: _Windows, row_chunk: np.ndarray, absent: np.ndarray, n_prefix: int, n_slots: int) -> np.ndarray:
    """``(B, H+S, S)`` pooled cell of each grid cell of the row view (-1 for header slots with no row)."""
    b_count, h, size = len(w.rows), MAX_HEADER_ROWS, w.size
    which_tile = ((w.win_cols - 1) // w.tile - w.col_lo[:, None])  # (B, S) in [0, NT)
    ch = np.take_along_axis(row_chunk, np.broadcast_to(which_tile[:, None, :], (b_count, h + size, size)), axis=2)
    slot = n_prefix + (w.win_cols - 1) % w.tile  # (B, S)
    row_cells = ch * n_slots + slot[:, None, :]
    row_cells[absent] = -1
    return row_cells


def _col_gather(w: _Windows, col_chunk: np.ndarray, n_prefix: int, n_slots: int) -> np.ndarray:
    """``(B, H+S, S)`` pooled cell of each grid cell of the column view (-1 for unused header slots)."""
    b_count, h, size = len(w.rows), MAX_HEADER_ROWS, w.size
    which_rtile = ((w.win_rows - 1) // w.tile - w.row_lo[:, None])  # (B, S)
    chc = np.take_along_axis(col_chunk, np.broadcast_to(which_rtile[:, :, None].transpose(0, 2, 1), (b_count, size, size)), axis=2)
    # chc[b, j, i]: chunk of column j holding window row i
    rslot = n_prefix + (w.win_rows - 1) % w.tile  # (B, S)
    body = chc.transpose(0, 2, 1) * n_slots + rslot[:, :, None]  # (B, S rows, S cols)
    # header slots of the column view: the prefix of the column chunk that holds the target row
    target_rtile = (w.rows - 1) // w.tile - w.row_lo
    head_chunk = col_chunk[np.arange(b_count), :, target_rtile]  # (B, S)
    head = head_chunk[:, None, :] * n_slots + np.arange(h)[None, :, None]
    head = np.where((w.hdr > 0)[:, :, None], head, -1)
    return np.concatenate([head, body], axis=1)


def plan_batch(
    source: CellSource, sheets: np.ndarray, rows: np.ndarray, cols: np.ndarray, header_rows: np.ndarray,
    *, radius: int, tile: int, cls_id: int, sep_id: int, max_cell_tokens: int,
    tags: list[tuple[np.ndarray, int]] | None = None, use_header: bool = True,
) -> ChunkPlan:
    """Plan the chunks of targets ``(sheets[b], rows[b], cols[b])`` with header rows
    ``header_rows[b]`` (``(B, MAX_HEADER_ROWS)``, top to bottom, -1 padded on the right)."""
    w = _windows(rows, cols, header_rows, radius=radius, tile=tile, use_header=use_header)
    b_count, size = len(rows), w.size
    row_keys, absent = _row_requests(w, sheets)
    col_keys = _col_requests(w, sheets)

    # Equal requests share one chunk.
    keys = np.concatenate([row_keys, col_keys])
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    row_chunk = inverse[: len(row_keys)].reshape(b_count, MAX_HEADER_ROWS + size, w.n_tiles)
    col_chunk = inverse[len(row_keys):].reshape(b_count, size, w.n_tiles)

    n_prefix = max(tile, MAX_HEADER_ROWS)
    n_slots = n_prefix + tile
    cell_rows, cell_cols, present = _chunk_cells(unique, tile, n_prefix)
    text = _chunk_texts(source, unique, cell_rows, cell_cols)
    tok = source.text_tokens(text)  # (n, slots, W)
    tok = compact_tags(tok, tags or [], max_cell_tokens)  # (n, slots, M)
    tok = np.where(present[..., None], tok, 0)
    tokens, types, slots = _assemble(tok.astype(np.int64), n_prefix, cls_id, sep_id)
    return ChunkPlan(tokens=tokens, types=types, slots=slots, n_slots=n_slots,
                     row_cells=_row_gather(w, row_chunk, absent, n_prefix, n_slots),
                     col_cells=_col_gather(w, col_chunk, n_prefix, n_slots), texts=np.where(present, text, -1),
                     keys=unique, chunks_requested=len(keys))


@dataclass
class PointerPlan:
    """Pointer candidates of a batch: each workbook's sheet views and defined names, encoded once.

    Attributes:
        tokens: ``(n_candidates, L)`` ``[CLS] text [SEP]`` ids, 0-padded.
        sheets: ``(B, max_sheets)`` candidate row of each target's K-th sheet, -1 past the end.
        names: ``(B, max_names)`` the same for defined names.
    """

    tokens: np.ndarray
    sheets: np.ndarray
    names: np.ndarray


def plan_pointers(source: CellSource, books: np.ndarray, *, max_sheets: int, max_names: int,
                  cls_id: int, sep_id: int) -> PointerPlan:
    rows: list[np.ndarray] = []
    index: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    n = 0
    for book in np.unique(books):
        sheet_tok, name_tok = source.pointer_tokens(int(book))
        sheet_tok, name_tok = sheet_tok[:max_sheets], name_tok[:max_names]
        index[int(book)] = (np.arange(n, n + len(sheet_tok)), np.arange(n + len(sheet_tok), n + len(sheet_tok) + len(name_tok)))
        n += len(sheet_tok) + len(name_tok)
        rows += [sheet_tok, name_tok]
    width = max((r.shape[1] for r in rows if len(r)), default=1)
    dense = np.zeros((n, width + 2), np.int64)
    k = 0
    for block in rows:
        for line in block:
            ids = line[line != 0]
            dense[k, 0] = cls_id
            dense[k, 1:1 + len(ids)] = ids
            dense[k, 1 + len(ids)] = sep_id
            k += 1
    used = int((dense != 0).sum(axis=1).max(initial=2))
    sheets = np.full((len(books), max_sheets), -1, np.int64)
    names = np.full((len(books), max_names), -1, np.int64)
    for b, book in enumerate(books):
        s_idx, n_idx = index[int(book)]
        sheets[b, :len(s_idx)] = s_idx
        names[b, :len(n_idx)] = n_idx
    return PointerPlan(tokens=dense[:, :used], sheets=sheets, names=names)
