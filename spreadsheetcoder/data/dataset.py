"""PyTorch datasets over a training cache (see cache.py), with length bucketing.

``FormulaDataset[i]`` rebuilds example ``i``'s context from the cache: the header rows then the
``2r+1`` window rows, ``2r+1`` columns each, every cell a fixed-width row of WordPiece ids. The
target is masked, cells outside the sheet are padded, absent cells are empty: exactly the window
that context.py builds from the workbook. ``BucketBatchSampler`` wraps any index sampler (a
``RandomSampler``, or a ``DistributedSampler`` under torchrun) and groups examples of similar
target length, so batches carry little padding.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import (
    DataLoader,
    Dataset,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
)
from tqdm import tqdm

from ..constants import EMPTY_TEXT, MASK_TEXT, MAX_COL, MAX_HEADER_ROWS, MAX_ROW, PAD_TEXT
from ..errors import ConfigError
from ..model.cellfeatures import (
    EMBED_DIM,
    NUMERIC_FEATURES,
    CellFeatures,
    CellFeaturizer,
    embedded_text,
    typed_features,
)
from ..vocab import Vocab
from .cache import (
    BOOK_POINTERS_NAME,
    CELL_KEYS_NAME,
    CELL_TEXT_NAME,
    EXAMPLES_NAME,
    FEATURES_DIR,
    KEY_STRIDE,
    META_NAME,
    POINTER_INDEX_NAME,
    POINTER_STRINGS_NAME,
    POINTER_TEXTS_NAME,
    RANGE_VOCAB_NAME,
    SHEET_OFFSETS_NAME,
    SKETCH_VOCAB_NAME,
    TARGETS_NAME,
    TEXT_STRINGS_NAME,
    TEXTS_NAME,
)
from .split import SPLITS

logger = logging.getLogger(__name__)

# Files of a cache's features/MODE/ folder (ensure_cell_features writes them, use_features reads them).
VECTORS_NAME, NUMERIC_NAME, TYPES_NAME = "vectors.npy", "numeric.npy", "types.npy"
POINTER_VECTORS_NAME = "pointer_vectors.npy"
_SHEET_STRIDE = (MAX_ROW + 2) * KEY_STRIDE  # global cell key = sheet * stride + row * KEY_STRIDE + col

__all__ = ["BucketBatchSampler", "FormulaDataset", "collate", "ensure_cell_features", "make_loader"]


def _read_strings(path: Path) -> list[str]:
    return json.loads(path.read_bytes().decode("utf-8", "surrogatepass"))


def ensure_cell_features(cache_dir: str | Path, mode: str = "minilm", *, progress: bool | None = None,
                         chunk: int = 4096) -> Path:
    """``CACHE/features/MODE/``: cell features of every text of a training cache, computed once.

    ``vectors.npy`` ``(n_texts, 384)`` float16 (MiniLM of the embedded part of each text, zeros where
    none), ``numeric.npy`` ``(n_texts, F)`` float32, ``types.npy`` ``(n_texts,)`` int8 and
    ``pointer_vectors.npy`` ``(n_pointer_texts, 384)`` float16. Written atomically (a folder renamed
    into place), so an interrupted run leaves nothing half-made.
    """
    cache = Path(cache_dir)
    folder = cache / FEATURES_DIR / mode
    if (folder / POINTER_VECTORS_NAME).is_file():
        return folder
    if not (cache / TEXT_STRINGS_NAME).is_file():
        raise ConfigError(f"{cache} has no {TEXT_STRINGS_NAME} (a cache older than version 4): rebuild it with `spreadsheetcoder cache`")
    texts = _read_strings(cache / TEXT_STRINGS_NAME)
    pointers = _read_strings(cache / POINTER_STRINGS_NAME)
    featurizer = CellFeaturizer(mode, max_cached=0)
    tmp = folder.with_name(f"{mode}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    vectors = np.zeros((len(texts), EMBED_DIM), np.float16)
    numeric = np.zeros((len(texts), NUMERIC_FEATURES), np.float32)
    types = np.zeros(len(texts), np.int8)
    embedded = [embedded_text(t) for t in texts]
    todo = sorted({t for t in embedded if t})
    row_of = {t: k for k, t in enumerate(todo)}
    computed = np.zeros((len(todo), EMBED_DIM), np.float16)
    bar = tqdm(total=len(todo) + len(pointers), desc=f"cell features ({mode})", unit="text",
               disable=None if progress is None else not progress)
    for start in range(0, len(todo), chunk):
        part = todo[start:start + chunk]
        computed[start:start + len(part)] = featurizer.vectors(part)
        bar.update(len(part))
    for k, (text, shown) in enumerate(zip(texts, embedded, strict=True)):
        numeric[k], types[k] = typed_features(text)
        if shown:
            vectors[k] = computed[row_of[shown]]
    pointer_vectors = np.zeros((len(pointers), EMBED_DIM), np.float16)
    for start in range(0, len(pointers), chunk):
        part = pointers[start:start + chunk]
        pointer_vectors[start:start + len(part)] = featurizer.vectors(part)
        bar.update(len(part))
    bar.close()
    np.save(tmp / VECTORS_NAME, vectors)
    np.save(tmp / NUMERIC_NAME, numeric)
    np.save(tmp / TYPES_NAME, types)
    np.save(tmp / POINTER_VECTORS_NAME, pointer_vectors)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    logger.info("cell features of %s: %d texts (%d embedded), %d pointer texts", cache, len(texts), len(todo), len(pointers))
    return folder


class FormulaDataset(Dataset[dict[str, Any]]):
    """Examples of one split of a cache folder (``split=None``: all of them).

    Each item is a dict: ``cells`` ``(MAX_HEADER_ROWS + 2r+1, 2r+1, T)`` int64 token ids (0 pads a
    cell's tokens; header slots beyond ``n_header`` hold the pad text), ``n_header``, ``sketch`` and
    ``ranges`` int64 id sequences, ``index`` (position in the cache's examples) and ``covered``
    (every target token is in the vocabularies).
    """

    def __init__(self, cache_dir: str | Path, split: str | None = "train", *, with_cells: bool = False,
                 window_radius: int | None = None) -> None:
        self.dir = Path(cache_dir)
        if not (self.dir / META_NAME).is_file():
            raise FileNotFoundError(f"{self.dir} is not a training cache (no {META_NAME}); build it with `spreadsheetcoder cache`")
        self.meta = json.loads((self.dir / META_NAME).read_text(encoding="utf-8"))
        self.stored_radius = int(self.meta["config"]["radius"])
        self.radius = int(window_radius if window_radius is not None
                          else self.meta["config"].get("window_radius", self.stored_radius))
        if self.radius > self.stored_radius:
            raise ConfigError(f"the cache stores windows of radius {self.stored_radius}; {self.radius} asked")
        self.with_cells = with_cells
        self.texts = np.load(self.dir / TEXTS_NAME, mmap_mode="r")
        self.cell_keys = np.load(self.dir / CELL_KEYS_NAME, mmap_mode="r")
        self.cell_text = np.load(self.dir / CELL_TEXT_NAME, mmap_mode="r")
        self.sheet_offsets = np.load(self.dir / SHEET_OFFSETS_NAME)
        self.examples = np.load(self.dir / EXAMPLES_NAME)
        self.targets = np.load(self.dir / TARGETS_NAME, mmap_mode="r")
        self.sketch_vocab = Vocab.load(self.dir / SKETCH_VOCAB_NAME)
        self.range_vocab = Vocab.load(self.dir / RANGE_VOCAB_NAME)
        self.pointer_texts = np.load(self.dir / POINTER_TEXTS_NAME)
        self.pointer_index = np.load(self.dir / POINTER_INDEX_NAME)
        self.book_pointers = np.load(self.dir / BOOK_POINTERS_NAME)
        sheet_of_cell = np.repeat(np.arange(len(self.sheet_offsets) - 1), np.diff(self.sheet_offsets))
        self._global_keys = sheet_of_cell * _SHEET_STRIDE + np.asarray(self.cell_keys)
        if split is None:
            self.indices = np.arange(len(self.examples))
        elif split in SPLITS:
            self.indices = np.flatnonzero(self.examples["split"] == SPLITS.index(split))
        else:
            raise ConfigError(f"unknown split {split!r}; expected one of {SPLITS} or None")
        size = 2 * self.radius + 1
        self._offsets = np.arange(-self.radius, self.radius + 1)
        self._shape = (MAX_HEADER_ROWS + size, size)

    def __len__(self) -> int:
        return len(self.indices)

    @property
    def locality(self) -> np.ndarray:
        """Sort key that puts targets of one sheet, near each other, next to each other: batches cut
        from it share most of their encoder chunks (model/chunks.py)."""
        ex = self.examples[self.indices]
        return (ex["sheet"].astype(np.int64) * (MAX_ROW + 1) + ex["row"]) * 64 + ex["col"] // 16

    @property
    def lengths(self) -> np.ndarray:
        """Target length (sketch + ranges) of each item, for bucketing."""
        ex = self.examples[self.indices]
        return (ex["n_sketch"].astype(np.int64) + ex["n_ranges"]).astype(np.int64)

    def text_grid(self, index: int) -> np.ndarray:
        """Rows of texts.npy for example ``index`` (of the whole cache): ``(H + 2r+1, 2r+1)``."""
        ex = self.examples[index]
        row, col = int(ex["row"]), int(ex["col"])
        rows = np.concatenate([ex["header"], row + self._offsets]).astype(np.int64)
        cols = col + self._offsets.astype(np.int64)
        keys = rows[:, None] * KEY_STRIDE + cols[None, :]
        lo, hi = self.sheet_offsets[ex["sheet"]], self.sheet_offsets[ex["sheet"] + 1]
        sheet_keys = self.cell_keys[lo:hi]
        pos = np.searchsorted(sheet_keys, keys)
        found = pos < len(sheet_keys)
        found[found] = sheet_keys[pos[found]] == keys[found]
        grid = np.full(keys.shape, EMPTY_TEXT, dtype=np.int64)
        grid[found] = self.cell_text[lo + pos[found]]
        outside = (rows[:, None] < 1) | (rows[:, None] > MAX_ROW) | (cols[None, :] < 1) | (cols[None, :] > MAX_COL)
        grid[np.broadcast_to(outside, keys.shape)] = PAD_TEXT
        grid[MAX_HEADER_ROWS + self.radius, self.radius] = MASK_TEXT
        header_is_target = rows[:MAX_HEADER_ROWS] == row
        grid[:MAX_HEADER_ROWS, self.radius][header_is_target] = MASK_TEXT
        return grid

    # CellSource (model/chunks.py): cell texts of any sheet of the cache, vectorised.
    def text_ids(self, sheets: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        keys = np.asarray(sheets, np.int64) * _SHEET_STRIDE + np.asarray(rows, np.int64) * KEY_STRIDE + cols
        pos = np.searchsorted(self._global_keys, keys)
        pos = np.minimum(pos, len(self._global_keys) - 1)
        found = self._global_keys[pos] == keys if len(self._global_keys) else np.zeros(keys.shape, bool)
        out = np.where(found, self.cell_text[pos] if len(self._global_keys) else EMPTY_TEXT, EMPTY_TEXT)
        outside = (rows < 1) | (rows > MAX_ROW) | (cols < 1) | (cols > MAX_COL)
        return np.where(outside, PAD_TEXT, out).astype(np.int64)

    def text_tokens(self, text_ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.texts[np.asarray(text_ids)], dtype=np.int64)

    def pointer_tokens(self, book: int) -> tuple[np.ndarray, np.ndarray]:
        s_start, n_sheets, n_start, n_names = (int(v) for v in self.book_pointers[book])
        sheets = self.pointer_texts[self.pointer_index[s_start:s_start + n_sheets]]
        names = self.pointer_texts[self.pointer_index[n_start:n_start + n_names]]
        return sheets.astype(np.int64), names.astype(np.int64)

    # FeatureSource (model/cellplan.py): the features encoder's inputs, precomputed once per cache.
    def use_features(self, mode: str = "minilm", *, progress: bool | None = None) -> FormulaDataset:
        """Load (computing them first if needed) the cache's cell features of ``mode``."""
        folder = ensure_cell_features(self.dir, mode, progress=progress)
        self.feature_vectors = np.load(folder / VECTORS_NAME, mmap_mode="r")
        self.feature_numeric = np.load(folder / NUMERIC_NAME)
        self.feature_types = np.load(folder / TYPES_NAME)
        self.feature_pointers = np.load(folder / POINTER_VECTORS_NAME, mmap_mode="r")
        return self

    def text_features(self, text_ids: np.ndarray) -> CellFeatures:
        if not hasattr(self, "feature_vectors"):
            raise ConfigError("call use_features() before asking a training cache for cell features")
        ids = np.asarray(text_ids, np.int64)
        return CellFeatures(np.asarray(self.feature_vectors[ids], np.float32),
                            np.asarray(self.feature_numeric[ids], np.float32), self.feature_types[ids].astype(np.int64))

    def pointer_vectors(self, book: int) -> tuple[np.ndarray, np.ndarray]:
        s_start, n_sheets, n_start, n_names = (int(v) for v in self.book_pointers[book])
        sheets = self.feature_pointers[self.pointer_index[s_start:s_start + n_sheets]]
        names = self.feature_pointers[self.pointer_index[n_start:n_start + n_names]]
        return np.asarray(sheets, np.float32), np.asarray(names, np.float32)

    def __getitem__(self, i: int) -> dict[str, Any]:
        index = int(self.indices[i])
        ex = self.examples[index]
        start, n_sketch, n_ranges = int(ex["target"]), int(ex["n_sketch"]), int(ex["n_ranges"])
        ids = np.asarray(self.targets[start:start + n_sketch + n_ranges], dtype=np.int64)
        item = {
            "sheet": int(ex["sheet"]), "row": int(ex["row"]), "col": int(ex["col"]),
            "header": np.asarray(ex["header"], dtype=np.int64), "book": int(ex["book"]),
            "n_header": int(ex["n_header"]),
            "sketch": ids[:n_sketch],
            "ranges": ids[n_sketch:],
            "index": index,
            "covered": bool(ex["covered"]),
        }
        if self.with_cells:
            item["cells"] = np.asarray(self.texts[self.text_grid(index)], dtype=np.int64)
        return item


def collate(items: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
    """Stack items; pad targets with 0 (``<pad>``) and (with cells) trim the per-cell token axis to the
    batch's longest."""
    out: dict[str, torch.Tensor] = {}
    if "cells" in items[0]:
        cells = np.stack([item["cells"] for item in items])
        used = int(np.max(np.flatnonzero(cells.reshape(-1, cells.shape[-1]).any(axis=0)), initial=0)) + 1
        out["cells"] = torch.from_numpy(np.ascontiguousarray(cells[..., :used]))
    for key in ("sheet", "row", "col", "book"):
        out[key] = torch.tensor([item[key] for item in items])
    out["header"] = torch.from_numpy(np.stack([item["header"] for item in items]))
    for key in ("sketch", "ranges"):
        longest = max(len(item[key]) for item in items)
        padded = np.zeros((len(items), longest), dtype=np.int64)
        for b, item in enumerate(items):
            padded[b, :len(item[key])] = item[key]
        out[key] = torch.from_numpy(padded)
    out["n_header"] = torch.tensor([item["n_header"] for item in items])
    out["index"] = torch.tensor([item["index"] for item in items])
    out["covered"] = torch.tensor([item["covered"] for item in items])
    return out


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of similar length drawn from any index sampler.

    Takes ``pool = batch_size * pool_batches`` indices at a time from ``sampler`` (so the order and
    the sharding of a ``DistributedSampler`` are kept), sorts the pool by ``lengths``, cuts it into
    batches and yields them in a seeded random order.
    """

    def __init__(self, sampler: Sampler[int], lengths: Sequence[int] | np.ndarray, batch_size: int,
                 *, pool_batches: int = 50, drop_last: bool = False, seed: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.sampler = sampler
        self.lengths = np.asarray(lengths)
        self.batch_size = batch_size
        self.pool = batch_size * pool_batches
        self.drop_last = drop_last
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.sampler, "set_epoch"):
            self.sampler.set_epoch(epoch)

    def _batches(self, pool: list[int], rng: np.random.Generator) -> list[list[int]]:
        pool.sort(key=lambda i: self.lengths[i])
        batches = [pool[k:k + self.batch_size] for k in range(0, len(pool), self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        order = rng.permutation(len(batches))
        return [batches[k] for k in order]

    def __iter__(self) -> Iterator[list[int]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        pool: list[int] = []
        for index in self.sampler:
            pool.append(index)
            if len(pool) == self.pool:
                yield from self._batches(pool, rng)
                pool = []
        if pool:
            yield from self._batches(pool, rng)

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]  # every sampler we wrap is sized
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)


def make_loader(dataset: FormulaDataset, batch_size: int, *, shuffle: bool = True, distributed: bool = False,
                seed: int = 0, num_workers: int = 0, drop_last: bool = False,
                collate_fn: Any = collate, group: str = "length", pool_batches: int = 50) -> DataLoader[Any]:
    """A DataLoader with bucketing; ``distributed`` shards by rank with a DistributedSampler.

    ``group="length"`` buckets by target length (least padding); ``group="sheet"`` by position in
    the sheet (``FormulaDataset.locality``: least encoder work per batch).
    """
    if group not in ("length", "sheet"):
        raise ConfigError(f"group must be 'length' or 'sheet', got {group!r}")
    sampler: Sampler[int]
    if distributed:
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed)
    elif shuffle:
        sampler = RandomSampler(dataset, generator=torch.Generator().manual_seed(seed))
    else:
        sampler = SequentialSampler(dataset)
    keys = dataset.lengths if group == "length" else dataset.locality
    batches = BucketBatchSampler(sampler, keys, batch_size, drop_last=drop_last, seed=seed, pool_batches=pool_batches)
    return DataLoader(dataset, batch_sampler=batches, collate_fn=collate_fn, num_workers=num_workers)
