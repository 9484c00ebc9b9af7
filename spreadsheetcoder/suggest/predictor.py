"""Inference on live workbooks: ``FormulaPredictor`` (the harness's ``Predictor``).

``WorkbookSource`` is the ``CellSource`` of one workbook: each distinct cell text is tokenised once,
so the targets of a sheet (and of a whole workbook) share texts, chunks and pointer encodings.
Predictions go through the same ``Batcher`` as training, then constrained beam search, then
``decode_formula`` + ``render_formula`` to A1 text at the target.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..anchors import AnchorIndex, sheet_head, sheet_view, visible_names, workbook_tables
from ..constants import (
    CONTEXT_FORMULAS,
    MAX_COL,
    MAX_HEADER_ROWS,
    MAX_ROW,
    PAD_TEXT,
    POINTER_TOKENS,
    SPECIAL_TEXTS,
    ContextSetting,
)
from ..context import SheetContext
from ..errors import ConfigError, FormulaError
from ..formula import canonical_formula, render_formula
from ..model.batching import Batcher, to_device
from ..model.beam import Grammar, beam_search, confidence
from ..model.cellfeatures import CellFeatures, CellFeaturizer
from ..model.modeling import SpreadsheetCoder
from ..pretrained import CellTokenizer
from ..sheet import Sheet, Workbook
from ..targets import Target
from ..vocab import NAME_PREFIX, OWN_SHEET, SHEET_PREFIX, UNK, RefContext, decode_formula, formula_tokens
from .neighbours import (
    COPY_PRECISION,
    RUN_CONTINUATION_PRECISION,
    FormulaIndex,
    copy_candidates,
    run_continuation,
)
from .safety import has_external_effect
from .types import Candidate

__all__ = ["FormulaPredictor", "WorkbookSource"]


def _sketch_kind(token: str) -> str:
    """Kind of a sketch token the vocabulary lacks (coverage reports)."""
    if token.startswith('"'):
        return "string"
    if token[:1].isdigit() or token[:1] == ".":
        return "number"
    if token.endswith("("):
        return "function"
    if token.startswith("#"):
        return "error-literal"
    return "other"


def _range_kind(token: str) -> str:
    """Kind of a range token the vocabulary lacks (coverage reports)."""
    if token == UNK:
        return "unresolved-pointer"
    if token[:1] in "rR" and token[1:2] in ("+", "-"):
        return "row-offset"
    if token[:1] in "cC" and token[1:2] in ("+", "-"):
        return "col-offset"
    if token[:1] == "R" and token[1:].isdigit():
        return "absolute-row"
    if token[:1] == "C" and token[1:].isdigit():
        return "absolute-col"
    return token.split(":", 1)[0] if ":" in token else "other"


class WorkbookSource:
    """``CellSource`` over one workbook's sheets (indexed by tab position) in one context setting."""

    def __init__(self, workbook: Workbook, context: ContextSetting, tokenizer: CellTokenizer, max_tokens: int = 12,
                 featurizer: CellFeaturizer | None = None, pointer_tokenizer: CellTokenizer | None = None) -> None:
        self.workbook = workbook
        self.featurizer = featurizer
        self.strings: list[str] = list(SPECIAL_TEXTS)  # text of each id (features encoder)
        self.contexts = [SheetContext(sheet, context) for sheet in workbook.sheets]
        self.tokenizer = tokenizer
        self.pointer_tokenizer = pointer_tokenizer or CellTokenizer(tokenizer.path, max_tokens=POINTER_TOKENS)
        self.ids: dict[str, int] = {text: i for i, text in enumerate(SPECIAL_TEXTS)}
        self.width = max_tokens
        self.table = self._tokens(list(SPECIAL_TEXTS))
        self._sheet_pointers: np.ndarray | None = None
        self._name_pointers: dict[int, np.ndarray] = {}
        # The predictor's encodings of this source's chunks (by chunk key) and pointer tables (by sheet).
        self.encoded: dict[bytes, Any] = {}
        self.pointer_keys: dict[int, Any] = {}
        self.encoded_bytes = 0  # memory of the two, counted as they are added
        self._names: dict[str, list[str]] = {}
        self.tables = {name.casefold(): (first, columns) for name, first, columns in workbook_tables(workbook)}

    def _tokens(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.width), np.int64)
        for k, ids in enumerate(self.tokenizer.encode(texts)):
            out[k, :len(ids)] = ids[: self.width]
        return out

    def text_ids(self, sheets: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        flat = np.stack([np.broadcast_to(sheets, rows.shape).ravel(), rows.ravel(), cols.ravel()], axis=1)
        unique, inverse = np.unique(flat, axis=0, return_inverse=True)
        out = np.empty(len(unique), np.int64)
        new: list[str] = []
        for k, (s, r, c) in enumerate(unique.tolist()):
            if not (1 <= r <= MAX_ROW and 1 <= c <= MAX_COL):
                out[k] = PAD_TEXT
                continue
            text = self.contexts[s].text(r, c)
            index = self.ids.get(text)
            if index is None:
                index = self.ids[text] = len(self.ids)
                new.append(text)
            out[k] = index
        if new:
            self.strings += new
            if self.featurizer is None:
                self.table = np.concatenate([self.table, self._tokens(new)])
        return out[inverse.reshape(-1)].reshape(rows.shape)

    def text_tokens(self, text_ids: np.ndarray) -> np.ndarray:
        return self.table[text_ids]

    def text_features(self, text_ids: np.ndarray) -> CellFeatures:
        if self.featurizer is None:
            raise ConfigError("this source was built without a featurizer (the model has the chunk encoder)")
        return self.featurizer.cell_features([self.strings[i] for i in np.asarray(text_ids).tolist()])

    def pointer_vectors(self, book: int) -> tuple[np.ndarray, np.ndarray]:
        """``book`` is the sheet index whose visible names are asked, as in ``pointer_tokens``."""
        if self.featurizer is None:
            raise ConfigError("this source was built without a featurizer (the model has the chunk encoder)")
        views = [sheet_view(s.name, sheet_head(s)) for s in self.workbook.sheets]
        return self.featurizer.vectors(views), self.featurizer.vectors(self.names(self.workbook.sheets[book].name))

    def names(self, sheet: str) -> list[str]:
        if sheet not in self._names:
            self._names[sheet] = visible_names(self.workbook, sheet)
        return self._names[sheet]

    def _pointer_table(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), POINTER_TOKENS), np.int64)
        for k, ids in enumerate(self.pointer_tokenizer.encode(texts)):
            out[k, :len(ids)] = ids
        return out

    def pointer_tokens(self, book: int) -> tuple[np.ndarray, np.ndarray]:
        """``book`` is the sheet index whose visible names are asked (names depend on the sheet).
        Each table is tokenised once per workbook."""
        if self._sheet_pointers is None:
            self._sheet_pointers = self._pointer_table(
                [sheet_view(s.name, sheet_head(s)) for s in self.workbook.sheets])
        names = self._name_pointers.get(book)
        if names is None:
            names = self._name_pointers[book] = self._pointer_table(self.names(self.workbook.sheets[book].name))
        return self._sheet_pointers, names


class FormulaPredictor:
    """Top-k formulas for cells of workbooks from a trained ``SpreadsheetCoder``.

    Args:
        model: the model, or a checkpoint folder for ``SpreadsheetCoder.from_pretrained``.
        device: where to run it.
        beam: beam width (at least ``k``).
        batch_size: targets encoded and decoded together.
        cache_chunks: encoded chunks kept per workbook (model/chunks.py): targets asked later in a
            sheet reuse the encodings of earlier ones, so a warm sheet costs only the chunks that
            hold the new targets (masked) plus decoding.
        max_steps: cap on decoder steps of beam search (default: the grammar's longest formula).
        neighbour_formulas: in the ``formulas`` setting, offer the formulas around a target beside
            the model's candidates, all ranked by confidence: the continuation of a run (the two
            cells above, or left, below, right, hold copies of one formula; what a user filling
            down a column expects; ``baselines.run_continuation``, confidence
            ``RUN_CONTINUATION_PRECISION``) and the nearest formulas of the row and column shifted
            to the target (``baselines.copy_candidates``, confidence ``COPY_PRECISION`` by rank).
            Off for the model alone.
    """

    def __init__(self, model: SpreadsheetCoder | str | Path, *, device: str = "cpu", beam: int = 5,
                 batch_size: int = 32, cache_chunks: int = 8192, max_steps: int | None = None,
                 neighbour_formulas: bool = True) -> None:
        # Where the weights came from (reports, the service's /v1/info); "" for a model built in memory.
        self.model_path = "" if isinstance(model, SpreadsheetCoder) else str(model)
        if not isinstance(model, SpreadsheetCoder):
            model = SpreadsheetCoder.from_pretrained(model)
        self.model = model.to(device).eval()
        self.config = model.config
        self.device = torch.device(device)
        self.beam = beam
        self.batch_size = batch_size
        self.tokenizer = CellTokenizer()
        self.pointer_tokenizer = CellTokenizer(self.tokenizer.path, max_tokens=POINTER_TOKENS)
        # Features encoder: one featurizer per predictor, so a text is embedded once per process.
        self.featurizer = CellFeaturizer(self.config.cell_features) if self.config.encoder == "features" else None
        self.batcher = Batcher(self.config, self.tokenizer)
        self.grammar = Grammar(self.config.sketch_vocab, self.config.range_vocab, self.config.max_sketch_tokens,
                               self.config.max_range_groups)
        self._sketch_index = {t: i for i, t in enumerate(self.config.sketch_vocab)}
        self._range_index = {t: i for i, t in enumerate(self.config.range_vocab)}
        # The workbook asked about last, its anchors, and one source (with its encodings) per setting:
        # ref_context reads the model's own setting while a request may ask for the other one.
        self._book: Workbook | None = None
        self._anchors: AnchorIndex | None = None
        self._sources: dict[str, WorkbookSource] = {}
        self.cache_chunks = cache_chunks
        self.max_steps = max_steps
        self.neighbour_formulas = neighbour_formulas
        self.default_context = self.config.context
        self._last: tuple[Workbook, tuple[Any, ...], int, list[list[Candidate]]] | None = None
        # chunks_requested: chunk requests of all targets (one window each, before any sharing)
        self.stats = {"chunks_requested": 0, "chunks_encoded": 0, "chunks_reused": 0}

    def _workbook(self, workbook: Workbook, context: ContextSetting) -> tuple[WorkbookSource, AnchorIndex]:
        """The source of ``workbook`` in ``context`` and its anchors, built once while the workbook
        stays the one asked about (each setting's source keeps its own chunk encodings)."""
        if self._book is not workbook or self._anchors is None:
            self._book, self._anchors, self._sources = workbook, AnchorIndex(workbook), {}
        source = self._sources.get(context)
        if source is None:
            source = self._sources[context] = WorkbookSource(workbook, context, self.tokenizer,
                                                             featurizer=self.featurizer,
                                                             pointer_tokenizer=self.pointer_tokenizer)
        return source, self._anchors

    def view(self) -> FormulaPredictor:
        """A predictor over the same model, tokenizers, batcher and grammar with caches of its own
        (the workbook's sources and encodings, the last answer, stats): one per cached workbook in
        the service costs no copy of what all of them share."""
        other = copy.copy(self)
        other._book, other._anchors, other._sources, other._last = None, None, {}, None
        other.stats = dict.fromkeys(self.stats, 0)
        return other

    def encodings_bytes(self) -> int:
        """Bytes held by the cached encodings (chunks, pointer tables) of the current workbook."""
        return sum(source.encoded_bytes for source in self._sources.values())

    def ref_context(self, workbook: Workbook, sheet: Sheet, row: int, col: int,
                    header_rows: Sequence[int], anchors: AnchorIndex) -> RefContext:
        source, _ = self._workbook(workbook, self.config.context)
        own = sheet.table_at(row, col)
        return RefContext(sheet.name, workbook.sheet_names, source.names(sheet.name), origin=(row, col),
                          radius=self.config.radius, anchors=anchors.anchors(sheet, row, col, header_rows),
                          tables=source.tables, own_table=own.name if own is not None else None)

    def covers(self, workbook: Workbook, sheet: Sheet, target: Target) -> bool:
        return self.coverage_gap(workbook, sheet, target) is None

    def coverage_gap(self, workbook: Workbook, sheet: Sheet, target: Target) -> str | None:
        """Why the decoder cannot express ``target``'s formula (None when it can): the first
        missing token's kind, e.g. ``sketch:number``, ``sketch:function``, ``range:row-offset``,
        ``range:sheet-slot``; ``unrepresentable`` when the formula did not parse."""
        if target.formula is None:
            return "unrepresentable"
        source, anchors = self._workbook(workbook, self.config.context)
        header_rows = source.contexts[workbook.sheets.index(sheet)].header_rows(target.row, target.col)
        ctx = self.ref_context(workbook, sheet, target.row, target.col, header_rows, anchors)
        sketch, ranges = formula_tokens(target.formula, ctx)
        for token in sketch:
            if token not in self._sketch_index:
                return f"sketch:{_sketch_kind(token)}"
        for token in ranges:
            if token not in self._range_index:
                return f"range:{_range_kind(token)}"
        max_sheets, max_names = self.config.max_sheets, self.config.max_names
        if any(t.startswith(SHEET_PREFIX) and t != OWN_SHEET and int(t.removeprefix(SHEET_PREFIX)) >= max_sheets
               for t in ranges):
            return "range:sheet-slot"
        if any(t.startswith(NAME_PREFIX) and int(t.removeprefix(NAME_PREFIX)) >= max_names for t in ranges):
            return "range:name-slot"
        return None

    def predict_targets(self, workbook: Workbook, sheet: Sheet, cells: Sequence[tuple[int, int]], *,
                        context: ContextSetting | None = None, k: int = 5) -> list[list[Candidate]]:
        """Top-``k`` candidates for each cell. The last answer is remembered, so asking again for
        the same cells with a smaller ``k`` (the evaluation of the suggestion pipeline and of the
        model alone in one run) costs nothing."""
        context = context or self.config.context
        key = (sheet.name, tuple(cells), context, self.neighbour_formulas)
        last = self._last
        if last is not None and last[0] is workbook and last[1] == key and k <= last[2]:
            return [found[:k] for found in last[3]]
        results = self._predict(workbook, sheet, cells, context, k)
        self._last = (workbook, key, k, results)  # the workbook itself, so its id cannot be reused
        return results

    @torch.no_grad()
    def _predict(self, workbook: Workbook, sheet: Sheet, cells: Sequence[tuple[int, int]], context: ContextSetting,
                 k: int) -> list[list[Candidate]]:
        source, anchors = self._workbook(workbook, context)
        sheet_index = workbook.sheets.index(sheet)
        sheet_context = source.contexts[sheet_index]
        results: list[list[Candidate]] = []
        neighbours = self.neighbour_formulas and context == CONTEXT_FORMULAS
        index = FormulaIndex.from_sheet(sheet) if neighbours else None
        for start in range(0, len(cells), self.batch_size):
            part = list(cells[start:start + self.batch_size])
            rows = np.array([r for r, _ in part], np.int64)
            cols = np.array([c for _, c in part], np.int64)
            headers = np.full((len(part), MAX_HEADER_ROWS), -1, np.int64)
            contexts = []
            for b, (r, c) in enumerate(part):
                found = sheet_context.header_rows(r, c)[-MAX_HEADER_ROWS:]
                headers[b, :len(found)] = found
                contexts.append(self.ref_context(workbook, sheet, r, c, found, anchors))
            inputs = self.batcher.inputs(source, np.full(len(part), sheet_index, np.int64), rows, cols, headers,
                                         np.full(len(part), sheet_index, np.int64))
            enc = self._encode(to_device(inputs, self.device), sheet_index, source)
            anchor_sets = [{key: set(values) for key, values in ctx.anchors.items()} for ctx in contexts]
            hyps = beam_search(self.model, enc, self.grammar, beam=max(self.beam, k), k=max(self.beam, k),
                               alpha=self.config.length_penalty, anchors=anchor_sets, max_steps=self.max_steps)
            for (r, c), ctx, options in zip(part, contexts, hyps, strict=True):
                candidates = self._render(options, ctx, (r, c), k)
                if index is not None:
                    candidates = self._with_neighbours(sheet, r, c, candidates, k, index)
                results.append(candidates)
        return results

    @staticmethod
    def _with_neighbours(sheet: Sheet, row: int, col: int, found: list[Candidate], k: int,
                         index: FormulaIndex) -> list[Candidate]:
        """The model's candidates merged with the run continuation and the nearby formulas, best
        confidence first, one candidate per formula (the surest keeps its place)."""
        offered = [Candidate(text, math.log(p), p)
                   for text, p in zip(copy_candidates(sheet, row, col, context=CONTEXT_FORMULAS, k=k, index=index),
                                      COPY_PRECISION, strict=False)]
        run = run_continuation(sheet, row, col)
        if run is not None:
            offered.insert(0, Candidate(run, math.log(RUN_CONTINUATION_PRECISION), RUN_CONTINUATION_PRECISION))
        merged: dict[str, Candidate] = {}
        for candidate in sorted([*offered, *found], key=lambda c: -c.confidence):  # stable: ties keep order
            if not has_external_effect(candidate.formula):
                merged.setdefault(canonical_formula(candidate.formula), candidate)
        return list(merged.values())[:k]

    def _encode(self, inputs: dict[str, Any], sheet_index: int, source: WorkbookSource) -> Any:
        """Encode a batch, reusing the chunk encodings cached on ``source`` and caching the new ones."""
        encoder = self.model.encoder
        if self.featurizer is not None:  # features encoder: the cell features are cached by text
            return encoder(inputs)
        keys = [k.tobytes() for k in inputs["chunk_keys"]]
        n_slots = int(inputs["n_slots"])
        cache = source.encoded
        known = {k: cache[k] for k in keys if k in cache}
        todo = [i for i, k in enumerate(keys) if k not in known]
        if todo:
            index = torch.tensor(todo, device=self.device)
            fresh = encoder.encode_cells(inputs["chunk_tokens"][index], inputs["chunk_types"][index],
                                         inputs["chunk_slots"][index], n_slots).reshape(len(todo), n_slots, -1)
            for row, i in enumerate(todo):
                known[keys[i]] = fresh[row]
        if len(cache) + len(todo) > self.cache_chunks:
            cache.clear()  # a simple bound: long sheets are encoded in windows of chunks
            source.encoded_bytes = sum(t.numel() * t.element_size() for t in source.pointer_keys.values())
            # an estimate: rows of one encoded batch share its storage, counted once with the batch
        cache.update(known)
        if todo:
            source.encoded_bytes += fresh.numel() * fresh.element_size()
        self.stats["chunks_requested"] += int(inputs["chunks_requested"])
        self.stats["chunks_encoded"] += len(todo)
        self.stats["chunks_reused"] += len(keys) - len(todo)
        cells = torch.stack([known[k] for k in keys]).reshape(len(keys) * n_slots, -1)
        pointer_keys = source.pointer_keys.get(sheet_index)
        if pointer_keys is None:
            pointer_keys = source.pointer_keys[sheet_index] = encoder.encode_pointers(inputs["pointer_tokens"])
            source.encoded_bytes += pointer_keys.numel() * pointer_keys.element_size()
        return encoder(inputs, cells=cells, pointer_keys=pointer_keys)

    def _render(self, options: list[Any], ctx: RefContext, origin: tuple[int, int], k: int) -> list[Candidate]:
        out: list[Candidate] = []
        seen: set[str] = set()
        for hyp in options:
            sketch = [self.config.sketch_vocab[i] for i, is_range in zip(hyp.ids, hyp.is_range, strict=True) if not is_range]
            ranges = [self.config.range_vocab[i] for i, is_range in zip(hyp.ids, hyp.is_range, strict=True) if is_range]
            try:
                text = render_formula(decode_formula(sketch, ranges, ctx), origin)
            except FormulaError:
                continue
            if text in seen or has_external_effect(text):
                continue
            seen.add(text)
            out.append(Candidate(text, hyp.logprob, confidence(hyp)))
            if len(out) == k:
                break
        return out

