"""Train / dev / test split by workbook.

The real corpus has a fixed split (``../shared/corpus/SPLITS.tsv``: file -> split) so that every
figure is measured on the same workbooks; any other folder gets a deterministic split from a hash of
the workbook's relative path (about 80 / 10 / 10). A workbook is never in two splits.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from pathlib import Path

from ..errors import ConfigError, DataError

logger = logging.getLogger(__name__)

__all__ = ["SPLITS", "WorkbookSplitter"]

SPLITS = ("train", "dev", "test")


class WorkbookSplitter:
    """Assigns each workbook (path relative to its corpus root) to train, dev or test.

    Args:
        splits_file: a TSV with columns ``file`` and ``split`` (SPLITS.tsv); listed workbooks take
            their split from it, others fall back to the hash.
        dev, test: shares of the hash split.
    """

    def __init__(self, splits_file: str | Path | None = None, dev: float = 0.1, test: float = 0.1) -> None:
        if not 0 <= dev + test < 1:
            raise ConfigError(f"dev + test must be in [0, 1), got {dev} + {test}")
        self.dev, self.test = dev, test
        self.fixed: dict[str, str] = {}
        if splits_file is not None:
            with open(splits_file, newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle, delimiter="\t")
                if not {"file", "split"} <= set(reader.fieldnames or ()):
                    raise DataError(f"{splits_file}: needs the tab-separated columns file and split, "
                                    f"has {reader.fieldnames}")
                for row in reader:
                    if row["split"] not in SPLITS:
                        raise DataError(f"{splits_file}: unknown split {row['split']!r} for {row['file']}")
                    self.fixed[row["file"]] = row["split"]
            logger.info("%d workbooks with a fixed split from %s", len(self.fixed), splits_file)

    def __call__(self, workbook: str) -> str:
        fixed = self.fixed.get(workbook)
        if fixed is not None:
            return fixed
        digest = hashlib.sha256(workbook.encode("utf-8")).digest()
        u = int.from_bytes(digest[:8], "big") / 2**64
        if u < self.test:
            return "test"
        if u < self.test + self.dev:
            return "dev"
        return "train"
