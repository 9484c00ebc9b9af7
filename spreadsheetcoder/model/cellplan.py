"""Inputs of the ``features`` encoder: each target's window as rows of one table of cell features.

A batch's windows are gathered as text ids (the same ``CellSource.text_ids`` the chunk plans use,
target masked exactly as there), reduced to the batch's distinct texts, and those texts' features
(model/cellfeatures.py) come from the source: precomputed arrays in a training cache, a bounded
per-process cache at inference. Nothing here runs a network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..constants import MASK_TEXT, MAX_HEADER_ROWS, PAD_TEXT
from .cellfeatures import CellFeatures
from .chunks import CellSource

__all__ = ["CellPlan", "FeatureSource", "plan_cells", "plan_feature_pointers"]


class FeatureSource(CellSource, Protocol):
    """A ``CellSource`` that also gives the features of its texts."""

    def text_features(self, text_ids: np.ndarray) -> CellFeatures:
        """Features of the texts ``text_ids`` (1-D)."""
        ...

    def pointer_vectors(self, book: int) -> tuple[np.ndarray, np.ndarray]:
        """MiniLM vectors of workbook ``book``'s sheet views and defined names: ``(n, 384)`` each."""
        ...


@dataclass
class CellPlan:
    """Attributes:
        index: ``(B, H + S, S)`` row of the batch's feature table for each window cell.
        exists: ``(B, H + S, S)`` False for header slots the table does not have.
        features: the batch's distinct texts' features.
    """

    index: np.ndarray
    exists: np.ndarray
    features: CellFeatures


def window_text_ids(source: CellSource, sheets: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                    header_rows: np.ndarray, *, radius: int, use_header: bool) -> tuple[np.ndarray, np.ndarray]:
    """Text ids ``(B, H + S, S)`` of each target's window (header rows first; the target and any
    header cell in its own row masked) and which header slots exist."""
    b = len(rows)
    offsets = np.arange(-radius, radius + 1)
    headers = np.asarray(header_rows, np.int64).reshape(b, MAX_HEADER_ROWS)
    if not use_header:
        headers = np.full_like(headers, -1)
    line_rows = np.concatenate([headers, rows[:, None] + offsets[None, :]], axis=1)  # (B, H + S)
    line_cols = cols[:, None] + offsets[None, :]  # (B, S)
    grid_rows = np.broadcast_to(line_rows[:, :, None], (b, line_rows.shape[1], len(offsets)))
    grid_cols = np.broadcast_to(line_cols[:, None, :], grid_rows.shape)
    grid_sheets = np.broadcast_to(np.asarray(sheets, np.int64)[:, None, None], grid_rows.shape)
    ids = source.text_ids(grid_sheets, grid_rows, grid_cols).copy()
    exists = np.ones(ids.shape, bool)
    exists[:, :MAX_HEADER_ROWS, :] = (headers >= 1)[:, :, None]
    ids[~exists] = PAD_TEXT
    ids[:, MAX_HEADER_ROWS + radius, radius] = MASK_TEXT
    own = headers == rows[:, None]  # a header row that is the target's own row
    ids[:, :MAX_HEADER_ROWS, radius][own] = MASK_TEXT
    return ids, exists


def plan_cells(source: FeatureSource, sheets: np.ndarray, rows: np.ndarray, cols: np.ndarray,
               header_rows: np.ndarray, *, radius: int, use_header: bool) -> CellPlan:
    ids, exists = window_text_ids(source, sheets, rows, cols, header_rows, radius=radius, use_header=use_header)
    unique, inverse = np.unique(ids, return_inverse=True)
    return CellPlan(index=inverse.reshape(ids.shape), exists=exists, features=source.text_features(unique))


def plan_feature_pointers(source: FeatureSource, books: np.ndarray, *, max_sheets: int,
                          max_names: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(vectors (P, 384), sheets (B, max_sheets), names (B, max_names))``: the pointer texts of the
    batch's workbooks and, per target, the rows of its sheets and names (-1 where none)."""
    blocks: list[np.ndarray] = []
    index: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    n = 0
    for book in np.unique(books):
        sheet_vec, name_vec = source.pointer_vectors(int(book))
        sheet_vec, name_vec = sheet_vec[:max_sheets], name_vec[:max_names]
        index[int(book)] = (np.arange(n, n + len(sheet_vec)), np.arange(n + len(sheet_vec), n + len(sheet_vec) + len(name_vec)))
        n += len(sheet_vec) + len(name_vec)
        blocks += [sheet_vec, name_vec]
    vectors = np.concatenate(blocks).astype(np.float32) if blocks else np.zeros((0, 384), np.float32)
    sheets = np.full((len(books), max_sheets), -1, np.int64)
    names = np.full((len(books), max_names), -1, np.int64)
    for b, book in enumerate(books):
        s_idx, n_idx = index[int(book)]
        sheets[b, :len(s_idx)] = s_idx
        names[b, :len(n_idx)] = n_idx
    return vectors, sheets, names
