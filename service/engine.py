"""The model behind the routes: loaded once per worker, run off the event loop, batched, cached.

``InferenceEngine`` owns one suggestion pipeline (``Suggester``: the model, the other candidate
sources, the ranker) and one inference thread: the pipeline is not thread-safe, so every call into
the model runs on that thread, one at a time. Work waits in two queues, and suggestions go first:

- **suggestions** (``suggest``): while the thread works, the next requests gather, and the ones
  that ask about the same sheet of the same workbook go to the model together (one
  ``predict_targets`` call, so they share encodings and decode in one beam search);
- **bulk work** (``predict_cells``, behind ``/v1/fill``): cut into slices of ``fill_slice_cells``
  cells, one slice queued at a time per request, taken only when no suggestion waits. A suggestion
  therefore waits for at most one slice, and a request that runs out of time (its coroutine is
  cancelled) queues no further slice: the work itself stops, not just the response.

Workbooks are cached by content (``WorkbookCache``): an add-in clicking around one sheet sends the
same grid each time, so the sheet is converted and encoded once. The cache is bounded by the cells
it holds (``cache_cells``) as well as by count; each cached workbook has its own predictor view
over the shared model, holding that workbook's encodings. When the engine falls idle after bulk
work or evictions, freed memory is handed back to the operating system (``release_memory``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import logging
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from spreadsheetcoder.model.shipped import model_card, resolve_model_dir
from spreadsheetcoder.sheet import Sheet, Workbook
from spreadsheetcoder.suggest import FormulaPredictor, Suggester, load_suggester
from spreadsheetcoder.suggest.types import Candidate

from .config import Settings
from .errors import ApiError

logger = logging.getLogger(__name__)

__all__ = ["CachedWorkbook", "InferenceEngine", "release_memory"]

T = TypeVar("T")


def release_memory() -> None:
    """Collect garbage and return the C heap's free pages to the OS (glibc ``malloc_trim``), so the
    resident size falls back after a large workbook or a burst of work."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).malloc_trim(0)


@dataclass
class CachedWorkbook:
    """A workbook kept by content key, with the predictor view that holds its encodings."""

    key: str
    workbook: Workbook
    predictor: Suggester | None = None  # made on the inference thread at first use

    @property
    def cells(self) -> int:
        return sum(len(sheet.cells) for sheet in self.workbook.sheets)


@dataclass
class _Job:
    """Cells of one sheet to predict; ``bulk`` jobs wait while suggestions are queued."""

    entry: CachedWorkbook
    sheet: Sheet
    cells: list[tuple[int, int]]
    setting: str
    k: int
    future: asyncio.Future[list[list[Candidate]]] = field(repr=False)
    bulk: bool = False


class InferenceEngine:
    """One model, one inference thread, two queues (suggestions first) and a size-bounded LRU of workbooks.

    Call ``start()`` inside the running event loop (the app's lifespan) and ``stop()`` at shutdown.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model_dir = resolve_model_dir(settings.model)
        self.model_card = model_card(self.model_dir)
        self.predictor = load_suggester(self.model_dir, device=settings.device, beam=settings.beam,
                                        batch_size=settings.batch_size, cache_chunks=settings.cache_chunks)
        self.context = self.predictor.default_context
        self._inference = ThreadPoolExecutor(1, thread_name_prefix="inference")
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="reader")  # bounds concurrent parsing
        self._books: OrderedDict[str, CachedWorkbook] = OrderedDict()
        self._cached_cells = 0
        self._building: dict[str, asyncio.Future[CachedWorkbook]] = {}
        self._urgent: deque[_Job] = deque()
        self._bulk: deque[_Job] = deque()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._untidy = False  # memory worth releasing once idle
        self.stats = {"suggestions": 0, "batches": 0, "bulk_slices": 0, "bulk_cells": 0, "cache_hits": 0,
                      "cache_misses": 0, "cache_evictions": 0}

    @property
    def model_name(self) -> str:
        return str(self.model_card.get("name") or Path(self.model_dir).name)

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._worker = asyncio.create_task(self._serve(), name="inference-scheduler")
        # Warm the model up on its thread (first-call allocations), so the first user does not pay it.
        await self.run(lambda: None)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._inference.shutdown(wait=False, cancel_futures=True)
        self._readers.shutdown(wait=False, cancel_futures=True)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the inference thread (for work that uses ``self.predictor`` directly)."""
        return await asyncio.get_running_loop().run_in_executor(self._inference, fn)

    async def read(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (parsing, conversion, writing) on a reader thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._readers, fn)

    # ------------------------------------------------------------------------------ workbooks

    async def workbook(self, key: str, build: Callable[[], Workbook]) -> CachedWorkbook:
        """The cached workbook of content ``key``, built by ``build`` on a reader thread when absent.
        Concurrent requests for one new key share one build, which finishes even if they time out."""
        entry = self._books.get(key)
        if entry is not None:
            self._books.move_to_end(key)
            self.stats["cache_hits"] += 1
            return entry
        task = self._building.get(key)
        if task is None:
            self.stats["cache_misses"] += 1
            task = self._building[key] = asyncio.ensure_future(self._build(key, build))
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # never "never retrieved"
        return await asyncio.shield(task)

    async def _build(self, key: str, build: Callable[[], Workbook]) -> CachedWorkbook:
        try:
            entry = CachedWorkbook(key, await self.read(build))
        finally:
            self._building.pop(key, None)
        self._keep(entry)
        return entry

    def _keep(self, entry: CachedWorkbook) -> None:
        """Cache ``entry`` and drop the least recently used beyond the bounds. A workbook larger than
        the whole cell budget is not kept: it serves the requests that asked for it, then goes."""
        cells = entry.cells
        if cells > self.settings.cache_cells:
            self._untidy = True
            return
        self._books[entry.key] = entry
        self._cached_cells += cells
        while len(self._books) > self.settings.cache_workbooks or self._cached_cells > self.settings.cache_cells:
            _, old = self._books.popitem(last=False)
            self._cached_cells -= old.cells
            self.stats["cache_evictions"] += 1
            self._untidy = True

    # ------------------------------------------------------------------------------ predictions

    async def suggest(self, entry: CachedWorkbook, sheet: Sheet, cell: tuple[int, int], *, setting: str,
                      k: int) -> list[Candidate]:
        """Top-``k`` candidates for one cell, batched with the other requests on the same sheet."""
        if len(self._urgent) >= self.settings.max_queue:
            raise ApiError(503, "busy", f"{len(self._urgent)} suggestions are waiting; retry shortly",
                           headers={"Retry-After": "1"})
        found = await self._submit(_Job(entry, sheet, [cell], setting, k, self._future()))
        return found[0]

    async def predict_cells(self, entry: CachedWorkbook, cells: Sequence[tuple[Sheet, int, int]], *, setting: str,
                            k: int) -> list[list[Candidate]]:
        """Top-``k`` candidates for each of ``cells`` (any sheets), as bulk work: one slice of
        ``fill_slice_cells`` cells of one sheet at a time, suggestions served between slices.
        Cancelling the caller stops the work after the slice in progress."""
        results: list[list[Candidate]] = [[] for _ in cells]
        by_sheet: dict[int, list[int]] = {}
        for i, (sheet, _, _) in enumerate(cells):
            by_sheet.setdefault(id(sheet), []).append(i)
        step = self.settings.fill_slice_cells
        for members in by_sheet.values():
            sheet = cells[members[0]][0]
            for start in range(0, len(members), step):
                part = members[start:start + step]
                job = _Job(entry, sheet, [(cells[i][1], cells[i][2]) for i in part], setting, k, self._future(),
                           bulk=True)
                for i, found in zip(part, await self._submit(job), strict=True):
                    results[i] = found
        self._untidy = True
        return results

    def _future(self) -> asyncio.Future[list[list[Candidate]]]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, job: _Job) -> list[list[Candidate]]:
        assert self._wake is not None, "InferenceEngine.start() was not called"
        (self._bulk if job.bulk else self._urgent).append(job)
        self._wake.set()
        try:
            return await job.future
        finally:
            job.future.cancel()  # a caller that gave up (timeout, disconnect): the scheduler skips its job

    async def _serve(self) -> None:
        assert self._wake is not None
        while True:
            if not self._urgent and not self._bulk:
                if self._untidy:
                    self._untidy = False
                    await self.read(release_memory)
                    continue
                self._wake.clear()
                await self._wake.wait()
                continue
            if self._urgent:
                jobs = list(self._urgent)
                self._urgent.clear()
            else:
                jobs = [self._bulk.popleft()]
            groups: dict[tuple[int, int, str], list[_Job]] = {}
            for job in jobs:
                if not job.future.done():  # a request that timed out while waiting is skipped
                    groups.setdefault((id(job.entry), id(job.sheet), job.setting), []).append(job)
            for group in groups.values():
                await self._run_group(group)

    async def _run_group(self, group: list[_Job]) -> None:
        try:
            found = await self.run(partial(self._predict, group))
        except Exception as exc:  # the model failed on this batch: its requests fail, the service goes on
            for job in group:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        for job in group:
            if not job.future.done():
                job.future.set_result([found[cell][:job.k] for cell in job.cells])

    def _predict(self, group: Sequence[_Job]) -> dict[tuple[int, int], list[Candidate]]:
        """On the inference thread: one ``predict_targets`` call for a group of jobs on one sheet."""
        entry = group[0].entry
        if entry.predictor is None:
            shared = self.predictor
            assert shared.predictor is not None
            model = FormulaPredictor(shared.predictor.model, device=self.settings.device, beam=self.settings.beam,
                                     batch_size=self.settings.batch_size, cache_chunks=self.settings.cache_chunks,
                                     neighbour_formulas=False)
            entry.predictor = Suggester(model, shared.ranker, retrieval=shared.retrieval)
        cells = list(dict.fromkeys(cell for job in group for cell in job.cells))
        k = max(job.k for job in group)
        found = entry.predictor.predict_targets(entry.workbook, group[0].sheet, cells, setting=group[0].setting, k=k)
        if group[0].bulk:
            self.stats["bulk_slices"] += 1
            self.stats["bulk_cells"] += len(cells)
        else:
            self.stats["batches"] += 1
            self.stats["suggestions"] += len(group)
        return dict(zip(cells, found, strict=True))

    def describe(self) -> dict[str, Any]:
        return {"cached_workbooks": len(self._books), "cached_cells": self._cached_cells, **self.stats,
                "queued": len(self._urgent), "queued_bulk": len(self._bulk)}
