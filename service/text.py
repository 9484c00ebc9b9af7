"""Refusing text that is not valid Unicode before it reaches the tokenizer or the writer.

JSON can carry a lone surrogate (``"\\ud800"``) and NUL (``"\\u0000"``); Python keeps them in a
``str``, but no cell holds them and the tokenizer cannot encode a surrogate. ``check_text`` answers
422 ``bad_text`` naming the field and the character's code point (never the character itself, which
would not encode in the JSON answer). ``check_grid_text`` does the same for a grid of cells with one
regex scan over all its strings, looking cell by cell only when that scan finds something.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from spreadsheetcoder.text import BAD_CHAR, bad_char

from .errors import ApiError

__all__ = ["check_grid_text", "check_text"]


def check_text(value: str, field: str) -> str:
    """``value`` unchanged, or ``ApiError(422, "bad_text")`` when it holds a lone surrogate or a
    control character other than tab, LF and CR (``field: lone surrogate U+D800 at position 3 ...``)."""
    found = bad_char(value)
    if found is not None:
        position, what = found
        raise ApiError(422, "bad_text", f"{field}: {what} at position {position}; "
                                        "text must be valid Unicode with no control characters but tab, LF and CR")
    return value


def check_grid_text(rows: Sequence[Sequence[Any]] | None, field: str) -> None:
    """``check_text`` on every string of ``rows``; the error names the cell (``values[3][2]``)."""
    if rows is None:
        return
    # "\n" is allowed text, so the joined string holds a bad character exactly when a cell does.
    if BAD_CHAR.search("\n".join([value for row in rows for value in row if isinstance(value, str)])) is None:
        return
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if isinstance(value, str):
                check_text(value, f"{field}[{i}][{j}]")
