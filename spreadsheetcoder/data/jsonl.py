"""Reading extract's JSONL examples: one JSON object per line, blank lines skipped."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from ..errors import DataError

__all__ = ["iter_jsonl"]


def iter_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line index, object)`` for each non-blank line of ``path``.

    Raises ``DataError`` naming the file (and line) for a file that is not UTF-8 text or a line that
    is not a JSON object: a workbook or another file given where examples were expected."""
    name = os.fspath(path)
    with open(path, encoding="utf-8") as handle:
        try:
            for line_no, line in enumerate(handle):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{name}, line {line_no + 1}: not JSON ({exc}); expected examples written "
                                    "by extract") from None
                if not isinstance(record, dict):
                    raise DataError(f"{name}, line {line_no + 1}: not a JSON object; expected examples written "
                                    "by extract")
                yield line_no, record
        except UnicodeDecodeError:
            raise DataError(f"{name}: not UTF-8 text; expected JSONL examples written by extract") from None
