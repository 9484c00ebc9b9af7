"""The model behind the routes: loaded once per worker, run off the event loop, batched, cached.

``InferenceEngine`` owns one suggestion pipeline (``Suggester``: the model, the other candidate
sources, the ranker) and one inference thread: the pipeline is not thread-safe, so every call into
the model runs on that thread, one at a time. Work waits in two queues, and suggestions go first:

- **suggestions** (``suggest``): while the thread works, the next requests gather, and the ones
  that ask about the same sheet of the same workbook go to the model together (one
  ``predict_targets`` call, so they share encodings and decode in one beam search);
- **bulk work** (``predict_cells``, behind ``/v1/fill``): cut into slices sized to take about
  ``fill_slice_s`` seconds (from the time per cell measured on the slices before), one slice queued
  at a time per request, taken only when no suggestion waits. A suggestion therefore waits for at
  most one slice, and a request that runs out of time (its coroutine is cancelled) queues no
  further slice: the work itself stops, not just the response;
- **checks** (``check``, behind ``/v1/check``): the formula checker (``spreadsheetcoder.check``,
  loaded at the first check) run on one sheet at a time, each sheet a bulk item of the same queue,
  so a suggestion waits for at most one sheet's check, and a check that runs out of time checks
  no further sheet.

Workbooks are cached by content (``WorkbookCache``): an add-in clicking around one sheet sends the
same grid each time, so the sheet is converted and encoded once. The cache is bounded by its
estimated memory, cells and encodings (``cache_mb``), as well as by count, and a workbook nobody
asked about for ``cache_idle_s`` is dropped; each cached workbook has its own predictor view
over the shared model, holding that workbook's encodings. When the engine falls idle after bulk
work or evictions, freed memory is handed back to the operating system (``release_memory``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import gc
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from spreadsheetcoder.check import Checker, CheckReport, load_checker
from spreadsheetcoder.constants import ContextSetting
from spreadsheetcoder.errors import ConfigError
from spreadsheetcoder.model.shipped import model_card, resolve_model_dir
from spreadsheetcoder.sheet import Sheet, Workbook
from spreadsheetcoder.suggest import Suggester, load_suggester
from spreadsheetcoder.suggest.types import Candidate

from .config import Settings
from .errors import ApiError

__all__ = ["CachedWorkbook", "InferenceEngine", "release_memory"]

T = TypeVar("T")
MAX_SLICE_CELLS = 32
CELL_BYTES = 250  # a read cell (reader.py: about 210 bytes) and its share of the sheet's context
# A cached workbook's predictor view beside its cells and encodings (sources, anchors, execution
# engine, last answers): measured at 3-6 MB a sheet on sample_sheets/ (resident size over 12 sheets).
ENTRY_BYTES = 4 * 2**20
IDLE_CHECK_S = 5.0  # how often an idle engine looks for workbooks past cache_idle_s


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
    cells: int = field(init=False)
    last_used: float = field(init=False)  # time.monotonic() of the last request that used it

    def __post_init__(self) -> None:
        self.cells = sum(len(sheet.cells) for sheet in self.workbook.sheets)
        self.last_used = time.monotonic()

    def size_bytes(self) -> int:
        """Estimated memory: the workbook's cells and the encodings its predictor view holds."""
        model = self.predictor.predictor if self.predictor is not None else None
        if model is None:
            return self.cells * CELL_BYTES
        return self.cells * CELL_BYTES + ENTRY_BYTES + model.encodings_bytes()


@dataclass
class _Job:
    """Cells of one sheet to predict; ``bulk`` jobs wait while suggestions are queued."""

    entry: CachedWorkbook
    sheet: Sheet
    cells: list[tuple[int, int]]
    context: ContextSetting
    k: int
    future: asyncio.Future[list[list[Candidate]]] = field(repr=False)
    bulk: bool = False


@dataclass
class _Call:
    """Bulk work that is no prediction (one sheet of a check): ``fn`` run on the inference thread."""

    fn: Callable[[], Any]
    future: asyncio.Future[Any] = field(repr=False)
    bulk: bool = True


class InferenceEngine:
    """One model, one inference thread, two queues (suggestions first) and a size-bounded LRU of workbooks.

    Call ``start()`` inside the running event loop (the app's lifespan) and ``stop()`` at shutdown.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model_dir = resolve_model_dir(settings.model)
        self.model_card = model_card(self.model_dir)
        self.predictor = load_suggester(self.model_dir, device=settings.device, beam=settings.beam,
                                        batch_size=settings.batch_size, cache_chunks=settings.cache_chunks,
                                        max_steps=settings.max_decode_steps)
        self.context = self.predictor.default_context
        self._inference = ThreadPoolExecutor(1, thread_name_prefix="inference")
        self._readers = ThreadPoolExecutor(2, thread_name_prefix="reader")  # bounds concurrent parsing
        self._books: OrderedDict[str, CachedWorkbook] = OrderedDict()
        self._cached_bytes = 0
        self._building: dict[str, asyncio.Future[CachedWorkbook]] = {}
        self._urgent: deque[_Job] = deque()
        self._bulk: deque[_Job | _Call] = deque()
        self._checker: Checker | None = None  # loaded at the first check (checker())
        self._checker_lock = asyncio.Lock()
        self._wake: asyncio.Event | None = None
        self._worker: asyncio.Task[None] | None = None
        self._untidy = False  # memory worth releasing once idle
        self._seconds_per_cell: float | None = None  # bulk work, moving average (sizes the slices)
        self.stats = {"suggestions": 0, "batches": 0, "bulk_slices": 0, "bulk_cells": 0, "checks": 0,
                      "checked_sheets": 0, "cache_hits": 0, "cache_misses": 0, "cache_evictions": 0}

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
            entry.last_used = time.monotonic()
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
            self._tidy_later()  # reading (even a refused upload) leaves freed memory behind
        self._keep(entry)
        return entry

    def _keep(self, entry: CachedWorkbook) -> None:
        self._books[entry.key] = entry
        self._trim()

    def _trim(self) -> None:
        """Drop the least recently used workbooks while the cache is over ``cache_workbooks`` or
        ``cache_mb``, and those unused for ``cache_idle_s``. A workbook that alone is over the budget
        goes too: it has served the requests that asked for it (they hold it until they finish)."""
        budget = self.settings.cache_mb * 2**20
        idle_since = time.monotonic() - self.settings.cache_idle_s
        sizes = {key: entry.size_bytes() for key, entry in self._books.items()}
        total = sum(sizes.values())
        while self._books and (len(self._books) > self.settings.cache_workbooks or total > budget
                               or next(iter(self._books.values())).last_used < idle_since):
            key, _ = self._books.popitem(last=False)
            total -= sizes[key]
            self.stats["cache_evictions"] += 1
            self._tidy_later()
        self._cached_bytes = total

    # ------------------------------------------------------------------------------ predictions

    async def suggest(self, entry: CachedWorkbook, sheet: Sheet, cell: tuple[int, int], *, context: ContextSetting,
                      k: int) -> list[Candidate]:
        """Top-``k`` candidates for one cell, batched with the other requests on the same sheet."""
        if len(self._urgent) >= self.settings.max_queue:
            raise ApiError(503, "busy", f"{len(self._urgent)} suggestions are waiting; retry shortly",
                           headers={"Retry-After": "1"})
        found: list[list[Candidate]] = await self._submit(_Job(entry, sheet, [cell], context, k, self._future()))
        return found[0]

    async def predict_cells(self, entry: CachedWorkbook, cells: Sequence[tuple[Sheet, int, int]], *, context: ContextSetting,
                            k: int) -> list[list[Candidate]]:
        """Top-``k`` candidates for each of ``cells`` (any sheets), as bulk work: one slice of cells
        of one sheet at a time (``slice_cells``), suggestions served between slices. Cancelling the
        caller stops the work after the slice in progress."""
        results: list[list[Candidate]] = [[] for _ in cells]
        by_sheet: dict[int, list[int]] = {}
        for i, (sheet, _, _) in enumerate(cells):
            by_sheet.setdefault(id(sheet), []).append(i)
        try:
            for members in by_sheet.values():
                sheet = cells[members[0]][0]
                start = 0
                while start < len(members):
                    part = members[start:start + self.slice_cells()]
                    start += len(part)
                    job = _Job(entry, sheet, [(cells[i][1], cells[i][2]) for i in part], context, k,
                               self._future(), bulk=True)
                    for i, found in zip(part, await self._submit(job), strict=True):
                        results[i] = found
        finally:
            self._tidy_later()
        return results

    # ------------------------------------------------------------------------------ checks

    async def checker(self) -> Checker:
        """The formula checker beside the model (``checker.txt``/``checker.json``), loaded once, at the
        first call, on a reader thread. 503 ``checker_unavailable`` when the model folder has none (or
        one this version cannot use); a later call tries again."""
        if self._checker is None:
            async with self._checker_lock:  # concurrent first checks share one load
                if self._checker is None:
                    try:
                        self._checker = await self.read(partial(load_checker, self.model_dir))
                    except ConfigError as exc:
                        raise ApiError(503, "checker_unavailable", f"formula checking is not available: {exc}") from None
        return self._checker

    async def check(self, entry: CachedWorkbook, sheets: Sequence[str], *,
                    min_confidence: float | None = None) -> CheckReport:
        """The cells of ``sheets`` of a cached workbook that look like mistakes (``Checker.check``),
        checked as bulk work on the inference thread, one sheet at a time, suggestions served between
        sheets. Cancelling the caller checks no further sheet."""
        checker = await self.checker()
        workbook = entry.workbook
        report = CheckReport(cells_checked=0, min_confidence=checker.default_min_confidence
                             if min_confidence is None else float(min_confidence))
        started = time.perf_counter()
        try:
            for name in sheets:
                work = partial(checker.check, workbook, sheets=[name], min_confidence=min_confidence)
                part: CheckReport = await self._submit(_Call(work, self._future()))
                entry.last_used = time.monotonic()
                report.cells_checked += part.cells_checked
                report.flags.extend(part.flags)
                self.stats["checked_sheets"] += 1
        finally:
            self._tidy_later()
        self.stats["checks"] += 1
        order = {name: i for i, name in enumerate(workbook.sheet_names)}
        report.flags.sort(key=lambda f: (-f.confidence, order.get(f.sheet, 0), f.row, f.col))  # as Checker.check
        report.seconds = time.perf_counter() - started
        return report

    def slice_cells(self) -> int:
        """Cells of the next bulk slice: about ``fill_slice_s`` seconds at the time per cell measured
        so far (one cell until there is a measure; at most ``MAX_SLICE_CELLS``)."""
        if self._seconds_per_cell is None:
            return 1
        return max(1, min(MAX_SLICE_CELLS, int(self.settings.fill_slice_s / self._seconds_per_cell)))

    def _tidy_later(self) -> None:
        """Ask the scheduler to release memory the next time it has nothing to do."""
        self._untidy = True
        if self._wake is not None:
            self._wake.set()

    def _future(self) -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    async def _submit(self, job: _Job | _Call) -> Any:
        assert self._wake is not None, "InferenceEngine.start() was not called"
        if job.bulk:
            self._bulk.append(job)
        else:
            assert isinstance(job, _Job)  # a _Call is always bulk
            self._urgent.append(job)
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
                try:
                    await asyncio.wait_for(self._wake.wait(), min(IDLE_CHECK_S, self.settings.cache_idle_s / 2))
                except TimeoutError:
                    self._trim()  # drops the workbooks left idle for cache_idle_s
                continue
            if self._urgent:
                jobs = list(self._urgent)
                self._urgent.clear()
            else:
                bulk = self._bulk.popleft()
                if isinstance(bulk, _Call):
                    await self._run_call(bulk)
                    continue
                jobs = [bulk]
            groups: dict[tuple[int, int, str], list[_Job]] = {}
            for job in jobs:
                if not job.future.done():  # a request that timed out while waiting is skipped
                    groups.setdefault((id(job.entry), id(job.sheet), job.context), []).append(job)
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
        self._trim()  # the predictions added encodings to the cache

    async def _run_call(self, call: _Call) -> None:
        if call.future.done():  # its request timed out while it waited
            return
        try:
            result = await self.run(call.fn)
        except Exception as exc:  # this request fails, the service goes on
            if not call.future.done():
                call.future.set_exception(exc)
            return
        if not call.future.done():
            call.future.set_result(result)

    def _predict(self, group: Sequence[_Job]) -> dict[tuple[int, int], list[Candidate]]:
        """On the inference thread: one ``predict_targets`` call for a group of jobs on one sheet."""
        entry = group[0].entry
        entry.last_used = time.monotonic()
        if entry.predictor is None:
            shared = self.predictor
            assert shared.predictor is not None
            entry.predictor = Suggester(shared.predictor.view(), shared.ranker, retrieval=shared.retrieval)
        cells = list(dict.fromkeys(cell for job in group for cell in job.cells))
        k = max(job.k for job in group)
        started = time.perf_counter()
        found = entry.predictor.predict_targets(entry.workbook, group[0].sheet, cells, context=group[0].context, k=k)
        if group[0].bulk:
            per_cell = (time.perf_counter() - started) / len(cells)
            last = self._seconds_per_cell
            self._seconds_per_cell = per_cell if last is None else 0.7 * last + 0.3 * per_cell
            self.stats["bulk_slices"] += 1
            self.stats["bulk_cells"] += len(cells)
        else:
            self.stats["batches"] += 1
            self.stats["suggestions"] += len(group)
        return dict(zip(cells, found, strict=True))

    def describe(self) -> dict[str, Any]:
        return {"cached_workbooks": len(self._books), "cached_mb": round(self._cached_bytes / 2**20, 3), **self.stats,
                "queued": len(self._urgent), "queued_bulk": len(self._bulk)}
