"""The model behind the routes: loaded once per worker, run off the event loop, batched, cached.

``InferenceEngine`` owns one suggestion pipeline (``Suggester``: the model, the other candidate
sources, the ranker) and one inference thread: the pipeline is not
thread-safe, so every call into the model runs on that thread, one at a time. Suggestions wait in an
asyncio queue; while the thread works on one batch the next requests gather, and the ones that ask
about the same sheet of the same workbook go to the model together (one ``predict_targets`` call, so
they share chunk encodings and decode in one beam search). Workbooks are cached by content
(``WorkbookCache``): an add-in clicking around one sheet sends the same grid each time, so the
sheet is converted and its chunks encoded once. Each cached workbook has its own predictor view
over the shared model, holding that workbook's encodings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
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

__all__ = ["CachedWorkbook", "InferenceEngine"]

T = TypeVar("T")


@dataclass
class CachedWorkbook:
    """A workbook kept by content key, with the predictor view that holds its encodings."""

    key: str
    workbook: Workbook
    predictor: Suggester | None = None  # made on the inference thread at first use


@dataclass
class _Job:
    entry: CachedWorkbook
    sheet: Sheet
    cell: tuple[int, int]
    setting: str
    k: int
    future: asyncio.Future[list[Candidate]] = field(repr=False)


class InferenceEngine:
    """One model, one inference thread, a bounded queue of suggestions and an LRU of workbooks.

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
        self._building: dict[str, asyncio.Future[CachedWorkbook]] = {}
        self._queue: asyncio.Queue[_Job] | None = None
        self._worker: asyncio.Task[None] | None = None
        self.stats = {"suggestions": 0, "batches": 0, "cache_hits": 0, "cache_misses": 0}

    @property
    def model_name(self) -> str:
        return str(self.model_card.get("name") or Path(self.model_dir).name)

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._worker = asyncio.create_task(self._serve(), name="inference-batcher")
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
        """Run ``fn`` (parsing, conversion) on a reader thread, off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._readers, fn)

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
        self._books[key] = entry
        while len(self._books) > self.settings.cache_workbooks:
            self._books.popitem(last=False)
        return entry

    async def suggest(self, entry: CachedWorkbook, sheet: Sheet, cell: tuple[int, int], *, setting: str,
                      k: int) -> list[Candidate]:
        """Top-``k`` candidates for one cell, batched with the other requests on the same sheet."""
        assert self._queue is not None, "InferenceEngine.start() was not called"
        if self._queue.qsize() >= self.settings.max_queue:
            raise ApiError(503, "busy", f"{self._queue.qsize()} suggestions are waiting; retry shortly",
                           headers={"Retry-After": "1"})
        future: asyncio.Future[list[Candidate]] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(entry, sheet, cell, setting, k, future))
        return await future

    async def _serve(self) -> None:
        assert self._queue is not None
        while True:
            jobs = [await self._queue.get()]
            while not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            groups: dict[tuple[int, int, str], list[_Job]] = {}
            for job in jobs:
                if not job.future.done():  # a request that timed out while waiting is skipped
                    groups.setdefault((id(job.entry), id(job.sheet), job.setting), []).append(job)
            for group in groups.values():
                try:
                    found = await self.run(partial(self._predict, group))
                except Exception as exc:  # the model failed on this batch: its requests fail, the service goes on
                    logger.exception("inference failed for a batch of %d", len(group))
                    for job in group:
                        if not job.future.done():
                            job.future.set_exception(exc)
                    continue
                for job in group:
                    if not job.future.done():
                        job.future.set_result(found[job.cell][:job.k])

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
        cells = list(dict.fromkeys(job.cell for job in group))
        k = max(job.k for job in group)
        found = entry.predictor.predict_targets(entry.workbook, group[0].sheet, cells, setting=group[0].setting, k=k)
        self.stats["batches"] += 1
        self.stats["suggestions"] += len(group)
        return dict(zip(cells, found, strict=True))

    def describe(self) -> dict[str, Any]:
        return {"cached_workbooks": len(self._books), **self.stats,
                "queued": self._queue.qsize() if self._queue is not None else 0}
