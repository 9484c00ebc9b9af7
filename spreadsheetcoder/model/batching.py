"""Batches for the model: chunk plans and pointer plans as tensors, plus teacher-forcing targets.

``Batcher`` is used the same way in training (items of a ``FormulaDataset``, which is also the
``CellSource``) and at inference (targets of a live workbook, see predict.py), so both see the
same chunks, the same masking and the same pointer candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..pretrained import CellTokenizer
from ..vocab import BOS, SPECIALS
from .cellplan import FeatureSource, plan_cells, plan_feature_pointers
from .chunks import CellSource, plan_batch, plan_pointers, tag_table
from .configuration import SpreadsheetCoderConfig

__all__ = ["BOS_ID", "Batcher", "teacher_forcing"]

BOS_ID = SPECIALS.index(BOS)  # the same in both vocabularies


def teacher_forcing(sketches: Sequence[np.ndarray], ranges: Sequence[np.ndarray]) -> dict[str, torch.Tensor]:
    """Decoder inputs and outputs of a batch: ``[<bos>, sketch..., <eos>, ranges...]`` shifted by one.

    ``in_ids``/``out_ids`` ``(B, T)``; ``in_range``/``out_range`` tell which vocabulary each id is
    in; ``out_mask`` marks real positions.
    """
    longest = max(len(s) + len(r) for s, r in zip(sketches, ranges, strict=True))
    b = len(sketches)
    in_ids = np.zeros((b, longest), np.int64)
    out_ids = np.zeros((b, longest), np.int64)
    in_range = np.zeros((b, longest), bool)
    out_range = np.zeros((b, longest), bool)
    out_mask = np.zeros((b, longest), bool)
    for i, (s, r) in enumerate(zip(sketches, ranges, strict=True)):
        n, m = len(s), len(r)
        out_ids[i, :n + m] = np.concatenate([s, r])
        out_range[i, n:n + m] = True
        out_mask[i, :n + m] = True
        seq_in = np.concatenate([[BOS_ID], s, r])[: n + m]
        in_ids[i, :n + m] = seq_in
        in_range[i, n + 1:n + m] = True
    return {"in_ids": torch.from_numpy(in_ids), "in_range": torch.from_numpy(in_range),
            "out_ids": torch.from_numpy(out_ids), "out_range": torch.from_numpy(out_range),
            "out_mask": torch.from_numpy(out_mask)}


class Batcher:
    """Turns targets into model inputs with the tokenizer's special ids and tag words."""

    def __init__(self, config: SpreadsheetCoderConfig, tokenizer: CellTokenizer | None = None) -> None:
        self.config = config
        tokenizer = tokenizer or CellTokenizer()
        self.cls_id = tokenizer.token_id("[CLS]")
        self.sep_id = tokenizer.token_id("[SEP]")
        self.tags = tag_table(tokenizer.encode, tokenizer.token_id)

    def inputs(self, source: CellSource, sheets: np.ndarray, rows: np.ndarray, cols: np.ndarray,
               header_rows: np.ndarray, books: np.ndarray) -> dict[str, Any]:
        cfg = self.config
        if cfg.encoder == "features":
            return self.feature_inputs(source, sheets, rows, cols, header_rows, books)  # type: ignore[arg-type]
        plan = plan_batch(source, sheets, rows, cols, header_rows, radius=cfg.radius, tile=cfg.tile,
                          cls_id=self.cls_id, sep_id=self.sep_id, max_cell_tokens=cfg.max_cell_tokens,
                          tags=self.tags, use_header=cfg.use_header)
        pointers = plan_pointers(source, books, max_sheets=cfg.max_sheets, max_names=cfg.max_names,
                                 cls_id=self.cls_id, sep_id=self.sep_id)
        return {
            "chunk_tokens": torch.from_numpy(plan.tokens), "chunk_types": torch.from_numpy(plan.types),
            "chunk_slots": torch.from_numpy(plan.slots), "n_slots": plan.n_slots,
            "row_cells": torch.from_numpy(np.ascontiguousarray(plan.row_cells)),
            "col_cells": torch.from_numpy(np.ascontiguousarray(plan.col_cells)),
            "pointer_tokens": torch.from_numpy(pointers.tokens),
            "pointer_sheets": torch.from_numpy(pointers.sheets), "pointer_names": torch.from_numpy(pointers.names),
            "chunks_requested": plan.chunks_requested, "chunk_keys": plan.keys,
        }

    def feature_inputs(self, source: FeatureSource, sheets: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                       header_rows: np.ndarray, books: np.ndarray) -> dict[str, Any]:
        """Inputs of the ``features`` encoder (model/grid.py): the batch's distinct cell features and
        each window as rows of them, plus the pointer vectors."""
        cfg = self.config
        plan = plan_cells(source, sheets, rows, cols, header_rows, radius=cfg.radius, use_header=cfg.use_header)
        vectors, pointer_sheets, pointer_names = plan_feature_pointers(source, books, max_sheets=cfg.max_sheets,
                                                                       max_names=cfg.max_names)
        return {
            "cell_index": torch.from_numpy(plan.index), "cell_exists": torch.from_numpy(plan.exists),
            "cell_vectors": torch.from_numpy(np.ascontiguousarray(plan.features.vectors, np.float32)),
            "cell_numeric": torch.from_numpy(np.ascontiguousarray(plan.features.numeric, np.float32)),
            "cell_types": torch.from_numpy(np.asarray(plan.features.types, np.int64)),
            "pointer_vectors": torch.from_numpy(vectors), "pointer_sheets": torch.from_numpy(pointer_sheets),
            "pointer_names": torch.from_numpy(pointer_names),
        }

    def collate(self, source: CellSource, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """A training batch from ``FormulaDataset`` items (the dataset is the source)."""
        batch = self.inputs(
            source,
            np.array([it["sheet"] for it in items], np.int64), np.array([it["row"] for it in items], np.int64),
            np.array([it["col"] for it in items], np.int64), np.stack([it["header"] for it in items]).astype(np.int64),
            np.array([it["book"] for it in items], np.int64),
        )
        batch.update(teacher_forcing([it["sketch"] for it in items], [it["ranges"] for it in items]))
        batch["index"] = torch.tensor([it["index"] for it in items])
        batch["covered"] = torch.tensor([it["covered"] for it in items])
        return batch


class DatasetCollator:
    """Picklable ``collate_fn`` for a DataLoader over ``dataset`` (worker processes included)."""

    def __init__(self, batcher: Batcher, dataset: CellSource) -> None:
        self.batcher, self.dataset = batcher, dataset

    def __call__(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return self.batcher.collate(self.dataset, items)


def to_device(batch: dict[str, Any], device: torch.device | str) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
