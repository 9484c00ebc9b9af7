"""``synthesize``: write n synthetic workbooks, in parallel, deterministically per (seed, index).

Workbook ``i`` of seed ``s`` is generated from its own random stream (``SeedSequence([s, i])``),
so a file's bytes depend only on ``(s, i)``, never on the number of workers or the order in
which workers finish.
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ...errors import ConfigError
from .book import BookData
from .ctx import Gen
from .kinds import KIND_WEIGHTS, KINDS
from .xlsx import write_xlsx

logger = logging.getLogger(__name__)

__all__ = ["SynthSummary", "generate_workbook", "synthesize", "workbook_path"]

# Kinds are added to a workbook until its formula count estimate reaches a target drawn from
# this range (distinct relative formulas per workbook, fill-downs counted once), or MAX_KINDS.
DISTINCT_TARGET = (20, 60)
MAX_KINDS = 4
MAX_ATTEMPTS = 5


@dataclass
class FileStats:
    """What one worker reports for one workbook."""

    index: int
    path: str
    bytes: int
    sheets: int
    formula_cells: int
    distinct_estimate: int
    kinds: list[str]


@dataclass
class SynthSummary:
    """Totals of a ``synthesize`` run.

    Attributes:
        workbooks: files written; bytes: their total size; seconds: wall time.
        formula_cells: formula cells written (fill-downs count every cell).
        distinct_estimate: fill groups plus ungrouped formula cells, summed over sheets: an upper
            bound on distinct relative formulas (what ``extract`` turns into examples).
        kinds: how many workbooks contain each kind.
    """

    out_dir: str
    seed: int
    workbooks: int = 0
    bytes: int = 0
    sheets: int = 0
    formula_cells: int = 0
    distinct_estimate: int = 0
    seconds: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)

    def add(self, stats: FileStats) -> None:
        self.workbooks += 1
        self.bytes += stats.bytes
        self.sheets += stats.sheets
        self.formula_cells += stats.formula_cells
        self.distinct_estimate += stats.distinct_estimate
        self.kinds.update(set(stats.kinds))


def workbook_rng(seed: int, index: int, attempt: int = 0) -> random.Random:
    """The random stream of workbook ``index`` under ``seed`` (independent across indices)."""
    entropy = [seed, index] if attempt == 0 else [seed, index, attempt]
    state = np.random.SeedSequence(entropy).generate_state(4, dtype=np.uint32)
    return random.Random(int.from_bytes(state.tobytes(), "little"))


def workbook_path(out_dir: Path, seed: int, index: int) -> Path:
    return out_dir / f"synth_{seed}_{index:06d}.xlsx"


def distinct_estimate(book: BookData) -> int:
    """Fill groups plus ungrouped formula cells (an upper bound on distinct relative formulas)."""
    total = 0
    for sheet in book.sheets:
        groups = set()
        for cell in sheet.cells.values():
            if cell.formula is None:
                continue
            if cell.group is None:
                total += 1
            else:
                groups.add(cell.group)
        total += len(groups)
    return total


def generate_workbook(seed: int, index: int, kinds: list[str] | None = None) -> tuple[BookData, list[str], bool]:
    """Build workbook ``index`` of ``seed`` in memory.

    Args:
        kinds: force these kinds (tests); by default kinds are drawn by ``KIND_WEIGHTS`` until the
            workbook's formula target is met.

    Returns:
        The book, the kinds it holds, and whether to write fill groups as shared formulas.

    A template that fails (a layout clash, say) is a bug, but one bad draw must not stop a run of
    100,000 workbooks: the workbook is drawn again from ``(seed, index, attempt)``, still
    deterministically, and a warning is logged.
    """
    unknown = sorted(set(kinds or []) - set(KINDS))
    if unknown:
        raise ConfigError(f"unknown kinds {unknown}; known kinds: {sorted(KINDS)}")
    for attempt in range(MAX_ATTEMPTS):
        try:
            return _generate(workbook_rng(seed, index, attempt), kinds)
        except (ValueError, KeyError, IndexError, AssertionError) as exc:
            if attempt == MAX_ATTEMPTS - 1:
                raise
            logger.warning("workbook %d of seed %d, attempt %d failed (%s); drawing again", index, seed,
                           attempt, exc)
    raise AssertionError("unreachable")


def _generate(rng: random.Random, kinds: list[str] | None) -> tuple[BookData, list[str], bool]:
    book = BookData()
    g = Gen(rng, book)
    shared = rng.random() < 0.7
    chosen: list[str] = []
    if kinds is not None:
        for kind in kinds:
            KINDS[kind](g)
        return book, list(kinds), shared
    target = rng.randint(*DISTINCT_TARGET)
    names, weights = list(KIND_WEIGHTS), list(KIND_WEIGHTS.values())
    while len(chosen) < MAX_KINDS and (not chosen or distinct_estimate(book) < target):
        kind = rng.choices(names, weights=weights)[0]
        KINDS[kind](g)
        chosen.append(kind)
    return book, chosen, shared


def _write_one(args: tuple[int, int, str]) -> FileStats:
    seed, index, out_dir = args
    book, kinds, shared = generate_workbook(seed, index)
    path = workbook_path(Path(out_dir), seed, index)
    size = write_xlsx(book, path, shared_formulas=shared)
    cells = sum(1 for s in book.sheets for c in s.cells.values() if c.formula is not None)
    return FileStats(index, str(path), size, len(book.sheets), cells, distinct_estimate(book), kinds)


def synthesize(n: int, out_dir: Path, seed: int, workers: int = 1, progress: bool | None = None,
               start: int = 0) -> SynthSummary:
    """Write ``n`` workbooks ``out_dir/synth_{seed}_{i:06d}.xlsx`` for ``i`` in ``start..start+n-1``.

    Args:
        n: number of workbooks (>= 0).
        out_dir: created if missing; existing files of the same names are replaced.
        seed: the run's seed; each file depends only on ``(seed, i)``.
        workers: worker processes (1 = in this process).
        progress: show a tqdm bar; ``None`` shows one when stderr is a terminal.
        start: first index (to extend an existing run).

    Returns:
        A ``SynthSummary``. Raises ``ConfigError`` (a ``ValueError``) for ``n < 0`` or ``workers < 1``.
    """
    if n < 0 or workers < 1:
        raise ConfigError(f"need n >= 0 and workers >= 1, got n={n}, workers={workers}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if progress is None:
        progress = sys.stderr.isatty()
    summary = SynthSummary(out_dir=str(out_dir), seed=seed)
    jobs = [(seed, i, str(out_dir)) for i in range(start, start + n)]
    t0 = time.perf_counter()
    bar = tqdm(total=n, desc="synthesize", unit="wb", disable=not progress)
    if workers == 1 or n < 2:
        for job in jobs:
            summary.add(_write_one(job))
            bar.update()
    else:
        ctx = multiprocessing.get_context("spawn" if sys.platform == "darwin" else "fork")
        with ctx.Pool(workers) as pool:
            for stats in pool.imap_unordered(_write_one, jobs, chunksize=max(1, min(16, n // (workers * 8)))):
                summary.add(stats)
                bar.update()
    bar.close()
    summary.seconds = time.perf_counter() - t0
    logger.info("wrote %d workbooks to %s in %.1fs (%d formula cells, ~%d distinct formulas)",
                summary.workbooks, out_dir, summary.seconds, summary.formula_cells, summary.distinct_estimate)
    return summary
