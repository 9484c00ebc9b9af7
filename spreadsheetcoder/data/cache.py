"""Examples -> a compact, memory-mappable training cache (tokenised once, never again).

``build_cache`` streams extract's JSONL examples once. Every distinct cell text of the whole corpus
is tokenised once (``texts.npy``: one fixed-width row of WordPiece ids per text); every sheet's
cells are stored once as sorted ``(row, col)`` keys pointing at those rows (``cell_keys.npy``,
``cell_text.npy``), however many targets' windows overlap them; each example keeps only its
position, its header rows and its target ids. ``dataset.FormulaDataset`` rebuilds any window from
these arrays in microseconds. The cache folder is named by a key over the config, the tokenizer
and the inputs, so a changed tokenizer or config never reuses a stale cache.

Layout of a cache folder::

    meta.json            config, counts, key, tokenizer fingerprint, input files
    sketch_vocab.json    decoder vocabularies (built on the train split)
    range_vocab.json
    texts.npy            (n_texts, max_cell_tokens) uint16; rows 0, 1, 2 are empty, pad, mask
    texts.json           the typed texts themselves, same rows (cell features: model/cellfeatures.py)
    cell_keys.npy        (n_cells,) int64  row * KEY_STRIDE + col, sorted within each sheet
    cell_text.npy        (n_cells,) int32  row of texts.npy
    sheet_offsets.npy    (n_sheets + 1,) int64 into cell_keys
    examples.npy         structured array, one record per example (see EXAMPLE_DTYPE)
    targets.npy          (n_target_ids,) int32  sketch ids then range ids of each example
    sheets.json          [[workbook, sheet], ...]
    pointer_texts.npy    (n_pointer_texts, POINTER_TOKENS) uint16: sheet views and defined names
    pointer_strings.json those texts themselves, same rows
    features/MODE/       cell features (``ensure_cell_features``), computed on first use
    book_pointers.npy    (n_books, 4) int64: first row and count of the book's sheets, then names,
                         in pointer_index.npy
    pointer_index.npy    (n,) int32 rows of pointer_texts.npy
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..anchors import ANCHOR_NAMES, sheet_view
from ..constants import (
    DEFAULT_CONTEXT,
    MAX_COL,
    MAX_HEADER_ROWS,
    POINTER_TOKENS,
    SPECIAL_TEXTS,
    TAG_MASK,
    WINDOW_RADIUS,
    ContextSetting,
)
from ..context import check_context, stored_context
from ..errors import ConfigError, DataError
from ..formula import Formula
from ..pretrained import CellTokenizer
from ..references import Corner, Reference
from ..vocab import (
    AREA,
    CELL,
    NAME,
    NAME_PREFIX,
    OWN_SHEET,
    SHEET_PREFIX,
    STRUCT,
    UNK,
    RefContext,
    Vocab,
    formula_tokens,
)
from .jsonl import iter_jsonl
from .split import SPLITS, WorkbookSplitter

logger = logging.getLogger(__name__)

__all__ = ["EXAMPLE_DTYPE", "KEY_STRIDE", "CacheConfig", "build_cache", "examples_radius", "formula_from_record"]

CACHE_VERSION = 4
# File names of a cache folder (the layout above): build_cache writes them, dataset.py reads them.
META_NAME = "meta.json"
SKETCH_VOCAB_NAME, RANGE_VOCAB_NAME = "sketch_vocab.json", "range_vocab.json"
TEXTS_NAME, TEXT_STRINGS_NAME = "texts.npy", "texts.json"
CELL_KEYS_NAME, CELL_TEXT_NAME, SHEET_OFFSETS_NAME = "cell_keys.npy", "cell_text.npy", "sheet_offsets.npy"
EXAMPLES_NAME, TARGETS_NAME, SHEETS_NAME = "examples.npy", "targets.npy", "sheets.json"
POINTER_TEXTS_NAME, POINTER_STRINGS_NAME = "pointer_texts.npy", "pointer_strings.json"
BOOK_POINTERS_NAME, POINTER_INDEX_NAME = "book_pointers.npy", "pointer_index.npy"
FEATURES_DIR = "features"
KEY_STRIDE = MAX_COL + 1  # cell key = row * KEY_STRIDE + col
EXAMPLE_DTYPE = np.dtype([
    ("sheet", np.int32), ("row", np.int32), ("col", np.int32),
    ("header", np.int32, (MAX_HEADER_ROWS,)), ("n_header", np.int8), ("split", np.int8),
    ("target", np.int64), ("n_sketch", np.int16), ("n_ranges", np.int16),
    ("covered", np.bool_), ("line", np.int64), ("input", np.int16), ("book", np.int32),
])


@dataclass(frozen=True)
class CacheConfig:
    """What a cache depends on besides its inputs and tokenizer.

    Args:
        context: the context setting the examples were extracted with (``values`` / ``formulas``).
        radius: half-size of the windows stored with the examples; must match the examples'
            (a tiling encoder needs more than its own window: see model/chunks.py).
        window_radius: the model's window: offsets beyond it are written as anchors when one fits.
        max_sheets, max_names: pointer slots of the range vocabulary (``sheet:K``, ``name:K``).
        max_cell_tokens: WordPiece tokens kept per cell text.
        sketch_min_count: sketch tokens seen fewer times in train become ``<unk>``.
        range_min_count: the same for range tokens.
    """

    context: ContextSetting = DEFAULT_CONTEXT
    radius: int = WINDOW_RADIUS
    max_cell_tokens: int = 12
    sketch_min_count: int = 2
    range_min_count: int = 2
    window_radius: int = WINDOW_RADIUS
    max_sheets: int = 64
    max_names: int = 256

    def pointer_tokens(self) -> list[str]:
        """Range tokens every cache vocabulary holds, seen in training or not (pointers, anchors)."""
        return [CELL, AREA, NAME, STRUCT, OWN_SHEET, *(f"{SHEET_PREFIX}{k}" for k in range(self.max_sheets)),
                *(f"{NAME_PREFIX}{k}" for k in range(self.max_names)), *ANCHOR_NAMES]

    def __post_init__(self) -> None:
        check_context(self.context)


def formula_from_record(record: dict[str, Any]) -> Formula:
    """The ``Formula`` of an extract record (its ``sketch`` and ``ranges`` fields)."""

    def corner(data: dict[str, Any] | None) -> Corner | None:
        return None if data is None else Corner(data["row"], data["col"], data["row_abs"], data["col_abs"])

    refs = tuple(
        Reference(sheet=r["sheet"], start=corner(r["start"]), end=corner(r["end"]), name=r["name"], spec=r["spec"])
        for r in record["ranges"]
    )
    return Formula(tuple(record["sketch"]), refs)


def _iter_jsonl(paths: Sequence[Path]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    for input_index, path in enumerate(paths):
        for line_no, record in iter_jsonl(path):
            yield input_index, line_no, record


def cache_key(inputs: Sequence[Path], config: CacheConfig, tokenizer: CellTokenizer, splitter: WorkbookSplitter) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": CACHE_VERSION, "config": asdict(config),
                              "tokenizer": tokenizer.fingerprint, "dev": splitter.dev, "test": splitter.test,
                              "fixed": sorted(splitter.fixed.items())}, sort_keys=True).encode())
    for path in inputs:
        stat = path.stat()
        digest.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _write_json(path: Path, data: Any) -> None:
    # surrogatepass: a lone surrogate read from a workbook is kept, not a crash
    path.write_bytes(json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"))


class _Builder:
    """Accumulates one pass over the examples; see ``build_cache``."""

    def __init__(self, config: CacheConfig, splitter: WorkbookSplitter) -> None:
        self.config = config
        self.splitter = splitter
        self.text_ids: dict[str, int] = {t: i for i, t in enumerate(SPECIAL_TEXTS)}
        self.sheet_ids: dict[tuple[int, str, str], int] = {}
        self.sheet_cells: dict[int, dict[int, int]] = {}
        self.sheet_names: list[tuple[str, str]] = []
        self.done_keys: list[np.ndarray] = []
        self.done_texts: list[np.ndarray] = []
        self.sheet_offsets = [0]
        self.examples: list[tuple[Any, ...]] = []
        self.sketches: list[list[str]] = []
        self.ranges: list[list[str]] = []
        self.skipped: dict[str, int] = {"unrepresentable": 0}
        self.current_workbook: tuple[int, str] | None = None
        self.current_names: list[str] | None = None
        self.pointer_ids: dict[str, int] = {}
        self.pointer_index: list[int] = []
        self.book_pointers: list[tuple[int, int, int, int]] = []

    def _pointer_text(self, text: str) -> int:
        index = self.pointer_ids.get(text)
        if index is None:
            index = self.pointer_ids[text] = len(self.pointer_ids)
        return index

    def _add_book(self, record: dict[str, Any]) -> None:
        sheets = record.get("sheets", [])
        heads = record.get("sheet_heads") or [""] * len(sheets)
        views = [sheet_view(name, head) for name, head in zip(sheets, heads, strict=True)]
        names = record.get("names", [])
        start = len(self.pointer_index)
        self.pointer_index += [self._pointer_text(v) for v in views]
        self.pointer_index += [self._pointer_text(n) for n in names]
        self.book_pointers.append((start, len(views), start + len(views), len(names)))

    def _text(self, text: str) -> int:
        index = self.text_ids.get(text)
        if index is None:
            index = self.text_ids[text] = len(self.text_ids)
        return index

    def _flush(self) -> None:
        """Freeze the cells of the sheets read so far (the JSONL holds a workbook's lines together)."""
        for sheet_id in sorted(self.sheet_cells):
            cells = self.sheet_cells[sheet_id]
            keys = np.fromiter(cells.keys(), dtype=np.int64, count=len(cells))
            texts = np.fromiter(cells.values(), dtype=np.int32, count=len(cells))
            order = np.argsort(keys, kind="stable")
            self.done_keys.append(keys[order])
            self.done_texts.append(texts[order])
            self.sheet_offsets.append(self.sheet_offsets[-1] + len(cells))
        self.sheet_cells.clear()

    def add(self, input_index: int, line_no: int, record: dict[str, Any]) -> None:
        window = record["context"]
        if stored_context(window) != self.config.context or int(window["radius"]) != self.config.radius:
            raise ConfigError(
                f"example {record['workbook']}!{record['cell']} has context {stored_context(window)!r} radius "
                f"{window['radius']}; the cache is configured for {self.config.context!r} radius {self.config.radius}"
            )
        if not record.get("representable"):
            self.skipped["unrepresentable"] += 1
            return
        workbook = (input_index, record["workbook"])
        if workbook != self.current_workbook:
            self._flush()
            self.current_workbook = workbook
            self.current_names = None
        if record.get("names", []) != self.current_names:  # sheet-scoped names: another pointer list
            self.current_names = record.get("names", [])
            self._add_book(record)
        key = (input_index, record["workbook"], record["sheet"])
        sheet_id = self.sheet_ids.get(key)
        if sheet_id is None:
            sheet_id = self.sheet_ids[key] = len(self.sheet_names)
            self.sheet_names.append((record["workbook"], record["sheet"]))
            self.sheet_cells[sheet_id] = {}
        elif sheet_id not in self.sheet_cells:
            raise ConfigError(f"{record['workbook']} appears twice, apart, in the input: extract writes it in one run")
        cells = self.sheet_cells[sheet_id]
        row, col, radius = int(record["row"]), int(record["col"]), self.config.radius
        for i, j, text in window["cells"]:
            if text != TAG_MASK:
                cells[(row - radius + i) * KEY_STRIDE + (col - radius + j)] = self._text(text)
        header_rows = [int(r) for r in window["header_rows"]][-MAX_HEADER_ROWS:]
        for i, j, text in window["headers"]:
            if text != TAG_MASK and i < len(header_rows):
                cells[header_rows[i] * KEY_STRIDE + (col - radius + j)] = self._text(text)
        ctx = RefContext(record["sheet"], record.get("sheets", []), record.get("names", []), origin=(row, col),
                         radius=self.config.window_radius, anchors=record.get("anchors", {}),
                         tables={name.casefold(): (first, columns) for name, first, columns in record.get("tables", [])},
                         own_table=record.get("own_table"))
        sketch, ranges = formula_tokens(formula_from_record(record), ctx)
        self.sketches.append(sketch)
        self.ranges.append(ranges)
        header = header_rows + [-1] * (MAX_HEADER_ROWS - len(header_rows))
        split = SPLITS.index(self.splitter(record["workbook"]))
        self.examples.append((sheet_id, row, col, header, len(header_rows), split, 0, len(sketch), len(ranges),
                              True, line_no, input_index, len(self.book_pointers) - 1))

    def write(self, folder: Path, tokenizer: CellTokenizer, meta: dict[str, Any]) -> dict[str, Any]:
        self._flush()
        texts = list(self.text_ids)
        width = self.config.max_cell_tokens
        table = np.zeros((len(texts), width), dtype=np.uint16)
        for start in range(0, len(texts), 65536):
            for k, text_ids in enumerate(tokenizer.encode(texts[start:start + 65536])):
                table[start + k, :len(text_ids)] = text_ids
        examples = np.array(self.examples, dtype=EXAMPLE_DTYPE) if self.examples else np.zeros(0, EXAMPLE_DTYPE)
        train = examples["split"] == SPLITS.index("train") if len(examples) else np.zeros(0, bool)
        sketch_vocab = Vocab.build((s for s, t in zip(self.sketches, train, strict=True) if t),
                                   self.config.sketch_min_count)
        range_vocab = Vocab.build((r for r, t in zip(self.ranges, train, strict=True) if t),
                                  self.config.range_min_count, always=self.config.pointer_tokens())
        ids: list[int] = []
        for n, (sketch, ranges) in enumerate(zip(self.sketches, self.ranges, strict=True)):
            examples["target"][n] = len(ids)
            examples["covered"][n] = (sketch_vocab.covers(sketch) and range_vocab.covers(ranges)
                                      and UNK not in sketch and UNK not in ranges)
            ids += sketch_vocab.encode(sketch) + range_vocab.encode(ranges)
        np.save(folder / TEXTS_NAME, table)
        _write_json(folder / TEXT_STRINGS_NAME, texts)
        pointer_table = np.zeros((len(self.pointer_ids), POINTER_TOKENS), dtype=np.uint16)
        pointer_texts = list(self.pointer_ids)
        tokenizer_wide = CellTokenizer(tokenizer.path, max_tokens=POINTER_TOKENS)
        for start in range(0, len(pointer_texts), 65536):
            for k, text_ids in enumerate(tokenizer_wide.encode(pointer_texts[start:start + 65536])):
                pointer_table[start + k, :len(text_ids)] = text_ids
        np.save(folder / POINTER_TEXTS_NAME, pointer_table)
        _write_json(folder / POINTER_STRINGS_NAME, pointer_texts)
        np.save(folder / POINTER_INDEX_NAME, np.array(self.pointer_index, dtype=np.int32))
        np.save(folder / BOOK_POINTERS_NAME, np.array(self.book_pointers, dtype=np.int64).reshape(-1, 4))
        np.save(folder / CELL_KEYS_NAME, np.concatenate(self.done_keys) if self.done_keys else np.zeros(0, np.int64))
        np.save(folder / CELL_TEXT_NAME, np.concatenate(self.done_texts) if self.done_texts else np.zeros(0, np.int32))
        np.save(folder / SHEET_OFFSETS_NAME, np.array(self.sheet_offsets, dtype=np.int64))
        np.save(folder / EXAMPLES_NAME, examples)
        np.save(folder / TARGETS_NAME, np.array(ids, dtype=np.int32))
        sketch_vocab.save(folder / SKETCH_VOCAB_NAME)
        range_vocab.save(folder / RANGE_VOCAB_NAME)
        (folder / SHEETS_NAME).write_text(json.dumps(self.sheet_names, ensure_ascii=False), encoding="utf-8")
        meta.update({
            "examples": len(examples),
            "by_split": {s: int((examples["split"] == i).sum()) for i, s in enumerate(SPLITS)},
            "covered": round(float(examples["covered"].mean()), 4) if len(examples) else 1.0,
            "skipped": self.skipped,
            "sheets": len(self.sheet_names),
            "cells": int(self.sheet_offsets[-1]),
            "texts": len(texts),
            "sketch_vocab": len(sketch_vocab),
            "range_vocab": len(range_vocab),
        })
        (folder / META_NAME).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        return meta


def examples_radius(path: str | os.PathLike[str]) -> int:
    """The window half-size the examples of the JSONL file ``path`` were extracted with: the first
    example's ``context.radius`` (``WINDOW_RADIUS`` for an empty file).

    Raises ``FileNotFoundError`` for a missing file and ``DataError`` when the first example is not
    one written by extract."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such examples file: {path}")
    for _, record in iter_jsonl(path):
        context = record.get("context")
        radius = context.get("radius") if isinstance(context, dict) else None
        if isinstance(radius, bool) or not isinstance(radius, int) or radius < 0:
            raise DataError(f"{path}: the first example has no context.radius; is it an examples file written by "
                            "extract?")
        return radius
    return WINDOW_RADIUS


def build_cache(
    inputs: Sequence[str | os.PathLike[str]],
    cache_root: str | os.PathLike[str],
    *,
    config: CacheConfig | None = None,
    tokenizer: CellTokenizer | None = None,
    splitter: WorkbookSplitter | None = None,
    progress: bool | None = None,
    force: bool = False,
) -> Path:
    """Build (or reuse) the cache of ``inputs`` (extract JSONL files) under ``cache_root``.

    Returns the cache folder ``cache_root/<key>``; an existing complete cache with the same key
    is reused unless ``force``. Unrepresentable examples are counted in ``meta.json`` and left out.
    """
    config = config or CacheConfig()
    tokenizer = tokenizer or CellTokenizer(max_tokens=config.max_cell_tokens)
    if tokenizer.max_tokens != config.max_cell_tokens:
        raise ConfigError(f"tokenizer keeps {tokenizer.max_tokens} tokens per cell, config says {config.max_cell_tokens}")
    splitter = splitter or WorkbookSplitter()
    paths = [Path(p) for p in inputs]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"no such examples file: {path}")
    key = cache_key(paths, config, tokenizer, splitter)
    folder = Path(cache_root) / key
    if (folder / META_NAME).is_file() and not force:
        logger.info("reusing cache %s", folder)
        return folder
    start = time.perf_counter()
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    builder = _Builder(config, splitter)
    for input_index, line_no, record in tqdm(_iter_jsonl(paths), desc="cache", unit="ex", disable=None if progress is None else not progress):
        builder.add(input_index, line_no, record)
    meta = {"version": CACHE_VERSION, "key": key, "config": asdict(config), "tokenizer": str(tokenizer.path),
            "tokenizer_fingerprint": tokenizer.fingerprint, "inputs": [str(p) for p in paths]}
    meta = builder.write(tmp, tokenizer, meta)
    meta["seconds"] = round(time.perf_counter() - start, 1)
    (tmp / META_NAME).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)
    logger.info("cache %s: %d examples, %d cells, %d texts in %.1f s", folder, meta["examples"], meta["cells"],
                meta["texts"], meta["seconds"])
    return folder
