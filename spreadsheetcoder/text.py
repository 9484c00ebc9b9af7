"""Text no cell may hold: lone surrogates and the control characters XML 1.0 forbids.

A Python ``str`` can hold a lone surrogate (U+D800..U+DFFF, e.g. from the JSON escape ``"\\ud800"``)
that has no UTF-8 form, so the tokenizers (Rust) and the XML writer fail on it; NUL and most C0
controls are never valid in a cell or in XML 1.0 (tab, LF and CR are). ``BAD_CHAR`` finds both in
one regex scan (``NOT_XML`` also the non-characters U+FFFE and U+FFFF, which XML 1.0 forbids too);
``bad_char`` says where and what, for error messages that never echo the character itself;
``clean_text`` replaces each with U+FFFD, which the BERT normalizer drops just as it drops control
characters, so clean texts tokenize exactly as before.
"""

from __future__ import annotations

import re

__all__ = ["BAD_CHAR", "NOT_XML", "REPLACEMENT", "bad_char", "clean_text", "describe_char"]

BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"


def describe_char(char: str) -> str:
    """``lone surrogate U+D800``, ``NUL character``, ``control character U+0001`` or
    ``non-character U+FFFE``: ASCII only, so it can go into any message."""
    code = ord(char)
    if code == 0:
        return "NUL character"
    if 0xD800 <= code <= 0xDFFF:
        return f"lone surrogate U+{code:04X}"
    if code < 0x20:
        return f"control character U+{code:04X}"
    return f"non-character U+{code:04X}"


def bad_char(text: str, pattern: re.Pattern[str] = BAD_CHAR) -> tuple[int, str] | None:
    """``(position, description)`` of the first character of ``text`` that no cell may hold
    (``pattern=NOT_XML``: that XML 1.0 cannot carry), or None."""
    found = pattern.search(text)
    if found is None:
        return None
    return found.start(), describe_char(found.group())


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate and forbidden control character replaced by U+FFFD."""
    return BAD_CHAR.sub(REPLACEMENT, text)
